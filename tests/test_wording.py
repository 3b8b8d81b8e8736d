"""One wording module: a policy reads the same in `gonogo check`, `gonogo explain`, the pages and the
employee notice, in English and Dutch, with singular and plural right.

The policy below has what used to read differently per output: a `fri-mon` window (a range across
the week's end), an overnight window that runs on holidays too, and holiday-aware windows, plus a
budget of exactly one minute and a retention of one day.
"""

from __future__ import annotations

import datetime as dt
import re
import string
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

import pytest

from proxy_addons.pages import block_page, status_page
from proxy_addons.policy import BudgetUsage, Request, Usage, Who, evaluate, load_text
from proxy_addons.policy.describe import explain_text, summarise
from proxy_addons.policy.wording import phrases, text
from proxy_addons.policy.wording.table import TABLE
from proxy_addons.tools.notice import render_notice

AMS = ZoneInfo("Europe/Amsterdam")
FRIDAY_10 = dt.datetime(2026, 11, 27, 10, 0, tzinfo=AMS)

POLICY = """\
version: 1
timezone: Europe/Amsterdam
holidays: {country: NL, dates: [2026-12-24]}
schedules:
  long-weekend:
    - {days: fri-mon, from: "09:00", to: "17:00"}
  nights:
    - {days: mon-thu, from: "22:00", to: "06:00", holidays: include}
categories:
  games: {domains: [steam.test, games.test]}
rules:
  - name: weekend games
    categories: [games]
    when: long-weekend
    action: timebox
    quota: {minutes: 1, per: day}
  - name: no games at night
    categories: [games]
    when: nights
    action: block
default: allow
privacy: {min_group_size: 5, audit_log: pseudonymous, retention_days: 1}
"""

SAME_WORDS = {
    "en": ["Friday to Monday, 09:00–17:00",
           "Monday to Thursday, 22:00 until 06:00 the next morning (also on holidays)",
           "public holidays (Netherlands, NL) and the company's days off: 24 December 2026"],
    "nl": ["vrijdag tot en met maandag, 09:00–17:00",
           "maandag tot en met donderdag, 22:00 tot 06:00 de volgende ochtend (ook op feestdagen)",
           "officiële feestdagen (Nederland, NL) en de vrije dagen van het bedrijf: 24 december 2026"],
}


class _Visible(HTMLParser):
    """The text a browser shows (entities decoded, styles left out), whitespace collapsed."""

    def __init__(self, page: str) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._style = False
        self.feed(page)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._style = tag == "style"

    def handle_endtag(self, tag: str) -> None:
        self._style = False

    def handle_data(self, data: str) -> None:
        if not self._style:
            self.parts.append(data)

    @property
    def text(self) -> str:
        return " ".join(" ".join(self.parts).split())


@pytest.fixture(scope="module")
def policy():
    return load_text(POLICY, "wording.yaml")


def _used_up(policy):
    usage = Usage({"weekend games": BudgetUsage(1, False, 0, FRIDAY_10.date().isoformat())})
    trace: list = []
    request = Request("steam.test", "/", "GET")
    decision = evaluate(policy, Who("dirk"), request, FRIDAY_10, usage, trace)
    return request, decision, trace


def _outputs(policy, lang: str) -> dict[str, str]:
    request, decision, trace = _used_up(policy)
    out = {
        "status page": _Visible(status_page(user="dirk", groups=(), policy=policy, rows=[], lang=lang,
                                            now=FRIDAY_10)).text,
        "notice": render_notice(policy, lang, "md").replace("\\", ""),  # md escapes, as a reader sees it
    }
    if lang == "en":  # the admin's commands are English only
        out["check"] = summarise(policy)
        out["explain"] = explain_text(policy, Who("dirk"), request, FRIDAY_10, decision, trace,
                                      "https://steam.test/")
    return out


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_one_policy_reads_the_same_in_every_output(policy, lang: str) -> None:
    for name, output in _outputs(policy, lang).items():
        for words in SAME_WORDS[lang]:
            assert words in output, f"{name} ({lang}) lacks {words!r}"
        assert "Mon, Fri" not in output and "ma, vr" not in output, name


def test_singular_in_every_output(policy) -> None:
    request, decision, trace = _used_up(policy)
    assert decision.decision == "block"
    assert decision.reason == "the 1 minute per day of rule 'weekend games' is used up"
    check = summarise(policy)
    assert "time-box games for everyone during long-weekend: 1 minute per day" in check
    assert "budgets     weekend games: 1 minute per day" in check
    assert "audit log pseudonymous, kept 1 day" in check and "1 minutes" not in check
    explain = explain_text(policy, Who("dirk"), request, FRIDAY_10, decision, trace, "https://steam.test/")
    assert "1 of 1 minute used this day" in explain
    pages = {lang: _Visible(block_page(decision, host="steam.test", lang=lang, now=FRIDAY_10)).text
             for lang in ("en", "nl")}
    assert "The 1 minute per day of rule “weekend games” is used up." in pages["en"]
    assert "1 of 1 minute today" in pages["en"]
    assert "De 1 minuut per dag van regel “weekend games” is op." in pages["nl"]
    assert "1 van 1 minuut vandaag" in pages["nl"]
    status = _Visible(status_page(user="dirk", groups=(), policy=policy, rows=[], lang="nl", now=FRIDAY_10)).text
    assert "beperkt tot 1 minuut per dag" in status and "1 dag bewaard" in status
    assert "hoogstens 1 minuut per dag" in render_notice(policy, "nl", "md")
    assert "at most 1 minute per day" in render_notice(policy, "en", "md")
    assert "deleted after 1 day." in render_notice(policy, "en", "md")


@pytest.mark.parametrize(("days", "en", "nl"), [
    ({0, 1, 2, 3, 4}, "Monday to Friday", "maandag tot en met vrijdag"),
    ({4, 5, 6, 0}, "Friday to Monday", "vrijdag tot en met maandag"),
    ({5, 6, 0}, "Saturday to Monday", "zaterdag tot en met maandag"),
    ({5, 6}, "Saturday and Sunday", "zaterdag en zondag"),
    ({0, 2, 4}, "Monday, Wednesday and Friday", "maandag, woensdag en vrijdag"),
    ({6, 0, 1, 2, 3, 4, 5}, "every day", "elke dag"),
])
def test_days_read_as_ranges_that_wrap(days: set[int], en: str, nl: str) -> None:
    assert phrases.days(days, "en") == en
    assert phrases.days(days, "nl") == nl


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_one_table_with_the_same_keys_placeholders_and_plurals_per_language() -> None:
    en, nl = TABLE["en"], TABLE["nl"]
    assert en.keys() == nl.keys()
    for key, value in en.items():
        other = nl[key]
        assert isinstance(value, tuple) == isinstance(other, tuple), key
        forms = [*value, *other] if isinstance(value, tuple) else [value, other]
        assert len({frozenset(_fields(f)) for f in forms}) == 1, key


def test_a_number_dependent_text_needs_its_number() -> None:
    with pytest.raises(ValueError, match="count"):
        text("en", "count.minutes", n=1)
    assert text("en", "count.minutes", 1, n=1) == "1 minute"
    assert text("nl", "count.minutes", 2, n=2) == "2 minuten"
    assert re.fullmatch(r"nog 3", text("nl", "targets.more", count=3))
