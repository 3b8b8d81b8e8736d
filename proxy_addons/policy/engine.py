"""evaluate(): the decision as a pure function of (policy, who, request, time, usage so far).

Nothing here does I/O. The proxy, `gonogo explain` and the tests all call the same function, which is
what makes `explain` honest: it shows the very path a live request takes.

A decision costs a few microseconds because everything that does not change from one request to the
next is remembered on the Policy in small bounded tables: per host the matching rules and categories
(`Policy.host_info`), per person the groups (`Policy.groups_of`), per schedule its state until its next
change, per budget the current period. The result is the same as deciding from scratch, which
tests/test_policy_engine.py checks against a reference model.
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
from .wording import phrases


@dataclass(frozen=True, slots=True)
class Who:
    """Who is asking: a user name when the proxy knows one, and the client address."""

    user: str | None = None
    ip: str | None = None

    @property
    def key(self) -> str:
        """Ledger key: the user name, or the address for people without one."""
        if self.user:
            return f"user:{self.user}"
        return f"ip:{self.ip or 'unknown'}"


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


def _positional(cls: type) -> Any:
    """A positional constructor for a frozen, slotted dataclass that fills the slots directly.

    The generated `__init__` of a frozen dataclass calls `object.__setattr__` once per field, which
    makes building one Decision cost more than the rest of a decision together. This does the same
    assignments through the slot descriptors, in half the time; the object is the same in every way.
    Callers pass every field, in declaration order.
    """
    names = [f.name for f in dataclasses.fields(cls)]
    env = {f"set_{n}": cls.__dict__[n].__set__ for n in names}
    env.update(cls=cls, new=object.__new__)
    body = "\n".join(f"    set_{n}(obj, {n})" for n in names)
    source = f"def make({', '.join(names)}):\n    obj = new(cls)\n{body}\n    return obj\n"
    exec(source, env)  # unrolled like dataclasses' own generated __init__; a loop would cost the gain
    return env["make"]


def period_of(quota: Quota, now: dt.datetime, policy: Policy) -> tuple[str, dt.datetime]:
    """The period key of `now` and when the period ends (local midnight; weeks start on Monday)."""
    return _period_at(policy, quota.per, now.timestamp(), now)


def _period_at(policy: Policy, per: str, ts: float, now: dt.datetime) -> tuple[str, dt.datetime]:
    # A period stays the same from the first instant it was asked about until it ends; remembering
    # that range saves two time-zone conversions per time-boxed request. A few periods are kept, so
    # looking ahead (when does access return?) does not evict the present.
    known = policy._periods.get(per, ())
    for start, end, key, resets_at in known:
        if start <= ts < end:
            return key, resets_at
    local = now.astimezone(policy.timezone)
    day = local.date()
    if per == "week":
        start_day = day - dt.timedelta(days=day.weekday())
        end_day = start_day + dt.timedelta(days=7)
        key = f"week-{start_day.isoformat()}"
    else:
        end_day = day + dt.timedelta(days=1)
        key = day.isoformat()
    resets_at = dt.datetime.combine(end_day, dt.time(0), policy.timezone)
    policy._periods[per] = [(ts, resets_at.timestamp(), key, resets_at), *known[:3]]
    return key, resets_at


def quota_state(policy: Policy, quota: Quota, now: dt.datetime, usage: Usage) -> QuotaState:
    return _quota_state(policy, quota, now.timestamp(), now, usage)


def _quota_state(policy: Policy, quota: Quota, ts: float, now: dt.datetime, usage: Usage) -> QuotaState:
    period, resets_at = _period_at(policy, quota.per, ts, now)
    bu = usage.budgets.get(quota.pool, _NO_BUDGET)
    if bu.period is not None and bu.period != period:
        bu = _NO_BUDGET
    limit = quota.minutes + bu.extra
    charge = not bu.minute_counted and bu.used < limit
    used = bu.used + 1 if charge else bu.used
    return _new_quota(quota.pool, used, limit, quota.per, period, resets_at, int(ts // 60), charge,
                      bu.minute_counted)


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


def _outcome(policy: Policy, rule: Rule, ts: float, now: dt.datetime, usage: Usage
             ) -> tuple[str, QuotaState | None, bool, str]:
    """(decision, quota, continued, reason) of a matching rule."""
    action = rule.action
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
    q = _quota_state(policy, rule.quota, ts, now, usage)
    if q.charge or q.counted:
        return "allow", q, False, phrases.quota_reason(rule.name, q.left, q.limit, q.per, False)
    return "block", q, False, phrases.quota_reason(rule.name, q.left, q.limit, q.per, True)


def evaluate(policy: Policy, who: Who, request: Request, now: dt.datetime, usage: Usage = NO_USAGE,
             trace: list[Step] | None = None, *, groups: tuple[str, ...] | None = None) -> Decision:
    """Decide one request. `now` must be timezone-aware. `groups` may pass precomputed
    `policy.groups_of(who.user, who.ip)`; `trace` collects every rule considered, for `explain`.

    Tracing changes nothing but the trace: `explain` takes the very path a live request takes."""
    return _evaluate(policy, who, request, now, usage, trace, groups, True)


def _evaluate(policy: Policy, who: Who, request: Request, now: dt.datetime, usage: Usage,
              trace: list[Step] | None, groups: tuple[str, ...] | None, refine: bool) -> Decision:
    if groups is None:
        groups = policy.groups_of(who.user, who.ip)
    info = policy.host_info(request.host)
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
        decision, quota, continued, reason = _outcome(policy, rule, ts or 0.0, now, usage)
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


_new_decision = _positional(Decision)
_new_quota = _positional(QuotaState)
_new_shadow = _positional(ShadowMatch)
