"""The reading loop every line format shares: a fast path that checks a whole block of well-formed
lines at once with C-level string operations, and a line-by-line path for everything else.

The fast path: when every line of a block has the same prefix and suffix around a name (`0.0.0.0 `,
`||`…`^`, `address=/`…`/0.0.0.0`, nothing for plain lists), strip them and check what is left the way
the plain reader checks names (only name characters, no empty label, a dot in every name, no numeric
last label). Any doubt sends the block to the line-by-line path, which gives the same names, so the
fast path changes how quickly a list is read, never what is read.
"""

from __future__ import annotations

import re

from .common import ListStats

_NAME_BYTES = b"abcdefghijklmnopqrstuvwxyz0123456789_-.\n"
_NUMERIC_LAST_LABEL = re.compile(r"\.[0-9]+\n")


class BlockParser:
    """A list format read line by line. Subclasses set `format` and implement `line` and `affixes`."""

    format = ""

    def __init__(self) -> None:
        self.stats = ListStats()

    def feed(self, block: str, first_line: int) -> list[str]:
        """The names in `block` (whole lines); `first_line` is the number of its first line."""
        names = self._fast(block)
        if names is not None:
            self.stats.entries += len(names)
            return names
        found: list[str] = []
        for offset, raw in enumerate(block.split("\n")):
            text = raw.strip()
            if text and not self.comment(text):
                self.line(text, first_line + offset, found)
        return found

    def affixes(self, first: str) -> tuple[str, str] | None:
        """(prefix, suffix) around the name on a well-formed line like `first`, if it is one."""
        return None

    def _fast(self, block: str) -> list[str] | None:
        if not block:
            return []
        text = block if block.endswith("\n") else block + "\n"
        found = self.affixes(text[:text.find("\n")])
        if found is None:
            return None
        prefix, suffix = found
        lines = text.count("\n")
        if prefix:
            if not text.startswith(prefix) or text.count("\n" + prefix) != lines - 1:
                return None
            text = text[len(prefix):].replace("\n" + prefix, "\n")
        if suffix:
            if text.count(suffix + "\n") != lines:
                return None
            text = text.replace(suffix + "\n", "\n")
        if not _plain_names(text) or _NUMERIC_LAST_LABEL.search(text):
            return None
        names = text.split("\n")
        names.pop()
        return names if all("." in n for n in names) else None

    def comment(self, text: str) -> bool:
        return text.startswith("#")

    def line(self, text: str, lineno: int, found: list[str]) -> None:
        raise NotImplementedError

    def take(self, host: str, found: list[str]) -> None:
        found.append(host)
        self.stats.entries += 1

    def finish(self) -> list[str]:
        return []

    def carve_outs(self) -> list[str]:
        return []


def _plain_names(text: str) -> bool:
    """Whether `text` is lines of normalised names, each ending in a newline: checked at once."""
    return (text.isascii() and not text.encode("ascii").translate(None, _NAME_BYTES)
            and not text.startswith((".", "\n")) and ".." not in text and "\n." not in text
            and ".\n" not in text and "\n\n" not in text)
