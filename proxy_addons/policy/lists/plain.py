"""Plain lists read leniently: one name per line (`*.` or `.` before it allowed), `#` comments; a line
that is no domain name is skipped and counted. Used for remote plain lists and squidGuard `domains`
files, whose content the admin did not write; a local plain list is read strictly (domainlists.py)."""

from __future__ import annotations

import re

from .base import BlockParser
from .common import name


class PlainParser(BlockParser):
    format = "plain"
    GOOD = re.compile(r"^[ \t]*([a-z0-9_-]+(?:\.[a-z0-9_-]+)+)[ \t]*$", re.M)

    def fast_ok(self, block: str) -> bool:
        return not _NUMERIC_END.search(block)  # an IPv4 address is no name

    def line(self, text: str, lineno: int, found: list[str]) -> None:
        token = text.split("#", 1)[0].strip()
        token = token[2:] if token.startswith("*.") else token.lstrip(".")
        host = name(token) if token and " " not in token and "/" not in token else None
        if host is None:
            self.stats.skip(lineno, text)
        else:
            self.take(host, found)


_NUMERIC_END = re.compile(r"\.[0-9]+[ \t]*$", re.M)
