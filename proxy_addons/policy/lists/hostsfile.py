"""hosts-file lists (`0.0.0.0 example.com`, as StevenBlack and others publish them): an address, then
one or more names. Lines naming the machine itself (`127.0.0.1 localhost`, `::1 ip6-localhost`) and
lines without an address are skipped and counted."""

from __future__ import annotations

import ipaddress

from .base import BlockParser
from .common import name

_LOCAL = frozenset({"localhost", "localhost.localdomain", "local", "broadcasthost", "ip6-localhost",
                    "ip6-loopback", "ip6-localnet", "ip6-mcastprefix", "ip6-allnodes", "ip6-allrouters",
                    "ip6-allhosts", "0.0.0.0"})


class HostsParser(BlockParser):
    format = "hosts"

    def affixes(self, first: str) -> tuple[str, str] | None:
        for prefix in ("0.0.0.0 ", "127.0.0.1 "):
            if first.startswith(prefix) and "localhost" not in first:
                return prefix, ""
        return None

    def _fast(self, block: str) -> list[str] | None:
        return None if "localhost" in block or "localdomain" in block else super()._fast(block)

    def line(self, text: str, lineno: int, found: list[str]) -> None:
        tokens = text.split("#", 1)[0].split()
        if len(tokens) < 2 or not is_address(tokens[0]):
            self.stats.skip(lineno, text)
            return
        hosts = [name(t) for t in tokens[1:] if t.lower() not in _LOCAL]
        if not hosts or None in hosts:
            self.stats.skip(lineno, text)  # never half a line: a name we cannot read may matter
            return
        for host in hosts:
            assert host is not None
            self.take(host, found)


def is_address(token: str) -> bool:
    try:
        ipaddress.ip_address(token.split("%", 1)[0])
    except ValueError:
        return False
    return True
