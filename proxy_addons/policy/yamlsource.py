"""YAML reading that remembers where every key and value stood, with YAML 1.2 scalars.

PyYAML follows YAML 1.1, where `off`, `no` and `NO` (Norway!) are booleans and `17:30` is the
integer 1050. Admins write policies by hand, so we resolve only `true`/`false` as booleans and
never read sexagesimal numbers; dates stay text and are checked where they are used.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from .filelimits import MAX_ALIAS_NODES, MAX_DEPTH

Pos = tuple[int, int]  # 1-based line, column


class LocDict(dict[Any, Any]):
    """A mapping that knows the position of each key and of each value."""

    def __init__(self) -> None:
        super().__init__()
        self.pos: Pos = (1, 1)
        self.key_pos: dict[Any, Pos] = {}
        self.value_pos: dict[Any, Pos] = {}


class LocList(list[Any]):
    """A sequence that knows the position of each item."""

    def __init__(self) -> None:
        super().__init__()
        self.pos: Pos = (1, 1)
        self.item_pos: list[Pos] = []


def _mark(node: yaml.Node) -> Pos:
    return node.start_mark.line + 1, node.start_mark.column + 1


class PolicyLoader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2-style booleans and integers and positions on containers, bounded in nesting
    depth and in what aliases expand to (see `filelimits`): a "billion laughs" is refused while composing,
    before anything walks the expanded tree."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0
        self._expanded = 0
        self._sizes: dict[int, int] = {}
        self._open: set[str] = set()  # anchors whose value is being composed

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        event = self.peek_event()  # type: ignore[no-untyped-call]
        mark: Any = event.start_mark
        if isinstance(event, yaml.AliasEvent):
            if event.anchor in self._open:
                raise yaml.composer.ComposerError(None, None, "an alias refers to the value that contains it",
                                                  mark)
            node = super().compose_node(parent, index)
            assert node is not None
            self._expanded += self._size(node)
            if self._expanded > MAX_ALIAS_NODES:
                raise yaml.composer.ComposerError(
                    None, None, f"aliases expand to more than {MAX_ALIAS_NODES} values; write the values out "
                                "or use fewer nested aliases", mark)
            return node
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise yaml.composer.ComposerError(None, None, f"nested more than {MAX_DEPTH} levels deep",
                                                  mark)
            anchor = getattr(event, "anchor", None)
            if anchor:
                self._open.add(anchor)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1
            self._open.discard(getattr(event, "anchor", None) or "")

    def _size(self, node: yaml.Node) -> int:
        """How many nodes `node` stands for once its aliases are expanded (memoised: linear in the file)."""
        known = self._sizes.get(id(node))
        if known is not None:
            return known
        size = 1
        if isinstance(node, yaml.SequenceNode):
            size += sum(self._size(item) for item in node.value)
        elif isinstance(node, yaml.MappingNode):
            size += sum(self._size(k) + self._size(v) for k, v in node.value)
        self._sizes[id(node)] = size
        return size


_REPLACED = ("tag:yaml.org,2002:bool", "tag:yaml.org,2002:int", "tag:yaml.org,2002:timestamp")
PolicyLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag not in _REPLACED]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
PolicyLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
PolicyLoader.add_implicit_resolver(
    "tag:yaml.org,2002:int",
    re.compile(r"^(?:[-+]?0b[0-1_]+|[-+]?0o?[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+)$"),
    list("-+0123456789"),
)


def _construct_mapping(loader: PolicyLoader, node: yaml.MappingNode) -> LocDict:
    result = LocDict()
    result.pos = _mark(node)
    loader.flatten_mapping(node)
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, str | int | float | bool) and key is not None:
            raise yaml.constructor.ConstructorError(
                None, None, "a key must be a plain word, not a list or mapping", key_node.start_mark
            )
        if key in result:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_pos[key] = _mark(key_node)
        result.value_pos[key] = _mark(value_node)
    return result


def _construct_sequence(loader: PolicyLoader, node: yaml.SequenceNode) -> LocList:
    result = LocList()
    result.pos = _mark(node)
    for item in node.value:
        result.append(loader.construct_object(item, deep=True))
        result.item_pos.append(_mark(item))
    return result


PolicyLoader.add_constructor("tag:yaml.org,2002:map", _construct_mapping)
PolicyLoader.add_constructor("tag:yaml.org,2002:seq", _construct_sequence)


def parse(text: str) -> Any:
    """Parse one YAML document; raises yaml.YAMLError (with a mark) on bad syntax."""
    return yaml.load(text, Loader=PolicyLoader)
