"""An interrupted test run ends every process its tests started, and one interrupt stops the run.

A real pytest session runs in a subprocess (its own process group, as a terminal job is) with a test that starts
real `gonogo run` processes through tests/support/proxy.py — one from a fixture, one in the test body without any
`try` — then blocks. It is sent SIGINT (what Ctrl-C does: to the whole foreground group) or SIGTERM (to pytest
alone, as `kill` or a CI runner does), or two Ctrl-Cs, the second while a finaliser hangs. pytest must exit as
interrupted, the next test must not run, and no gonogo process may remain.
"""

from __future__ import annotations

import os
import selectors
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import EXAMPLE_POLICY, ROOT
from tests.support import processes

INNER_TEST = '''
import os
from pathlib import Path

import pytest

from tests.support.proxy import Gonogo

POLICY = Path(os.environ["INNER_POLICY"])


@pytest.fixture
def proxy(tmp_path):
    gonogo = Gonogo(tmp_path, POLICY).start()
    yield gonogo
    gonogo.stop()


@pytest.fixture
def slow_teardown(proxy):
    """With INNER_SLOW_TEARDOWN set, a finaliser that hangs until interrupted again (torn down before `proxy`)."""
    yield
    if os.environ.get("INNER_SLOW_TEARDOWN"):
        print("TEARDOWN", flush=True)
        proxy.wait_for("another line that never comes", timeout=300)


def test_blocks(proxy, slow_teardown, tmp_path):
    (tmp_path / "body").mkdir()
    in_body = Gonogo(tmp_path / "body", POLICY).start()  # no try/finally: the session must end it
    print(f"STARTED {proxy.proc.pid} {in_body.proc.pid}", flush=True)
    proxy.wait_for("a line that never comes", timeout=300)


def test_after_the_interrupt():
    Path(os.environ["INNER_MARKER"]).write_text("this test ran after the interrupt")
'''


def alive(pid: int) -> bool:
    """The process exists and is not a zombie waiting to be reaped."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state not in ("Z", "X")


def read_until(proc: subprocess.Popen[bytes], marker: bytes, timeout: float) -> tuple[bytes, bytes]:
    """Read the process's output until a line starting with `marker`; (that line, everything read)."""
    assert proc.stdout is not None
    seen = b""
    deadline = time.monotonic() + timeout
    with selectors.DefaultSelector() as sel:
        sel.register(proc.stdout, selectors.EVENT_READ)
        while (left := deadline - time.monotonic()) > 0:
            if not sel.select(left):
                break
            line = proc.stdout.readline()
            if not line:
                break
            seen += line
            if line.startswith(marker):
                return line, seen
    raise AssertionError(f"no {marker!r} line within {timeout}s; output:\n{seen.decode(errors='replace')}")


@pytest.mark.parametrize("how", ["SIGINT to the group (Ctrl-C)", "SIGTERM to pytest",
                                 "a second Ctrl-C during a hanging teardown"])
def test_an_interrupted_run_stops_at_once_and_leaves_no_proxy_behind(tmp_path: Path, how: str) -> None:
    (tmp_path / "test_inner.py").write_text(INNER_TEST)
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    marker = tmp_path / "after.txt"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "INNER_POLICY": str(EXAMPLE_POLICY), "INNER_MARKER": str(marker)}
    if how.startswith("a second"):
        env["INNER_SLOW_TEARDOWN"] = "1"
    inner = processes.spawn(
        [sys.executable, "-m", "pytest", "-q", "-s", "-p", "tests.conftest", "-p", "no:cacheprovider",
         "-c", str(tmp_path / "pytest.ini"), "--rootdir", str(tmp_path), "--basetemp", str(tmp_path / "tmp"),
         str(tmp_path / "test_inner.py")],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    pids: list[int] = []
    try:
        line, seen = read_until(inner, b"STARTED", timeout=90)
        pids = [int(p) for p in line.split()[1:]]
        assert all(alive(pid) for pid in pids)
        if how.startswith("SIGTERM"):
            os.kill(inner.pid, signal.SIGTERM)
        else:
            os.killpg(inner.pid, signal.SIGINT)
        if how.startswith("a second"):
            _, more = read_until(inner, b"TEARDOWN", timeout=60)
            seen += more
            os.killpg(inner.pid, signal.SIGINT)
        try:
            out, _ = inner.communicate(timeout=90)
        except subprocess.TimeoutExpired:
            os.kill(inner.pid, signal.SIGABRT)  # pytest's faulthandler prints where every thread is stuck
            try:
                out, _ = inner.communicate(timeout=10)
            finally:
                processes.kill_group(inner)
            pytest.fail(f"pytest did not stop within 90 s of the interrupt:\n{(seen + out).decode(errors='replace')}")
        output = (seen + out).decode(errors="replace")
        # a second Ctrl-C may end pytest's own teardown, and Python then exits as killed by SIGINT
        assert inner.returncode in (pytest.ExitCode.INTERRUPTED, -signal.SIGINT), output
        if not how.startswith("a second"):
            assert inner.returncode == pytest.ExitCode.INTERRUPTED, output
        assert "KeyboardInterrupt" in output, output
        assert not marker.exists(), "the run went on after the interrupt"
        assert [pid for pid in pids if alive(pid)] == [], f"gonogo processes left running:\n{output}"
    finally:
        processes.end(inner, signal.SIGKILL)
        for pid in pids:  # when this test fails, what the inner run left behind must not outlive it either
            if alive(pid):
                os.killpg(pid, signal.SIGKILL)  # each was started as its own group's leader
