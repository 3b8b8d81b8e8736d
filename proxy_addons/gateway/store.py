"""What the gateway keeps and exposes: the quota ledger, the audit log, the continue-link key (all in the
state directory) and the /metrics server. Opened once the proxy runs, closed when it stops.

The metrics server and `gonogo_ledger_unavailable` follow their options at run time; the ledger and the
state directory cannot be swapped under live traffic (budgets in flight, an open audit chain), so a
run-time change of `gonogo_state` or `gonogo_state_dir` is refused.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mitmproxy import ctx, exceptions

from ..audit import AuditLog
from ..metrics import MetricsServer
from ..usage import StateError, open_ledger
from . import continuelink
from .decider import Decider
from .freshness import ChangeWatch
from .responses import Responder
from .state import GatewayState

log = logging.getLogger("gonogo")


class Store:
    def __init__(self, state: GatewayState) -> None:
        self.state = state
        self.server: MetricsServer | None = None
        self._serving: tuple[str, int] | None = None  # the (host, port) options the server was started for
        self._opened: tuple[str, Path] | None = None  # the ledger and state directory in use
        self.watch: ChangeWatch | None = None

    def load(self, loader: Any) -> None:
        loader.add_option("gonogo_state", str, "sqlite:var/gonogo.db",
                          "Quota ledger: sqlite:PATH (embedded) or redis://HOST:PORT/DB (shared by many proxies).")
        loader.add_option("gonogo_state_dir", str, "",
                          "Directory for the proxy's keys and audit log. Default: the SQLite file's directory, "
                          "else ./var.")
        loader.add_option("gonogo_metrics_host", str, "127.0.0.1", "Address of the /metrics and /healthz server.")
        loader.add_option("gonogo_metrics_port", int, 9464, "Port of the /metrics server; 0 picks one, -1 disables.")
        loader.add_option("gonogo_clock_file", str, "",
                          "For tests only: a file holding seconds to add to the clock time-boxes are counted by "
                          "(read on every decision), so a test can move to the next minute without waiting.")
        loader.add_option("gonogo_ledger_unavailable", str, "allow",
                          "What time-boxed requests get while a shared ledger is unreachable.",
                          choices=["allow", "block"])

    def configure(self, updated: set[str]) -> None:
        if {"gonogo_state", "gonogo_state_dir"} & updated:
            wanted = (ctx.options.gonogo_state, state_dir_for(ctx.options.gonogo_state, ctx.options.gonogo_state_dir))
            if self._opened is not None and wanted != self._opened:
                raise exceptions.OptionsError(
                    "gonogo_state and gonogo_state_dir cannot change while the proxy runs: the ledger and audit "
                    "log are open and time-boxes are being counted in them; restart gonogo to use another")
            self.state.state_dir = wanted[1]
        if "gonogo_ledger_unavailable" in updated:
            unavailable = ctx.options.gonogo_ledger_unavailable
            if self.state.ledger is not None:
                self.state.ledger.unavailable = unavailable
            if self.state.decider is not None:
                self.state.decider.unavailable = unavailable
        if "gonogo_metrics_port" in updated and not -1 <= ctx.options.gonogo_metrics_port <= 65535:
            raise exceptions.OptionsError(f"gonogo_metrics_port must be -1 to 65535, not "
                                          f"{ctx.options.gonogo_metrics_port}")
        if {"gonogo_metrics_host", "gonogo_metrics_port"} & updated and self._opened is not None:
            wanted_server = (ctx.options.gonogo_metrics_host, ctx.options.gonogo_metrics_port)
            if wanted_server != self._serving:
                self._stop_server()
                try:
                    self._serve()
                except OSError as exc:
                    raise exceptions.OptionsError(_cannot_serve(exc)) from None

    async def running(self) -> None:
        if self.state.policy is None or self.state.fatal:
            return
        try:
            self._open()
        except StateError as exc:  # one line names the value and the file; a traceback would not help
            self.state.stop(f"gonogo: cannot start: {exc}")
            return
        except Exception as exc:
            log.exception("gonogo: cannot start")
            self.state.stop(f"gonogo: cannot start: {exc}")
            return
        try:
            self._serve()
        except OSError as exc:
            # a gateway nobody can monitor or health-check should not pretend to be fine
            self.state.stop(_cannot_serve(exc))

    def _open(self) -> None:
        state, policy = self.state, self.state.policy
        assert policy is not None
        unavailable = ctx.options.gonogo_ledger_unavailable
        ledger = open_ledger(ctx.options.gonogo_state, unavailable=unavailable, journal=state.state_dir)
        ledger.on_error = lambda _error: state.metrics.ledger_error()
        ledger.on_availability_change = state.metrics.ledger_available
        state.metrics.ledger_available(ledger.available)
        state.ledger = ledger
        self._opened = (ctx.options.gonogo_state, state.state_dir)
        ledger.start()
        log.info(f"gonogo: quota state {ctx.options.gonogo_state}, state directory {state.state_dir}")
        key = continuelink.load_key(state.state_dir / "continue.key")
        state.audit = AuditLog(state.state_dir / "audit", policy.privacy, state.state_dir / "audit.key")
        clock = file_clock(Path(ctx.options.gonogo_clock_file)) if ctx.options.gonogo_clock_file else time.time
        state.decider = Decider(ledger, state.metrics, unavailable, state.record, clock=clock)
        self.watch = ChangeWatch(ledger, state.decider.forget)
        self.watch.start()
        state.responder = Responder(key, ledger, state.metrics, state.record)

    def _serve(self) -> None:
        host, port = ctx.options.gonogo_metrics_host, ctx.options.gonogo_metrics_port
        if port >= 0:
            self.server = self.state.metrics.serve(host, port)
            log.info(f"gonogo metrics at http://{host}:{self.server.port}/metrics")
        self._serving = (host, port)

    def _stop_server(self) -> None:
        if self.server is not None:
            self.server.stop()
            self.server = None
        self._serving = None

    async def done(self) -> None:
        self._stop_server()
        if self.watch is not None:
            await self.watch.stop()
            self.watch = None
        state = self.state
        # the decider and responder stay: a request still in flight fails closed on the closed ledger
        if state.ledger is not None:
            await state.ledger.close()
            state.ledger = None
        if state.audit is not None:
            await asyncio.to_thread(state.audit.close)
            state.audit = None
        self._opened = None


def state_dir_for(state: str, state_dir: str) -> Path:
    """The state directory: as given, else the SQLite file's directory, else ./var."""
    if state_dir:
        return Path(state_dir)
    if state.startswith("sqlite:"):
        return Path(state.removeprefix("sqlite:")).parent
    return Path("var")


def file_clock(path: Path) -> Callable[[], float]:
    """The clock of `gonogo_clock_file` (tests only): now plus the seconds the file holds (0 if unreadable)."""
    def clock() -> float:
        try:
            return time.time() + float(path.read_text() or 0)
        except (OSError, ValueError):
            return time.time()
    return clock


def _cannot_serve(exc: OSError) -> str:
    return (f"gonogo: cannot serve metrics on {ctx.options.gonogo_metrics_host}:{ctx.options.gonogo_metrics_port}: "
            f"{exc.strerror or exc}")
