"""ResilientLedger: a ledger that keeps deciding when its store cannot be reached.

Why: the proxy must never fail a request, nor raise in a hook, because Redis restarted. While the store is
unreachable the wrapper answers from what it knows, per `ledger_unavailable`:

* ``allow`` (default): minutes are counted in a local in-memory ledger, on top of the last figures the store
  gave for that person and budget in this process (a person the proxy has not seen yet starts from 0). The
  limit still applies to that sum. When the store answers again, every locally counted minute (and every
  continue chosen meanwhile) is replayed into it, idempotently and without a limit — those minutes were
  spent — and only then does the wrapper switch back to the store.
* ``block``: nothing new is counted. A minute this process saw counted before the outage stays counted
  (the request goes ahead); any other minute is refused (`Charge.counted` is False), so time-boxed sites
  are blocked until the store returns. Allow, block and warn rules are not affected: they need no ledger.

The first failing call marks the store unavailable (short socket timeouts keep that quick); from then on
no request waits on the store: a background probe pings it every `retry_interval` seconds and reconciles.
`charge`, `balance`, `continues` and `set_continue` never raise; `grant`, `reset` and `add_minutes` are
administrative and raise `LedgerUnavailable` during an outage rather than pretend.

Minutes and continues counted locally are also appended to a journal file (when one is given): a proxy
killed during an outage hands them to the store when it next starts, so a double fault loses nothing.
Two proxies in one outage each count on their own until the store returns.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import logging
import os
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from .ledger import Balance, Charge, Ledger, LedgerUnavailable
from .memory import Key, MemoryLedger

log = logging.getLogger("gonogo.ledger")

UNAVAILABLE_CHOICES = ("allow", "block")
_KNOWN_MAX = 100_000  # last known figures per (user, budget, period); cleared when it grows past this


class Journal:
    """What was counted locally, one JSON line per minute or continue, appended with O_APPEND: a killed
    process loses nothing it wrote (the kernel has it), and a torn last line is skipped on reading.

    Several proxies may share a state directory (compose replicas, systemd instances): each takes the first
    journal file no live process holds (an exclusive `flock`), so a journal left by a killed proxy is taken
    over, and handed to the store, by the next one to start."""

    def __init__(self, directory: Path, slots: int = 64) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        for slot in range(slots):
            path = directory / f"ledger-journal-{slot}.jsonl"
            fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                os.close(fd)
                continue
            self.path, self._fd = path, fd
            return
        raise OSError(f"all {slots} ledger journals in {directory} are in use")

    def entries(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        for line in self.path.read_text("utf-8", errors="replace").splitlines():
            with contextlib.suppress(ValueError):
                entry = json.loads(line)
                if isinstance(entry, dict):
                    found.append(entry)
        return found

    def append(self, **entry: object) -> None:
        os.write(self._fd, (json.dumps(entry) + "\n").encode())

    def clear(self) -> None:
        os.ftruncate(self._fd, 0)

    def close(self) -> None:
        os.close(self._fd)


class ResilientLedger:
    def __init__(self, store: Ledger, *, unavailable: str = "allow", retry_interval: float = 1.0,
                 on_error: Callable[[BaseException], None] | None = None,
                 on_availability_change: Callable[[bool], None] | None = None,
                 journal: Path | None = None) -> None:
        if unavailable not in UNAVAILABLE_CHOICES:
            raise ValueError(f"ledger_unavailable must be allow or block, not {unavailable!r}")
        self.store = store
        self.unavailable = unavailable
        self.retry_interval = retry_interval
        self.on_error = on_error
        self.on_availability_change = on_availability_change
        self.errors = 0  # failed store calls
        self.reconciled = 0  # minutes replayed into the store after outages
        self._available = True
        self._local = MemoryLedger()
        self._known: dict[Key, tuple[int, int, int | None]] = {}  # used, extra, last minute seen counted
        self._probe: asyncio.Task[None] | None = None
        self._journal = Journal(journal) if journal is not None else None
        self._restored = self._restore()
        self._last_changes = 0

    def _restore(self) -> int:
        """Load what an earlier run counted during an outage and never handed over; the first call to the
        ledger then starts the probe that replays it."""
        if self._journal is None:
            return 0
        restored = 0
        now = time.time()
        for entry in self._journal.entries():
            with contextlib.suppress(KeyError, TypeError, ValueError):
                if entry["kind"] == "minute" and float(entry["expires"]) > now:
                    key = (str(entry["user"]), str(entry["budget"]), str(entry["period"]))
                    self._local.restore(key, [int(entry["minute"])], float(entry["expires"]))
                    restored += 1
                elif entry["kind"] == "continue" and float(entry["until"]) > now:
                    self._local.restore_continue(str(entry["user"]), str(entry["rule"]), float(entry["until"]))
        if restored:
            log.warning("quota ledger: %d minutes counted during an earlier outage will be handed to the store",
                        restored)
        return restored

    def start(self) -> None:
        """Begin handing over what an earlier run journalled (call once the event loop runs; the first
        charge does it too)."""
        self._replay_restored()

    def _replay_restored(self) -> None:
        if self._restored and (self._probe is None or self._probe.done()):
            self._restored = 0
            self._probe = asyncio.get_running_loop().create_task(self._recover())

    @property
    def available(self) -> bool:
        return self._available

    @property
    def pending(self) -> int:
        """Minutes counted locally that the store has not got yet."""
        return sum(len(minutes) for _, minutes, _ in self._local.periods())

    # -- availability ------------------------------------------------------------------------------

    def _failed(self, error: BaseException) -> None:
        self.errors += 1
        self._notify(self.on_error, error)
        if not self._available:
            return
        log.warning("quota ledger unavailable (%s); %s time-boxed requests until it returns", error,
                    "counting locally and allowing" if self.unavailable == "allow" else "blocking new")
        self._available = False
        self._notify(self.on_availability_change, False)
        if self._probe is None or self._probe.done():
            self._probe = asyncio.get_running_loop().create_task(self._recover())

    @staticmethod
    def _notify(callback: Callable[..., None] | None, value: object) -> None:
        if callback is None:
            return
        try:
            callback(value)
        except Exception:
            log.exception("ledger callback failed")

    async def _recover(self) -> None:
        while True:
            await asyncio.sleep(self.retry_interval)  # a retry pace, not synchronisation
            try:
                await self.store.ping()
                await self._reconcile()
            except Exception as e:
                log.debug("quota ledger still unavailable: %s", e)
                continue
            self._known.clear()  # figures from before the outage are stale now
            if self._journal is not None:
                self._journal.clear()  # everything in it reached the store (no await since the loop ended)
            self._available = True  # no await since the local ledger was found empty: nothing slips between
            log.warning("quota ledger available again; %d locally counted minutes reconciled", self.reconciled)
            self._notify(self.on_availability_change, True)
            return

    async def _reconcile(self) -> None:
        """Replay local minutes and continues into the store until the local ledger is empty. Local
        operations never suspend, so a charge counted locally during a replay is picked up next round."""
        for user, rule, until in list(self._local.all_continues()):  # few; replaying a known one is harmless
            await self.store.set_continue(user, rule, until)
        while batch := list(self._local.periods()):
            for key, minutes, expires in batch:
                ttl = max(1, int(expires - time.time()))
                await self.store.add_minutes(*key, minutes, ttl)
                self._local.forget(key, minutes)
                self.reconciled += len(minutes)

    def _remember(self, key: Key, used: int, extra: int, minute: int | None) -> None:
        if len(self._known) >= _KNOWN_MAX:
            self._known.clear()
        last = minute if minute is not None else self._known.get(key, (0, 0, None))[2]
        self._known[key] = (used, extra, last)

    # -- the Ledger interface ---------------------------------------------------------------------

    async def charge(self, user: str, budget: str, period: str, minute: int, limit: int,
                     ttl_seconds: int) -> Charge:
        key = (user, budget, period)
        self._replay_restored()
        if self._available:
            try:
                c = await self.store.charge(user, budget, period, minute, limit, ttl_seconds)
            except Exception as e:
                self._failed(e)
            else:
                self._remember(key, c.used, c.extra, minute if c.counted else None)
                return c
        used, extra, last = self._known.get(key, (0, 0, None))
        local = await self._local.balance(user, budget, period, minute)
        if minute == last or local.minute_counted:
            return Charge(used + local.used, True, False, extra)
        if self.unavailable == "block":
            return Charge(used + local.used, False, False, extra)
        c = await self._local.charge(user, budget, period, minute, limit + extra - used, ttl_seconds)
        if c.new and self._journal is not None:
            self._journal.append(kind="minute", user=user, budget=budget, period=period, minute=minute,
                                 expires=time.time() + ttl_seconds)
        return Charge(used + c.used, c.counted, c.new, extra)

    async def balance(self, user: str, budget: str, period: str, minute: int) -> Balance:
        key = (user, budget, period)
        if self._available:
            try:
                b = await self.store.balance(user, budget, period, minute)
            except Exception as e:
                self._failed(e)
            else:
                self._remember(key, b.used, b.extra, minute if b.minute_counted else None)
                return b
        used, extra, last = self._known.get(key, (0, 0, None))
        local = await self._local.balance(user, budget, period, minute)
        return Balance(used + local.used, minute == last or local.minute_counted, extra)

    async def set_continue(self, user: str, rule: str, until: float) -> None:
        await self._local.set_continue(user, rule, until)  # kept locally too: the answer during an outage
        if self._available:
            try:
                await self.store.set_continue(user, rule, until)
                return
            except Exception as e:
                self._failed(e)
        if self._journal is not None:
            self._journal.append(kind="continue", user=user, rule=rule, until=until)

    async def continues(self, user: str, now: float) -> dict[str, float]:
        if self._available:
            try:
                found = await self.store.continues(user, now)
            except Exception as e:
                self._failed(e)
            else:
                for rule, until in found.items():  # e.g. chosen at another proxy
                    await self._local.set_continue(user, rule, until)
        return await self._local.continues(user, now)

    def _require_store(self) -> None:
        if not self._available:
            raise LedgerUnavailable("the quota store is unavailable")

    async def add_minutes(self, user: str, budget: str, period: str, minutes: Iterable[int],
                          ttl_seconds: int) -> int:
        self._require_store()
        return await self.store.add_minutes(user, budget, period, minutes, ttl_seconds)

    async def grant(self, user: str, budget: str, period: str, minutes: int, ttl_seconds: int) -> int:
        self._require_store()
        extra = await self.store.grant(user, budget, period, minutes, ttl_seconds)
        self._known.pop((user, budget, period), None)
        return extra

    async def reset(self, user: str, budget: str, period: str) -> None:
        self._require_store()
        await self.store.reset(user, budget, period)
        self._known.pop((user, budget, period), None)

    async def changes(self) -> int:
        """The store's change counter; during an outage it cannot move (grant and reset need the store)."""
        if not self._available:
            return self._last_changes
        try:
            self._last_changes = await self.store.changes()
        except Exception as e:
            self._failed(e)
        return self._last_changes

    async def ping(self) -> None:
        await self.store.ping()

    async def close(self) -> None:
        if self._probe is not None:
            self._probe.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._probe
        if self._journal is not None:
            self._journal.close()
        await self.store.close()
