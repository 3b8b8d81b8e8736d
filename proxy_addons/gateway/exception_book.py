"""What this proxy knows of approved exceptions, kept current from the shared request store.

Deciding a request must not ask the store: a background task polls the store's version (one small read a
second) and, when it moved, reloads the approved exceptions in force (few: people x rules) into a table per
person that `of()` reads with no I/O. So an approval made anywhere (the CLI, another proxy) is honoured here
within about a second, and the engine still decides purely, with the exceptions as part of the usage.

The same task announces what changed (new requests, decisions, expiries): it claims each change in the store,
so of several proxies exactly one writes the audit record, counts the metric and posts the webhook. It also
expires exceptions and unanswered requests that ran out, and purges requests older than the audit retention.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections.abc import Callable, Mapping
from types import MappingProxyType

from ..audit import pseudonym
from ..background import BackgroundTask
from ..policy import Policy
from ..usage.requests import ExceptionRequest, RequestStore
from .exception_events import EVENT_OF_STATE, payload
from .state import GatewayState
from .webhook import Webhook

log = logging.getLogger("gonogo")

POLL_SECONDS = 1.0
SWEEP_SECONDS = 60.0  # expire unanswered requests this often (exceptions end on time in the engine anyway)
PURGE_SECONDS = 3600.0
_NONE: Mapping[str, tuple[str, dt.datetime]] = MappingProxyType({})


class ExceptionBook:
    def __init__(self, store: RequestStore, state: GatewayState, webhook: Webhook, key: bytes,
                 clock: Callable[[], float] = time.time, poll_seconds: float = POLL_SECONDS) -> None:
        self.store = store
        self.state = state
        self.webhook = webhook
        self.key = key  # for webhook pseudonyms when the audit log is off
        self.clock = clock
        self.poll_seconds = poll_seconds
        self._by_person: dict[str, Mapping[str, tuple[str, dt.datetime]]] = {}
        self._version: int | None = None
        self._next_sweep = 0.0
        self._next_purge = 0.0
        self._ends = float("inf")  # the earliest end of a cached exception
        self._task = BackgroundTask()

    def of(self, person_key: str) -> Mapping[str, tuple[str, dt.datetime]]:
        """The person's approved exceptions: rule -> (request id, until). No I/O."""
        return self._by_person.get(person_key, _NONE)

    def start(self) -> None:
        self._task.start(self._run(), "gonogo-exception-book")

    async def _run(self) -> None:
        failing = False
        while True:
            try:
                await self.poll()
                if failing:
                    log.info("gonogo: exception requests: the store answers again")
                failing = False
            except Exception as exc:  # the store may be down: keep what we know, try again (and say so once)
                if not failing:
                    log.warning(f"gonogo: exception requests: cannot read the store: {exc}")
                failing = True
                self.state.metrics.ledger_error()
            await asyncio.sleep(self.poll_seconds)

    async def poll(self) -> None:
        """One round: expire what ran out, reload if anything changed, announce the changes."""
        now = self.clock()
        if now >= self._ends or now >= self._next_sweep:
            self._next_sweep = now + SWEEP_SECONDS
            await self.store.expire(now)
        if now >= self._next_purge and self.state.policy is not None:
            self._next_purge = now + PURGE_SECONDS
            await self.store.purge(now - self.state.policy.privacy.retention_days * 86400)
        version = await self.store.version()
        if version == self._version:
            return
        await self._reload(now)
        for req in await self.store.claim():
            self.announce(req)
        self._version = version

    async def _reload(self, now: float) -> None:
        policy = self.state.policy
        zone = policy.timezone if policy is not None else dt.UTC
        table: dict[str, dict[str, tuple[str, dt.datetime]]] = {}
        ends = float("inf")
        for req in await self.store.active(now):
            assert req.until is not None
            table.setdefault(req.person, {})[req.rule] = (req.id, dt.datetime.fromtimestamp(req.until, zone))
            ends = min(ends, req.until)
        self._by_person = {person: MappingProxyType(rules) for person, rules in table.items()}
        self._ends = ends

    def announce(self, req: ExceptionRequest) -> None:
        """Audit record, metric and webhook of one change of a request."""
        policy = self.state.policy
        if policy is None:
            return
        event = EVENT_OF_STATE.get(req.state)
        if event is None:
            return
        directory = self.state.directory
        groups = policy.groups_of(req.user, req.ip, directory.groups(req.user) if directory and req.user else ())
        label = self.state.metrics.group_label(groups, req.person)
        self.state.metrics.exception_request(label, event)
        if self.state.audit is not None:
            self.state.audit.record_request(event, request_id=req.id, user=req.user or req.person, rule=req.rule,
                                            host=req.host, minutes=req.granted or req.minutes,
                                            group=groups[0] if groups else None)
        self.webhook.post(payload(req, policy, self._pseudonym(policy, req)))

    def _pseudonym(self, policy: Policy, req: ExceptionRequest) -> str | None:
        if policy.privacy.audit_log == "named":
            return None
        audit = self.state.audit
        if audit is not None and audit.mode == "pseudonymous":
            return audit.user_field(req.user or req.person)
        return pseudonym(self.key, req.user or req.person)

    async def close(self) -> None:
        await self._task.stop()
        await self.webhook.close()
        await self.store.close()
