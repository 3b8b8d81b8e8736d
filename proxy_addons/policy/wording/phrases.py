"""Policy objects in words: days, windows, schedules, holidays, amounts, dates, targets and rules.

Every output that a person reads (`gonogo check` and `explain`, the block/warn/status pages, the
employee notice) takes its phrases from here, so a `fri-mon` window reads "Friday to Monday" in all
of them. Pure functions of policy objects; the words themselves come from the table (`table.py`).
Policy types are only imported for type checking: the engine imports this module for its reasons.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from .localized import title
from .table import COUNTRIES_NL, MONTHS, TABLE, WEEKDAYS, text

if TYPE_CHECKING:
    from ..engine import Decision, Request
    from ..model import Policy, Rule
    from ..schedules import Holidays, Schedule, Window

_RUN = 3  # this many consecutive days or more read as a range: "Monday to Friday"


def _lang(lang: str) -> str:
    return lang if lang in TABLE else "en"


def shown_as(thing: Any) -> str:
    """For admins (`gonogo check`): ' (shown as “Social media”, nl “Sociale media”)' when a rule, category,
    group or schedule has a display name; '' when people read its key."""
    shown = getattr(thing, "title", None)
    if not shown:
        return ""
    others = [f"{lang} “{words}”" for lang, words in getattr(shown, "versions", {}).items() if words != shown]
    return f" (shown as “{shown}”{''.join(', ' + o for o in others)})"


def rule_title(policy: Policy | None, name: str | None, lang: str) -> str | None:
    """The display name of the rule called `name` (its key when it has none or the policy does not know it)."""
    if name is None:
        return None
    found = policy.rule(name) if policy is not None else None
    return title(found, lang) if found is not None else name


def budget_title(policy: Policy, pool: str, lang: str) -> str:
    """A budget is named after its rule unless pooled (`pool:`): then by that rule's title too."""
    return rule_title(policy, pool, lang) or pool


def category_title(policy: Policy | None, name: str | None, lang: str) -> str | None:
    found = policy.categories.get(name) if policy is not None and name is not None else None
    return title(found, lang) if found is not None else name


def join(items: Sequence[str], lang: str) -> str:
    """'a', 'a and b', 'a, b and c' (the serial list of both languages)."""
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {text(lang, 'and')} {items[-1]}"


def amount(n: int, unit: str, lang: str = "en") -> str:
    """'1 minute', '30 minutes', '1,234 domains': `unit` is minutes, days, domains, users, subnets or people."""
    return text(lang, f"count.{unit}", count=n, n=f"{n:,}")


def duration(seconds: float, lang: str = "en") -> str:
    """A refresh interval or timeout: '10 minutes', '30 seconds', '0.5 seconds'."""
    if seconds >= 60 and seconds % 60 == 0:
        return amount(int(seconds // 60), "minutes", lang)
    if seconds == int(seconds):
        return amount(int(seconds), "seconds", lang)
    return text(lang, "count.seconds", count=2, n=f"{seconds:g}")


def per(period: str, lang: str = "en") -> str:
    """The period of a quota as a word: 'day', 'week'."""
    return text(lang, f"per.{period}")


def clock(minutes: int) -> str:
    """Minutes after midnight as '08:30' (1440 is '24:00', the end of a day)."""
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def day_name(day: int, lang: str = "en") -> str:
    return WEEKDAYS[_lang(lang)][day]


def days(numbers: Iterable[int], lang: str = "en") -> str:
    """A set of weekdays: 'every day'; a run of three or more as a range, wrapping past Sunday
    ('Friday to Monday' for fri-mon); else a list ('Saturday and Sunday')."""
    chosen = frozenset(numbers)
    if len(chosen) == 7:
        return text(lang, "days.every")
    if len(chosen) >= _RUN:
        for first in sorted(chosen):
            run = [(first + i) % 7 for i in range(len(chosen))]
            if set(run) == chosen:
                return text(lang, "days.range", first=day_name(run[0], lang), last=day_name(run[-1], lang))
    return join([day_name(d, lang) for d in sorted(chosen)], lang)


def window(w: Window, lang: str = "en") -> str:
    """'Monday to Friday, 08:30–17:30', 'Friday to Monday, 18:00 until 08:00 the next morning',
    'Saturday and Sunday, all day', with ' (also on holidays)' when holidays do not stop it."""
    on = days(w.days, lang)
    if w.start == 0 and w.end == 1440:
        words = text(lang, "window.all_day", days=on)
    elif w.overnight:
        words = text(lang, "window.overnight", days=on, start=clock(w.start), end=clock(w.end))
    else:
        words = text(lang, "window", days=on, start=clock(w.start), end=clock(w.end))
    return words + (text(lang, "window.holidays") if w.include_holidays else "")


def schedule(s: Schedule, lang: str = "en") -> str:
    """All windows of a schedule, '; '-separated ('never' without any)."""
    return "; ".join(window(w, lang) for w in s.windows) or text(lang, "schedule.never")


def named_schedule(s: Schedule, lang: str = "en") -> str:
    """'work-hours (Monday to Friday, 08:30–17:30)', with the schedule's title in `lang` when it has one."""
    return f"{title(s, lang)} ({schedule(s, lang)})"


def date(day: dt.date, lang: str = "en") -> str:
    """'24 December 2026', '24 december 2026'."""
    return f"{day.day} {MONTHS[_lang(lang)][day.month - 1]} {day.year}"


def country(code: str, subdivision: str | None = None, lang: str = "en") -> str:
    """'Netherlands, NL' (English names from the holidays package; Dutch ones for nearby countries)."""
    upper = code.upper()
    name = COUNTRIES_NL.get(upper) if lang == "nl" else None
    if name is None:
        from holidays import registry

        name = next((v[0] for v in registry.COUNTRIES.values() if upper in v[1:]), None)
    region = upper + (f"-{subdivision}" if subdivision else "")
    return f"{name}, {region}" if name else region


def holidays(h: Holidays, lang: str = "en") -> str:
    """The days a holiday-aware window skips: 'public holidays (Netherlands, NL) and the company's
    days off: 24 December 2026 and 31 December 2026'; '' when the policy names none."""
    which = []
    if h.country:
        which.append(text(lang, "holidays.public", country=country(h.country, h.subdivision, lang)))
    if h.dates:
        which.append(text(lang, "holidays.dates", dates=join([date(d, lang) for d in sorted(h.dates)], lang)))
    return join(which, lang)


def has_holidays(policy: Policy) -> bool:
    return policy.holidays.country is not None or bool(policy.holidays.dates)


def when(moment: dt.datetime, now: dt.datetime, lang: str = "en") -> str:
    """`moment` in words relative to `now`, in `moment`'s own zone (the policy's local time):
    "today at 17:30", "tomorrow at 08:30", "Monday at 08:30", else a full date."""
    if moment.tzinfo is not None and now.tzinfo is not None:
        now = now.astimezone(moment.tzinfo)
    ahead = (moment.date() - now.date()).days
    time = f"{moment:%H:%M}"
    if ahead == 0:
        return text(lang, "when.today", time=time)
    if ahead == 1:
        return text(lang, "when.tomorrow", time=time)
    weekday = day_name(moment.weekday(), lang)
    if 1 < ahead < 7:
        return text(lang, "when.weekday", weekday=weekday, time=time)
    month = MONTHS[_lang(lang)][moment.month - 1]
    return text(lang, "when.date", weekday=weekday, day=moment.day, month=month, year=moment.year, time=time)


def timestamp(moment: dt.datetime, tz: dt.tzinfo) -> str:
    """An exact local time for admins: 'Thu 2026-11-26 10:00 CET'."""
    return moment.astimezone(tz).strftime("%a %Y-%m-%d %H:%M %Z")


# -- the engine's reasons (`Decision.reason`, `Step.why`) -------------------------------------------------

def reason(kind: str, rule: str, lang: str = "en") -> str:
    """Why a matching rule decided as it did, without a quota: kind is allow, block, continued or warn."""
    return text(lang, f"reason.{kind}", rule=rule)


def quota_reason(rule: str, left: int, limit: int, period: str, used_up: bool, lang: str = "en") -> str:
    if used_up:
        return text(lang, "reason.used_up", count=limit, limit=limit, per=period, rule=rule)
    return text(lang, "reason.timebox", count=limit, rule=rule, left=left, limit=limit, per=period)


def exception_reason(rule: str, request_id: str, until: dt.datetime, lang: str = "en") -> str:
    """Why a blocking rule allowed: an approved exception (named by its request id) until a moment."""
    return text(lang, "reason.exception", rule=rule, id=request_id, until=until.strftime("%Y-%m-%d %H:%M %Z"))


def default_reason(default: str, lang: str = "en") -> str:
    return text(lang, "reason.default", default=default)


def targets(rule: Rule, lang: str = "en") -> str:
    """What a rule covers, for admins: 'category social, example.com' ('every site' for all)."""
    parts = [*(text(lang, "target.category", name=c) for c in rule.categories), *rule.domains]
    return ", ".join(parts) if parts else text(lang, "targets.all")


def mismatch(kind: str, lang: str = "en", **values: Any) -> str:
    """Why a rule did not match: kind is groups, host, method, path or outside."""
    return text(lang, f"mismatch.{kind}", **values)


# -- a rule for the admin (`gonogo check`) ---------------------------------------------------------------

_VERBS = {"allow": "allow", "block": "block", "warn": "warn before", "timebox": "time-box"}


def rule_sentence(policy: Policy, rule: Rule) -> str:
    """One rule as a sentence: 'time-box social for everyone during work-hours: 30 minutes per day'."""
    who = "everyone" if rule.groups is None else ", ".join(g for g in policy.groups if g in rule.groups)
    parts = [*rule.categories, *rule.domains]
    what = ", ".join(parts) if parts else "every site"
    if rule.methods is not None:
        what = f"{'/'.join(sorted(rule.methods))} requests to {what}"
    if rule.paths:
        what += f" (paths {', '.join(rule.paths)})"
    during = f"during {', '.join(s.name for s in rule.when)}" if rule.when else "at any time"
    sentence = f"{_VERBS[rule.action]} {what} for {who} {during}"
    if rule.action == "timebox" and rule.quota is not None:
        sentence += f": {amount(rule.quota.minutes, 'minutes')} per {per(rule.quota.per)}"
        if rule.quota.pool != rule.name:
            sentence += f" from budget '{rule.quota.pool}'"
    elif rule.action == "warn":
        sentence += f"; continuing allows {amount(rule.continue_minutes or 0, 'minutes')}"
    if rule.exceptions is not None:
        minutes = rule.exceptions.max_minutes
        sentence += "; " + text("en", "rule.exceptions", count=minutes, minutes=minutes)
    if rule.shadow:
        sentence = f"[shadow, never enforced] would {sentence}"
    return sentence


# -- a rule and a decision for the person it applies to (pages) ------------------------------------------

_MAX_DOMAINS_SHOWN = 8


def page_targets(rule: Rule, lang: str, policy: Policy | None = None) -> str:
    """'category “social”, steam.com, 3 more' (at most eight domains named)."""
    if rule.host_tags is None:
        return text(lang, "targets.all")
    items = [text(lang, "targets.category", name=category_title(policy, c, lang)) for c in rule.categories]
    items += rule.domains[:_MAX_DOMAINS_SHOWN]
    if len(rule.domains) > _MAX_DOMAINS_SHOWN:
        items.append(text(lang, "targets.more", count=len(rule.domains) - _MAX_DOMAINS_SHOWN))
    return ", ".join(items)


def rule_line(rule: Rule, policy: Policy, lang: str) -> str:
    """A rule in plain words: what, then the action, then the conditions (who is implied: the reader)."""
    if rule.action == "timebox" and rule.quota is not None:
        action = text(lang, "action.timebox", count=rule.quota.minutes, minutes=rule.quota.minutes,
                      per=per(rule.quota.per, lang), budget=budget_title(policy, rule.quota.pool, lang))
    elif rule.action == "warn":
        minutes = rule.continue_minutes or 0
        action = text(lang, "action.warn", count=minutes, minutes=minutes)
    else:
        action = text(lang, f"action.{rule.action}")
    conditions = []
    if rule.when:
        conditions.append(text(lang, "cond.when", schedules=", ".join(named_schedule(s, lang) for s in rule.when)))
        if has_holidays(policy) and not all(w.include_holidays for s in rule.when for w in s.windows):
            conditions.append(text(lang, "holidays.not_on", which=holidays(policy.holidays, lang)))
    if rule.methods is not None:
        conditions.append(text(lang, "cond.methods", methods=", ".join(sorted(rule.methods))))
    if rule.paths:
        conditions.append(text(lang, "cond.paths", paths=", ".join(rule.paths)))
    if rule.exceptions is not None:
        conditions.append(text(lang, "rule.exceptions", count=rule.exceptions.max_minutes,
                               minutes=rule.exceptions.max_minutes))
    words = text(lang, "rule.line", targets=page_targets(rule, lang, policy), action=action)
    return "; ".join([words, *conditions]) + "."


def why(decision: Decision, lang: str, policy: Policy | None = None) -> str:
    """Why a request is blocked, for the person blocked (the rule by its title when `policy` is given)."""
    if decision.rule is None:
        return text(lang, "why.default")
    rule = rule_title(policy, decision.rule, lang)
    q = decision.quota
    if q is not None and decision.action == "timebox":
        return text(lang, "why.quota", count=q.limit, limit=q.limit, per=per(q.per, lang), rule=rule)
    return text(lang, "why.block", rule=rule)


def used(decision: Decision, lang: str) -> str | None:
    """'12 of 30 minutes today', or None without a quota."""
    q = decision.quota
    if q is None:
        return None
    key = f"used.{q.per}" if q.per in ("day", "week") else "used.day"
    return text(lang, key, count=q.limit, used=q.used, limit=q.limit)


# -- a rule for the employee notice: who, what (with example sites) and when ---------------------------

_EXAMPLES = 6  # domains named per category; the rest are counted
_WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_METHOD_ORDER = {m: i for i, m in enumerate(("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"))}


def whom(policy: Policy, rule: Rule, lang: str) -> str:
    """'Everyone' or 'Members of interns and sales' (group names in file order, never member lists)."""
    if rule.groups is None:
        return text(lang, "notice.everyone")
    names = [title(g, lang) for name, g in policy.groups.items() if name in rule.groups]
    return text(lang, "notice.members", groups=join(names, lang))


def what(policy: Policy, rule: Rule, lang: str) -> str:
    """'sites in the category “Social media” (facebook.com, ..., and 14 more in the appendix) and steam.com',
    'posting and changing things (POST, PUT requests) on ...', '..., on pages matching /feed'."""
    parts = []
    if rule.categories:
        names = [f"“{category_title(policy, c, lang) or c}”" for c in rule.categories]
        parts.append(text(lang, "notice.sites_of", count=len(names), names=join(names, lang))
                     + _examples(policy, rule, lang))
    parts.extend(rule.domains)
    words = join(parts, lang) if parts else text(lang, "notice.every_site")
    if rule.methods is not None:
        methods = ", ".join(sorted(rule.methods, key=lambda m: (_METHOD_ORDER.get(m, 99), m)))
        words = text(lang, "notice.writes" if rule.methods <= _WRITES else "notice.methods", methods=methods,
                     what=words)
    if rule.paths:
        words = text(lang, "notice.paths", what=words, paths=", ".join(rule.paths))
    return words


def _examples(policy: Policy, rule: Rule, lang: str) -> str:
    names: list[str] = []
    total = 0
    for category in rule.categories:
        found = policy.categories.get(category)
        if found is None:
            continue
        total += found.domain_count
        names.extend(d for d in policy.index.examples(found.tag, _EXAMPLES) if d not in names)
    shown = names[:_EXAMPLES]
    if not shown:
        return ""
    rest = total - len(shown)
    return f" ({', '.join(shown)}{', ' + text(lang, 'notice.more', count=rest) if rest > 0 else ''})"


def during(rule: Rule, lang: str) -> str:
    """'during work-hours and lunch', 'at any time'."""
    if not rule.when:
        return text(lang, "notice.at_any_time")
    return text(lang, "notice.during", schedules=join([title(s, lang) for s in rule.when], lang))


# -- what spends a time-box minute (policy/attention.py) ----------------------------------------------------

def counting(policy: Policy, rule: Rule | None, request: Request, lang: str = "en") -> str:
    """Whether `request` would spend a minute of `rule`'s budget, and why: for `gonogo explain`."""
    from ..attention import BACKGROUND, UNKNOWN

    c = policy.counting
    mode = rule.counting if rule is not None and rule.counting is not None else c.mode
    if mode == "requests":
        return text(lang, "counting.requests")
    if request.attention == BACKGROUND:
        over = request.background_bytes >= c.background_bytes
        return text(lang, "counting.background.over" if over else "counting.background.under",
                    kb=request.background_bytes // 1024, threshold=c.background_kb)
    if request.attention == UNKNOWN:
        return text(lang, f"counting.unknown.{c.without_fetch_metadata}")
    return text(lang, f"counting.{request.attention}")


def counting_summary(policy: Policy, lang: str = "en") -> str:
    """The policy-wide `counting:` in one line, for `gonogo check`."""
    c = policy.counting
    if c.mode == "requests":
        return text(lang, "counting.summary.requests")
    return text(lang, "counting.summary.attention", threshold=c.background_kb,
                unknown=text(lang, f"counting.unknown_summary.{c.without_fetch_metadata}"))
