"""SqliteLedger: the embedded store, one file, durable across restart and `kill -9`.

Why a worker thread: sqlite3 calls block, and mitmproxy runs every connection on one event loop. All
database work runs in one dedicated thread that owns the only connection; coroutines hand it work with
`run_in_executor`, so the loop never waits on the disk.

Durability: WAL journal, each charge its own committed transaction. With `synchronous=NORMAL` (default)
a committed charge survives the process being killed; `synchronous="FULL"` also survives power loss at
the cost of an fsync per new minute. Writers take `BEGIN IMMEDIATE`, so several processes on one file
(the proxy and `gonogo quota grant`, or two proxies) stay idempotent per minute.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

from .ledger import Balance, Charge

T = TypeVar("T")

CLEANUP_EVERY_SECONDS = 600

_SCHEMA = """
CREATE TABLE IF NOT EXISTS periods (
    user TEXT NOT NULL, budget TEXT NOT NULL, period TEXT NOT NULL,
    used INTEGER NOT NULL DEFAULT 0, extra INTEGER NOT NULL DEFAULT 0, expires REAL NOT NULL,
    PRIMARY KEY (user, budget, period)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS periods_expires ON periods (expires);
CREATE TABLE IF NOT EXISTS minutes (
    user TEXT NOT NULL, budget TEXT NOT NULL, period TEXT NOT NULL, minute INTEGER NOT NULL,
    PRIMARY KEY (user, budget, period, minute)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS changes (id INTEGER PRIMARY KEY CHECK (id = 1), n INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS continues (
    user TEXT NOT NULL, rule TEXT NOT NULL, until REAL NOT NULL,
    PRIMARY KEY (user, rule)) WITHOUT ROWID;
"""

_STATE = """
SELECT p.used, p.extra,
       EXISTS (SELECT 1 FROM minutes m WHERE m.user = p.user AND m.budget = p.budget AND m.period = p.period
               AND m.minute = ?)
FROM periods p WHERE p.user = ? AND p.budget = ? AND p.period = ?
"""


def _bump(db: sqlite3.Connection) -> None:
    """Move the change counter (in the admin's transaction): proxies polling it drop their cached budgets."""
    db.execute("INSERT INTO changes VALUES (1, 1) ON CONFLICT DO UPDATE SET n = n + 1")



def immediate(db: sqlite3.Connection, fn: Callable[[sqlite3.Connection], T]) -> T:
    """Run `fn` in one IMMEDIATE transaction: the write lock up front, so no two writers (two proxies, or a
    proxy and an admin command, on one file) interleave; any error rolls all of it back."""
    db.execute("BEGIN IMMEDIATE")
    try:
        result = fn(db)
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    return result

class SqliteLedger:
    """`Ledger` on a SQLite file. Opening creates the file (and its directory) and fails right away if it
    cannot, so a bad `--state` stops start-up instead of the first request."""

    def __init__(self, path: str | Path, *, synchronous: str = "NORMAL", busy_timeout_ms: int = 5000) -> None:
        if synchronous.upper() not in ("OFF", "NORMAL", "FULL", "EXTRA"):
            raise ValueError(f"synchronous must be NORMAL or FULL, not {synchronous!r}")
        self.path = Path(path)
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="gonogo-sqlite")
        self._conn: sqlite3.Connection | None = None
        self._next_cleanup = 0.0
        try:
            self._executor.submit(self._open, synchronous.upper(), busy_timeout_ms).result()
        except BaseException:
            self._executor.shutdown(wait=False)
            raise

    # -- worker thread -----------------------------------------------------------------------------

    def _open(self, synchronous: str, busy_timeout_ms: int) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, isolation_level=None)  # autocommit; transactions are explicit
        try:
            conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute(f"PRAGMA synchronous = {synchronous}")
            conn.executescript(_SCHEMA)
        except BaseException:
            conn.close()
            raise
        self._conn = conn
        self._cleanup()

    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            raise RuntimeError("the ledger is closed")
        return self._conn

    def _cleanup(self) -> None:
        """Drop expired periods with their minutes, and expired continues."""
        now = time.time()
        self._next_cleanup = now + CLEANUP_EVERY_SECONDS

        def cleanup(db: sqlite3.Connection) -> None:
            db.execute("DELETE FROM minutes WHERE (user, budget, period) IN "
                       "(SELECT user, budget, period FROM periods WHERE expires <= ?)", (now,))
            db.execute("DELETE FROM periods WHERE expires <= ?", (now,))
            db.execute("DELETE FROM continues WHERE until <= ?", (now,))

        immediate(self._db(), cleanup)

    def _state(self, user: str, budget: str, period: str, minute: int) -> tuple[int, int, bool]:
        row = self._db().execute(_STATE, (minute, user, budget, period)).fetchone()
        return (row[0], row[1], bool(row[2])) if row else (0, 0, False)

    def _write(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        return immediate(self._db(), fn)

    def _charge(self, user: str, budget: str, period: str, minute: int, limit: int, ttl: int) -> Charge:
        used, extra, counted = self._state(user, budget, period, minute)
        if counted:  # the common case, many requests in one minute: a read, no write
            return Charge(used, True, False, extra)
        if time.time() >= self._next_cleanup:
            self._cleanup()

        def write(db: sqlite3.Connection) -> Charge:
            used, extra, counted = self._state(user, budget, period, minute)  # again, under the write lock
            if counted:
                return Charge(used, True, False, extra)
            if used >= limit + extra:
                return Charge(used, False, False, extra)
            db.execute("INSERT INTO minutes VALUES (?, ?, ?, ?)", (user, budget, period, minute))
            db.execute("INSERT INTO periods (user, budget, period, used, expires) VALUES (?, ?, ?, 1, ?) "
                       "ON CONFLICT DO UPDATE SET used = used + 1, expires = max(expires, excluded.expires)",
                       (user, budget, period, time.time() + ttl))
            return Charge(used + 1, True, True, extra)

        return self._write(write)

    def _add_minutes(self, user: str, budget: str, period: str, minutes: list[int], ttl: int) -> int:
        def write(db: sqlite3.Connection) -> int:
            db.executemany("INSERT OR IGNORE INTO minutes VALUES (?, ?, ?, ?)",
                           [(user, budget, period, m) for m in minutes])
            (used,) = db.execute("SELECT count(*) FROM minutes WHERE user = ? AND budget = ? AND period = ?",
                                 (user, budget, period)).fetchone()
            db.execute("INSERT INTO periods (user, budget, period, used, expires) VALUES (?, ?, ?, ?, ?) "
                       "ON CONFLICT DO UPDATE SET used = excluded.used, expires = max(expires, excluded.expires)",
                       (user, budget, period, used, time.time() + ttl))
            return int(used)

        return self._write(write)

    def _grant(self, user: str, budget: str, period: str, minutes: int, ttl: int) -> int:
        def write(db: sqlite3.Connection) -> int:
            (extra,) = db.execute(
                "INSERT INTO periods (user, budget, period, extra, expires) VALUES (?, ?, ?, max(0, ?), ?) "
                "ON CONFLICT DO UPDATE SET extra = max(0, extra + ?), expires = max(expires, excluded.expires) "
                "RETURNING extra", (user, budget, period, minutes, time.time() + ttl, minutes)).fetchone()
            _bump(db)
            return int(extra)

        return self._write(write)

    def _reset(self, user: str, budget: str, period: str) -> None:
        def write(db: sqlite3.Connection) -> None:
            db.execute("DELETE FROM minutes WHERE user = ? AND budget = ? AND period = ?", (user, budget, period))
            db.execute("DELETE FROM periods WHERE user = ? AND budget = ? AND period = ?", (user, budget, period))
            _bump(db)

        self._write(write)

    def _set_continue(self, user: str, rule: str, until: float) -> None:
        self._write(lambda db: db.execute(
            "INSERT INTO continues VALUES (?, ?, ?) ON CONFLICT DO UPDATE SET until = excluded.until",
            (user, rule, until)))

    def _continues(self, user: str, now: float) -> dict[str, float]:
        rows = self._db().execute("SELECT rule, until FROM continues WHERE user = ? AND until > ?", (user, now))
        return dict(rows.fetchall())

    def _changes(self) -> int:
        row = self._db().execute("SELECT n FROM changes WHERE id = 1").fetchone()
        return int(row[0]) if row else 0

    def _close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    # -- the Ledger interface: each call is one job for the worker thread -----------------------------

    async def _run(self, fn: Callable[..., T], *args: object) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    async def charge(self, user: str, budget: str, period: str, minute: int, limit: int,
                     ttl_seconds: int) -> Charge:
        return await self._run(self._charge, user, budget, period, minute, limit, ttl_seconds)

    async def balance(self, user: str, budget: str, period: str, minute: int) -> Balance:
        used, extra, counted = await self._run(self._state, user, budget, period, minute)
        return Balance(used, counted, extra)

    async def add_minutes(self, user: str, budget: str, period: str, minutes: Iterable[int],
                          ttl_seconds: int) -> int:
        return await self._run(self._add_minutes, user, budget, period, list(minutes), ttl_seconds)

    async def grant(self, user: str, budget: str, period: str, minutes: int, ttl_seconds: int) -> int:
        return await self._run(self._grant, user, budget, period, minutes, ttl_seconds)

    async def reset(self, user: str, budget: str, period: str) -> None:
        await self._run(self._reset, user, budget, period)

    async def set_continue(self, user: str, rule: str, until: float) -> None:
        await self._run(self._set_continue, user, rule, until)

    async def continues(self, user: str, now: float) -> dict[str, float]:
        return await self._run(self._continues, user, now)

    async def changes(self) -> int:
        return await self._run(self._changes)

    async def ping(self) -> None:
        await self._run(lambda: self._db().execute("SELECT 1").fetchone())

    async def cleanup(self) -> None:
        """Drop expired periods now (it also happens at open and every few minutes while charging)."""
        await self._run(self._cleanup)

    async def close(self) -> None:
        if self._conn is None:
            return
        await self._run(self._close)
        self._executor.shutdown(wait=True)
