"""Helpers for time-box tests against a real `gonogo run`: a controllable clock (the test-only
`gonogo_clock_file` option) so a test moves to the next minute or day without waiting, and reading a
person's usage straight from the store."""

from __future__ import annotations

import asyncio
import datetime as dt
import math
import time
from collections.abc import Callable
from pathlib import Path

from proxy_addons.usage import open_store


class FileClock:
    """The proxy's clock is real time plus the seconds in `path`. It starts one second into the next minute, so
    a test has 59 real seconds per minute it simulates and never crosses a real minute boundary by accident."""

    def __init__(self, path: Path) -> None:
        self.path = path
        now = time.time()
        self.offset = (math.floor(now / 60) + 1) * 60 + 1 - now
        self._write()

    def _write(self) -> None:
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(repr(self.offset))
        tmp.replace(self.path)  # atomic: the proxy never reads a half-written number

    def advance(self, seconds: float = 60) -> None:
        self.offset += seconds
        self._write()

    def next_minute(self) -> None:
        """Jump to one second into the next minute: a phase of a test then has 59 real seconds in it."""
        now = self.now()
        self.offset += (math.floor(now / 60) + 1) * 60 + 1 - now
        self._write()

    def now(self) -> float:
        return time.time() + self.offset

    def option(self) -> tuple[str, str]:
        return "--set", f"gonogo_clock_file={self.path}"


def balance(state: str, person: str, budget: str, at: float, per: str = "day") -> tuple[int, bool, int]:
    """(used, this minute counted, extra) of a person's budget at `at`, in a UTC policy's period."""
    moment = dt.datetime.fromtimestamp(at, dt.UTC)
    if per == "day":
        period = moment.date().isoformat()
    else:
        period = f"week-{(moment - dt.timedelta(days=moment.weekday())).date()}"

    async def read() -> tuple[int, bool, int]:
        store = open_store(state)
        try:
            b = await store.balance(person, budget, period, int(at // 60))
        finally:
            await store.close()
        return b.used, b.minute_counted, b.extra

    return asyncio.run(read())


def wait_until(predicate: Callable[[], bool], what: str, deadline: float = 10.0) -> float:
    """Poll `predicate` until it holds (a bounded deadline, not a fixed sleep); the seconds it took."""
    start = time.monotonic()
    while not predicate():
        assert time.monotonic() - start < deadline, f"not within {deadline}s: {what}"
        time.sleep(0.05)
    return time.monotonic() - start
