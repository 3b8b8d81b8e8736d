"""policies/example.yaml is the worked example of the seed article's agreements; these are its
decisions, pinned, so a change to the example or the engine that changes what people get is seen."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from proxy_addons.policy import BudgetUsage, Policy, Request, Usage, Who, evaluate, load_policy
from tests.conftest import EXAMPLE_POLICY

AMS = ZoneInfo("Europe/Amsterdam")
THU_10 = dt.datetime(2026, 11, 26, 10, 0, tzinfo=AMS)
THU_LUNCH = dt.datetime(2026, 11, 26, 12, 30, tzinfo=AMS)
THU_EVENING = dt.datetime(2026, 11, 26, 19, 0, tzinfo=AMS)
SAT_10 = dt.datetime(2026, 11, 28, 10, 0, tzinfo=AMS)
CHRISTMAS_EVE_10 = dt.datetime(2026, 12, 24, 10, 0, tzinfo=AMS)  # company day off, a Thursday
CHRISTMAS_10 = dt.datetime(2026, 12, 25, 10, 0, tzinfo=AMS)  # public holiday, a Friday
KINGS_DAY_10 = dt.datetime(2026, 4, 27, 10, 0, tzinfo=AMS)  # public holiday, a Monday
SPENT = Usage({"social time-box": BudgetUsage(30)})


@pytest.fixture(scope="module")
def example() -> Policy:
    return load_policy(EXAMPLE_POLICY)


CASES = [
    # (who, ip, method, url, when, usage) -> (decision, rule, group)
    ("social team posts for the company", "anna", None, "POST", "https://www.facebook.com/compose", THU_10, None,
     "allow", "social team runs our channels", "social-team"),
    ("social team is never time-boxed", "bram", None, "GET", "https://www.instagram.com/", THU_10, SPENT,
     "allow", "social team runs our channels", "social-team"),
    ("customer service by name", "carla", None, "POST", "https://x.com/reply", THU_10, None,
     "allow", "social team runs our channels", "customer-service"),
    ("customer service by subnet", None, "10.30.0.17", "GET", "https://www.facebook.com/", THU_10, SPENT,
     "allow", "social team runs our channels", "customer-service"),
    ("interns do not post", "ivo", None, "POST", "https://www.facebook.com/compose", THU_10, None,
     "block", "no posting from interns", "interns"),
    ("interns do not post on LinkedIn either", "iris", None, "DELETE", "https://www.linkedin.com/post/1", SAT_10, None,
     "block", "no posting from interns", "interns"),
    ("interns may read, time-boxed", "ivo", None, "GET", "https://www.facebook.com/", THU_10, None,
     "allow", "social time-box", "interns"),
    ("everyone shares corporate news on LinkedIn", "dirk", None, "POST", "https://www.linkedin.com/share", THU_10,
     SPENT, "allow", "corporate news on LinkedIn", None),
    ("LinkedIn's CDN too", "dirk", "10.20.4.4", "GET", "https://static.licdn.com/x.js", THU_10, None,
     "allow", "corporate news on LinkedIn", "sales"),
    ("lunch is free", "dirk", None, "GET", "https://www.facebook.com/", THU_LUNCH, SPENT,
     "allow", "lunch is free", None),
    ("informal posts count against the time-box", "dirk", None, "POST", "https://www.reddit.com/submit", THU_10,
     None, "allow", "social time-box", None),
    ("time-box spent", "dirk", None, "GET", "https://www.youtube.com/", THU_10, SPENT,
     "block", "social time-box", None),
    ("news asks first in work hours", "dirk", None, "GET", "https://nos.nl/", THU_10, None,
     "warn", "news needs a reason", None),
    ("news is free after hours", "dirk", None, "GET", "https://nos.nl/", THU_EVENING, None, "allow", None, None),
    ("after hours social is free", "dirk", None, "GET", "https://www.facebook.com/", THU_EVENING, SPENT,
     "allow", None, None),
    ("weekend is free", "dirk", None, "GET", "https://www.tiktok.com/", SAT_10, SPENT, "allow", None, None),
    ("company day off is free", "dirk", None, "GET", "https://www.facebook.com/", CHRISTMAS_EVE_10, SPENT,
     "allow", None, None),
    ("public holiday is free", "dirk", None, "GET", "https://www.facebook.com/", CHRISTMAS_10, SPENT,
     "allow", None, None),
    ("King's Day is free", "dirk", None, "GET", "https://www.facebook.com/", KINGS_DAY_10, SPENT, "allow", None, None),
    ("other sites are not limited", "dirk", None, "POST", "https://bank.example/pay", THU_10, None,
     "allow", None, None),
]


@pytest.mark.parametrize(("user", "ip", "method", "url", "moment", "usage", "decision", "rule", "group"),
                         [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_example_decisions(example: Policy, user: str | None, ip: str | None, method: str, url: str,
                           moment: dt.datetime, usage: Usage | None, decision: str, rule: str | None,
                           group: str | None) -> None:
    d = evaluate(example, Who(user, ip), Request.from_url(url, method), moment, usage or Usage())
    assert (d.decision, d.rule, d.group) == (decision, rule, group)


def test_interns_see_why(example: Policy) -> None:
    d = evaluate(example, Who("ivo"), Request.from_url("https://www.facebook.com/", "POST"), THU_10)
    assert d.message == "Posting for the company is done by the social team. Ask them to share it."
    assert d.until is None  # at any time


def test_time_box_is_30_minutes_a_day_in_work_hours(example: Policy) -> None:
    d = evaluate(example, Who("dirk"), Request("www.facebook.com"), THU_10)
    assert (d.quota.limit, d.quota.per, d.quota.used) == (30, "day", 1)
    assert d.until == dt.datetime(2026, 11, 26, 12, 0, tzinfo=AMS)
    spent = evaluate(example, Who("dirk"), Request("www.facebook.com"), THU_10, SPENT)
    assert spent.until == dt.datetime(2026, 11, 26, 12, 0, tzinfo=AMS)  # lunch frees it


def test_news_warning_lasts_until_continue_or_evening(example: Policy) -> None:
    d = evaluate(example, Who("dirk"), Request("www.nu.nl"), THU_10)
    assert (d.continue_minutes, d.until) == (15, dt.datetime(2026, 11, 26, 17, 30, tzinfo=AMS))


def test_tiktok_trial_is_shadow_only(example: Policy) -> None:
    d = evaluate(example, Who("dirk"), Request("www.tiktok.com"), THU_10)
    assert (d.decision, d.rule) == ("allow", "social time-box")
    assert [(s.rule, s.decision) for s in d.shadow] == [("tiktok trial", "block")]
    assert evaluate(example, Who("dirk"), Request("www.tiktok.com"), SAT_10).shadow == ()


def test_sites_no_rule_covers_pass_through(example: Policy) -> None:
    assert not example.covers("bank.example")
    assert not example.covers("mail.google.com")
    assert example.covers("www.facebook.com") and example.covers("nos.nl") and example.covers("discord.com")
