"""What the gateway's addons share: the policy in force and the parts built around it.

Each addon owns its options and its part of the life cycle; they share through this one object, never
through each other's attributes, so any addon can be tested alone with a fresh `GatewayState`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from mitmproxy import ctx, http

from ..audit import AuditLog
from ..metrics import Metrics
from ..pages import STATUS_URL, TEXT_HEADERS
from ..policy import BadHost, Decision, Policy, PolicyError, Who, normalize_host
from ..usage import ResilientLedger
from .decider import Decider
from .responses import Responder

if TYPE_CHECKING:
    from ..directory import Membership

log = logging.getLogger("gonogo")

DEFAULT_STATUS_HOST = STATUS_URL.split("://", 1)[1].split("/", 1)[0]


@dataclass(eq=False)
class GatewayState:
    """The shared state of one proxy process. `policy` is set once the policy option is configured; the
    ledger, decider, responder and audit log once the store is open (`ready`)."""

    metrics: Metrics = field(default_factory=Metrics)
    policy: Policy | None = None
    ledger: ResilientLedger | None = None
    decider: Decider | None = None
    responder: Responder | None = None
    audit: AuditLog | None = None
    state_dir: Path = Path("var")
    status_host: str = DEFAULT_STATUS_HOST
    fatal: str | None = None  # why the proxy stopped itself, for `gonogo run`'s exit status
    directory: Membership | None = None  # company directory membership, while the policy uses one
    on_install: list[Callable[[Policy], None]] = field(default_factory=list)  # told of each later policy

    @property
    def ready(self) -> bool:
        return self.policy is not None and self.decider is not None and self.responder is not None

    def stop(self, why: str) -> None:
        """Stop the whole proxy: mitmproxy would log a start-up error and keep proxying, unenforced."""
        self.fatal = why
        log.error(why)
        ctx.master.shutdown()

    def install(self, policy: Policy) -> None:
        """Put a (new) policy in force for every addon."""
        first = self.policy is None
        self.policy = policy
        self.metrics.policy_loaded(policy)
        if self.audit is not None:
            self.audit.reconfigure(policy.privacy)
        if not first:
            if self.decider is not None:
                self.decider.forget()  # a budget may have changed size: decide afresh
            self.metrics.reload("ok")
            log.info(f"gonogo: policy reloaded (sha256 {policy.sha256[:12]}, {len(policy.rules)} rules)")
        for warning in policy.warnings:
            log.warning(str(warning))
        if not first:
            for listener in self.on_install:
                listener(policy)

    def reload_failed(self, exc: PolicyError) -> None:
        self.metrics.reload("error")
        log.error("gonogo: policy change rejected, the last good policy stays in force:")
        for problem in exc.problems:
            log.error(str(problem))

    def record(self, event: str, policy: Policy, person: Who, decision: Decision, host: str) -> None:
        """The decider's and responder's audit hook, called for every blocked, warned, continued or exhausted
        request; a no-op until the audit log is open. The log keeps what the person did, not every request:
        one record per person, host, event and rule per minute (see audit.py), so a page view's favicon and
        background requests do not count as blocks of their own."""
        if self.audit is not None:
            self.audit.record(decision, user=person.user or person.key, host=host, event=event)


def normalised(names: list[str | None]) -> list[str]:
    """The distinct valid host names among `names`, normalised; invalid ones are left out."""
    found: list[str] = []
    for name in names:
        if not name:
            continue
        try:
            host = normalize_host(name)
        except BadHost:
            continue
        if host not in found:
            found.append(host)
    return found


def refuse(flow: http.HTTPFlow, what: str) -> None:
    """Fail closed: mitmproxy would log an addon's error and forward the traffic; a gateway refuses it."""
    log.exception(f"gonogo: could not decide {what} to {flow.request.host}; refusing it")
    flow.response = http.Response.make(
        503, b"The gateway could not decide this request. Try again; if it persists, tell IT.\n",
        TEXT_HEADERS)
