"""Which upstream addresses the gateway will dial: the rules behind `upstream.py`, without mitmproxy.

The gateway is not a destination. Loopback, "this host" (0.0.0.0), link-local (cloud metadata at
169.254.169.254) and every address of the gateway's own interfaces are refused by default, like Squid's
`to_localhost`; so are further networks an administrator denies. `allow` (the `--allow-upstream` networks)
admits a denied network on purpose, on any port. The gateway's own services, its proxy and metrics ports on
its own addresses and the quota ledger's address, are refused even then: reaching the ledger would let a
person reset a spent budget.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

DENIED_BY_DEFAULT = ("127.0.0.0/8", "::1/128", "0.0.0.0/8", "::/128", "169.254.0.0/16", "fe80::/10")
CONNECT_PORTS_DEFAULT = ("443",)
_OWN_CACHE_LIMIT = 4096


def parse_address(text: str) -> Address | None:
    """An IP address (IPv6 scope and brackets dropped, IPv4-mapped IPv6 as IPv4), or None for a name."""
    text = text.strip().strip("[]").split("%", 1)[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def parse_networks(specs: Iterable[str], what: str) -> tuple[Network, ...]:
    """CIDR networks (a bare address is a /32 or /128); ValueError names the option and the bad value."""
    found = []
    for spec in specs:
        try:
            found.append(ipaddress.ip_network(spec.strip(), strict=False))
        except ValueError:
            raise ValueError(f"{what}: {spec!r} is not a network (CIDR such as 10.0.0.0/8 or an address)") from None
    return tuple(found)


def parse_ports(specs: Iterable[str], what: str) -> frozenset[int]:
    """Ports and ranges (`443`, `8443`, `8000-8999`)."""
    found: set[int] = set()
    for spec in specs:
        low, _, high = spec.strip().partition("-")
        try:
            first, last = int(low), int(high or low)
        except ValueError:
            raise ValueError(f"{what}: {spec!r} is not a port or a range such as 8000-8999") from None
        if not 1 <= first <= last <= 65535:
            raise ValueError(f"{what}: {spec!r} is not within 1-65535")
        found.update(range(first, last + 1))
    return frozenset(found)


def is_own_address(address: Address) -> bool:
    """Whether `address` belongs to this machine: only a local address can be bound to."""
    if address.is_unspecified or address.is_loopback:
        return True
    family = socket.AF_INET6 if address.version == 6 else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.bind((str(address), 0))
    except OSError:
        return False
    return True


@dataclass
class Destinations:
    """The gateway's upstream rules. `own_ports` are the proxy's listen ports and the metrics port (set as
    they become known); `services` are exact (address, port) pairs such as the ledger's."""

    denied: tuple[Network, ...] = field(default_factory=lambda: parse_networks(DENIED_BY_DEFAULT, "default"))
    allowed: tuple[Network, ...] = ()
    connect_ports: frozenset[int] = field(default_factory=lambda: parse_ports(CONNECT_PORTS_DEFAULT, "default"))
    own_ports: frozenset[int] = frozenset()
    services: frozenset[tuple[Address, int]] = frozenset()
    _own: dict[Address, bool] = field(default_factory=dict)

    def own(self, address: Address) -> bool:
        known = self._own.get(address)
        if known is None:
            if len(self._own) >= _OWN_CACHE_LIMIT:
                self._own.clear()
            known = self._own[address] = is_own_address(address)
        return known

    def admitted(self, address: Address) -> bool:
        return any(address in net for net in self.allowed)

    def refusal(self, address: Address, port: int) -> str | None:
        """Why the gateway will not dial (address, port): an `integrity.*` wording key, or None."""
        if (address, port) in self.services:
            return "own_service"
        if port in self.own_ports and self.own(address):
            return "own_service"
        if self.admitted(address):
            return None
        if any(address in net for net in self.denied) or self.own(address):
            return "network"
        return None

    def connect_refusal(self, addresses: Sequence[Address], port: int) -> str | None:
        """Why a CONNECT to `port` at `addresses` (what its target resolves to) is refused, or None. A port
        outside `connect_ports` is fine only where every address is admitted on purpose."""
        for address in addresses:
            why = self.refusal(address, port)
            if why is not None:
                return why
        if port not in self.connect_ports and not (addresses and all(self.admitted(a) for a in addresses)):
            return "port"
        return None

    def ports_text(self) -> str:
        """The allowed CONNECT ports for a person to read: `443` or `443, 8443`, ranges folded."""
        ports = sorted(self.connect_ports)
        runs: list[str] = []
        start = prev = ports[0] if ports else 0
        for port in [*ports[1:], None]:
            if port is not None and port == prev + 1:
                prev = port
                continue
            runs.append(str(start) if start == prev else f"{start}-{prev}")
            if port is not None:
                start = prev = port
        return ", ".join(runs)
