"""`gonogo_resolve`: connect to a chosen address for a host (split-horizon DNS, staging, tests), like
curl's `--resolve`. Decisions still use the host name; only the dialled address changes."""

from __future__ import annotations

import contextlib
import ipaddress
from collections.abc import Sequence
from typing import Any

from mitmproxy import ctx, exceptions
from mitmproxy.proxy import server_hooks

from ..policy import BadHost, normalize_host
from ..policy.hosts import suffixes


class Resolve:
    def __init__(self) -> None:
        self.mapping: dict[str, str] = {}
        self._dialled: dict[str, tuple[str, int]] = {}  # server connection id -> address before the mapping

    def load(self, loader: Any) -> None:
        loader.add_option("gonogo_resolve", Sequence[str], [],
                          "HOST=IP: connect to IP for HOST and its subdomains (split-horizon, staging, tests); "
                          "decisions still use HOST.")

    def configure(self, updated: set[str]) -> None:
        if "gonogo_resolve" in updated:
            self.mapping = parse_resolve(ctx.options.gonogo_resolve)

    def server_connect(self, data: server_hooks.ServerConnectionHookData) -> None:
        if not self.mapping or not data.server.address:
            return
        host, port = data.server.address
        with contextlib.suppress(BadHost):
            for name in suffixes(normalize_host(host)):
                if name in self.mapping:
                    self._dialled[data.server.id] = data.server.address
                    data.server.address = (self.mapping[name], port)
                    return

    def server_connected(self, data: server_hooks.ServerConnectionHookData) -> None:
        """Give a mapped connection its name back once it is open: mitmproxy reuses a connection only
        for requests to the address it has, so without this every request would dial a new one (and, under
        load, requests queued for the renamed connection were left waiting)."""
        if not self._dialled:
            return
        original = self._dialled.pop(data.server.id, None)
        if original is not None:
            # `Server.__setattr__` refuses any address change on an open connection, because it cannot
            # redirect one; this is a relabelling only (the peer stays the mapped IP), so bypass it
            vars(data.server)["address"] = original

    server_connect_error = server_connected


def parse_resolve(specs: Sequence[str]) -> dict[str, str]:
    found = {}
    for spec in specs:
        host, sep, ip = spec.partition("=")
        if not sep or not host or not ip:
            raise exceptions.OptionsError(f"gonogo_resolve: {spec!r} is not HOST=IP")
        try:
            found[normalize_host(host)] = str(ipaddress.ip_address(ip))
        except (BadHost, ValueError) as exc:
            raise exceptions.OptionsError(f"gonogo_resolve: {spec!r}: {exc}") from None
    return found
