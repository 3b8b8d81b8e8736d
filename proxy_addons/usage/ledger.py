"""The quota ledger interface: where counted minutes and warn-continues live.

One interface, two stores: SQLite (embedded, the default) and Redis (shared by many proxies), plus an
in-memory store (tests, and the local fallback while a shared store is down).
Every method is a coroutine so no store ever blocks mitmproxy's event loop.

A *minute* is an epoch minute (int(timestamp // 60)); a *period* is the key the engine computes
(`policy.period_of`, e.g. "2026-11-27" or "week-2026-11-23"). Charging is idempotent per
(user, budget, period, minute): two proxies counting the same minute count it once.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

# Keys outlive their period by this much, so a proxy whose clock is a little behind still finds them.
TTL_MARGIN_SECONDS = 3600


@dataclass(frozen=True, slots=True)
class Charge:
    used: int  # minutes counted in the period after this call
    counted: bool  # the minute is counted (now or before): the request may go ahead
    new: bool  # this call added the minute
    extra: int = 0  # minutes granted on top of the quota for this period


@dataclass(frozen=True, slots=True)
class Balance:
    used: int
    minute_counted: bool
    extra: int


class LedgerUnavailable(ConnectionError):
    """The store cannot be reached (connection refused, timeout, loading). Stores raise this rather than
    their driver's own errors so a caller can tell an outage from a bug without importing the driver."""


class Ledger(Protocol):
    async def charge(self, user: str, budget: str, period: str, minute: int, limit: int,
                     ttl_seconds: int) -> Charge:
        """Count `minute` unless it is counted already or `used >= limit + extra` (then counted=False)."""
        ...

    async def balance(self, user: str, budget: str, period: str, minute: int) -> Balance: ...

    async def add_minutes(self, user: str, budget: str, period: str, minutes: Iterable[int],
                          ttl_seconds: int) -> int:
        """Record minutes that were already spent (a reconciliation after an outage): no limit applies,
        minutes counted before are not counted twice. Returns the new `used`."""
        ...

    async def grant(self, user: str, budget: str, period: str, minutes: int, ttl_seconds: int) -> int:
        """Add extra minutes for this period (negative takes back, never below 0); returns the new extra total."""
        ...

    async def reset(self, user: str, budget: str, period: str) -> None:
        """Forget the period: used minutes and extra minutes."""
        ...

    async def changes(self) -> int:
        """A counter that moves whenever an admin changes a budget (grant, reset): a proxy that sees it move
        forgets what it remembered of budgets, so the change applies to the person's next request."""
        ...

    async def set_continue(self, user: str, rule: str, until: float) -> None:
        """Remember that `user` chose to continue past warn rule `rule` until the timestamp `until`."""
        ...

    async def continues(self, user: str, now: float) -> dict[str, float]:
        """Unexpired continues of `user`: rule -> until timestamp."""
        ...

    async def ping(self) -> None:
        """Return if the store answers, raise (LedgerUnavailable) if not."""
        ...

    async def close(self) -> None: ...


def period_ttl(resets_at: dt.datetime, now: dt.datetime) -> int:
    """`ttl_seconds` for a period ending at `resets_at` (from `period_of`): until then plus a margin."""
    return max(1, math.ceil((resets_at - now).total_seconds())) + TTL_MARGIN_SECONDS
