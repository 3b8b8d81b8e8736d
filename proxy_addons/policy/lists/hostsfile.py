"""hosts-file lists (`0.0.0.0 example.com`, as StevenBlack and others publish them): an address, then
one or more names. Lines naming the machine itself (`127.0.0.1 localhost`, `::1 ip6-localhost`) and
lines without an address are skipped and counted."""

from __future__ import annotations

import ipaddress
import re

from .base import BlockParser
from .common import name

_LOCAL = frozenset({"localhost", "localhost.localdomain", "local", "broadcasthost", "ip6-localhost",
                    "ip6-loopback", "ip6-localnet", "ip6-mcastprefix", "ip6-allnodes", "ip6-allrouters",
                    "ip6-allhosts", "0.0.0.0"})


class HostsParser(BlockParser):
    format = "hosts"
    GOOD = re.compile(r"^(?:0\.0\.0\.0|127\.0\.0\.1)[ \t]+([a-z0-9_-]+(?:\.[a-z0-9_-]+)+)[ \t]*(?:#.*)?$", re.M)

    def fast_ok(self, block: str) -> bool:
        return "localhost" not in block and "localdomain" not in block and not _NUMERIC_NAME.search(block)

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


_NUMERIC_NAME = re.compile(r"\.[0-9]+[ \t]*(?:#.*)?$", re.M)
