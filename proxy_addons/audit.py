"""The audit log: one JSON line per decision that blocks, warns, is continued past or exhausts a budget.

A record counts what a person did, not how many requests their browser made: at most one record per
person, host, event and rule per minute (UTC clock minute). A blocked page view brings its favicon and
background requests along, each blocked too; they are one block in the log, and four page views in four
minutes are four. Repeats within the minute are counted in `repeats`, never written.

What a record holds is fixed here, not by the caller: time (UTC), event, decision, rule, category,
group, host (never the URL, whose path and query can name a person or a post) and the user — as a
keyed HMAC-SHA256 pseudonym unless the policy says `audit_log: named`; with `off` nothing is written.
The pseudonym key lives in the state directory (0600), is created once and never logged, so the same
person gets the same pseudonym across restarts (an admin can count people per rule) while the log
alone does not tell who they are.

Writing never blocks mitmproxy's event loop: `record()` only puts the record on a bounded in-memory
queue; a daemon thread appends to `audit-YYYY-MM-DD.jsonl` (UTC day) and deletes files whose day ended
more than `retention_days` ago (at start, at each new day, and hourly). If the queue is full the record
is dropped and counted (`dropped`) rather than stalling traffic; failed writes are counted too (`errors`).
Losses are not silent: once the writer can write again it logs a warning and appends a `lost` record with
the numbers, which `gonogo audit` reports. `flush()` waits for the queue to be
written (call it via `asyncio.to_thread` from the loop); `close()` flushes and stops the thread.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import os
import queue
import re
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from .gateway.continuelink import load_key
from .policy import Decision
from .policy.model import Privacy

log = logging.getLogger(__name__)

EVENTS = ("block", "warn", "continue", "exhausted")
# exception requests (see `record_request`)
REQUEST_EVENTS = ("requested", "approved", "denied", "expired", "withdrawn")
LOST_EVENT = "lost"  # a note, not a decision: {"time", "event": "lost", "dropped": n, "errors": n}
FILE_PATTERN = re.compile(r"audit-(\d{4}-\d{2}-\d{2})\.jsonl")
_QUEUE_LIMIT = 100_000
_PRUNE_EVERY_SECONDS = 3600.0
_BATCH_LIMIT = 1000  # records written with one write()
_BATCH_PAUSE = 0.05  # seconds the writer waits after a write, so a burst is written in few batches
_STOP = object()


def pseudonym(key: bytes, user: str) -> str:
    """A stable, keyed pseudonym for `user`: 64 bits of HMAC-SHA256, enough to tell people apart,
    useless for finding out who they are without the key."""
    return hmac.new(key, user.encode("utf-8"), hashlib.sha256).hexdigest()[:16]


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class AuditLog:
    """Audit records for one proxy; see the module docstring for what, where and how long."""

    def __init__(self, directory: Path, policy_privacy: Privacy, key_path: Path, *,
                 clock: Callable[[], dt.datetime] = _utc_now, queue_limit: int = _QUEUE_LIMIT) -> None:
        self.directory = Path(directory)
        self.key_path = Path(key_path)
        self.clock = clock
        self.dropped = 0
        self.errors = 0
        self._noted = (0, 0)  # (dropped, errors) already written in a `lost` record
        self._privacy = policy_privacy
        self._key: bytes | None = None
        self.repeats = 0  # records not written: the same person, host, event and rule in the same minute
        self._minute = -1
        self._this_minute: set[tuple[str | None, str, str, str]] = set()
        self._queue: queue.Queue[Any] = queue.Queue(queue_limit)
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.reconfigure(policy_privacy)

    @property
    def mode(self) -> str:
        return self._privacy.audit_log

    def reconfigure(self, privacy: Privacy) -> None:
        """Apply a reloaded policy's privacy settings; the key, once made, stays the same."""
        self._privacy = privacy
        if privacy.audit_log == "pseudonymous" and self._key is None:
            self._key = load_key(self.key_path)

    def user_field(self, user: str | None) -> str | None:
        if user is None:
            return None
        if self.mode == "named":
            return user
        assert self._key is not None
        return pseudonym(self._key, user)

    def record(self, decision: Decision, *, user: str | None, host: str, event: str | None = None,
               now: dt.datetime | None = None) -> bool:
        """Queue an audit record; returns whether one was queued. `event` defaults to the decision
        (block | warn); pass "continue" or "exhausted" for those moments. Allows are not audited."""
        event = event or decision.decision
        if self.mode == "off" or event not in EVENTS:
            return False
        when = (now or self.clock()).astimezone(dt.UTC)
        if self._repeat(user, host, event, decision.rule or "default", when):
            return False
        entry: dict[str, Any] = {
            "time": when.isoformat(timespec="seconds").replace("+00:00", "Z"),
            "event": event,
            "decision": decision.decision,
            "action": decision.action,
            "rule": decision.rule if decision.rule is not None else "default",
            "category": decision.category,
            "group": decision.group,
            "host": host,
            "user": self.user_field(user),
        }
        if decision.quota is not None:
            entry.update(budget=decision.quota.budget, used=decision.quota.used, limit=decision.quota.limit)
        return self._enqueue(when, entry)

    def _repeat(self, user: str | None, host: str, event: str, rule: str, when: dt.datetime) -> bool:
        """Whether this person already has a record for this host, event and rule in this clock minute.
        Only the current minute is remembered (a set that is emptied when the minute changes)."""
        minute = int(when.timestamp() // 60)
        if minute != self._minute:
            self._minute = minute
            self._this_minute.clear()
        key = (user, host, event, rule)
        if key in self._this_minute:
            self.repeats += 1
            return True
        self._this_minute.add(key)
        return False

    def record_request(self, event: str, *, request_id: str, user: str | None, rule: str, host: str,
                       minutes: int, group: str | None = None, now: dt.datetime | None = None) -> bool:
        """Queue the record of an exception request made, approved, denied, expired or withdrawn. Never the
        reason: it is free text that may name people; it stays in the request store (purged after the retention)."""
        if self.mode == "off" or event not in REQUEST_EVENTS:
            return False
        when = (now or self.clock()).astimezone(dt.UTC)
        entry: dict[str, Any] = {
            "time": when.isoformat(timespec="seconds").replace("+00:00", "Z"), "event": event, "request": request_id,
            "rule": rule, "group": group, "host": host, "minutes": minutes, "user": self.user_field(user),
        }
        return self._enqueue(when, entry)

    def _enqueue(self, when: dt.datetime, entry: dict[str, Any]) -> bool:
        """Hand a record to the writer thread; a full queue drops it (counted) rather than stall a request."""
        try:
            self._queue.put_nowait((when.date(), json.dumps(entry, ensure_ascii=False) + "\n"))
        except queue.Full:
            self.dropped += 1
            return False
        self._ensure_thread()
        return True

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until everything queued is written; False on timeout. Blocking: from the event loop
        call `await asyncio.to_thread(log.flush)`."""
        if self._thread is None:
            return True
        done = threading.Event()
        try:
            self._queue.put(done, timeout=timeout)
        except queue.Full:
            return False
        return done.wait(timeout)

    def close(self, timeout: float = 10.0) -> None:
        """Write what is queued and stop the writer thread."""
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is not None:
            self._queue.put(_STOP)
            thread.join(timeout)

    def prune(self, now: dt.datetime | None = None) -> list[Path]:
        """Delete audit files whose (UTC) day ended more than `retention_days` ago; returns them."""
        today = (now or self.clock()).astimezone(dt.UTC).date()
        oldest_kept = today - dt.timedelta(days=self._privacy.retention_days)
        removed = []
        for path, day in audit_files(self.directory):
            if day < oldest_kept:
                try:
                    path.unlink()
                    removed.append(path)
                except FileNotFoundError:
                    pass
        return removed

    # -- the writer thread ----------------------------------------------------------------------
    def _ensure_thread(self) -> None:
        if self._thread is None:
            with self._lock:
                if self._thread is None:
                    self._thread = threading.Thread(target=self._run, name="gonogo-audit", daemon=True)
                    self._thread.start()

    def _run(self) -> None:
        self._safely(self._prepare)
        pruned_day: dt.date | None = None
        while True:
            try:
                item = self._queue.get(timeout=_PRUNE_EVERY_SECONDS)
            except queue.Empty:
                self._safely(self.prune)
                continue
            batch = self._batch(item)
            lines: dict[dt.date, list[str]] = {}
            for day, line in batch[:-1] if not isinstance(batch[-1], tuple) else batch:
                lines.setdefault(day, []).append(line)
            for day, group in lines.items():
                if day != pruned_day:
                    pruned_day = day
                    self._safely(self.prune)
                self._write_lines(day, group)
            self._safely(self._note_losses)
            if batch[-1] is _STOP:
                return
            if isinstance(batch[-1], threading.Event):
                batch[-1].set()
            else:
                # let records gather: waking this thread (and taking the GIL from the event loop) once per
                # record of a burst costs the proxy more than the writing itself
                time.sleep(_BATCH_PAUSE)

    def _batch(self, first: Any) -> list[Any]:
        """`first` and whatever else is queued (up to a bound), ending early at a stop or flush marker: a burst
        of records (a client retrying a blocked site) is written with one system call, not one per record."""
        batch = [first]
        while isinstance(batch[-1], tuple) and len(batch) < _BATCH_LIMIT:
            try:
                batch.append(self._queue.get_nowait())
            except queue.Empty:
                break
        return batch

    def _write_lines(self, day: dt.date, lines: list[str]) -> None:
        try:
            self._append(day, "".join(lines))
        except OSError as exc:
            self.errors += len(lines)
            log.error("audit log %s: %s", self.directory, exc)

    def _prepare(self) -> None:
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.prune()

    def _append(self, day: dt.date, line: str) -> None:
        """Append one or more whole lines to the day's file."""
        path = self.directory / f"audit-{day.isoformat()}.jsonl"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            os.write(fd, line.encode("utf-8"))  # one write of whole lines: lines from several proxies do not mix
        finally:
            os.close(fd)

    def _note_losses(self) -> None:
        """Say (log + a `lost` record) how many records were dropped or not written since the last note."""
        dropped, errors = self.dropped - self._noted[0], self.errors - self._noted[1]
        if dropped <= 0 and errors <= 0:
            return
        when = self.clock().astimezone(dt.UTC)
        entry = {"time": when.isoformat(timespec="seconds").replace("+00:00", "Z"), "event": LOST_EVENT,
                 "dropped": dropped, "errors": errors}
        log.warning("audit log %s: %d records dropped (queue full), %d failed writes", self.directory,
                    dropped, errors)
        self._append(when.date(), json.dumps(entry) + "\n")
        self._noted = (self._noted[0] + dropped, self._noted[1] + errors)  # only once written: else next time

    def _safely(self, action: Callable[[], object]) -> None:
        try:
            action()
        except OSError as exc:
            self.errors += 1
            log.error("audit log %s: %s", self.directory, exc)


def audit_files(directory: Path) -> Iterator[tuple[Path, dt.date]]:
    try:
        entries = list(directory.iterdir())
    except FileNotFoundError:
        return
    for path in entries:
        match = FILE_PATTERN.fullmatch(path.name)
        if match:
            try:
                yield path, dt.date.fromisoformat(match.group(1))
            except ValueError:
                continue
