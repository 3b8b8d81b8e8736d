"""Exception requests: what a person asked for from a block page, and what the admin decided.

They live in the same store as the quota ledger (the `--state` value: SQLite file or Redis), so every proxy
sharing the ledger shares the requests, and they survive restarts and `kill -9` as the ledger does. One
interface (`RequestStore`), two stores (requests_sqlite, requests_redis); the state rules (what may be
approved, denied or expired, and when) are written once, here, and both stores apply them inside their own
transaction.

A request is `open` until the admin approves or denies it, or the person withdraws it (`withdrawn`: they no
longer need it); an approved one is an exception for that person and
rule until `until`, then `expired`; an open one nobody answered within `OPEN_TTL_SECONDS` expires too. Every
change bumps the store's `version`, which proxies poll (one cheap read a second) instead of asking per request.
`announced` is the last state whose event (audit, metrics, webhook) a proxy has claimed, so with many proxies
each event is announced once.
"""

from __future__ import annotations

import dataclasses
import secrets
from dataclasses import dataclass
from typing import Any, Protocol

STATES = ("open", "approved", "denied", "expired", "withdrawn")
FINISHED = ("denied", "expired", "withdrawn")  # states nothing follows; purged after the audit retention
OPEN_TTL_SECONDS = 24 * 3600  # an open request nobody answered in a day expires
MAX_OPEN = 3  # open requests per person
MAX_PER_HOUR = 10  # requests per person per hour, answered or not
MAX_REASON = 500  # characters
MAX_NOTE = 500


@dataclass(frozen=True, slots=True)
class ExceptionRequest:
    id: str
    person: str  # the ledger key (user:NAME or ip:ADDRESS): whose exception it is
    user: str | None  # the user name, if the proxy knew one
    ip: str | None
    rule: str
    host: str
    reason: str
    minutes: int  # asked for
    state: str  # open | approved | denied | expired | withdrawn
    created: float  # epoch seconds
    decided: float | None = None
    until: float | None = None  # approved: when the exception ends
    note: str | None = None  # the admin's
    granted: int | None = None  # minutes approved
    announced: str | None = None  # the last state whose event was claimed (see `claim`)

    @property
    def who(self) -> str:
        """The person as the admin knows them: user name, else address."""
        return self.user or self.ip or self.person

    def to_json(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data.pop("announced")
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ExceptionRequest:
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


class RequestError(ValueError):
    """The admin asked for something the request's state does not allow (approve an expired one, ...)."""


class TooManyOpen(RequestError):
    def __init__(self, count: int) -> None:
        super().__init__(f"{count} open requests already")
        self.count = count


class RateLimited(RequestError):
    pass


class NotOpen(RequestError):
    """A person tried to withdraw their request, but it is no longer open (`state` says what it is now)."""

    def __init__(self, request_id: str, state: str) -> None:
        super().__init__(f"request {request_id} is {state}, no longer open; it cannot be withdrawn")
        self.state = state


def new_id() -> str:
    """Not guessable: about 72 random bits, URL-safe (12 characters). Never starting with `-` or `_`, so an admin
    can type `gonogo requests approve ID` without the id being read as an option."""
    while not (found := secrets.token_urlsafe(9))[0].isalnum():
        continue
    return found


def check_new(open_count: int, recent_count: int, max_open: int = MAX_OPEN, max_per_hour: int = MAX_PER_HOUR) -> None:
    """Raise when a person may not ask now: `open_count` open requests, `recent_count` in the last hour."""
    if open_count >= max_open:
        raise TooManyOpen(open_count)
    if recent_count >= max_per_hour:
        raise RateLimited(f"{recent_count} requests in the last hour")


def lapsed(req: ExceptionRequest, now: float) -> bool:
    """Whether an open or approved request has run out by `now` (and should become `expired`)."""
    if req.state == "open":
        return req.created + OPEN_TTL_SECONDS <= now
    return req.state == "approved" and req.until is not None and req.until <= now


def decide(req: ExceptionRequest | None, request_id: str, approve: bool, minutes: int | None, note: str | None,
           now: float) -> ExceptionRequest:
    """The request after the admin's decision, or RequestError saying why it cannot be made."""
    if req is None:
        raise RequestError(f"no request {request_id!r} (unknown id, or purged after the audit retention)")
    verb = "approve" if approve else "deny"
    if lapsed(req, now) or req.state == "expired":
        raise RequestError(f"request {req.id} has expired; it cannot be {verb}d now (the person can ask again)")
    if req.state == "approved":
        raise RequestError(f"request {req.id} is already approved until {_stamp(req.until)}; it cannot be "
                           f"{verb}d now")
    if req.state == "denied":
        raise RequestError(f"request {req.id} was denied already; it cannot be {verb}d now")
    if req.state == "withdrawn":
        raise RequestError(f"request {req.id} was withdrawn by the person who asked; it cannot be {verb}d now")
    if note is not None and len(note) > MAX_NOTE:
        raise RequestError(f"--note is longer than {MAX_NOTE} characters")
    if not approve:
        return dataclasses.replace(req, state="denied", decided=now, note=note)
    granted = req.minutes if minutes is None else minutes
    if not 1 <= granted <= 1440:
        raise RequestError(f"--minutes must be between 1 and 1440, not {granted}")
    return dataclasses.replace(req, state="approved", decided=now, note=note, granted=granted,
                               until=now + granted * 60)


def withdrawn(req: ExceptionRequest | None, person: str, now: float) -> ExceptionRequest | None:
    """The request after its own person withdrew it; None when there is no such request of `person` (someone
    else's looks the same as an unknown one), RequestError when it is theirs but no longer open."""
    if req is None or req.person != person:
        return None
    if lapsed(req, now) or req.state != "open":
        state = "expired" if lapsed(req, now) else req.state
        raise NotOpen(req.id, state)
    return dataclasses.replace(req, state="withdrawn", decided=now)


def expired(req: ExceptionRequest) -> ExceptionRequest:
    return dataclasses.replace(req, state="expired")


def _stamp(ts: float | None) -> str:
    import datetime as dt

    return "?" if ts is None else dt.datetime.fromtimestamp(ts, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


class RequestStore(Protocol):
    async def create(self, req: ExceptionRequest, *, max_open: int = MAX_OPEN,
                     max_per_hour: int = MAX_PER_HOUR) -> ExceptionRequest:
        """Store a new open request, unless the person has `max_open` open ones (TooManyOpen) or asked
        `max_per_hour` times in the hour before `req.created` (RateLimited); atomic per person."""
        ...

    async def get(self, request_id: str) -> ExceptionRequest | None: ...

    async def find(self, person: str | None = None, open_only: bool = False) -> list[ExceptionRequest]:
        """Newest first; one person's, or everybody's."""
        ...

    async def decide(self, request_id: str, approve: bool, minutes: int | None, note: str | None,
                     now: float) -> ExceptionRequest:
        """Approve or deny an open request (see `decide` above for what is refused, with RequestError)."""
        ...

    async def withdraw(self, request_id: str, person: str, now: float) -> ExceptionRequest | None:
        """The person takes back their own open request (state `withdrawn`), atomically. None when `person` has
        no request `request_id` (unknown, or someone else's); NotOpen when it is no longer open."""
        ...

    async def active(self, now: float) -> list[ExceptionRequest]:
        """Approved requests whose exception has not ended by `now`."""
        ...

    async def expire(self, now: float) -> int:
        """Mark open and approved requests that ran out as `expired`; returns how many."""
        ...

    async def claim(self) -> list[ExceptionRequest]:
        """Requests whose current state has not been announced yet, marked announced: the caller announces."""
        ...

    async def version(self) -> int:
        """A number that changes whenever any request changes."""
        ...

    async def purge(self, before: float) -> int:
        """Delete requests created before `before` that are no longer open or approved (FINISHED)."""
        ...

    async def close(self) -> None: ...


def open_requests(state: str | None = None) -> RequestStore:
    """The request store beside the ledger named by `state` (the same `--state` value as `open_store`)."""
    from . import _ALIASES, DEFAULT_STATE

    state = (state or DEFAULT_STATE).strip()
    for alias, scheme in _ALIASES.items():
        if state.startswith(alias):
            state = scheme + state[len(alias):]
    if state.startswith(("redis://", "rediss://")):
        from .requests_redis import RedisRequests

        return RedisRequests(state)
    if state.startswith("sqlite:"):
        path = state[len("sqlite:"):]
        if path.startswith("//"):
            path = path[2:]
        if not path:
            raise ValueError("--state sqlite:PATH needs a file path, e.g. sqlite:var/gonogo.db")
        from .requests_sqlite import SqliteRequests

        return SqliteRequests(path)
    raise ValueError(f"--state must be sqlite:PATH or redis://HOST:PORT/DB (rediss://, valkey://), not {state!r}")
