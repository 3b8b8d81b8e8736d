"""dnsmasq lists: `address=/example.com/0.0.0.0` (or `/::/`, or nothing after the last slash) answers
for a domain and its subdomains; one line may name several domains (`address=/a.com/b.com/0.0.0.0`).
`server=`, `local=` and other options, and `address=/#/` (every domain), are skipped and counted."""

from __future__ import annotations

from .base import BlockParser
from .common import name


class DnsmasqParser(BlockParser):
    format = "dnsmasq"

    def affixes(self, first: str) -> tuple[str, str] | None:
        if not first.startswith("address=/") or first.count("/") != 2 or "#" in first:
            return None
        return "address=/", first[first.index("/", 9):]

    def line(self, text: str, lineno: int, found: list[str]) -> None:
        parts = text.split("#", 1)[0].strip().split("/") if text.startswith("address=/") else []
        hosts = [name(p.lstrip(".")) for p in parts[1:-1]]
        if not hosts or None in hosts:
            self.stats.skip(lineno, text)
            return
        for host in hosts:
            assert host is not None
            self.take(host, found)
