"""`gonogo run --workers N`: N proxy processes on one listen port, supervised by the parent.

How they share the port: SO_REUSEPORT. The parent binds the listen address itself first (with SO_REUSEPORT,
never listening on it), which finds a free port for `--listen-port 0`, reports a port that is taken before
any worker starts, and keeps the port reserved while a worker restarts. Each worker's mitmproxy then listens
on that port with SO_REUSEPORT (`gateway/worker.py`) and the kernel spreads new connections over the
listening workers. (The alternative, one socket shared by the parent, would need mitmproxy to accept a socket
it did not create, and all workers would wake for every connection.)

What the workers share: the ledger (SQLite in WAL mode, whose per-minute charge is one IMMEDIATE transaction
that checks again under the write lock, so N processes count a minute once; or Redis, atomic by its script),
the state directory (continue-link and audit keys are created race-free; audit lines are appended whole; each
process has its own ledger journal), and the policy file, which every worker watches itself (a reload is seen
by all). The parent serves the one metrics endpoint (`tools/metrics_merge.py`) and /healthz.

Life cycle: SIGTERM or SIGINT to the parent stops every worker and then the parent. A worker that exits on its
own with status 0 was told to stop (a signal to the process group): everything stops. A worker that dies
otherwise (a crash, kill -9) is started again; one that fails before it serves, at start-up or after too many
restarts in a short time, stops the whole gateway with an error instead of looping.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..gateway.worker import DIR_ENV, ID_ENV, beacon_path

ARGS_ENV = "GONOGO_WORKER_ARGS"
PARENT_ENV = "GONOGO_WORKER_PARENT"
RESTARTS_ALLOWED = 5  # per worker within RESTART_WINDOW seconds; more means it cannot run: stop everything
RESTART_WINDOW = 60.0
STOP_TIMEOUT = 20.0
_UDP_MODES = ("wireguard", "dns", "quic", "udp", "local", "tun")


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@dataclass
class Worker:
    ident: str
    popen: subprocess.Popen[bytes]
    ready: bool = False
    metrics_port: int | None = None
    restarts: list[float] = field(default_factory=list)


def reserve_port(host: str, port: int) -> tuple[socket.socket, int]:
    """Bind (not listen) the listen address with SO_REUSEPORT: the port the workers will share."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host or ("::" if family == socket.AF_INET6 else "0.0.0.0"), port))
    except BaseException:
        sock.close()
        raise
    return sock, sock.getsockname()[1]


def _udp_mode(setoptions: list[str]) -> str | None:
    for spec in setoptions:
        name, _, value = spec.partition("=")
        if name.strip() == "mode" and value.strip().split(":", 1)[0].split("@", 1)[0] in _UDP_MODES:
            return value.strip()
    return None


class Supervisor:
    def __init__(self, args: argparse.Namespace, port: int, workdir: Path) -> None:
        self.args = args
        self.port = port
        self.workdir = workdir
        self.workers: dict[str, Worker] = {}
        self.stopping = threading.Event()
        self.failed: str | None = None

    # -- starting -------------------------------------------------------------------------------------
    def worker_args(self) -> dict[str, Any]:
        """The worker's `gonogo run` arguments: the parent's, on the reserved port, metrics on a private port."""
        values = {k: v for k, v in vars(self.args).items() if k != "func"}
        values.update(listen_port=self.port, workers=1, metrics_host="127.0.0.1",
                      metrics_port=0 if self.args.metrics_port >= 0 else -1)
        return values

    def spawn(self, ident: str) -> Worker:
        beacon_path(self.workdir, ident).unlink(missing_ok=True)
        env = {**os.environ, ID_ENV: ident, DIR_ENV: str(self.workdir), PARENT_ENV: str(os.getpid()),
               ARGS_ENV: json.dumps(self.worker_args())}
        popen = subprocess.Popen([sys.executable, "-m", "proxy_addons.cli.workers"], env=env,
                                 stdin=subprocess.DEVNULL)
        say(f"gonogo: worker {ident} started (pid {popen.pid})")
        old = self.workers.get(ident)
        worker = Worker(ident, popen, restarts=old.restarts if old else [])
        self.workers[ident] = worker
        return worker

    def check_ready(self, worker: Worker) -> None:
        path = beacon_path(self.workdir, worker.ident)
        if worker.ready or not path.exists():
            return
        info = json.loads(path.read_text())
        if info.get("pid") != worker.popen.pid:
            return  # the beacon of the process this one replaced
        worker.metrics_port = info.get("metrics_port")
        worker.ready = True

    def serving_ports(self) -> list[int]:
        return [w.metrics_port for w in list(self.workers.values())
                if w.ready and w.metrics_port is not None and w.popen.poll() is None]

    @property
    def all_ready(self) -> bool:
        return all(w.ready and w.popen.poll() is None for w in self.workers.values())

    # -- running --------------------------------------------------------------------------------------
    def watch(self) -> None:
        """Until told to stop: note workers that became ready, restart those that died."""
        announced = False
        while not self.stopping.is_set():
            for worker in list(self.workers.values()):
                code = worker.popen.poll()
                if code is None:
                    self.check_ready(worker)
                else:
                    self.exited(worker, code)
                if self.stopping.is_set():
                    return
            if not announced and self.all_ready:
                announced = True
                say(f"gonogo: all {len(self.workers)} workers enforcing on port {self.port}")
            self.stopping.wait(0.1)

    def exited(self, worker: Worker, code: int) -> None:
        how = f"was killed by signal {-code}" if code < 0 else f"exited with status {code}"
        if code == 0:
            say(f"gonogo: worker {worker.ident} stopped; stopping the others")
            self.stopping.set()
            return
        if not worker.ready:
            self.fail(f"gonogo: worker {worker.ident} {how} before it served; stopping")
            return
        now = time.monotonic()
        worker.restarts = [t for t in worker.restarts if now - t < RESTART_WINDOW] + [now]
        if len(worker.restarts) > RESTARTS_ALLOWED:
            self.fail(f"gonogo: worker {worker.ident} {how}, {len(worker.restarts)} times within "
                      f"{RESTART_WINDOW:.0f} s; stopping")
            return
        say(f"gonogo: worker {worker.ident} {how}; starting it again")
        self.spawn(worker.ident)

    def fail(self, why: str) -> None:
        say(why)
        self.failed = why
        self.stopping.set()

    def stop_all(self) -> None:
        live = [w for w in self.workers.values() if w.popen.poll() is None]
        for worker in live:
            with contextlib.suppress(ProcessLookupError):
                worker.popen.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT
        for worker in live:
            try:
                worker.popen.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                say(f"gonogo: worker {worker.ident} did not stop within {STOP_TIMEOUT:.0f} s; killing it")
                worker.popen.kill()
                worker.popen.wait()


def supervise(args: argparse.Namespace) -> int:
    mode = _udp_mode(args.setoptions)
    if mode is not None:
        say(f"gonogo: --workers needs a TCP proxy mode; mode {mode} listens on UDP, which SO_REUSEPORT cannot share "
            "safely between processes: run it with --workers 1")
        return 1
    try:
        reserved, port = reserve_port(args.listen_host, args.listen_port)
    except OSError as exc:
        say(f"gonogo: cannot listen on {args.listen_host}:{args.listen_port}: {exc.strerror or exc}")
        return 1
    _prepare_store(args.state)
    workdir = Path(tempfile.mkdtemp(prefix="gonogo-workers-"))
    supervisor = Supervisor(args, port, workdir)
    server = None
    previous = {sig: signal.signal(sig, lambda *_: supervisor.stopping.set())
                for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        if args.metrics_port >= 0:
            server = _serve_metrics(supervisor, args.metrics_host, args.metrics_port)
            if server is None:
                return 1
        say(f"gonogo: {args.workers} workers, proxy listening at {args.listen_host or '*'}:{port}")
        for n in range(1, args.workers + 1):
            supervisor.spawn(str(n))
        supervisor.watch()
    finally:
        say(f"gonogo: stopping {len(supervisor.workers)} workers")
        supervisor.stop_all()
        if server is not None:
            server.stop()
        reserved.close()
        shutil.rmtree(workdir, ignore_errors=True)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 1 if supervisor.failed else 0


def _prepare_store(state: str) -> None:
    """Create the SQLite ledger's file and schema once, before N workers would all try at the same moment."""
    if not state.startswith("sqlite:"):
        return
    import asyncio

    from ..usage.sqlite import SqliteLedger

    with contextlib.suppress(Exception):  # a worker reports the real error when it opens the store
        asyncio.run(SqliteLedger(state.removeprefix("sqlite:")).close())


class _Aggregate:
    """What `MetricsServer` needs of a `Metrics`: a registry to expose, and whether the gateway is healthy."""

    def __init__(self, supervisor: Supervisor) -> None:
        from prometheus_client import CollectorRegistry

        from ..tools.metrics_merge import WorkerMetrics

        self.supervisor = supervisor
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(WorkerMetrics(supervisor.serving_ports))

    @property
    def has_policy(self) -> bool:
        return self.supervisor.all_ready


def _serve_metrics(supervisor: Supervisor, host: str, port: int) -> Any:
    from ..metrics import MetricsServer

    try:
        server = MetricsServer(_Aggregate(supervisor), host, port)  # type: ignore[arg-type]
    except OSError as exc:
        say(f"gonogo: cannot serve metrics on {host}:{port}: {exc.strerror or exc}")
        return None
    say(f"gonogo metrics at {server.url}/metrics (all workers)")
    return server


# -- the worker process: `python -m proxy_addons.cli.workers`, started by the parent -------------------------

def _die_with_parent() -> None:
    """Linux: the kernel sends SIGTERM when the parent dies, so a killed parent leaves no workers behind."""
    with contextlib.suppress(Exception):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    if os.getppid() != int(os.environ.get(PARENT_ENV, "0")):
        sys.exit(0)  # the parent died before prctl took effect


def worker_main() -> int:
    import asyncio

    from .run import _serve

    _die_with_parent()
    logging.getLogger().setLevel(logging.INFO)
    args = argparse.Namespace(**json.loads(os.environ[ARGS_ENV]))
    try:
        return asyncio.run(_serve(args))
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(worker_main())
