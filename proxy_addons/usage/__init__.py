"""Quota ledger: one interface (`Ledger`), SQLite, Redis and in-memory stores, and `open_ledger(state)`.

`--state` takes `sqlite:PATH` (the default, `sqlite:var/gonogo.db`) or `redis://HOST:PORT/DB`
(`rediss://` for TLS; `valkey://` and `valkeys://` are accepted as aliases).
"""

from __future__ import annotations

from pathlib import Path

from .ledger import TTL_MARGIN_SECONDS, Balance, Charge, Ledger, LedgerUnavailable, period_ttl
from .memory import MemoryLedger
from .resilient import UNAVAILABLE_CHOICES, ResilientLedger
from .statespec import ALIASES, REDIS_SCHEMES, StateError, canonical, check_state, sqlite_path

DEFAULT_STATE = "sqlite:var/gonogo.db"
_ALIASES = ALIASES  # requests.py reads the valkey aliases from here


def open_store(state: str | None = None) -> Ledger:
    """The bare store named by `state`: errors reach the caller (what `gonogo quota` wants); a bad value or a
    file that is no database is a `StateError` (a ValueError) with a one-line message."""
    given = (state or DEFAULT_STATE).strip()
    check_state(given)
    state = canonical(given)
    if state.startswith(REDIS_SCHEMES):
        from .redis import RedisLedger  # only a Redis deployment pays for importing the driver

        try:
            return RedisLedger(state)
        except ValueError as exc:
            raise StateError(f"--state {given}: {exc}") from None
    import sqlite3

    from .sqlite import SqliteLedger

    path = sqlite_path(state)
    try:
        return SqliteLedger(path)
    except sqlite3.DatabaseError as exc:
        raise StateError(f"--state {given}: {path} is not a usable SQLite database ({exc})") from None
    except OSError as exc:
        raise StateError(f"--state {given}: cannot open {path}: {exc.strerror or exc}") from None


def open_ledger(state: str | None = None, *, unavailable: str = "allow",
                journal: Path | None = None) -> ResilientLedger:
    """The ledger the proxy uses: the store named by `state`, wrapped so an outage of the store never
    fails a request (see `ResilientLedger`; `unavailable` is the policy's `ledger_unavailable`; `journal` is
    the directory where minutes counted during an outage are kept until the store has them)."""
    if unavailable not in UNAVAILABLE_CHOICES:
        raise ValueError(f"ledger_unavailable must be allow or block, not {unavailable!r}")
    return ResilientLedger(open_store(state), unavailable=unavailable, journal=journal)


__all__ = [
    "DEFAULT_STATE", "TTL_MARGIN_SECONDS", "UNAVAILABLE_CHOICES", "Balance", "Charge", "Ledger", "LedgerUnavailable",
    "MemoryLedger", "ResilientLedger", "StateError", "check_state", "open_ledger", "open_store", "period_ttl",
]
