"""Plain lists read leniently: one name per line (`*.` or `.` before it allowed), `#` comments; a line
that is no domain name is skipped and counted. Used for remote plain lists and squidGuard `domains`
files, whose content the admin did not write; a local plain list is read strictly (domainlists.py)."""

from __future__ import annotations

from .base import BlockParser
from .common import name


class PlainParser(BlockParser):
    format = "plain"

    def affixes(self, first: str) -> tuple[str, str] | None:
        return "", ""

    def line(self, text: str, lineno: int, found: list[str]) -> None:
        token = text.split("#", 1)[0].strip()
        token = token[2:] if token.startswith("*.") else token.lstrip(".")
        host = name(token) if token and " " not in token and "/" not in token else None
        if host is None:
            self.stats.skip(lineno, text)
        else:
            self.take(host, found)
