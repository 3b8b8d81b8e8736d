"""A real `redis-server` for tests: 127.0.0.1, a free port, its own directory, append-only file on (so a
restart keeps the data, as in production), stopped at teardown.

    from tests.support.redis import RedisServer, start_redis, redis_server  # noqa: F401 (fixture)

`redis_server` is a module-scoped fixture (one server per test module; isolate tests by key prefix or by
database number). `RedisServer.stop()` / `.start()` restart it on the same port and directory, for outage
tests. Readiness is read from the server's own log ("Ready to accept connections"), then confirmed with a
PING: no sleeping.
"""

from __future__ import annotations

import selectors
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import processes

START_TIMEOUT = 10.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def ping(port: int, timeout: float = 1.0) -> bool:
    """A raw RESP PING: True if a Redis answers PONG on 127.0.0.1:port."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            s.sendall(b"*1\r\n$4\r\nPING\r\n")
            return s.recv(64).startswith(b"+PONG")
    except OSError:
        return False


class RedisServer:
    def __init__(self, directory: Path, port: int | None = None) -> None:
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.port = port or free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        exe = shutil.which("redis-server")
        if exe is None:
            raise RuntimeError("redis-server is not installed (Debian package redis-server; `make test` installs it)")
        for attempt in range(3):
            self.process = processes.spawn(  # own process group: see support/processes.py
                [exe, "--bind", "127.0.0.1", "--port", str(self.port), "--dir", str(self.dir), "--save", "",
                 "--appendonly", "yes", "--protected-mode", "no", "--logfile", "", "--loglevel", "notice"],
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, bufsize=0)  # unbuffered: select() sees every line
            if self._wait_ready():
                return self
            self.stop(kill=True)
            if attempt < 2:
                self.port = free_port()  # the port was taken meanwhile: try another
        raise RuntimeError(f"redis-server did not start on 127.0.0.1:{self.port}; log: {self.log[-2000:]!r}")

    def _wait_ready(self) -> bool:
        assert self.process is not None and self.process.stdout is not None
        self.log = ""
        deadline = time.monotonic() + START_TIMEOUT
        with selectors.DefaultSelector() as sel:
            sel.register(self.process.stdout, selectors.EVENT_READ)
            while (left := deadline - time.monotonic()) > 0:
                if not sel.select(left):
                    break
                line = self.process.stdout.readline().decode(errors="replace")
                if not line:  # exited
                    return False
                self.log += line
                if "Ready to accept connections" in line:
                    # keep draining the log in the background so the server never blocks on a full pipe
                    threading.Thread(target=self.process.stdout.read, daemon=True).start()
                    return ping(self.port)
        return False

    def stop(self, kill: bool = False) -> None:
        """SIGTERM (Redis flushes its append-only file and exits) or SIGKILL; waits for the exit."""
        if self.process is None:
            return
        processes.end(self.process, signal.SIGKILL if kill else signal.SIGTERM, timeout=10)
        self.process = None

    def __enter__(self) -> RedisServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_redis(tmp_path: Path) -> tuple[str, subprocess.Popen[bytes]]:
    """Start a redis-server in `tmp_path`; returns (url, process). The caller stops it (terminate + wait)."""
    server = RedisServer(tmp_path).start()
    assert server.process is not None
    return server.url, server.process


@pytest.fixture(scope="module")
def redis_server() -> Iterator[RedisServer]:
    with tempfile.TemporaryDirectory(prefix="gonogo-redis-") as d, RedisServer(Path(d)) as server:
        yield server
