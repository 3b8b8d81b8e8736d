"""adblock / AdGuard lists: only whole-domain rules are taken. `||example.com^` lists a domain and its
subdomains; `@@||example.com^` excepts it (and its subdomains) again, whichever list of the category
named it. Anything else (paths, wildcards, `$third-party` and other options, cosmetic `##` rules, a
`||name` without `^`) matches less than a whole domain: it is skipped and counted, never guessed at."""

from __future__ import annotations

from ..hosts import suffixes
from .base import BlockParser
from .common import name

# options that do not narrow a rule below "every request to the domain"
_WHOLE_DOMAIN_OPTIONS = frozenset({"important", "all", "document", "doc"})


class AdblockParser(BlockParser):
    format = "adblock"

    def __init__(self) -> None:
        super().__init__()
        # exceptions may follow the rules they except, so names wait here until the end of the list
        self._names: list[str] = []
        self._exceptions: set[str] = set()

    def affixes(self, first: str) -> tuple[str, str] | None:
        return ("||", "^") if first.startswith("||") and first.endswith("^") else None

    def feed(self, block: str, first_line: int) -> list[str]:
        self._names.extend(super().feed(block, first_line))
        return []

    def comment(self, text: str) -> bool:
        return text.startswith(("!", "[")) or text == "#" or text.startswith("# ")

    def line(self, text: str, lineno: int, found: list[str]) -> None:
        exception = text.startswith("@@")
        host = _whole_domain(text[2:] if exception else text)
        if host is None:
            self.stats.skip(lineno, text)
        elif exception:
            self._exceptions.add(host)
        else:
            self.take(host, found)

    def finish(self) -> list[str]:
        names, self._names = self._names, []
        excepted = self._exceptions
        self.stats.exceptions = len(excepted)
        if excepted:
            kept = [n for n in names if excepted.isdisjoint(suffixes(n))]
            self.stats.entries -= len(names) - len(kept)
            names = kept
        return names

    def carve_outs(self) -> list[str]:
        return sorted(self._exceptions)


def _whole_domain(rule: str) -> str | None:
    """The domain of a rule that covers exactly a domain and its subdomains, else None."""
    if not rule.startswith("||"):
        return None
    body, _, options = rule[2:].partition("$")
    if options and not _WHOLE_DOMAIN_OPTIONS.issuperset(o.strip() for o in options.split(",")):
        return None
    body = body.rstrip().removesuffix("|")
    if not body.endswith("^"):
        return None
    return name(body[:-1])
