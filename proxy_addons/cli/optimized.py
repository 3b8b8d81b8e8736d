"""`gonogo run` runs under `python -O`.

Why: with Python's debug checks on, mitmproxy type-checks every field of every request and response it
creates (`MessageData.__post_init__`, guarded by `if __debug__`), which was ~10 % of the CPU a request costs
the gateway. gonogo's own `assert`s only narrow types for mypy, so nothing is lost without them.

The command re-executes itself (same pid, arguments and environment) with `PYTHONOPTIMIZE=1`, which the
workers of `--workers N` inherit. `GONOGO_DEBUG=1` keeps the checks.
"""

from __future__ import annotations

import os
import sys

from .settings import env


def rerun_optimized() -> None:
    """Replace this process by the same command under `python -O`, unless it already is or GONOGO_DEBUG=1."""
    if sys.flags.optimize or env("GONOGO_DEBUG") == "1":
        return
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(sys.executable, [sys.executable, "-m", "proxy_addons.cli", *sys.argv[1:]],
              {**os.environ, "PYTHONOPTIMIZE": "1"})
