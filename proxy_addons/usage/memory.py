"""MemoryLedger: the ledger in a dict. Lost at exit, so not a store of record: it is the local fallback
while a shared store is down, and a quick ledger for tests of code that needs one."""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from .ledger import Balance, Charge

Key = tuple[str, str, str]  # user, budget, period


@dataclass(slots=True)
class _Period:
    minutes: set[int] = field(default_factory=set)
    extra: int = 0
    expires: float = 0.0


class MemoryLedger:
    def __init__(self) -> None:
        self._periods: dict[Key, _Period] = {}
        self._continues: dict[str, dict[str, float]] = {}
        self._next_purge = 0.0
        self._changes = 0

    def _period(self, key: Key, ttl_seconds: int | None = None) -> _Period:
        now = time.time()
        if now >= self._next_purge:  # expired periods go at most once a minute, not per call
            self._periods = {k: p for k, p in self._periods.items() if p.expires > now}
            self._next_purge = now + 60
        p = self._periods.get(key)
        if p is None or p.expires <= now:
            p = self._periods[key] = _Period()
        if ttl_seconds is not None:
            p.expires = now + ttl_seconds
        return p

    async def charge(self, user: str, budget: str, period: str, minute: int, limit: int,
                     ttl_seconds: int) -> Charge:
        p = self._period((user, budget, period), ttl_seconds)
        if minute in p.minutes:
            return Charge(len(p.minutes), True, False, p.extra)
        if len(p.minutes) >= limit + p.extra:
            return Charge(len(p.minutes), False, False, p.extra)
        p.minutes.add(minute)
        return Charge(len(p.minutes), True, True, p.extra)

    async def balance(self, user: str, budget: str, period: str, minute: int) -> Balance:
        p = self._periods.get((user, budget, period))
        if p is None or p.expires <= time.time():
            return Balance(0, False, 0)
        return Balance(len(p.minutes), minute in p.minutes, p.extra)

    async def add_minutes(self, user: str, budget: str, period: str, minutes: Iterable[int],
                          ttl_seconds: int) -> int:
        p = self._period((user, budget, period), ttl_seconds)
        p.minutes.update(minutes)
        return len(p.minutes)

    async def grant(self, user: str, budget: str, period: str, minutes: int, ttl_seconds: int) -> int:
        p = self._period((user, budget, period), ttl_seconds)
        p.extra = max(0, p.extra + minutes)
        self._changes += 1
        return p.extra

    async def reset(self, user: str, budget: str, period: str) -> None:
        self._periods.pop((user, budget, period), None)
        self._changes += 1

    async def changes(self) -> int:
        return self._changes

    async def set_continue(self, user: str, rule: str, until: float) -> None:
        now = time.time()
        rules = self._continues.setdefault(user, {})
        for expired in [r for r, u in rules.items() if u <= now]:
            del rules[expired]
        rules[rule] = until

    async def continues(self, user: str, now: float) -> dict[str, float]:
        return {rule: until for rule, until in self._continues.get(user, {}).items() if until > now}

    async def ping(self) -> None:
        return None

    async def close(self) -> None:
        return None

    # -- for the resilient wrapper: what was counted here, to replay into the shared store ------------

    def periods(self) -> Iterator[tuple[Key, frozenset[int], float]]:
        """(key, minutes, expires) of every live period that has minutes."""
        now = time.time()
        for key, p in self._periods.items():
            if p.minutes and p.expires > now:
                yield key, frozenset(p.minutes), p.expires

    def all_continues(self) -> Iterator[tuple[str, str, float]]:
        now = time.time()
        for user, rules in self._continues.items():
            for rule, until in rules.items():
                if until > now:
                    yield user, rule, until

    def restore(self, key: Key, minutes: Iterable[int], expires: float) -> None:
        """Put back minutes counted before a restart (from the resilient ledger's journal)."""
        p = self._periods.setdefault(key, _Period())
        p.minutes.update(minutes)
        p.expires = max(p.expires, expires)

    def restore_continue(self, user: str, rule: str, until: float) -> None:
        self._continues.setdefault(user, {})[rule] = until

    def forget(self, key: Key, minutes: Iterable[int]) -> None:
        """Drop minutes that reached the shared store; a period left empty (and without extra) goes."""
        p = self._periods.get(key)
        if p is None:
            return
        p.minutes.difference_update(minutes)
        if not p.minutes and not p.extra:
            del self._periods[key]
