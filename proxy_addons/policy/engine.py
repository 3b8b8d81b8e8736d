"""evaluate(): the decision as a pure function of (policy, who, request, time, usage so far).

Nothing here does I/O. The proxy, `gonogo explain` and the tests all call the same function, which is
what makes `explain` honest: it shows the very path a live request takes.

A decision costs a few microseconds because everything that does not change from one request to the
next is remembered beside the Policy in small bounded tables (`Policy.lookups`): per host the matching
rules and categories (`Lookups.host_info`), per person the groups (`Lookups.groups_of`), per budget the
current period (`Lookups.period_at`), and per schedule its state until its next change. The result is
the same as deciding from scratch, which tests/test_policy_engine.py checks against a reference model.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from .asking import Request as Request  # re-exported: the engine is where callers find the inputs
from .asking import Who as Who
from .attention import NAVIGATE, counts
from .model import Policy, Quota, Rule
from .wording import phrases


@dataclass(frozen=True, slots=True)
class BudgetUsage:
    """What a ledger knows of one budget for one person: minutes used in `period`, whether the
    current minute is among them, and minutes granted on top of the quota."""

    used: int = 0
    minute_counted: bool = False
    extra: int = 0
    period: str | None = None  # period key; usage of another period counts as none
    heads_up_seen: bool = False  # the person saw (and continued past) this period's heads-up


@dataclass(frozen=True, slots=True)
class Usage:
    budgets: Mapping[str, BudgetUsage] = field(default_factory=lambda: MappingProxyType({}))
    continued: Mapping[str, dt.datetime] = field(default_factory=lambda: MappingProxyType({}))  # rule -> until
    # approved exceptions (gonogo requests approve): rule -> (request id, until); honoured while the rule opts in
    exceptions: Mapping[str, tuple[str, dt.datetime]] = field(default_factory=lambda: MappingProxyType({}))


NO_USAGE = Usage()
_NO_BUDGET = BudgetUsage()
_ANY_REQUEST = Request("")


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
    counts: bool = True  # the request shows attention (see attention.py): it spends a minute if needed
    heads_up: bool = False  # a page load with `heads_up` minutes or fewer left: show the one-time heads-up

    @property
    def allowed(self) -> bool:
        """The budget lets this request through: its minute is (being) counted, or it spends nothing and
        the budget is not used up."""
        return self.charge or self.counted or (not self.counts and self.used < self.limit)

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
    return policy.lookups.period_at(quota.per, now.timestamp(), now)


def quota_state(policy: Policy, quota: Quota, now: dt.datetime, usage: Usage,
                request: Request | None = None, rule: Rule | None = None) -> QuotaState:
    return _quota_state(policy, quota, now.timestamp(), now, usage, request or _ANY_REQUEST, rule)


def request_counts(policy: Policy, rule: Rule | None, request: Request) -> bool:
    """Whether `request` spends a minute of `rule`'s budget (its `counting:`, else the policy's)."""
    c = policy.counting
    mode = rule.counting if rule is not None and rule.counting is not None else c.mode
    return counts(mode, request.attention, request.background_bytes, c.background_bytes, c.without_fetch_metadata)


def _quota_state(policy: Policy, quota: Quota, ts: float, now: dt.datetime, usage: Usage, request: Request,
                 rule: Rule | None) -> QuotaState:
    period, resets_at = policy.lookups.period_at(quota.per, ts, now)
    bu = usage.budgets.get(quota.pool, _NO_BUDGET)
    if bu.period is not None and bu.period != period:
        bu = _NO_BUDGET
    limit = quota.minutes + bu.extra
    spends = request_counts(policy, rule, request)
    charge = spends and not bu.minute_counted and bu.used < limit
    used = bu.used + 1 if charge else bu.used
    heads_up = (quota.heads_up is not None and request.attention == NAVIGATE and not bu.heads_up_seen
                and limit - used <= quota.heads_up and (charge or bu.minute_counted or used < limit))
    return _new_quota(quota.pool, used, limit, quota.per, period, resets_at, int(ts // 60), charge,
                      bu.minute_counted, spends, heads_up)


def _static_mismatch(rule: Rule, groups: tuple[str, ...], host_tags: frozenset[str],
                     request: Request) -> str | None:
    """Why `rule` does not match regardless of the time, or None."""
    if rule.groups is not None and rule.groups.isdisjoint(groups):
        return phrases.mismatch("groups", groups=", ".join(sorted(rule.groups)))
    if rule.host_tags is not None and rule.host_tags.isdisjoint(host_tags):
        return phrases.mismatch("host", host=request.host, targets=phrases.targets(rule))
    if rule.methods is not None and request.method not in rule.methods:
        return phrases.mismatch("method", method=request.method, methods=", ".join(sorted(rule.methods)))
    if rule.path_regex is not None and not rule.path_regex.match(request.path):
        return phrases.mismatch("path", path=request.path, paths=", ".join(rule.paths))
    return None


def _outcome(policy: Policy, rule: Rule, ts: float, now: dt.datetime, usage: Usage, request: Request
             ) -> tuple[str, QuotaState | None, bool, str]:
    """(decision, quota, continued, reason) of a matching rule."""
    action = rule.action
    if usage.exceptions and rule.exceptions is not None and _excepted(rule, now, usage) is not None:
        granted = usage.exceptions[rule.name]
        return "allow", None, False, phrases.exception_reason(rule.name, granted[0], granted[1])
    if action == "allow":
        return "allow", None, False, phrases.reason("allow", rule.name)
    if action == "block":
        return "block", None, False, phrases.reason("block", rule.name)
    if action == "warn":
        until = usage.continued.get(rule.name) if usage.continued else None
        if until is not None and until.timestamp() > now.timestamp():
            return "allow", None, True, phrases.reason("continued", rule.name)
        return "warn", None, False, phrases.reason("warn", rule.name)
    assert rule.quota is not None
    q = _quota_state(policy, rule.quota, ts, now, usage, request, rule)
    if q.allowed:
        return "allow", q, False, phrases.quota_reason(rule.name, q.left, q.limit, q.per, False)
    return "block", q, False, phrases.quota_reason(rule.name, q.left, q.limit, q.per, True)


def evaluate(policy: Policy, who: Who, request: Request, now: dt.datetime, usage: Usage = NO_USAGE,
             trace: list[Step] | None = None, *, groups: tuple[str, ...] | None = None) -> Decision:
    """Decide one request. `now` must be timezone-aware. `groups` may pass precomputed
    `policy.groups_of(who.user, who.ip, who.groups_from_directory)`; `trace` collects every rule considered,
    for `explain`.

    Tracing changes nothing but the trace: `explain` takes the very path a live request takes."""
    return _evaluate(policy, who, request, now, usage, trace, groups, True)


def _evaluate(policy: Policy, who: Who, request: Request, now: dt.datetime, usage: Usage,
              trace: list[Step] | None, groups: tuple[str, ...] | None, refine: bool) -> Decision:
    lookups = policy.lookups
    if groups is None:
        groups = lookups.groups_of(who.user, who.ip, who.groups_from_directory)
    info = lookups.host_info(request.host)
    host_tags = info.tags
    ts: float | None = None  # now.timestamp(), computed once a schedule or quota needs it
    shadows: list[ShadowMatch] | None = None
    # the earliest change of a schedule that matters, compared by timestamp: datetimes of one zone
    # compare by wall clock, which runs through 02:00-03:00 twice on the last Sunday of October
    until: dt.datetime | None = None
    until_ts = _NEVER
    # Rules that cannot cover this host are skipped unless explaining, when every rule is shown.
    for rule in policy.rules if trace is not None else info.candidates:
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
            if ts is None:
                ts = now.timestamp()
            # this rule's schedule matters to this person and request: its next change may change the decision
            active = False
            for schedule in rule.when:
                _, change_ts, on, change = schedule.entry_at(ts, now)
                active = active or on
                if change is not None and not rule.shadow and change_ts < until_ts:
                    until, until_ts = change, change_ts
            if not active:
                if trace is not None:
                    names = ", ".join(s.name for s in rule.when)
                    trace.append(Step(rule, False, phrases.mismatch("outside", schedules=names)))
                continue
        if trace is not None:
            trace.append(Step(rule, True, "matches"))
        if ts is None and rule.quota is not None:
            ts = now.timestamp()
        decision, quota, continued, reason = _outcome(policy, rule, ts or 0.0, now, usage, request)
        category = info.rule_category[rule.index]
        if rule.shadow:
            if shadows is None:
                shadows = []
            shadows.append(_new_shadow(rule.name, decision, rule.action, category))
            continue
        if quota is not None and decision == "block" and quota.resets_at.timestamp() < until_ts:
            until, until_ts = quota.resets_at, quota.resets_at.timestamp()
        if continued:
            again = usage.continued[rule.name]
            if again.timestamp() < until_ts:
                until, until_ts = again, again.timestamp()
        elif usage.exceptions and decision == "allow" and rule.action != "allow":
            ends = _excepted(rule, now, usage)
            if ends is not None and ends.timestamp() < until_ts:
                until, until_ts = ends, ends.timestamp()
        if decision != "allow" and until is not None and refine:
            until = _refine_until(policy, who, request, decision, until, usage, groups)
        return _new_decision(
            decision, rule.action, rule.name, category, groups[0] if groups else None, reason, quota, until,
            tuple(shadows) if shadows else (), rule.message, rule.continue_minutes if rule.action == "warn" else None,
            continued,
        )
    default = policy.default
    if default != "allow" and until is not None and refine:
        until = _refine_until(policy, who, request, default, until, usage, groups)
    return _new_decision(default, default, None, info.category, groups[0] if groups else None,
                         _DEFAULT_REASON.get(default) or phrases.default_reason(default),
                         None, until, tuple(shadows) if shadows else (), None, None, False)


def _excepted(rule: Rule, now: dt.datetime, usage: Usage) -> dt.datetime | None:
    """When the approved exception to `rule` in `usage` ends, if one is in force now (and the rule opts in)."""
    granted = usage.exceptions.get(rule.name)
    if granted is None or rule.exceptions is None or granted[1].timestamp() <= now.timestamp():
        return None
    return granted[1]


def exception_of(decision: Decision, usage: Usage) -> tuple[str, dt.datetime] | None:
    """(request id, until) of the exception that allowed `decision`, if one did (for the response header)."""
    if decision.decision != "allow" or decision.rule is None or decision.action == "allow" or decision.continued:
        return None
    return usage.exceptions.get(decision.rule) if usage.exceptions else None


_NEVER = float("inf")
_DEFAULT_REASON = {d: phrases.default_reason(d) for d in ("allow", "block")}


def _refine_until(policy: Policy, who: Who, request: Request, decision: str, until: dt.datetime, usage: Usage,
                  groups: tuple[str, ...]) -> dt.datetime | None:
    """For a block or warn, `until` is when access returns: skip changes that keep the same decision
    (17:30 when a later rule blocks until 18:00 as well). Bounded to a few steps."""
    for _ in range(8):
        later = _evaluate(policy, who, request, until, usage, None, groups, False)
        if later.decision != decision:
            break
        if later.until is None:
            return None
        until = later.until
    return until


# Positional constructors for the frozen, slotted records a decision builds. The generated `__init__` of a
# frozen dataclass calls `object.__setattr__` once per field, which makes building one Decision cost more
# than the rest of a decision together; these do the same assignments through the slot descriptors, in
# half the time, and the objects are the same in every way. Written out by hand (a loop would cost the
# gain); callers pass every field, in declaration order, and a test checks the lists against the classes.
_new = object.__new__
_d_decision, _d_action, _d_rule, _d_category, _d_group, _d_reason, _d_quota, _d_until, _d_shadow, _d_message, \
    _d_continue_minutes, _d_continued = (getattr(Decision, f.name).__set__ for f in dataclasses.fields(Decision))


def _new_decision(decision: str, action: str, rule: str | None, category: str | None, group: str | None,
                  reason: str, quota: QuotaState | None, until: dt.datetime | None, shadow: tuple[ShadowMatch, ...],
                  message: str | None, continue_minutes: int | None, continued: bool) -> Decision:
    obj = _new(Decision)
    _d_decision(obj, decision)
    _d_action(obj, action)
    _d_rule(obj, rule)
    _d_category(obj, category)
    _d_group(obj, group)
    _d_reason(obj, reason)
    _d_quota(obj, quota)
    _d_until(obj, until)
    _d_shadow(obj, shadow)
    _d_message(obj, message)
    _d_continue_minutes(obj, continue_minutes)
    _d_continued(obj, continued)
    return obj


_q_budget, _q_used, _q_limit, _q_per, _q_period, _q_resets_at, _q_minute, _q_charge, _q_counted, _q_counts, \
    _q_heads_up = (getattr(QuotaState, f.name).__set__ for f in dataclasses.fields(QuotaState))


def _new_quota(budget: str, used: int, limit: int, per: str, period: str, resets_at: dt.datetime, minute: int,
               charge: bool, counted: bool, counts: bool, heads_up: bool) -> QuotaState:
    obj = _new(QuotaState)
    _q_budget(obj, budget)
    _q_used(obj, used)
    _q_limit(obj, limit)
    _q_per(obj, per)
    _q_period(obj, period)
    _q_resets_at(obj, resets_at)
    _q_minute(obj, minute)
    _q_charge(obj, charge)
    _q_counted(obj, counted)
    _q_counts(obj, counts)
    _q_heads_up(obj, heads_up)
    return obj


_s_rule, _s_decision, _s_action, _s_category = (getattr(ShadowMatch, f.name).__set__
                                                for f in dataclasses.fields(ShadowMatch))


def _new_shadow(rule: str, decision: str, action: str, category: str | None) -> ShadowMatch:
    obj = _new(ShadowMatch)
    _s_rule(obj, rule)
    _s_decision(obj, decision)
    _s_action(obj, action)
    _s_category(obj, category)
    return obj


#: the constructors above and the classes they build, for the test that keeps them in step
POSITIONAL = {Decision: _new_decision, QuotaState: _new_quota, ShadowMatch: _new_shadow}
