"""One worker of `gonogo run --workers N`: how it shares the listen port and how the parent knows it is up.

The parent (`cli/workers.py`) starts each worker with `GONOGO_WORKER_ID` and `GONOGO_WORKER_DIR` in its
environment. A worker then
- listens with SO_REUSEPORT, so N processes bind the one port and the kernel spreads new connections over
  them (mitmproxy binds its own listen socket with `asyncio.start_server`; `listen_with_reuse_port` makes
  the proxyserver's calls pass `reuse_port=True`, nothing else changes);
- writes `worker-ID.json` (pid, metrics port) into the worker directory once it serves, so the parent knows it
  started and where to read its metrics;
- marks the answers the proxy gives itself (block/warn pages, status page) and time-boxed responses (those
  with `X-Gonogo-Minutes-Left`) with `X-Gonogo-Worker`, so an operator (and the tests) can tell which worker
  answered. Other forwarded responses are left alone.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from pathlib import Path
from typing import Any

from mitmproxy import ctx, http

log = logging.getLogger("gonogo")

ID_ENV = "GONOGO_WORKER_ID"
DIR_ENV = "GONOGO_WORKER_DIR"
HEADER = "X-Gonogo-Worker"


def worker_id() -> str | None:
    """This process's worker id, or None when it is not a worker of `--workers N`."""
    return os.environ.get(ID_ENV) or None


def beacon_path(directory: Path, ident: str) -> Path:
    return directory / f"worker-{ident}.json"


class _ReusePortAsyncio:
    """`asyncio` as mitmproxy's mode servers see it, but every listening socket gets SO_REUSEPORT."""

    def __getattr__(self, name: str) -> Any:
        return getattr(asyncio, name)

    @staticmethod
    async def start_server(*args: Any, **kwargs: Any) -> asyncio.Server:
        kwargs.setdefault("reuse_port", True)
        return await asyncio.start_server(*args, **kwargs)


def listen_with_reuse_port() -> None:
    """Make mitmproxy's TCP proxy servers (regular, upstream, transparent, socks5, ...) bind with SO_REUSEPORT."""
    from mitmproxy.proxy import mode_servers

    mode_servers.asyncio = _ReusePortAsyncio()  # type: ignore[assignment]


class WorkerBeacon:
    def __init__(self, ident: str, directory: Path) -> None:
        self.ident = ident
        self.directory = directory

    async def running(self) -> None:
        """Runs after the gateway's own `running` hooks (it is added after them): the store is open and the
        metrics server listens, or the gateway has stopped itself and no beacon is written."""
        store = ctx.master.addons.get("store")
        server = getattr(store, "server", None)
        state = getattr(store, "state", None)
        if state is not None and (state.fatal or not state.ready):
            return
        path = beacon_path(self.directory, self.ident)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"id": self.ident, "pid": os.getpid(),
                                   "metrics_port": server.port if server is not None else None}))
        tmp.replace(path)  # the parent never reads half a file
        log.info(f"gonogo: worker {self.ident} serving (pid {os.getpid()})")

    def response(self, flow: http.HTTPFlow) -> None:
        if flow.response is None:
            return
        headers = flow.response.headers
        if "x-gonogo" in headers or "x-gonogo-minutes-left" in headers:
            headers[HEADER] = self.ident


def worker_addons() -> list[object]:
    """The worker's own addon when this process is a worker of `--workers N`, else none."""
    ident, directory = worker_id(), os.environ.get(DIR_ENV)
    if ident is None or not directory:
        return []
    listen_with_reuse_port()
    return [WorkerBeacon(ident, Path(directory))]
