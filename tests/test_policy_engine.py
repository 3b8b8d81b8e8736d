"""The decision engine: rule order, time-box edges, `until`, shadow rules, and a reference model.

The engine remembers hosts, people, periods and schedule states to decide in microseconds; the
reference model at the bottom decides the same requests the slow, obvious way, and hypothesis checks
the two agree on random requests, people, moments and usage."""

from __future__ import annotations

import datetime as dt
import ipaddress
from types import MappingProxyType
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from proxy_addons.policy import (
    BudgetUsage,
    Decision,
    Policy,
    QuotaState,
    Request,
    ShadowMatch,
    Usage,
    Who,
    evaluate,
    load_policy,
    load_text,
    period_of,
)
from proxy_addons.policy.model import CACHE_SIZE
from tests.conftest import EXAMPLE_POLICY

AMS = ZoneInfo("Europe/Amsterdam")
BOX = "social time-box"


def at(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=AMS)


@pytest.fixture(scope="module")
def example() -> Policy:
    return load_policy(EXAMPLE_POLICY)


def decide(policy: Policy, user: str | None, host: str, now: dt.datetime, method: str = "GET", path: str = "/",
           usage: Usage | None = None, ip: str | None = None) -> Decision:
    return evaluate(policy, Who(user, ip), Request(host, method, path), now, usage or Usage())


def used(minutes: int, counted: bool = False, extra: int = 0, period: str | None = None) -> Usage:
    return Usage({BOX: BudgetUsage(minutes, counted, extra, period)})


THURSDAY_10 = at(2026, 11, 26, 10, 0)


# -- rule order ----------------------------------------------------------------------------------

ORDER = """
version: 1
categories:
  social: {domains: [facebook.com]}
  video: {domains: [youtube.com, video.facebook.com]}
groups:
  a: {users: [ann]}
  b: {users: [ann, bob], subnets: [10.1.0.0/16]}
rules:
  - {name: first for a, groups: [a], categories: [social], action: block}
  - {name: shadow everyone, categories: [social, video], action: warn, shadow: true}
  - {name: second for b, groups: [b], categories: [social, video], action: allow}
  - {name: writes, categories: [social], methods: [POST], action: block}
  - {name: compose, domains: [facebook.com], paths: ["/compose/*", "/share"], action: warn}
default: block
"""


@pytest.fixture(scope="module")
def order() -> Policy:
    return load_text(ORDER, "order.yaml")


def test_first_matching_rule_decides(order: Policy) -> None:
    now = at(2026, 11, 26, 10)
    d = decide(order, "ann", "www.facebook.com", now)
    assert (d.decision, d.rule, d.group) == ("block", "first for a", "a")  # ann is in a and b; a comes first
    assert d.shadow == ()  # the shadow rule comes after the deciding one
    d = decide(order, "bob", "www.facebook.com", now)
    assert (d.decision, d.rule, d.group) == ("allow", "second for b", "b")
    assert d.shadow == (ShadowMatch("shadow everyone", "warn", "warn", "social"),)
    d = decide(order, "carl", "www.facebook.com", now, "POST")
    assert (d.decision, d.rule) == ("block", "writes")
    d = decide(order, "carl", "facebook.com", now, "GET", "/compose/new")
    assert (d.decision, d.rule) == ("warn", "compose")
    assert decide(order, "carl", "facebook.com", now, "GET", "/share").rule == "compose"
    assert decide(order, "carl", "facebook.com", now, "GET", "/shared").rule is None
    d = decide(order, "carl", "example.org", now)
    assert (d.decision, d.rule, d.reason) == ("block", None, "no rule matches; the policy's default is block")


def test_groups_by_subnet_and_primary_group(order: Policy) -> None:
    now = at(2026, 11, 26, 10)
    assert order.groups_of("carl", "10.1.2.3") == ("b",)
    assert order.groups_of("ann", "10.1.2.3") == ("a", "b")
    assert order.groups_of(None, "::ffff:10.1.2.3") == ("b",)
    assert order.groups_of("carl", "10.2.0.1") == ()
    assert order.groups_of("carl", "not an address") == ()
    d = decide(order, None, "youtube.com", now, ip="10.1.9.9")
    assert (d.rule, d.group, d.category) == ("second for b", "b", "video")


def test_most_specific_category(order: Policy) -> None:
    now = at(2026, 11, 26, 10)
    assert order.category_of("video.facebook.com") == "video"
    assert order.category_of("www.facebook.com") == "social"
    d = decide(order, "bob", "a.video.facebook.com", now)
    assert d.category == "video" and d.shadow[0].category == "video"


def test_trace_lists_every_rule_considered_and_changes_nothing(order: Policy, example: Policy) -> None:
    trace: list = []
    d = evaluate(order, Who("bob"), Request("facebook.com"), at(2026, 11, 26, 10), trace=trace)
    assert [(s.rule.name, s.matched) for s in trace] == [
        ("first for a", False), ("shadow everyone", True), ("second for b", True)]
    assert trace[0].why == "not in a"
    assert d == evaluate(order, Who("bob"), Request("facebook.com"), at(2026, 11, 26, 10))
    trace = []
    evaluate(order, Who("carl"), Request("example.org", "PUT", "/x"), at(2026, 11, 26, 10), trace=trace)
    assert [s.why for s in trace] == [
        "not in a", "example.org is not in category social, category video", "not in b",
        "example.org is not in category social", "example.org is not in facebook.com"]
    # with a warn (whose `until` is refined) tracing gives the same decision as the live path
    trace = []
    live = decide(example, "dirk", "nu.nl", THURSDAY_10)
    assert evaluate(example, Who("dirk"), Request("nu.nl"), THURSDAY_10, trace=trace) == live
    assert trace[-1].why == "matches"


# -- time-box edges ------------------------------------------------------------------------------

def test_first_minute_is_charged(example: Policy) -> None:
    d = decide(example, "dirk", "www.facebook.com", THURSDAY_10)
    assert (d.decision, d.action, d.rule) == ("allow", "timebox", BOX)
    q = d.quota
    assert q == QuotaState(BOX, 1, 30, "day", "2026-11-26", at(2026, 11, 27), int(THURSDAY_10.timestamp() // 60),
                           charge=True, counted=False)
    assert q.left == 29
    assert d.reason == "time-boxed by rule 'social time-box': 29 of 30 minutes left this day"


def test_last_minute_allowed_next_new_minute_blocked_counted_minute_free(example: Policy) -> None:
    last = decide(example, "dirk", "facebook.com", THURSDAY_10, usage=used(29))
    assert last.decision == "allow" and last.quota.used == 30 and last.quota.charge and last.quota.left == 0
    spent = decide(example, "dirk", "facebook.com", THURSDAY_10, usage=used(30))
    assert spent.decision == "block" and spent.action == "timebox" and not spent.quota.charge
    assert spent.reason == "the 30 minutes per day of rule 'social time-box' are used up"
    assert spent.message.startswith("Personal social media is limited")
    same_minute = decide(example, "dirk", "facebook.com", THURSDAY_10, usage=used(30, counted=True))
    assert same_minute.decision == "allow" and same_minute.quota.counted and not same_minute.quota.charge
    assert same_minute.quota.used == 30
    counted_early = decide(example, "dirk", "facebook.com", THURSDAY_10, usage=used(5, counted=True))
    assert counted_early.quota.used == 5 and not counted_early.quota.charge


def test_granted_extra_minutes(example: Policy) -> None:
    d = decide(example, "dirk", "facebook.com", THURSDAY_10, usage=used(30, extra=10))
    assert d.decision == "allow" and (d.quota.used, d.quota.limit, d.quota.left) == (31, 40, 9)
    d = decide(example, "dirk", "facebook.com", THURSDAY_10, usage=used(40, extra=10))
    assert d.decision == "block"


def test_usage_of_another_period_counts_as_none(example: Policy) -> None:
    d = decide(example, "dirk", "facebook.com", THURSDAY_10, usage=used(30, period="2026-11-25"))
    assert d.decision == "allow" and d.quota.used == 1
    d = decide(example, "dirk", "facebook.com", THURSDAY_10, usage=used(30, period="2026-11-26"))
    assert d.decision == "block"


def test_periods_reset_at_local_midnight_and_monday(example: Policy) -> None:
    day = example.budgets[BOX]
    assert period_of(day, at(2026, 11, 26, 23, 59), example) == ("2026-11-26", at(2026, 11, 27))
    assert period_of(day, at(2026, 11, 27, 0, 0), example) == ("2026-11-27", at(2026, 11, 28))
    # 23:30 UTC is already the next day in Amsterdam
    assert period_of(day, dt.datetime(2026, 11, 26, 23, 30, tzinfo=dt.UTC), example)[0] == "2026-11-27"
    # the day of the spring change is 23 hours long, and still ends at local midnight
    key, ends = period_of(day, at(2026, 3, 29, 1, 0), example)
    assert (key, ends) == ("2026-03-29", at(2026, 3, 30))
    assert ends.timestamp() - at(2026, 3, 29).timestamp() == 23 * 3600
    week = load_text("version: 1\ntimezone: Europe/Amsterdam\ncategories: {s: {domains: [x.com]}}\nrules:\n"
                     "  - {name: w, categories: [s], action: timebox, quota: {minutes: 60, per: week}}\n", "w.yaml")
    quota = week.budgets["w"]
    assert period_of(quota, at(2026, 11, 29, 23, 59), week) == ("week-2026-11-23", at(2026, 11, 30))
    assert period_of(quota, at(2026, 11, 30, 0, 0), week) == ("week-2026-11-30", at(2026, 12, 7))
    d = evaluate(week, Who("u"), Request("x.com"), at(2026, 11, 29, 12),
                 Usage({"w": BudgetUsage(60, False, 0, "week-2026-11-23")}))
    assert d.decision == "block" and d.until == at(2026, 11, 30)
    d = evaluate(week, Who("u"), Request("x.com"), at(2026, 11, 30, 0, 1),
                 Usage({"w": BudgetUsage(60, False, 0, "week-2026-11-23")}))
    assert d.decision == "allow" and d.quota.used == 1


def test_pools_share_one_budget() -> None:
    policy = load_text("""
version: 1
categories: {a: {domains: [a.test]}, b: {domains: [b.test]}}
rules:
  - {name: ra, categories: [a], action: timebox, quota: {minutes: 10, per: day, pool: fun}}
  - {name: rb, categories: [b], action: timebox, quota: {minutes: 10, per: day, pool: fun}}
""", "pool.yaml")
    assert list(policy.budgets) == ["fun"]
    usage = Usage({"fun": BudgetUsage(10)})
    for host in ("a.test", "b.test"):
        d = evaluate(policy, Who("u"), Request(host), dt.datetime(2026, 1, 5, 12, tzinfo=dt.UTC), usage)
        assert d.decision == "block" and d.quota.budget == "fun"


# -- until -----------------------------------------------------------------------------------------

@pytest.mark.parametrize(("user", "host", "moment", "usage", "decision", "until"), [
    ("dirk", "facebook.com", THURSDAY_10, None, "allow", at(2026, 11, 26, 12)),  # lunch starts
    ("dirk", "facebook.com", at(2026, 11, 26, 12, 30), None, "allow", at(2026, 11, 26, 13)),
    ("dirk", "facebook.com", THURSDAY_10, used(30), "block", at(2026, 11, 26, 12)),  # lunch frees it
    ("dirk", "facebook.com", at(2026, 11, 26, 14), used(30), "block", at(2026, 11, 26, 17, 30)),
    ("dirk", "facebook.com", at(2026, 11, 26, 20), None, "allow", at(2026, 11, 27, 8, 30)),
    ("dirk", "facebook.com", at(2026, 11, 27, 20), None, "allow", at(2026, 11, 30, 8, 30)),  # weekend
    ("dirk", "nu.nl", THURSDAY_10, None, "warn", at(2026, 11, 26, 17, 30)),
    ("dirk", "example.org", THURSDAY_10, None, "allow", None),
    ("anna", "facebook.com", THURSDAY_10, None, "allow", None),
    ("ivo", "linkedin.com", THURSDAY_10, None, "allow", None),
    ("dirk", "facebook.com", at(2026, 12, 23, 16), None, "allow", at(2026, 12, 23, 17, 30)),
    ("dirk", "facebook.com", at(2026, 12, 23, 18), None, "allow", at(2026, 12, 28, 8, 30)),  # holidays
])
def test_until(example: Policy, user: str, host: str, moment: dt.datetime, usage: Usage | None, decision: str,
               until: dt.datetime | None) -> None:
    d = decide(example, user, host, moment, usage=usage)
    assert (d.decision, d.until) == (decision, until)


def test_until_of_a_block_skips_changes_that_keep_it_blocked() -> None:
    policy = load_text("""
version: 1
schedules:
  morning: [{days: mon-sun, from: "08:00", to: "12:00"}]
  day: [{days: mon-sun, from: "08:00", to: "18:00"}]
categories: {s: {domains: [s.test]}}
rules:
  - {name: morning, categories: [s], when: morning, action: block}
  - {name: day, categories: [s], when: day, action: block}
""", "u.yaml")
    d = evaluate(policy, Who("u"), Request("s.test"), dt.datetime(2026, 1, 5, 9, tzinfo=dt.UTC))
    assert (d.rule, d.until) == ("morning", dt.datetime(2026, 1, 5, 18, tzinfo=dt.UTC))


def test_continue_past_a_warning(example: Policy) -> None:
    later = at(2026, 11, 26, 10, 15)
    usage = Usage(continued=MappingProxyType({"news needs a reason": later}))
    d = decide(example, "dirk", "nu.nl", THURSDAY_10, usage=usage)
    assert (d.decision, d.action, d.continued, d.until) == ("allow", "warn", True, later)
    assert d.continue_minutes == 15
    d = decide(example, "dirk", "nu.nl", later, usage=usage)  # expired at that very moment
    assert (d.decision, d.continued) == ("warn", False)
    utc_later = later.astimezone(dt.UTC)
    d = decide(example, "dirk", "nu.nl", THURSDAY_10, usage=Usage(continued={"news needs a reason": utc_later}))
    assert d.decision == "allow" and d.until == later


# -- shadow rules ------------------------------------------------------------------------------------

def test_shadow_rule_is_recorded_never_enforced(example: Policy) -> None:
    d = decide(example, "dirk", "www.tiktok.com", THURSDAY_10)
    assert (d.decision, d.rule) == ("allow", BOX)
    assert d.shadow == (ShadowMatch("tiktok trial", "block", "block", "social"),)
    assert d.to_json()["shadow"] == [{"rule": "tiktok trial", "decision": "block", "action": "block",
                                      "category": "social"}]
    assert decide(example, "dirk", "www.tiktok.com", at(2026, 11, 26, 19)).shadow == ()
    d = decide(example, "dirk", "www.tiktok.com", at(2026, 11, 26, 12, 30))  # lunch decides before the trial
    assert (d.rule, d.shadow) == ("lunch is free", ())
    assert decide(example, "anna", "tiktok.com", THURSDAY_10).shadow == ()
    # a shadow rule's schedule does not move `until`
    policy = load_text("""
version: 1
schedules: {soon: [{days: mon-sun, from: "10:05", to: "10:10"}]}
categories: {s: {domains: [s.test]}}
rules:
  - {name: trial, categories: [s], when: soon, action: block, shadow: true}
  - {name: all, categories: [s], action: warn}
""", "s.yaml")
    d = evaluate(policy, Who("u"), Request("s.test"), dt.datetime(2026, 1, 5, 10, tzinfo=dt.UTC))
    assert (d.decision, d.until, d.shadow) == ("warn", None, ())


def test_to_json_has_exactly_the_contract_keys(example: Policy) -> None:
    data = decide(example, "dirk", "facebook.com", THURSDAY_10).to_json()
    assert list(data) == ["decision", "action", "rule", "category", "group", "reason", "quota", "until", "shadow"]
    assert data["quota"] == {"budget": BOX, "used": 1, "limit": 30, "per": "day", "period": "2026-11-26",
                             "resets_at": "2026-11-27T00:00:00+01:00"}
    assert data["until"] == "2026-11-26T12:00:00+01:00"


def test_memo_tables_stay_bounded_and_right(order: Policy) -> None:
    now = at(2026, 11, 26, 10)
    for i in range(CACHE_SIZE + 10):
        decide(order, f"user{i}", f"h{i}.facebook.com", now, ip=str(ipaddress.ip_address(i + 1)))
    sizes = order.lookups.sizes()
    assert sizes["hosts"] <= CACHE_SIZE and sizes["people"] <= CACHE_SIZE
    assert decide(order, "ann", "www.facebook.com", now).rule == "first for a"
    assert order.covers("www.facebook.com") and order.covers("example.org")  # default block covers all


def test_covers_says_what_may_pass_through_undecrypted(example: Policy) -> None:
    assert example.covers("www.facebook.com") and example.covers("nu.nl")
    assert not example.covers("example.org") and not example.covers("bank.example")
    assert example.covers("facebook.com", ("interns",))
    catch_all = load_text("version: 1\ngroups: {g: {users: [x]}}\nrules:\n  - {name: all, groups: [g], action: warn}\n",
                          "c.yaml")
    assert catch_all.covers("anything.test")
    assert catch_all.covers("anything.test", ("g",)) and not catch_all.covers("anything.test", ())


# -- the reference model -------------------------------------------------------------------------------

def reference(policy: Policy, who: Who, request: Request, now: dt.datetime, usage: Usage,
              refine: bool = True) -> Decision:
    """The issue's semantics, the slow and obvious way: no memo tables and no skipped rules."""
    named = [g.name for g in policy.groups.values() if who.user and who.user in g.users]
    address = None
    if who.ip:
        try:
            address = ipaddress.ip_address(who.ip.split("%")[0])
        except ValueError:
            address = None
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
            address = address.ipv4_mapped
    groups = tuple(g.name for g in policy.groups.values()
                   if g.name in named or (address is not None and any(address in n for n in g.subnets)))
    tags = policy.index.tags(request.host)
    fallback = policy.index.most_specific(request.host, [f"c:{c}" for c in policy.categories])

    def category(rule: Rule | None) -> str | None:
        tag = policy.index.most_specific(request.host, [f"c:{c}" for c in rule.categories]) if rule else None
        tag = tag or fallback
        return tag[2:] if tag else None

    changes: list[dt.datetime] = []
    shadows = []
    for rule in policy.rules:
        if rule.groups is not None and not set(rule.groups) & set(groups):
            continue
        if rule.host_tags is not None and not rule.host_tags & tags:
            continue
        if rule.methods is not None and request.method not in rule.methods:
            continue
        if rule.path_regex is not None and not rule.path_regex.match(request.path):
            continue
        if rule.when:
            states = [s._compute(now) for s in rule.when]
            if not rule.shadow:
                changes += [c for _, c in states if c is not None]
            if not any(on for on, _ in states):
                continue
        quota = None
        continued = False
        if rule.action in ("allow", "block"):
            decision = rule.action
            reason = f"{'allowed' if decision == 'allow' else 'blocked'} by rule '{rule.name}'"
        elif rule.action == "warn":
            again = usage.continued.get(rule.name)
            continued = again is not None and again.timestamp() > now.timestamp()
            decision = "allow" if continued else "warn"
            reason = (f"continued past the warning of rule '{rule.name}'" if continued
                      else f"rule '{rule.name}' asks you to confirm first")
        else:
            local = now.astimezone(policy.timezone).date()
            if rule.quota.per == "week":
                start = local - dt.timedelta(days=local.weekday())
                period, end = f"week-{start}", start + dt.timedelta(days=7)
            else:
                period, end = local.isoformat(), local + dt.timedelta(days=1)
            resets = dt.datetime.combine(end, dt.time(0), policy.timezone)
            bu = usage.budgets.get(rule.quota.pool, BudgetUsage())
            if bu.period not in (None, period):
                bu = BudgetUsage()
            limit = rule.quota.minutes + bu.extra
            charge = not bu.minute_counted and bu.used < limit
            quota = QuotaState(rule.quota.pool, bu.used + charge, limit, rule.quota.per, period, resets,
                               int(now.timestamp() // 60), charge, bu.minute_counted)
            decision = "allow" if charge or bu.minute_counted else "block"
            minutes, are = ("minute", "is") if limit == 1 else ("minutes", "are")
            reason = (f"time-boxed by rule '{rule.name}': {quota.left} of {limit} {minutes} left this {quota.per}"
                      if decision == "allow" else
                      f"the {limit} {minutes} per {quota.per} of rule '{rule.name}' {are} used up")
            if decision == "block":
                changes.append(resets)
        if rule.shadow:
            shadows.append(ShadowMatch(rule.name, decision, rule.action, category(rule)))
            continue
        if continued:
            changes.append(usage.continued[rule.name])
        until = _refined(policy, who, request, usage, decision, changes, refine)
        return Decision(decision, rule.action, rule.name, category(rule), groups[0] if groups else None, reason,
                        quota, until, tuple(shadows), rule.message,
                        rule.continue_minutes if rule.action == "warn" else None, continued)
    until = _refined(policy, who, request, usage, policy.default, changes, refine)
    return Decision(policy.default, policy.default, None, category(None), groups[0] if groups else None,
                    f"no rule matches; the policy's default is {policy.default}", None, until, tuple(shadows))


def _refined(policy: Policy, who: Who, request: Request, usage: Usage, decision: str, changes: list,
             refine: bool) -> dt.datetime | None:
    until = min(changes, key=lambda c: c.timestamp()) if changes else None
    if decision == "allow" or until is None or not refine:
        return until
    for _ in range(8):
        later = reference(policy, who, request, until, usage, refine=False)
        if later.decision != decision:
            return until
        if later.until is None:
            return None
        until = later.until
    return until


Rule = type(load_text("version: 1\nrules: [{name: r, action: allow}]\n", "r.yaml").rules[0])

RICH = """
version: 1
timezone: Europe/Amsterdam
holidays: {country: NL, dates: [2026-11-27]}
schedules:
  office: [{days: mon-fri, from: "08:30", to: "17:30"}]
  gap: [{days: sun, from: "02:30", to: "03:30"}, {days: sat, from: "23:00", to: "01:00", holidays: include}]
categories:
  social: {domains: [facebook.com, tiktok.com, x.com]}
  video: {domains: [youtube.com, video.facebook.com]}
groups:
  staff: {users: [ann, bob], subnets: [10.1.0.0/16]}
  ops: {subnets: ["2001:db8::/32", 10.1.5.0/24]}
rules:
  - {name: night trial, categories: [social], when: gap, action: block, shadow: true}
  - {name: ops always, groups: [ops], action: allow}
  - {name: social deletes, categories: [social], methods: [DELETE], action: block}
  - {name: videos, categories: [video], when: office, action: timebox, quota: {minutes: 20, per: week, pool: media}}
  - {name: social, categories: [social], when: office, action: timebox, quota: {minutes: 20, per: week, pool: media}}
  - {name: writes, domains: [x.com], methods: [POST], action: block}
  - {name: gap warn, categories: [social, video], when: [gap, office], action: warn, continue_minutes: 5}
default: block
"""


@pytest.fixture(scope="module")
def rich() -> Policy:
    return load_text(RICH, "rich.yaml")


MOMENTS = st.one_of(
    st.datetimes(dt.datetime(2026, 3, 27), dt.datetime(2026, 3, 31), timezones=st.just(dt.UTC)),
    st.datetimes(dt.datetime(2026, 10, 23), dt.datetime(2026, 10, 27), timezones=st.just(dt.UTC)),
    st.datetimes(dt.datetime(2026, 11, 22), dt.datetime(2026, 12, 2), timezones=st.sampled_from([dt.UTC, AMS])),
)
WHO = st.builds(Who, st.sampled_from([None, "ann", "bob", "anna", "carla", "ivo", "dirk", "eve"]),
                st.sampled_from([None, "10.1.2.3", "10.1.5.9", "10.20.0.1", "10.30.0.5", "2001:db8::9",
                                 "::ffff:10.1.2.3", "junk"]))
REQUEST = st.builds(Request, st.sampled_from(
    ["facebook.com", "www.facebook.com", "video.facebook.com", "youtube.com", "m.youtube.com", "tiktok.com",
     "x.com", "linkedin.com", "nu.nl", "www.bbc.co.uk", "example.org", "youtu.be", "twitch.tv"]),
    st.sampled_from(["GET", "POST", "DELETE"]), st.sampled_from(["/", "/compose/x"]))
BUDGET = st.builds(BudgetUsage, st.integers(0, 32), st.booleans(), st.sampled_from([0, 0, 5]),
                   st.sampled_from([None, "2026-11-26", "week-2026-11-23", "2026-03-29"]))


@st.composite
def usages(draw: st.DrawFn, moment: dt.datetime) -> Usage:
    budgets = draw(st.dictionaries(st.sampled_from([BOX, "media"]), BUDGET, max_size=2))
    continued = draw(st.dictionaries(st.sampled_from(["news needs a reason", "gap warn"]),
                                     st.integers(-20, 20).map(lambda m: moment + dt.timedelta(minutes=m)), max_size=1))
    return Usage(budgets, continued)


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_engine_agrees_with_the_reference_model(example: Policy, rich: Policy, data: st.DataObject) -> None:
    policy = data.draw(st.sampled_from([example, rich]))
    moment = data.draw(MOMENTS)
    who, request, usage = data.draw(WHO), data.draw(REQUEST), data.draw(usages(moment))
    expected = reference(policy, who, request, moment, usage)
    assert evaluate(policy, who, request, moment, usage) == expected
    assert evaluate(policy, who, request, moment, usage, []) == expected


def test_the_core_imports_no_proxy_store_or_metrics_library() -> None:
    """`policy/` must stay pure so `explain` and the tests decide exactly as the proxy does, without one."""
    import subprocess
    import sys

    code = ("import sys, datetime as dt; from proxy_addons.policy import *; "
            "p = load_policy(sys.argv[1]); evaluate(p, Who('u'), Request.from_url('https://x.com'), "
            "dt.datetime.now(dt.UTC)); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('mitmproxy', 'redis', 'prometheus_client')))")
    done = subprocess.run([sys.executable, "-c", code, str(EXAMPLE_POLICY)], capture_output=True, text=True,
                          timeout=60, check=True)
    assert done.stdout.strip() == "[]"


def test_positional_constructors_fill_every_field_by_name() -> None:
    """The hand-written constructors of engine.POSITIONAL take each field of their class, in order, and
    put every argument in the field of its name: the same object the dataclass's own __init__ builds."""
    import dataclasses
    import inspect

    from proxy_addons.policy.engine import POSITIONAL

    for cls, make in POSITIONAL.items():
        names = [f.name for f in dataclasses.fields(cls)]
        assert list(inspect.signature(make).parameters) == names
        values = [object() for _ in names]
        built = make(*values)
        assert type(built) is cls
        assert [getattr(built, n) for n in names] == values
        assert built == cls(*values)
