"""A policy and a decision in plain English, for the admin: `gonogo check` and `gonogo explain`.

Written from the compiled Policy (not the YAML), so the words describe what the engine will do.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections.abc import Sequence

from .engine import Decision, Request, Step, Who, request_counts
from .model import Group, Policy, Rule
from .names import normalize_user
from .schedules import Schedule
from .wording import lists, local, phrases, text

_LABEL = 11  # width of the summary's left column


def ordered_groups(policy: Policy, names: frozenset[str] | Sequence[str]) -> list[str]:
    """Group names in file order (sets lose it)."""
    return [g for g in policy.groups if g in names]


def describe_rule(policy: Policy, rule: Rule) -> str:
    """One rule as a sentence: 'time-box social for everyone during work-hours: 30 minutes per day'."""
    return phrases.rule_sentence(policy, rule)


def describe_schedule(schedule: Schedule) -> str:
    return phrases.schedule(schedule)


def summarise(policy: Policy) -> str:
    """The one-screen summary `gonogo check` prints for a valid policy."""
    lines = [f"{policy.source}: valid policy (sha256 {policy.sha256[:12]})"]

    def row(label: str, values: Sequence[str]) -> None:
        for i, value in enumerate(values or ["none"]):
            lines.append(f"{label if i == 0 else '':<{_LABEL}} {value}")

    row("zone", [str(policy.timezone.key)])
    days_off = phrases.holidays(policy.holidays)
    row("holidays", [days_off] if days_off else [])
    org = policy.organisation
    if org.name or org.contact:
        row("notice", ["; ".join(f"{what} “{value}”" for what, value in (("organisation", org.name),
                                                                        ("contact", org.contact)) if value)])
    row("schedules", [f"{name}{phrases.shown_as(s)}: {describe_schedule(s)}" for name, s in policy.schedules.items()])
    row("categories", [
        f"{c.name}{phrases.shown_as(c)}: {phrases.amount(c.domain_count, 'domains')}"
        + (f" (incl. {', '.join(c.files)})" if c.files else "")
        + "".join(f"\n{'':<{_LABEL}}   - {s.where}: {lists.source(s)}"
                  + "".join(f"\n{'':<{_LABEL}}       {lists.skipped(line, text)}" for line, text in s.samples[:3])
                  for s in c.sources)
        for c in policy.categories.values()
    ])
    row("groups", [f"{g.name}{phrases.shown_as(g)}: {_group_parts(g)}" for g in policy.groups.values()])
    lines.append("rules       in order; the first that matches decides")
    width = len(str(len(policy.rules)))
    for rule in policy.rules:
        lines.append(f"  {rule.index + 1:>{width}}. {rule.name}{phrases.shown_as(rule)}: {describe_rule(policy, rule)}"
                     f"  (line {rule.line})")
    if not policy.rules:
        lines.append("  (none)")
    budgets, counting = _budget_rows(policy)
    row("budgets", budgets)
    if counting:
        row("counting", counting)
    row("default", [policy.default])
    p = policy.privacy
    audit = "off" if p.audit_log == "off" else f"{p.audit_log}, kept {phrases.amount(p.retention_days, 'days')}"
    row("privacy", [f"metrics report groups under {phrases.amount(p.min_group_size, 'people')} as 'other'; "
                    f"audit log {audit}"])
    if policy.identity.trusted_header:
        row("identity", [f"user name from header {policy.identity.trusted_header} of "
                         + ", ".join(str(n) for n in policy.identity.trusted_proxies)])
    directory = policy.identity.directory
    if directory is not None:
        row("directory", [text("en", "summary.directory", url=directory.url, base=directory.base_dn,
                               filter=directory.user_filter, membership=directory.membership,
                               refresh=phrases.duration(directory.refresh),
                               timeout=phrases.duration(directory.timeout))])
    if policy.notify.webhook:
        from urllib.parse import urlsplit

        # only the host: the path of an incoming webhook is its secret
        row("notify", [f"exception requests and decisions are posted to a webhook on "
                       f"{urlsplit(policy.notify.webhook).hostname}"])
    count = len(policy.warnings)
    row("warnings", [f"{count} (printed above)"] if count else [])
    return "\n".join(lines)


def _group_parts(g: Group) -> str:
    """'3 users, 1 subnet, group file groups/sales.txt, directory group cn=Sales,...' or 'nobody'."""
    inline = len(g.users - g.file_users) if g.file else len(g.users)
    parts = [
        phrases.amount(inline, "users") if inline else "",
        phrases.amount(len(g.subnets), "subnets") if g.subnets else "",
        text("en", "summary.group.file", file=g.file) + f" ({phrases.amount(len(g.file_users), 'users')})"
        if g.file else "",
        text("en", "summary.group.directory", dn=g.directory) if g.directory else "",
    ]
    return ", ".join(p for p in parts if p) or "nobody"


def group_sources(policy: Policy, who: Who, lang: str = "en") -> list[str]:
    """Each group of `who` with where the membership comes from: 'sales: listed in groups/sales.txt'."""
    user = normalize_user(who.user) if who.user else None
    found = []
    for name in policy.groups_of(who.user, who.ip, who.groups_from_directory):
        group = policy.groups[name]
        why = []
        if user is not None and user in group.users - group.file_users:
            why.append(text(lang, "group.source.users"))
        if user is not None and user in group.file_users:
            why.append(text(lang, "group.source.file", file=group.file))
        subnet = _subnet_of(group, who.ip) if who.ip and group.subnets else None
        if subnet is not None:
            why.append(text(lang, "group.source.subnet", subnet=subnet))
        if name in who.groups_from_directory:
            why.append(text(lang, "group.source.directory", dn=group.directory))
        found.append(f"{name}: {', '.join(why)}" if why else name)
    return found


def _subnet_of(group: Group, ip: str) -> str | None:
    try:
        address = ipaddress.ip_address(ip.split("%")[0])
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return next((str(n) for n in group.subnets if address in n), None)


def _moment(when: dt.datetime, policy: Policy) -> str:
    return phrases.timestamp(when, policy.timezone)


def explain_text(policy: Policy, who: Who, request: Request, now: dt.datetime, decision: Decision,
                 trace: list[Step], url: str, lang: str = "en") -> str:
    """What `gonogo explain` prints: the decision, the facts it rests on and every rule in order; the texts
    a person would read (the rule's title and message) in `lang`."""
    groups = policy.groups_of(who.user, who.ip, who.groups_from_directory)
    verdict = decision.decision.upper()
    if decision.rule is None:
        by = "the policy's default"
    else:
        rule = policy.rule(decision.rule)
        by = f"rule '{decision.rule}'" + (f" (line {rule.line})" if rule else "")
        shown = phrases.rule_title(policy, decision.rule, lang)
        by += f", shown as “{shown}”" if shown != decision.rule else ""
    lines = [
        f"decision    {verdict}  (action {decision.action}, by {by})",
        f"reason      {decision.reason}",
    ]
    message = local(decision.message, lang)
    if message:
        lines.append(f"message     {message}")
    person = who.user or "(anonymous)"
    if who.ip:
        person += f" from {who.ip}"
    lines.append(f"who         {person}; groups: {', '.join(groups) if groups else 'none'}"
                 + (f" (primary {groups[0]})" if groups else ""))
    if groups:
        lines.append(f"membership  {'; '.join(group_sources(policy, who))}")
    lines.append(f"request     {request.method} {url}  -> host {request.host}, path {request.path}")
    lines.append(f"category    {decision.category or 'none'}{_category_lists(policy, decision.category)}")
    lines.append(f"at          {_moment(now, policy)} ({policy.timezone.key})")
    lines += _schedule_lines(policy, now)
    lines += [_quota_line(decision, policy), *_counting_lines(policy, request, decision)]
    if decision.until is not None:
        lines.append(f"until       {_moment(decision.until, policy)}  (the decision may change then)")
    else:
        lines.append("until       no change in sight")
    if decision.continue_minutes:
        lines.append(f"continue    choosing to continue allows {phrases.amount(decision.continue_minutes, 'minutes')}")
    lines += _exception_lines(policy, decision, now)
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


def explain_json(policy: Policy, who: Who, request: Request, decision: Decision, trace: list[Step],
                 lang: str = "en") -> dict[str, object]:
    """What `gonogo explain --json` prints: the decision's own fields (a stable contract) plus what the text
    shows beside them: the groups, the message, whether the request spends a minute and why, the exception
    requests the rule takes, and every rule in order with why it did or did not match."""
    data: dict[str, object] = dict(decision.to_json())
    data["message"] = local(decision.message, lang) or None
    data["groups"] = list(policy.groups_of(who.user, who.ip, who.groups_from_directory))
    data["request"] = {"method": request.method, "host": request.host, "path": request.path,
                       "attention": request.attention}
    counting = None
    if decision.quota is not None:
        rule = policy.rule(decision.rule) if decision.rule else None
        counting = {"counts": request_counts(policy, rule, request), "charge": decision.quota.charge,
                    "counted": decision.quota.counted, "heads_up": decision.quota.heads_up,
                    "why": phrases.counting(policy, rule, request, lang)}
    data["counting"] = counting
    data["continue_minutes"] = decision.continue_minutes or None
    deciding = policy.rule(decision.rule) if decision.rule is not None else None
    data["exceptions"] = ({"max_minutes": deciding.exceptions.max_minutes}
                          if deciding is not None and deciding.exceptions is not None else None)
    seen = {step.rule.index: step for step in trace}
    rules = []
    for rule in policy.rules:
        step = seen.get(rule.index)
        status = ("not reached" if step is None else "shadow" if step.matched and rule.shadow
                  else "match" if step.matched else "no")
        rules.append({"rule": rule.name, "line": rule.line, "status": status,
                      "why": step.why if step is not None and not step.matched else None})
    data["rules"] = rules
    return data


def _category_lists(policy: Policy, name: str | None) -> str:
    """' (lists: social.txt, https://...)': where a category's names come from, for a decision by one."""
    category = policy.categories.get(name) if name else None
    if category is None or not category.sources:
        return ""
    return f" (lists: {', '.join(s.where for s in category.sources)})"


def _exception_lines(policy: Policy, decision: Decision, now: dt.datetime) -> list[str]:
    """Whether the deciding rule takes exception requests (`exceptions:`), and what `--exception` assumed."""
    rule = policy.rule(decision.rule) if decision.rule is not None else None
    if rule is None or rule.exceptions is None:
        return []
    minutes = rule.exceptions.max_minutes
    return [f"exceptions  {text('en', 'rule.exceptions', count=minutes, minutes=minutes)} "
            "(gonogo requests approve)"]


def _budget_rows(policy: Policy) -> tuple[list[str], list[str]]:
    """The summary's budgets (with their heads-up) and what spends their minutes (policy/attention.py)."""
    budgets = [f"{name}: {phrases.amount(q.minutes, 'minutes')} per {phrases.per(q.per)}"
               + (f", heads-up at {phrases.amount(q.heads_up, 'minutes')} left" if q.heads_up else "")
               for name, q in policy.budgets.items()]
    if not policy.budgets:
        return budgets, []
    own = [f"rule '{r.name}': {r.counting}" for r in policy.rules if r.counting and r.counting != policy.counting.mode]
    return budgets, [phrases.counting_summary(policy), *own]


def _counting_lines(policy: Policy, request: Request, decision: Decision) -> list[str]:
    """`explain`: whether this request spends a minute and why, and whether it gets the heads-up."""
    if decision.quota is None:
        return []
    rule = policy.rule(decision.rule) if decision.rule else None
    lines = [f"counting    {request.attention}: {phrases.counting(policy, rule, request)}"]
    if decision.quota.heads_up:
        lines.append(f"heads-up    a page load now shows the one-time heads-up ({decision.quota.left} left)")
    return lines


def _quota_line(decision: Decision, policy: Policy) -> str:
    q = decision.quota
    if q is None:
        return "quota       none"
    if q.counted:
        minute = "this minute is already counted, so this request costs nothing"
    elif q.charge:
        minute = "this request starts a new counted minute"
    elif q.allowed:
        minute = "this request spends no minute"
    else:
        minute = "no minutes left"
    return (f"quota       budget '{q.budget}': {q.used} of {phrases.amount(q.limit, 'minutes')} used this "
            f"{phrases.per(q.per)} ({q.period}); {minute}; resets {_moment(q.resets_at, policy)}")


def _schedule_lines(policy: Policy, now: dt.datetime) -> list[str]:
    """The schedules the rules name, in words, and whether each is in force at `now`; then the holidays."""
    named = {s.name for rule in policy.rules for s in rule.when}
    rows = [f"{name}: {phrases.schedule(s)} ({'in force' if s.active(now) else 'not in force'})"
            for name, s in policy.schedules.items() if name in named]
    lines = [f"{'schedules' if i == 0 else '':<{_LABEL}} {row}" for i, row in enumerate(rows)]
    days_off = phrases.holidays(policy.holidays)
    if days_off:
        today = now.astimezone(policy.timezone).date()
        holiday = policy.holidays.name(today)
        lines.append(f"{'holidays':<{_LABEL}} {days_off}; {today.isoformat()} is "
                     + (f"one ({holiday})" if holiday else "not one"))
    return lines


def _would(decision: Decision, rule: Rule) -> str:
    return next((s.decision for s in decision.shadow if s.rule == rule.name), rule.action)
