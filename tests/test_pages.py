"""Block, warn and status pages: language choice, escaping, what the pages tell a person."""

from __future__ import annotations

import dataclasses
import datetime as dt
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

import pytest

from proxy_addons.pages import (
    BudgetRow,
    block_page,
    block_text,
    dest_is_navigation,
    format_when,
    pick_language,
    status_page,
    warn_page,
)
from proxy_addons.policy import BudgetUsage, Request, Usage, Who, evaluate, load_policy, load_text
from tests.conftest import EXAMPLE_POLICY

AMS = ZoneInfo("Europe/Amsterdam")
THURSDAY_10 = dt.datetime(2026, 11, 26, 10, 0, tzinfo=AMS)
EVIL = "<script>alert(1)</script>"

EVIL_POLICY = f"""
version: 1
timezone: Europe/Amsterdam
categories:
  social: {{domains: [facebook.com]}}
schedules:
  work: [{{days: mon-fri, from: "08:30", to: "17:30"}}]
rules:
  - name: '{EVIL}'
    categories: [social]
    when: work
    action: block
    message: 'Ask <b>HR</b> & "legal" <img src=x onerror=alert(2)>'
  - name: 'warn <i>me</i>'
    domains: [news.test]
    action: warn
    message: '<script>warn()</script>'
"""


class _Page(HTMLParser):
    """The visible text and the links of a page, as a browser would see them (entities decoded)."""

    def __init__(self, page: str) -> None:
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self.tags: list[str] = []
        self.links: dict[str, str] = {}
        self._href: str | None = None
        self._in_style = False
        self.feed(page)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self._in_style = tag == "style"
        if tag == "a":
            self._href = dict(attrs).get("href")

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False
        self._href = None

    def handle_data(self, data: str) -> None:
        if self._in_style:
            return
        self.text.append(data)
        if self._href is not None and data.strip():
            self.links[data.strip()] = self._href

    @property
    def visible(self) -> str:
        return " ".join(" ".join(self.text).split())


@pytest.fixture(scope="module")
def example():
    return load_policy(EXAMPLE_POLICY)


@pytest.fixture(scope="module")
def evil():
    return load_text(EVIL_POLICY)


def _used_up(policy, now=THURSDAY_10):
    usage = Usage({"social time-box": BudgetUsage(30, False, 0, now.date().isoformat())})
    decision = evaluate(policy, Who("dirk"), Request("www.facebook.com"), now, usage)
    assert decision.decision == "block" and decision.quota is not None
    return decision


@pytest.mark.parametrize(("header", "expected"), [
    (None, "en"),
    ("", "en"),
    ("nl", "nl"),
    ("nl-NL,nl;q=0.9,en-US;q=0.8,en;q=0.7", "nl"),
    ("NL-be", "nl"),
    ("en-GB,en;q=0.9,nl;q=0.8", "en"),
    ("en;q=0.5, nl;q=0.8", "nl"),  # q-values decide, not the order
    ("fr-FR, de;q=0.9, nl;q=0.3", "nl"),  # unsupported languages are skipped
    ("fr, de", "en"),
    ("nl;q=0, en;q=0.1", "en"),  # q=0 means "not acceptable"
    ("nl;q=banana, en;q=0.2", "en"),
    ("de, *;q=0.5", "en"),
    (";;,,q=", "en"),
])
def test_language_follows_accept_language(header, expected):
    assert pick_language(header) == expected


@pytest.mark.parametrize(("headers", "expected"), [
    ({"Sec-Fetch-Dest": "document", "Accept": "*/*"}, True),
    ({"sec-fetch-dest": "iframe"}, True),
    ({"Sec-Fetch-Dest": "image", "Accept": "text/html,*/*"}, False),  # the browser's own word wins
    ({"Sec-Fetch-Dest": "empty", "Accept": "application/json"}, False),
    ({"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}, True),  # clients without Sec-Fetch-*
    ({"accept": "image/avif,image/webp"}, False),
    ({}, False),
])
def test_navigation_is_told_from_subresources(headers, expected):
    assert dest_is_navigation(headers) is expected


def test_values_from_the_policy_and_request_are_escaped(evil):
    now = THURSDAY_10
    host = 'facebook.com"><script>alert(3)</script>'
    block = evaluate(evil, Who("x"), Request("facebook.com"), now)
    warn = evaluate(evil, Who("x"), Request("news.test"), now)
    assert (block.decision, warn.decision) == ("block", "warn")
    pages = [
        block_page(block, host=host, lang="en", now=now),
        block_page(block, host=host, lang="nl", now=now),
        warn_page(warn, host=host, lang="en", now=now, continue_url='/__gonogo__/continue?a=1&b="><script>'),
        status_page(user=EVIL, groups=(), policy=evil, rows=[{"budget": EVIL, "used": 1, "limit": 2,
                                                               "resets_at": None}], lang="en", now=now),
    ]
    for page in pages:
        parsed = _Page(page)
        assert "script" not in parsed.tags and "img" not in parsed.tags and "b" not in parsed.tags
        assert "<script" not in page and "<img" not in page
    assert EVIL in _Page(pages[0]).visible  # shown as text, not run
    assert 'Ask <b>HR</b> & "legal" <img src=x onerror=alert(2)>' in _Page(pages[1]).visible
    assert "<script>warn()</script>" in _Page(pages[2]).visible
    assert f"User {EVIL}" in _Page(pages[3]).visible


def test_pages_load_nothing_from_elsewhere(example):
    decision = _used_up(example)
    page = block_page(decision, host="www.facebook.com", lang="en", now=THURSDAY_10)
    parsed = _Page(page)
    assert not {"script", "link", "img", "iframe", "object"} & set(parsed.tags)
    assert "src=" not in page and "url(" not in page and "@import" not in page
    assert set(parsed.links.values()) == {"http://gonogo.status/"}


def test_block_page_says_rule_why_until_and_quota_in_english(example):
    decision = _used_up(example)
    page = block_page(decision, host="www.facebook.com", lang="en", now=THURSDAY_10)
    text = _Page(page).visible
    assert '<html lang="en">' in page
    assert "www.facebook.com is blocked for you" in text
    assert "Rule social time-box" in text
    assert "The 30 minutes per day of rule “social time-box” are used up." in text
    assert "Personal social media is limited to 30 minutes per working day" in text  # the policy's message
    assert "Time used 30 of 30 minutes today" in text
    assert "Access returns today at 12:00" in text  # lunch is free
    assert _Page(page).links["See what applies to you"] == "http://gonogo.status/"


def test_block_page_in_dutch(example):
    decision = _used_up(example)
    page = block_page(decision, host="www.facebook.com", lang="nl", now=THURSDAY_10,
                      status_url="http://status.gonogo.test/")
    text = _Page(page).visible
    assert '<html lang="nl">' in page
    assert "is voor jou geblokkeerd" in text
    assert "Gebruikte tijd 30 van 30 minuten vandaag" in text
    assert "Weer beschikbaar vandaag om 12:00" in text
    assert _Page(page).links["Bekijk wat voor jou geldt"] == "http://status.gonogo.test/"


def test_until_is_shown_in_the_policys_local_time(example):
    # 23:30 UTC on Thursday is 00:30 on Friday in Amsterdam: "today" is Friday there
    decision = dataclasses.replace(_used_up(example), until=dt.datetime(2026, 11, 27, 8, 30, tzinfo=AMS))
    now_utc = dt.datetime(2026, 11, 26, 23, 30, tzinfo=dt.UTC)
    assert "Access returns today at 08:30" in _Page(
        block_page(decision, host="x.test", lang="en", now=now_utc)).visible
    friday_evening = dt.datetime(2026, 11, 27, 18, 0, tzinfo=AMS)
    monday = dataclasses.replace(decision, until=dt.datetime(2026, 11, 30, 8, 30, tzinfo=AMS))
    assert "Access returns Monday at 08:30" in _Page(
        block_page(monday, host="x.test", lang="en", now=friday_evening)).visible
    assert "Weer beschikbaar maandag om 08:30" in _Page(
        block_page(monday, host="x.test", lang="nl", now=friday_evening)).visible


@pytest.mark.parametrize(("moment", "en", "nl"), [
    (dt.datetime(2026, 11, 26, 17, 30, tzinfo=AMS), "today at 17:30", "vandaag om 17:30"),
    (dt.datetime(2026, 11, 27, 0, 0, tzinfo=AMS), "tomorrow at 00:00", "morgen om 00:00"),
    (dt.datetime(2026, 11, 30, 8, 30, tzinfo=AMS), "Monday at 08:30", "maandag om 08:30"),
    (dt.datetime(2027, 1, 4, 8, 30, tzinfo=AMS), "Monday 4 January 2027 at 08:30", "maandag 4 januari 2027 om 08:30"),
])
def test_times_in_words(moment, en, nl):
    assert format_when(moment, THURSDAY_10, "en") == en
    assert format_when(moment, THURSDAY_10, "nl") == nl


def test_block_without_end_time_and_by_default():
    policy = load_text("version: 1\nrules:\n  - {name: off limits, domains: [bad.test], action: block}\n"
                       "default: block\n")
    by_rule = evaluate(policy, Who(), Request("bad.test"), THURSDAY_10)
    by_default = evaluate(policy, Who(), Request("other.test"), THURSDAY_10)
    text = _Page(block_page(by_rule, host="bad.test", lang="en", now=THURSDAY_10)).visible
    assert "Rule “off limits” blocks this site for you." in text
    assert "Access returns No end time: this rule applies at all times." in text
    assert "Time used" not in text
    text = _Page(block_page(by_default, host="other.test", lang="en", now=THURSDAY_10)).visible
    assert "Rule the policy's default" in text
    assert "No rule allows this site" in text


def test_block_text_for_subresources(example):
    decision = _used_up(example)
    body = block_text(decision, host="static.xx.fbcdn.net", lang="en", now=THURSDAY_10)
    assert "<" not in body
    assert body.splitlines() == [
        "Blocked by the social-media policy: static.xx.fbcdn.net.",
        "The 30 minutes per day of rule “social time-box” are used up.",
        decision.message,
        "Used: 30 of 30 minutes today.",
        "Access returns today at 12:00.",
        "See what applies to you: http://gonogo.status/",
    ]
    dutch = block_text(decision, host="static.xx.fbcdn.net", lang="nl", now=THURSDAY_10)
    assert "Weer beschikbaar vandaag om 12:00." in dutch


def test_warn_page_links_to_the_continue_url(example):
    decision = evaluate(example, Who("dirk"), Request("nu.nl"), THURSDAY_10)
    assert decision.decision == "warn"
    url = "http://nu.nl/__gonogo__/continue?rule=news+needs+a+reason&exp=1&next=%2F&sig=a\"b<c>"
    page = warn_page(decision, host="nu.nl", lang="en", now=THURSDAY_10, continue_url=url)
    parsed = _Page(page)
    assert parsed.links["Continue to nu.nl"] == url  # the exact URL, escaped in the markup only
    assert 'sig=a&quot;b&lt;c&gt;' in page
    text = parsed.visible
    assert "News sites are fine for work. Continue if this one is." in text
    assert "for 15 minutes (rule “news needs a reason”)" in text
    assert "recorded as a continue" in text
    assert "This reminder applies until today at 17:30." in text
    dutch = _Page(warn_page(decision, host="nu.nl", lang="nl", now=THURSDAY_10, continue_url=url))
    assert dutch.links["Doorgaan naar nu.nl"] == url
    assert "15 minuten" in dutch.visible
    with pytest.raises(ValueError, match="continue_url"):
        warn_page(decision, host="nu.nl", lang="en", now=THURSDAY_10, continue_url="javascript:alert(1)")


def test_status_page_shows_identity_rules_budgets_and_privacy(example):
    resets = dt.datetime(2026, 11, 27, 0, 0, tzinfo=AMS)
    page = status_page(user="ivo", groups=example.groups_of("ivo"), policy=example,
                       rows=[BudgetRow("social time-box", 12, 30, resets)], lang="en", now=THURSDAY_10,
                       client_ip="10.1.2.3")
    text = _Page(page).visible
    assert "User ivo Address 10.1.2.3 Groups Interns" in text  # groups by their titles
    assert "No posting by interns" in text
    assert "only for DELETE, PATCH, POST, PUT requests" in text
    assert "The social team runs our channels" not in text  # not for interns
    assert "limited to 30 minutes per day" in text and "during working hours (Monday to Friday, 08:30–17:30)" in text
    assert "Trial rules (only counted, never enforced) TikTok in working hours" in text
    assert "Everything else: allowed." in text
    assert "Social media time limit 12 min 18 min 30 min tomorrow at 00:00" in text
    assert "under a pseudonym instead of your name. Kept 30 days." in text
    assert "fewer than 5 people" in text
    assert "Full addresses (URLs)" in text


def test_status_page_for_an_unknown_person_in_dutch(example):
    page = status_page(user=None, groups=(), policy=example, rows=[], lang="nl", now=THURSDAY_10)
    text = _Page(page).visible
    assert '<html lang="nl">' in page
    assert "Gebruiker niet herkend" in text and "Groepen geen" in text
    assert "Het socialmediateam beheert onze kanalen" not in text
    assert "Tijdslimiet sociale media" in text and "tijdens werktijd (maandag tot en met vrijdag, 08:30–17:30)" in text
    assert "Privégebruik van sociale media is beperkt tot 30 minuten per werkdag" in text  # the message in Dutch
    assert "Voor jou geldt geen tijdsbudget." in text
    assert "Wat nooit wordt vastgelegd" in text


@pytest.mark.parametrize(("mode", "expected"), [("named", "and your user name. Kept 7 days."),
                                                 ("off", "No audit log is kept.")])
def test_status_page_privacy_statement_follows_the_policy(mode, expected):
    policy = load_text(f"version: 1\nrules: []\nprivacy: {{audit_log: {mode}, retention_days: 7}}\n")
    text = _Page(status_page(user="a", groups=(), policy=policy, rows=[], lang="en", now=THURSDAY_10)).visible
    assert expected in text
