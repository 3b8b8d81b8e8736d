"""SqliteRequests: exception requests in the ledger's SQLite file (see requests.py for the rules).

Like SqliteLedger, one worker thread owns the connection so the event loop never waits on the disk; every
change is one `BEGIN IMMEDIATE` transaction, so the proxy and `gonogo requests approve` (two processes on one
file) cannot both approve, and the limits per person hold when two requests race.
"""

from __future__ import annotations

import asyncio
import dataclasses
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from . import requests as rules
from .requests import ExceptionRequest
from .sqlite import immediate

T = TypeVar("T")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS exception_requests (
    id TEXT PRIMARY KEY, person TEXT NOT NULL, user TEXT, ip TEXT, rule TEXT NOT NULL, host TEXT NOT NULL,
    reason TEXT NOT NULL, minutes INTEGER NOT NULL, state TEXT NOT NULL, created REAL NOT NULL,
    decided REAL, until REAL, note TEXT, granted INTEGER, announced TEXT);
CREATE INDEX IF NOT EXISTS exception_requests_person ON exception_requests (person, created);
CREATE INDEX IF NOT EXISTS exception_requests_state ON exception_requests (state);
CREATE TABLE IF NOT EXISTS exception_version (one INTEGER PRIMARY KEY CHECK (one = 1), version INTEGER NOT NULL);
INSERT OR IGNORE INTO exception_version VALUES (1, 0);
"""
_FIELDS = [f.name for f in dataclasses.fields(ExceptionRequest)]
_COLUMNS = ", ".join(_FIELDS)
_INSERT = (f"INSERT OR REPLACE INTO exception_requests ({_COLUMNS}) "
           f"VALUES ({', '.join('?' for _ in _FIELDS)})")


def _row(row: tuple[Any, ...]) -> ExceptionRequest:
    return ExceptionRequest(*row)


class SqliteRequests:
    def __init__(self, path: str | Path, *, busy_timeout_ms: int = 5000) -> None:
        self.path = Path(path)
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="gonogo-requests")
        self._conn: sqlite3.Connection | None = None
        try:
            self._executor.submit(self._open, busy_timeout_ms).result()
        except BaseException:
            self._executor.shutdown(wait=False)
            raise

    # -- worker thread -----------------------------------------------------------------------------

    def _open(self, busy_timeout_ms: int) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, isolation_level=None)
        try:
            conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
            conn.execute("PRAGMA journal_mode = WAL")
            conn.executescript(_SCHEMA)
        except BaseException:
            conn.close()
            raise
        self._conn = conn

    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            raise RuntimeError("the request store is closed")
        return self._conn

    def _write(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """`fn` in one IMMEDIATE transaction; the version moves with every committed change."""

        def versioned(db: sqlite3.Connection) -> T:
            result = fn(db)
            db.execute("UPDATE exception_version SET version = version + 1")
            return result

        return immediate(self._db(), versioned)

    def _select(self, where: str, args: tuple[Any, ...] = ()) -> list[ExceptionRequest]:
        rows = self._db().execute(f"SELECT {_COLUMNS} FROM exception_requests {where}", args).fetchall()
        return [_row(r) for r in rows]

    def _create(self, req: ExceptionRequest, max_open: int, max_per_hour: int) -> ExceptionRequest:
        def write(db: sqlite3.Connection) -> ExceptionRequest:
            (open_count,) = db.execute("SELECT count(*) FROM exception_requests WHERE person = ? AND state = 'open'",
                                       (req.person,)).fetchone()
            (recent,) = db.execute("SELECT count(*) FROM exception_requests WHERE person = ? AND created > ?",
                                   (req.person, req.created - 3600)).fetchone()
            rules.check_new(int(open_count), int(recent), max_open, max_per_hour)
            db.execute(_INSERT, dataclasses.astuple(req))
            return req

        return self._write(write)

    def _decide(self, request_id: str, approve: bool, minutes: int | None, note: str | None,
                now: float) -> ExceptionRequest:
        def write(db: sqlite3.Connection) -> ExceptionRequest:
            found = self._select("WHERE id = ?", (request_id,))
            changed = rules.decide(found[0] if found else None, request_id, approve, minutes, note, now)
            db.execute(_INSERT, dataclasses.astuple(changed))
            return changed

        return self._write(write)

    def _withdraw(self, request_id: str, person: str, now: float) -> ExceptionRequest | None:
        if not self._select("WHERE id = ? AND person = ?", (request_id, person)):
            return None  # unknown, or someone else's: nothing to write, and the version stays

        def write(db: sqlite3.Connection) -> ExceptionRequest | None:
            found = self._select("WHERE id = ? AND person = ?", (request_id, person))
            changed = rules.withdrawn(found[0] if found else None, person, now)
            if changed is not None:
                db.execute(_INSERT, dataclasses.astuple(changed))
            return changed

        return self._write(write)

    def _expire(self, now: float) -> int:
        lapsed = [r for r in self._select("WHERE state IN ('open', 'approved')") if rules.lapsed(r, now)]
        if not lapsed:
            return 0

        def write(db: sqlite3.Connection) -> int:
            count = 0
            for r in self._select("WHERE state IN ('open', 'approved')"):  # again, under the write lock
                if rules.lapsed(r, now):
                    db.execute(_INSERT, dataclasses.astuple(rules.expired(r)))
                    count += 1
            return count

        return self._write(write)

    def _claim(self) -> list[ExceptionRequest]:
        if not self._select("WHERE announced IS NOT state LIMIT 1"):
            return []

        def write(db: sqlite3.Connection) -> list[ExceptionRequest]:
            found = self._select("WHERE announced IS NOT state")
            db.execute("UPDATE exception_requests SET announced = state WHERE announced IS NOT state")
            return found

        return self._write(write)

    def _purge(self, before: float) -> int:
        def write(db: sqlite3.Connection) -> int:
            marks = ", ".join("?" for _ in rules.FINISHED)
            cur = db.execute(f"DELETE FROM exception_requests WHERE created < ? AND state IN ({marks})",
                             (before, *rules.FINISHED))
            return int(cur.rowcount)

        return self._write(write)

    # -- the RequestStore interface ----------------------------------------------------------------

    async def _run(self, fn: Callable[..., T], *args: object) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    async def create(self, req: ExceptionRequest, *, max_open: int = rules.MAX_OPEN,
                     max_per_hour: int = rules.MAX_PER_HOUR) -> ExceptionRequest:
        return await self._run(self._create, req, max_open, max_per_hour)

    async def get(self, request_id: str) -> ExceptionRequest | None:
        found = await self._run(self._select, "WHERE id = ?", (request_id,))
        return found[0] if found else None

    async def find(self, person: str | None = None, open_only: bool = False) -> list[ExceptionRequest]:
        where, args = [], []
        if person is not None:
            where.append("person = ?")
            args.append(person)
        if open_only:
            where.append("state = 'open'")
        clause = ("WHERE " + " AND ".join(where)) if where else ""
        return await self._run(self._select, f"{clause} ORDER BY created DESC", tuple(args))

    async def decide(self, request_id: str, approve: bool, minutes: int | None, note: str | None,
                     now: float) -> ExceptionRequest:
        return await self._run(self._decide, request_id, approve, minutes, note, now)

    async def withdraw(self, request_id: str, person: str, now: float) -> ExceptionRequest | None:
        return await self._run(self._withdraw, request_id, person, now)

    async def active(self, now: float) -> list[ExceptionRequest]:
        return await self._run(self._select, "WHERE state = 'approved' AND until > ?", (now,))

    async def expire(self, now: float) -> int:
        return await self._run(self._expire, now)

    async def claim(self) -> list[ExceptionRequest]:
        return await self._run(self._claim)

    async def version(self) -> int:
        row = await self._run(lambda: self._db().execute("SELECT version FROM exception_version").fetchone())
        return int(row[0])

    async def purge(self, before: float) -> int:
        return await self._run(self._purge, before)

    async def close(self) -> None:
        if self._conn is None:
            return

        def close() -> None:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

        await self._run(close)
        self._executor.shutdown(wait=True)
