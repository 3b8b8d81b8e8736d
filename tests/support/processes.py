"""Every process a test starts, started so that an interrupted run (Ctrl-C, SIGTERM) ends it.

A Ctrl-C in a terminal signals the whole foreground process group. If test servers shared pytest's group they would
die at the same moment as pytest is told to stop, and the test would see "the proxy exited" and be marked failed
before pytest noticed the interrupt. So each server gets its own session and process group (`start_new_session`):
only pytest hears the Ctrl-C, raises KeyboardInterrupt, and its finalisers end the servers by group, which also
takes any children the servers started.

`spawn` records each process; `end_all` (called by tests/conftest.py when the session finishes, and at exit in
case a second interrupt cut the session's teardown short) ends whatever a test left running, e.g. when it was
interrupted between starting a server and entering its `try`. An interrupt while `end` waits for a graceful exit
kills the group at once: the second Ctrl-C means "now".
"""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import subprocess
from typing import Any

_live: dict[int, subprocess.Popen[Any]] = {}


def spawn(cmd: list[str], **kwargs: Any) -> subprocess.Popen[Any]:
    """`subprocess.Popen` in a new session (its own process group), recorded until `end` ends it."""
    proc: subprocess.Popen[Any] = subprocess.Popen(cmd, start_new_session=True, **kwargs)
    _live[proc.pid] = proc
    return proc


def signal_group(proc: subprocess.Popen[Any], sig: int) -> None:
    """Send `sig` to the process's group (its pid, as `spawn` made it a group leader) while it is not reaped."""
    if proc.returncode is None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, sig)


def end(proc: subprocess.Popen[Any], sig: int = signal.SIGTERM, timeout: float = 20) -> int:
    """Send `sig` to the group, wait up to `timeout` s for the process, then SIGKILL the group; its exit code.

    An already exited process is only reaped. The group is killed before the leader is reaped, so its pid (the
    group id) cannot have been reused by then."""
    try:
        if proc.poll() is None:
            signal_group(proc, sig)
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                signal_group(proc, signal.SIGKILL)
                proc.wait(timeout=10)
            except KeyboardInterrupt:  # interrupted again while waiting: no more patience, then stop as asked
                signal_group(proc, signal.SIGKILL)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(timeout=10)
                raise
        return proc.returncode
    finally:
        _live.pop(proc.pid, None)


def kill_group(proc: subprocess.Popen[Any]) -> int:
    """SIGKILL the whole group (a browser and its helpers) and reap the leader."""
    return end(proc, signal.SIGKILL)


def run(cmd: list[str], timeout: float, **kwargs: Any) -> subprocess.CompletedProcess[Any]:
    """Like `subprocess.run(cmd, timeout=..., capture_output=True)`, but the command gets its own process group
    and the whole group is killed when the timeout passes or the run is interrupted (for programs that start
    helpers of their own, like Chromium)."""
    proc = spawn(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kwargs)
    try:
        out, err = proc.communicate(timeout=timeout)
    except BaseException:  # a timeout or an interrupt: kill the group, then let the exception go on
        kill_group(proc)
        raise
    end(proc)  # reaped already: only forgets it
    return subprocess.CompletedProcess(cmd, proc.returncode, out, err)


def end_all() -> None:
    """End every spawned process not ended yet (SIGTERM, then SIGKILL after a bounded wait)."""
    for proc in list(_live.values()):
        end(proc, timeout=10)


atexit.register(end_all)
