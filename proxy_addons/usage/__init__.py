"""Quota ledger: one interface (`Ledger`), SQLite, Redis and in-memory stores, and `open_ledger(state)`.

`--state` takes `sqlite:PATH` (the default, `sqlite:var/gonogo.db`) or `redis://HOST:PORT/DB`
(`rediss://` for TLS; `valkey://` and `valkeys://` are accepted as aliases).
"""

from __future__ import annotations

from pathlib import Path

from .ledger import TTL_MARGIN_SECONDS, Balance, Charge, Ledger, LedgerUnavailable, period_ttl
from .memory import MemoryLedger
from .resilient import UNAVAILABLE_CHOICES, ResilientLedger

DEFAULT_STATE = "sqlite:var/gonogo.db"
_ALIASES = {"valkey://": "redis://", "valkeys://": "rediss://"}


def open_store(state: str | None = None) -> Ledger:
    """The bare store named by `state`: errors reach the caller (what `gonogo quota` wants)."""
    state = (state or DEFAULT_STATE).strip()
    for alias, scheme in _ALIASES.items():
        if state.startswith(alias):
            state = scheme + state[len(alias):]
    if state.startswith(("redis://", "rediss://")):
        from .redis import RedisLedger  # only a Redis deployment pays for importing the driver

        return RedisLedger(state)
    path = sqlite_path(state)
    if path is not None:
        from .sqlite import SqliteLedger

        return SqliteLedger(str(path))
    raise ValueError(f"--state must be sqlite:PATH or redis://HOST:PORT/DB (rediss://, valkey://), not {state!r}")


def sqlite_path(state: str) -> Path | None:
    """The file of a `sqlite:PATH` store (None for any other kind); `sqlite:///abs/path` and
    `sqlite://rel/path` are accepted as in other tools."""
    state = state.strip()
    if not state.startswith("sqlite:"):
        return None
    path = state[len("sqlite:"):]
    if path.startswith("//"):
        path = path[2:]
    if not path:
        raise ValueError("--state sqlite:PATH needs a file path, e.g. sqlite:var/gonogo.db")
    return Path(path)


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
    "MemoryLedger", "ResilientLedger", "open_ledger", "open_store", "period_ttl",
    "sqlite_path",
]
