"""One request's decision with the ledger in the loop: evaluate purely, then charge a time-box minute or
look up a warn-continue only when the decision depends on it, then evaluate again with that usage.

At most one ledger write per (person, budget, minute): a minute already answered is remembered here.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import time
from collections.abc import Callable

from .identity import Person
from .metrics import Metrics
from .policy import NO_USAGE, BudgetUsage, Decision, Policy, QuotaState, Request, Usage, Who, evaluate
from .usage import Charge, Ledger, period_ttl

log = logging.getLogger("gonogo")

_SEVERITY = {"allow": 0, "warn": 2, "block": 3}
_CACHE_LIMIT = 100_000


def severity(decision: Decision) -> int:
    """Stricter decisions win when a request names two hosts (CONNECT target vs Host header)."""
    return _SEVERITY[decision.decision] + (1 if decision.quota is not None and decision.decision == "allow" else 0)


class Decider:
    def __init__(self, ledger: Ledger, metrics: Metrics, unavailable: str = "allow",
                 on_event: Callable[[str, Policy, Person, Decision, str], None] | None = None) -> None:
        self.ledger = ledger
        self.metrics = metrics
        self.unavailable = unavailable
        self.on_event = on_event  # audit hook: (event, policy, person, decision, host)
        self._charges: dict[tuple[str, str, str], tuple[int, Charge]] = {}
        self._exhausted: set[tuple[str, str, str]] = set()

    def peek(self, policy: Policy, person: Person, host: str) -> Decision:
        """The decision without usage (no ledger): enough to know a host is blocked outright."""
        now = dt.datetime.now(policy.timezone)
        return evaluate(policy, Who(person.user, person.ip), Request(host), now)

    async def decide(self, policy: Policy, person: Person, hosts: list[str], method: str,
                     path: str) -> tuple[Decision, str]:
        started = time.perf_counter()
        now = dt.datetime.now(policy.timezone)
        who = Who(person.user, person.ip)
        groups = policy.groups_of(person.user, person.ip)
        decision, host = None, hosts[0]
        for candidate in hosts:
            found = evaluate(policy, who, Request(candidate, method, path), now, NO_USAGE, groups=groups)
            if decision is None or severity(found) > severity(decision):
                decision, host = found, candidate
        assert decision is not None
        request = Request(host, method, path)
        if decision.decision == "warn" and decision.rule is not None:
            continued = await self._continues(person, now)
            if decision.rule in continued:
                decision = evaluate(policy, who, request, now, Usage(continued=continued), groups=groups)
        if decision.quota is not None and decision.quota.charge:
            usage, refused = await self._charge(policy, person, decision.quota)
            decision = evaluate(policy, who, request, now, usage, groups=groups)
            if refused:
                decision = dataclasses.replace(
                    decision, decision="block",
                    reason="the time budget cannot be checked right now (quota ledger unreachable)")
        label = self.metrics.group_label(groups, person.key)
        self.metrics.decision(decision, label, time.perf_counter() - started)
        if decision.decision == "allow" and decision.category is not None:
            self.metrics.active_minute(label, decision.category, person.key, int(now.timestamp() // 60))
        if decision.quota is not None and decision.decision == "block":
            key = (person.key, decision.quota.budget, decision.quota.period)
            if key not in self._exhausted:
                self._exhausted.add(key)
                self.metrics.quota_exhausted(label, decision.category or "none", decision.rule or "default")
                self._event("exhausted", policy, person, decision, host)
        if decision.decision in ("block", "warn"):
            self._event(decision.decision, policy, person, decision, host)
        return decision, host

    def _event(self, event: str, policy: Policy, person: Person, decision: Decision, host: str) -> None:
        if self.on_event is not None:
            self.on_event(event, policy, person, decision, host)

    async def _continues(self, person: Person, now: dt.datetime) -> dict[str, dt.datetime]:
        try:
            found = await self.ledger.continues(person.key, now.timestamp())
        except Exception:  # the ledger must never break a request; the warning simply shows again
            log.exception("gonogo: ledger lookup of continues failed")
            self.metrics.ledger_error()
            return {}
        return {rule: dt.datetime.fromtimestamp(until, now.tzinfo) for rule, until in found.items()}

    async def _charge(self, policy: Policy, person: Person, quota: QuotaState) -> tuple[Usage, bool]:
        key = (person.key, quota.budget, quota.period)
        cached = self._charges.get(key)
        if cached is not None and cached[0] == quota.minute:
            charge = cached[1]
        else:
            budget = policy.budgets[quota.budget]
            ttl = period_ttl(quota.resets_at, dt.datetime.now(quota.resets_at.tzinfo))
            try:
                charge = await self.ledger.charge(person.key, quota.budget, quota.period, quota.minute,
                                                  budget.minutes, ttl)
            except Exception:
                log.exception("gonogo: ledger charge failed; applying ledger_unavailable=%s", self.unavailable)
                self.metrics.ledger_error()
                charge = Charge(quota.used - 1, self.unavailable == "allow", False)
                return _usage(quota, charge)  # not cached: ask the ledger again next time
            if len(self._charges) >= _CACHE_LIMIT:
                self._charges.clear()
                self._exhausted.clear()
            self._charges[key] = (quota.minute, charge)
        return _usage(quota, charge)


def _usage(quota: QuotaState, charge: Charge) -> tuple[Usage, bool]:
    """The usage to decide with, and whether the ledger refused a minute the budget still had room for
    (an outage with ledger_unavailable=block): the engine would otherwise assume the minute is charged."""
    usage = Usage(budgets={quota.budget: BudgetUsage(charge.used, charge.counted, charge.extra, quota.period)})
    return usage, not charge.counted and charge.used < quota.limit + charge.extra
