"""Ending a connection mitmproxy would keep open: through its connection handler, the one way that works for
every layer. `flow.kill()` stops a flow, but a WebSocket, a raw TCP tunnel or a passed-through TLS connection
stays open after it; a reload or a spent budget must still end them."""

from __future__ import annotations

import contextlib
from typing import Any

from mitmproxy import ctx


def close(client: Any, server: Any = None) -> bool:
    """Close `client` (and `server`, when given) through mitmproxy's connection handler; whether it was done
    (best effort: the handler is gone when the client already left)."""
    proxyserver = ctx.master.addons.get("proxyserver")
    handler = getattr(proxyserver, "connections", {}).get(client.id)
    if handler is None:
        return False
    with contextlib.suppress(Exception):
        handler.close_connection(client)
        if server is not None:
            handler.close_connection(server)
        return True
    return False
