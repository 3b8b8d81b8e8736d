"""A policy and a decision in plain English, for the admin: `gonogo check` and `gonogo explain`.

Written from the compiled Policy (not the YAML), so the words describe what the engine will do.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from .engine import Decision, Request, Step, Who
from .model import Policy, Rule
from .schedules import Schedule

_LABEL = 11  # width of the summary's left column


def ordered_groups(policy: Policy, names: frozenset[str] | Sequence[str]) -> list[str]:
    """Group names in file order (sets lose it)."""
    return [g for g in policy.groups if g in names]


def targets(rule: Rule) -> str:
    parts = [*rule.categories, *rule.domains]
    return ", ".join(parts) if parts else "every site"


def describe_rule(policy: Policy, rule: Rule) -> str:
    """One rule as a sentence: 'time-box social for everyone during work-hours: 30 minutes per day'."""
    who = "everyone" if rule.groups is None else ", ".join(ordered_groups(policy, rule.groups))
    what = targets(rule)
    if rule.methods is not None:
        what = f"{'/'.join(sorted(rule.methods))} requests to {what}"
    if rule.paths:
        what += f" (paths {', '.join(rule.paths)})"
    when = f"during {', '.join(s.name for s in rule.when)}" if rule.when else "at any time"
    verb = {"allow": "allow", "block": "block", "warn": "warn before", "timebox": "time-box"}[rule.action]
    text = f"{verb} {what} for {who} {when}"
    if rule.action == "timebox" and rule.quota is not None:
        text += f": {rule.quota.minutes} minutes per {rule.quota.per}"
        if rule.quota.pool != rule.name:
            text += f" from budget '{rule.quota.pool}'"
    elif rule.action == "warn":
        text += f"; continuing allows {rule.continue_minutes} minutes"
    if rule.shadow:
        text = f"[shadow, never enforced] would {text}"
    return text


def describe_schedule(schedule: Schedule) -> str:
    return schedule.describe() or "never"


def summarise(policy: Policy) -> str:
    """The one-screen summary `gonogo check` prints for a valid policy."""
    lines = [f"{policy.source}: valid policy (sha256 {policy.sha256[:12]})"]

    def row(label: str, values: Sequence[str]) -> None:
        for i, value in enumerate(values or ["none"]):
            lines.append(f"{label if i == 0 else '':<{_LABEL}} {value}")

    row("zone", [str(policy.timezone.key)])
    holidays = policy.holidays
    days = []
    if holidays.country:
        days.append(f"public holidays of {holidays.country}" + (f"-{holidays.subdivision}" if holidays.subdivision
                                                                   else ""))
    if holidays.dates:
        days.append("company days off " + ", ".join(d.isoformat() for d in sorted(holidays.dates)))
    row("holidays", ["; ".join(days)] if days else [])
    row("schedules", [f"{name}: {describe_schedule(s)}" for name, s in policy.schedules.items()])
    row("categories", [
        f"{c.name}: {c.domain_count:,} domain{'s' if c.domain_count != 1 else ''}"
        + (f" (incl. {', '.join(c.files)})" if c.files else "")
        for c in policy.categories.values()
    ])
    row("groups", [
        f"{g.name}: " + ", ".join(part for part in (
            f"{len(g.users)} user{'s' if len(g.users) != 1 else ''}" if g.users else "",
            f"{len(g.subnets)} subnet{'s' if len(g.subnets) != 1 else ''}" if g.subnets else "",
        ) if part) if g.users or g.subnets else f"{g.name}: nobody"
        for g in policy.groups.values()
    ])
    lines.append("rules       in order; the first that matches decides")
    width = len(str(len(policy.rules)))
    for rule in policy.rules:
        lines.append(f"  {rule.index + 1:>{width}}. {rule.name}: {describe_rule(policy, rule)}  (line {rule.line})")
    if not policy.rules:
        lines.append("  (none)")
    row("budgets", [f"{name}: {q.minutes} minutes per {q.per}" for name, q in policy.budgets.items()])
    row("default", [policy.default])
    p = policy.privacy
    audit = "off" if p.audit_log == "off" else f"{p.audit_log}, kept {p.retention_days} days"
    row("privacy", [f"metrics report groups under {p.min_group_size} people as 'other'; audit log {audit}"])
    if policy.identity.trusted_header:
        row("identity", [f"user name from header {policy.identity.trusted_header} of "
                         + ", ".join(str(n) for n in policy.identity.trusted_proxies)])
    count = len(policy.warnings)
    row("warnings", [f"{count} (printed above)"] if count else [])
    return "\n".join(lines)


def _moment(when: dt.datetime, policy: Policy) -> str:
    return when.astimezone(policy.timezone).strftime("%a %Y-%m-%d %H:%M %Z")


def explain_text(policy: Policy, who: Who, request: Request, now: dt.datetime, decision: Decision,
                 trace: list[Step], url: str) -> str:
    """What `gonogo explain` prints: the decision, the facts it rests on and every rule in order."""
    groups = policy.groups_of(who.user, who.ip)
    verdict = decision.decision.upper()
    if decision.rule is None:
        by = "the policy's default"
    else:
        rule = policy.rule(decision.rule)
        by = f"rule '{decision.rule}'" + (f" (line {rule.line})" if rule else "")
    lines = [
        f"decision    {verdict}  (action {decision.action}, by {by})",
        f"reason      {decision.reason}",
    ]
    if decision.message:
        lines.append(f"message     {decision.message}")
    person = who.user or "(anonymous)"
    if who.ip:
        person += f" from {who.ip}"
    lines.append(f"who         {person}; groups: {', '.join(groups) if groups else 'none'}"
                 + (f" (primary {groups[0]})" if groups else ""))
    lines.append(f"request     {request.method} {url}  -> host {request.host}, path {request.path}")
    lines.append(f"category    {decision.category or 'none'}")
    lines.append(f"at          {_moment(now, policy)} ({policy.timezone.key})")
    q = decision.quota
    if q is not None:
        if q.counted:
            minute = "this minute is already counted, so this request costs nothing"
        elif q.charge:
            minute = "this request starts a new counted minute"
        else:
            minute = "no minutes left"
        lines.append(f"quota       budget '{q.budget}': {q.used} of {q.limit} minutes used this {q.per} "
                     f"({q.period}); {minute}; resets {_moment(q.resets_at, policy)}")
    else:
        lines.append("quota       none")
    if decision.until is not None:
        lines.append(f"until       {_moment(decision.until, policy)}  (the decision may change then)")
    else:
        lines.append("until       no change in sight")
    if decision.continue_minutes:
        lines.append(f"continue    choosing to continue allows {decision.continue_minutes} minutes")
    shadows = [f"'{s.rule}' would {s.decision}" for s in decision.shadow]
    lines.append(f"shadow      {'; '.join(shadows) if shadows else 'none'}")
    lines.append("rules       in order:")
    seen = {step.rule.index: step for step in trace}
    width = max((len(r.name) for r in policy.rules), default=0)
    for rule in policy.rules:
        step = seen.get(rule.index)
        if step is None:
            status = "-      not reached (an earlier rule decided)"
        elif step.matched and rule.shadow:
            status = "shadow matches: recorded as 'would " + _would(decision, rule) + "', not enforced"
        elif step.matched:
            status = "MATCH  decides"
        else:
            status = f"no     {step.why}"
        lines.append(f"  {rule.index + 1:>2}. {rule.name:<{width}}  {status}")
    if decision.rule is None:
        lines.append(f"  --  default: {policy.default}")
    return "\n".join(lines)


def _would(decision: Decision, rule: Rule) -> str:
    return next((s.decision for s in decision.shadow if s.rule == rule.name), rule.action)
