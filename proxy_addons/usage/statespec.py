"""Checking a `--state` value before anything is opened, so a mistake is one clear line naming the value and
the file (`gonogo: --state sqlite:x.db: x.db is not a SQLite database`), not a traceback from a driver."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from urllib.parse import urlsplit

SQLITE_HEADER = b"SQLite format 3\x00"
ALIASES = {"valkey://": "redis://", "valkeys://": "rediss://"}
REDIS_SCHEMES = ("redis://", "rediss://")


class StateError(ValueError):
    """A `--state` value that names no usable store; the message starts with `--state VALUE:`."""


def canonical(state: str) -> str:
    """`state` with the valkey aliases spelt as redis."""
    state = state.strip()
    for alias, scheme in ALIASES.items():
        if state.startswith(alias):
            return scheme + state[len(alias):]
    return state


def sqlite_path(state: str) -> str:
    path = state[len("sqlite:"):]
    return path[2:] if path.startswith("//") else path  # sqlite:///abs/path and sqlite://rel/path


def check_state(state: str) -> None:
    """Raise StateError when `state` is not `sqlite:PATH` (PATH missing, empty or a SQLite database) or a
    well-formed `redis://HOST:PORT/DB` URL. Nothing is created or connected to."""
    spec = canonical(state)
    if spec.startswith(REDIS_SCHEMES):
        _check_redis(state, spec)
    elif spec.startswith("sqlite:"):
        _check_sqlite(state, sqlite_path(spec))
    else:
        raise StateError(f"--state {state}: must be sqlite:PATH or redis://HOST:PORT/DB (rediss://, valkey://)")


def _check_redis(state: str, spec: str) -> None:
    try:
        parts = urlsplit(spec)
        port = parts.port
    except ValueError as exc:
        raise StateError(f"--state {state}: {exc}") from None
    if not parts.hostname and not parts.path.startswith("/"):
        raise StateError(f"--state {state}: no host; write redis://HOST:PORT/DB")
    db = parts.path.strip("/")
    if db and not (db.isdigit() and int(db) < 1 << 16):
        raise StateError(f"--state {state}: the database must be a number, not {db!r}")
    if port is not None and not 0 < port < 65536:
        raise StateError(f"--state {state}: port {port} is not 1-65535")


def _check_sqlite(state: str, path: str) -> None:
    if not path:
        raise StateError(f"--state {state}: sqlite:PATH needs a file path, e.g. sqlite:var/gonogo.db")
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return  # created on first use
    except OSError as exc:
        raise StateError(f"--state {state}: cannot use {path}: {exc.strerror or exc}") from None
    if not stat.S_ISREG(st.st_mode):
        raise StateError(f"--state {state}: {path} is not a regular file")
    if st.st_size == 0:
        return  # SQLite turns an empty file into a database
    try:
        with Path(path).open("rb") as handle:
            header = handle.read(len(SQLITE_HEADER))
    except OSError as exc:
        raise StateError(f"--state {state}: cannot read {path}: {exc.strerror or exc}") from None
    if header != SQLITE_HEADER:
        raise StateError(f"--state {state}: {path} is not a SQLite database")
