"""The gateway itself is not a destination (see `destinations.py` for the rules).

Checked three times, on the address the proxy will actually dial (after `gonogo_resolve` and DNS): at
CONNECT (403 with a short reason), at a plain request (403 text), and at `server_connect`, the last moment
before any connection is opened, for everything else (transparent mode, a name that resolves differently
later). There the checked address is also the one dialled, so a name cannot resolve to an allowed address
for the check and to loopback for the connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import time
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from mitmproxy import ctx, exceptions, http
from mitmproxy.proxy import server_hooks

from ..policy import BadHost, normalize_host
from ..policy.hosts import suffixes
from .destinations import CONNECT_PORTS_DEFAULT, Address, Destinations, parse_address, parse_networks, parse_ports
from .own_pages import PAC_PATHS, addressed_to_proxy
from .refusal import refusal
from .resolve import parse_resolve
from .state import GatewayState

log = logging.getLogger("gonogo")

_DNS_SECONDS = 10.0  # the check at CONNECT and the dial at server_connect use one answer
_DNS_LIMIT = 10_000


class Upstream:
    def __init__(self, state: GatewayState) -> None:
        self.state = state
        self.rules = Destinations()
        self.mapping: dict[str, str] = {}
        self._dns: dict[tuple[str, int], tuple[float, list[Address]]] = {}
        self._pinned: dict[str, tuple[str, int]] = {}  # server connection id -> address before pinning

    def load(self, loader: Any) -> None:
        loader.add_option("gonogo_allow_upstream", Sequence[str], [],
                          "CIDR: admit this otherwise refused network (loopback, link-local, the gateway's own "
                          "addresses, gonogo_deny_upstream) as a destination, on any port. The proxy's own ports "
                          "and the quota ledger stay refused.")
        loader.add_option("gonogo_deny_upstream", Sequence[str], [],
                          "CIDR: refuse this network as a destination too (besides loopback, link-local and the "
                          "gateway's own addresses).")
        loader.add_option("gonogo_connect_ports", Sequence[str], list(CONNECT_PORTS_DEFAULT),
                          "Ports (or ranges such as 8000-8999) a CONNECT tunnel may go to; default 443.")

    def configure(self, updated: set[str]) -> None:
        opts = ctx.options
        try:
            if "gonogo_allow_upstream" in updated:
                self.rules.allowed = parse_networks(opts.gonogo_allow_upstream, "gonogo_allow_upstream")
            if "gonogo_deny_upstream" in updated:
                base = Destinations().denied
                self.rules.denied = base + parse_networks(opts.gonogo_deny_upstream, "gonogo_deny_upstream")
            if "gonogo_connect_ports" in updated:
                self.rules.connect_ports = parse_ports(opts.gonogo_connect_ports, "gonogo_connect_ports")
        except ValueError as exc:
            raise exceptions.OptionsError(str(exc)) from None
        if "gonogo_resolve" in updated:
            self.mapping = parse_resolve(opts.gonogo_resolve)
        if "gonogo_state" in updated:
            self.rules.services = frozenset(ledger_addresses(opts.gonogo_state))
        self._dns.clear()

    def running(self) -> None:
        self._own_ports()

    def _own_ports(self) -> None:
        """The proxy's listen ports and the metrics port, as they are now (0 in an option means "picked")."""
        ports: set[int] = set()
        server = ctx.master.addons.get("proxyserver")
        if server is not None:
            ports.update(addr[1] for addr in server.listen_addrs())
        listen_port = getattr(ctx.options, "listen_port", None)
        if isinstance(listen_port, int):
            ports.add(listen_port)
        metrics = getattr(ctx.master.addons.get("store"), "server", None)
        if metrics is not None:
            ports.add(metrics.port)
        # a ledger on this machine is refused on every address of it, not just the one in its URL
        ports.update(port for address, port in self.rules.services if self.rules.own(address))
        ports.discard(0)
        self.rules.own_ports = frozenset(ports)

    async def addresses(self, host: str, port: int) -> list[Address]:
        """What the proxy will dial for `host`: the address itself, the `gonogo_resolve` mapping or DNS
        (kept a few seconds, so the CONNECT check and the dial agree). Empty: the name does not resolve."""
        literal = parse_address(host)
        if literal is not None:
            return [literal]
        with contextlib.suppress(BadHost):
            for name in suffixes(normalize_host(host)):
                if name in self.mapping:
                    return [parse_address(self.mapping[name])]  # type: ignore[list-item]
        key, now = (host, port), time.monotonic()
        cached = self._dns.get(key)
        if cached is not None and cached[0] > now:
            return cached[1]
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError):
            return []
        found: list[Address] = []
        for info in infos:
            address = parse_address(str(info[4][0]))
            if address is not None and address not in found:
                found.append(address)
        if len(self._dns) >= _DNS_LIMIT:
            self._dns.clear()
        self._dns[key] = (now + _DNS_SECONDS, found)
        return found

    async def http_connect(self, flow: http.HTTPFlow) -> None:
        if flow.response is not None:
            return
        req = flow.request
        try:
            self._own_ports()
            why = self.rules.connect_refusal(await self.addresses(req.host, req.port), req.port)
        except Exception:
            log.exception(f"gonogo: could not check the CONNECT target {req.host}:{req.port}; refusing it")
            why = "network"
        if why is not None:
            self._refuse(flow, why)

    async def request(self, flow: http.HTTPFlow) -> None:
        """Plain requests only: inside a tunnel the CONNECT was checked, and `server_connect` checks again."""
        req = flow.request
        if flow.response is not None or flow.client_conn.tls_established:
            return
        if addressed_to_proxy(flow) and req.path.split("?")[0] in PAC_PATHS:
            return  # the PAC file: answered by OwnPages
        if normalize_or_none(req.host) == self.state.status_host:
            return  # answered by OwnPages, never forwarded
        try:
            self._own_ports()
            why = None
            for address in await self.addresses(req.host, req.port):
                why = why or self.rules.refusal(address, req.port)
        except Exception:
            log.exception(f"gonogo: could not check the destination {req.host}:{req.port}; refusing it")
            why = "network"
        if why is not None:
            self._refuse(flow, why)

    def _refuse(self, flow: http.HTTPFlow, why: str) -> None:
        req = flow.request
        target = f"{req.host}:{req.port}"
        log.info(f"gonogo: refused {req.method} to {target}: {why}")
        flow.response = refusal(403, why, req, target=target, ports=self.rules.ports_text())

    async def server_connect(self, data: server_hooks.ServerConnectionHookData) -> None:
        """The last check, on the address about to be dialled; the dial then uses the checked address."""
        if not data.server.address or data.server.error:
            return
        host, port = data.server.address
        try:
            self._own_ports()
            found = await self.addresses(host, port)
            why = next((w for w in (self.rules.refusal(a, port) for a in found) if w is not None), None)
        except Exception:
            log.exception(f"gonogo: could not check the upstream {host}:{port}; refusing it")
            found, why = [], "network"
        if why is None and not found:
            why = "unresolved"  # dialling the name would resolve it again, unchecked
        if why is not None:
            data.server.error = f"gonogo refuses to connect to {host}:{port} ({why})"
            return
        if parse_address(host) is None:
            self._pinned[data.server.id] = data.server.address
            data.server.address = (str(found[0]), port)

    def server_connected(self, data: server_hooks.ServerConnectionHookData) -> None:
        """Give a pinned connection its name back (as `Resolve` does), so mitmproxy can reuse it."""
        original = self._pinned.pop(data.server.id, None)
        if original is not None:
            vars(data.server)["address"] = original

    server_connect_error = server_connected


def normalize_or_none(host: str) -> str | None:
    try:
        return normalize_host(host)
    except BadHost:
        return None


def ledger_addresses(state: str) -> list[tuple[Address, int]]:
    """The (address, port) pairs of a Redis ledger (`redis://HOST:PORT/DB`); none for SQLite."""
    if "://" not in state or state.startswith("sqlite:"):
        return []
    parts = urlsplit(state)
    if not parts.hostname:
        return []
    port = parts.port or 6379
    literal = parse_address(parts.hostname)
    if literal is not None:
        return [(literal, port)]
    try:
        infos = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except OSError:
        return []
    return [(a, port) for a in {parse_address(str(info[4][0])) for info in infos} if a is not None]
