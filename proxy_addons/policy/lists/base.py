"""The reading loop every line format shares: a fast path that checks a whole block of well-formed
lines at once with one C-level regular expression, and a line-by-line path for everything else."""

from __future__ import annotations

import re

from .common import ListStats


class BlockParser:
    """A list format read line by line. Subclasses set `format`, `GOOD` (a whole well-formed data line,
    group 1 the name), `IGNORABLE` (a blank or comment line) and implement `line`."""

    format = ""
    GOOD: re.Pattern[str] | None = None
    IGNORABLE = re.compile(r"^[ \t]*(?:#.*)?$", re.M)

    def __init__(self) -> None:
        self.stats = ListStats()

    def feed(self, block: str, first_line: int) -> list[str]:
        """The names in `block` (whole lines); `first_line` is the number of its first line."""
        if self.GOOD is not None:
            names: list[str] = self.GOOD.findall(block)
            if len(names) == _lines(block) - self._ignorable(block) and self.fast_ok(block):
                self.stats.entries += len(names)
                return names
        found: list[str] = []
        for offset, raw in enumerate(block.split("\n")):
            text = raw.strip()
            if text and not self.comment(text):
                self.line(text, first_line + offset, found)
        return found

    def _ignorable(self, block: str) -> int:
        extra = 1 if not block or block.endswith("\n") else 0  # `^$` also matches after the last newline
        return len(self.IGNORABLE.findall(block)) - extra

    def fast_ok(self, block: str) -> bool:
        """Whether the names the fast path found may be taken as they are."""
        return True

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


def _lines(block: str) -> int:
    if not block:
        return 0
    return block.count("\n") + (0 if block.endswith("\n") else 1)
