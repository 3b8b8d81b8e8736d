"""evaluate(): the decision as a pure function of (policy, who, request, time, usage so far).

Nothing here does I/O. The proxy, `gonogo explain` and the tests all call the same function, which is
what makes `explain` honest: it shows the very path a live request takes.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any
from urllib.parse import urlsplit

from .hosts import normalize_host
from .model import Policy, Quota, Rule


@dataclass(frozen=True, slots=True)
class Who:
    user: str | None = None
    ip: str | None = None


@dataclass(frozen=True, slots=True)
class Request:
    host: str  # normalised (see hosts.normalize_host)
    method: str = "GET"
    path: str = "/"

    @classmethod
    def from_url(cls, url: str, method: str = "GET") -> Request:
        if "://" not in url:
            url = "https://" + url
        parts = urlsplit(url)
        host = parts.netloc.rpartition("@")[2]
        return cls(normalize_host(host), method.upper(), parts.path or "/")


@dataclass(frozen=True, slots=True)
class BudgetUsage:
    """What a ledger knows of one budget for one person: minutes used in `period`, whether the
    current minute is among them, and minutes granted on top of the quota."""

    used: int = 0
    minute_counted: bool = False
    extra: int = 0
    period: str | None = None  # period key; usage of another period counts as none


@dataclass(frozen=True, slots=True)
class Usage:
    budgets: Mapping[str, BudgetUsage] = field(default_factory=lambda: MappingProxyType({}))
    continued: Mapping[str, dt.datetime] = field(default_factory=lambda: MappingProxyType({}))  # rule -> until


NO_USAGE = Usage()
_NO_BUDGET = BudgetUsage()


@dataclass(frozen=True, slots=True)
class QuotaState:
    budget: str
    used: int  # minutes used, this request included when it is charged
    limit: int
    per: str
    period: str  # e.g. "2026-11-27" or "week-2026-11-23"
    resets_at: dt.datetime
    minute: int  # epoch minute of the request
    charge: bool  # this request needs a new minute in the ledger
    counted: bool = False  # this minute was already counted: the request costs nothing

    @property
    def left(self) -> int:
        return max(0, self.limit - self.used)


@dataclass(frozen=True, slots=True)
class ShadowMatch:
    rule: str
    decision: str
    action: str
    category: str | None


@dataclass(frozen=True, slots=True)
class Decision:
    decision: str  # allow | block | warn
    action: str  # the deciding rule's action, or the default's
    rule: str | None  # None: the default
    category: str | None
    group: str | None  # primary group
    reason: str
    quota: QuotaState | None = None
    until: dt.datetime | None = None
    shadow: tuple[ShadowMatch, ...] = ()
    message: str | None = None
    continue_minutes: int | None = None
    continued: bool = False  # a warn rule the person chose to continue past

    def to_json(self) -> dict[str, Any]:
        quota = None
        if self.quota is not None:
            q = self.quota
            quota = {"budget": q.budget, "used": q.used, "limit": q.limit, "per": q.per,
                     "period": q.period, "resets_at": q.resets_at.isoformat()}
        return {
            "decision": self.decision,
            "action": self.action,
            "rule": self.rule,
            "category": self.category,
            "group": self.group,
            "reason": self.reason,
            "quota": quota,
            "until": self.until.isoformat() if self.until else None,
            "shadow": [{"rule": s.rule, "decision": s.decision, "action": s.action, "category": s.category}
                       for s in self.shadow],
        }


@dataclass(frozen=True, slots=True)
class Step:
    """One rule as `explain` shows it: did it match, and why (not)."""

    rule: Rule
    matched: bool
    why: str


def period_of(quota: Quota, now: dt.datetime, policy: Policy) -> tuple[str, dt.datetime]:
    """The period key of `now` and when the period ends (local midnight; weeks start on Monday)."""
    local = now.astimezone(policy.timezone)
    day = local.date()
    if quota.per == "week":
        start = day - dt.timedelta(days=day.weekday())
        end = start + dt.timedelta(days=7)
        key = f"week-{start.isoformat()}"
    else:
        end = day + dt.timedelta(days=1)
        key = day.isoformat()
    return key, dt.datetime.combine(end, dt.time(0), policy.timezone)


def quota_state(policy: Policy, quota: Quota, now: dt.datetime, usage: Usage) -> QuotaState:
    period, resets_at = period_of(quota, now, policy)
    bu = usage.budgets.get(quota.pool, _NO_BUDGET)
    if bu.period is not None and bu.period != period:
        bu = _NO_BUDGET
    limit = quota.minutes + bu.extra
    charge = not bu.minute_counted and bu.used < limit
    used = bu.used + 1 if charge else bu.used
    return QuotaState(quota.pool, used, limit, quota.per, period, resets_at, int(now.timestamp() // 60),
                      charge, bu.minute_counted)


def _static_mismatch(rule: Rule, groups: tuple[str, ...], host_tags: frozenset[str],
                     request: Request) -> str | None:
    """Why `rule` does not match regardless of the time, or None."""
    if rule.groups is not None and rule.groups.isdisjoint(groups):
        return f"not in {', '.join(sorted(rule.groups))}"
    if rule.host_tags is not None and rule.host_tags.isdisjoint(host_tags):
        return f"{request.host} is not in {_targets(rule)}"
    if rule.methods is not None and request.method not in rule.methods:
        return f"method {request.method} is not {', '.join(sorted(rule.methods))}"
    if rule.path_regex is not None and not rule.path_regex.match(request.path):
        return f"path {request.path} does not match {', '.join(rule.paths)}"
    return None


def _targets(rule: Rule) -> str:
    return ", ".join([*(f"category {c}" for c in rule.categories), *rule.domains])


def _outcome(policy: Policy, rule: Rule, now: dt.datetime, usage: Usage
             ) -> tuple[str, QuotaState | None, bool, str]:
    """(decision, quota, continued, reason) of a matching rule."""
    if rule.action == "allow":
        return "allow", None, False, f"allowed by rule '{rule.name}'"
    if rule.action == "block":
        return "block", None, False, f"blocked by rule '{rule.name}'"
    if rule.action == "warn":
        until = usage.continued.get(rule.name)
        if until is not None and until > now:
            return "allow", None, True, f"continued past the warning of rule '{rule.name}'"
        return "warn", None, False, f"rule '{rule.name}' asks you to confirm first"
    assert rule.quota is not None
    q = quota_state(policy, rule.quota, now, usage)
    if q.charge or q.counted:
        return "allow", q, False, f"time-boxed by rule '{rule.name}': {q.left} of {q.limit} minutes left this {q.per}"
    return "block", q, False, f"the {q.limit} minutes per {q.per} of rule '{rule.name}' are used up"


def _category(policy: Policy, rule: Rule | None, host: str) -> str | None:
    if rule is not None and rule.categories:
        tag = policy.index.most_specific(host, (f"c:{c}" for c in rule.categories))
        if tag:
            return tag[2:]
    return policy.category_of(host)


def evaluate(policy: Policy, who: Who, request: Request, now: dt.datetime, usage: Usage = NO_USAGE,
             trace: list[Step] | None = None, *, groups: tuple[str, ...] | None = None) -> Decision:
    """Decide one request. `now` must be timezone-aware. `groups` may pass precomputed
    `policy.groups_of(who.user, who.ip)`; `trace` collects every rule considered, for `explain`."""
    if groups is None:
        groups = policy.groups_of(who.user, who.ip)
    host_tags = policy.index.tags(request.host)
    shadows: list[ShadowMatch] = []
    changes: list[dt.datetime] = []
    for rule in policy.rules:
        # the fast path builds no strings; `explain` (trace) asks for the reasons
        if (
            (rule.groups is not None and rule.groups.isdisjoint(groups))
            or (rule.host_tags is not None and rule.host_tags.isdisjoint(host_tags))
            or (rule.methods is not None and request.method not in rule.methods)
            or (rule.path_regex is not None and not rule.path_regex.match(request.path))
        ):
            if trace is not None:
                trace.append(Step(rule, False, _static_mismatch(rule, groups, host_tags, request) or "?"))
            continue
        if rule.when:
            # this rule's schedule matters to this person and request: its next change may change the decision
            active = False
            for schedule in rule.when:
                on, change = schedule.state(now)
                active = active or on
                if change is not None and not rule.shadow:
                    changes.append(change)
            if not active:
                if trace is not None:
                    trace.append(Step(rule, False, f"outside {', '.join(s.name for s in rule.when)}"))
                continue
        if trace is not None:
            trace.append(Step(rule, True, "matches"))
        decision, quota, continued, reason = _outcome(policy, rule, now, usage)
        if rule.shadow:
            shadows.append(ShadowMatch(rule.name, decision, rule.action, _category(policy, rule, request.host)))
            continue
        if quota is not None and decision == "block":
            changes.append(quota.resets_at)
        if continued:
            changes.append(usage.continued[rule.name])
        result = Decision(
            decision, rule.action, rule.name, _category(policy, rule, request.host),
            groups[0] if groups else None, reason, quota, min(changes) if changes else None,
            tuple(shadows), rule.message, rule.continue_minutes if rule.action == "warn" else None, continued,
        )
        if decision != "allow" and result.until is not None and trace is None:
            return _refine_until(policy, who, request, result, usage, groups)
        return result
    reason = "no rule matches; the policy's default is " + policy.default
    result = Decision(policy.default, policy.default, None, _category(policy, None, request.host),
                      groups[0] if groups else None, reason, None, min(changes) if changes else None,
                      tuple(shadows))
    if policy.default != "allow" and result.until is not None and trace is None:
        return _refine_until(policy, who, request, result, usage, groups)
    return result


def _refine_until(policy: Policy, who: Who, request: Request, decision: Decision, usage: Usage,
                  groups: tuple[str, ...]) -> Decision:
    """For a block or warn, `until` is when access returns: skip changes that keep the same decision
    (17:30 when a later rule blocks until 18:00 as well). Bounded to a few steps."""
    until = decision.until
    for _ in range(8):
        assert until is not None
        later = evaluate(policy, who, request, until, usage, [], groups=groups)
        if later.decision != decision.decision:
            break
        if later.until is None:
            until = None
            break
        until = later.until
    return dataclasses.replace(decision, until=until)
