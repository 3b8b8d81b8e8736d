"""Texts a person reads in their own language (`message`, `description`, `title` as a string or one per
language), display names falling back to the key, and the warnings `check` gives for likely mistakes."""

from __future__ import annotations

import datetime as dt
import pickle
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from proxy_addons.pages import block_page, block_text, status_page, warn_page
from proxy_addons.policy import BudgetUsage, PolicyError, Request, Usage, Who, evaluate, load_text
from proxy_addons.policy.wording import Localized, local, phrases, title
from proxy_addons.tools.notice import render_notice

AMS = ZoneInfo("Europe/Amsterdam")
THURSDAY_10 = dt.datetime(2026, 11, 26, 10, 0, tzinfo=AMS)

POLICY = """version: 1
timezone: Europe/Amsterdam
organisation: {name: Voorbeeld BV, contact: {en: the service desk, nl: de servicedesk}}
schedules:
  work:
    title: {en: working hours, nl: werktijd}
    windows:
      - {days: mon-fri, from: "08:30", to: "17:30"}
categories:
  social:
    title: {en: Social media, nl: Sociale media}
    description: {en: Personal networks, nl: Persoonlijke netwerken}
    domains: [facebook.com]
  games: {domains: [steam.com]}
groups:
  interns: {title: {en: Interns, nl: Stagiairs}, description: Learning the job, users: [ivo]}
rules:
  - name: no social for interns
    title: {en: No social media for interns, nl: Geen sociale media voor stagiairs}
    groups: [interns]
    categories: [social]
    action: block
    message: {en: Ask your mentor., nl: Vraag het je begeleider.}
  - name: one minute of games
    categories: [games]
    when: work
    action: timebox
    quota: {minutes: 1, per: day}
    message: Only English here.
"""


@pytest.fixture(scope="module")
def policy():
    return load_text(POLICY, "texts.yaml")


def test_a_text_is_a_string_with_a_version_per_language(policy) -> None:
    rule = policy.rules[0]
    assert isinstance(rule.message, Localized) and rule.message == "Ask your mentor."  # the default: English
    assert local(rule.message, "nl") == "Vraag het je begeleider." and local(rule.message, "de") == "Ask your mentor."
    assert local(policy.rules[1].message, "nl") == "Only English here."  # one string: for everyone
    assert title(rule, "nl") == "Geen sociale media voor stagiairs"
    assert title(policy.rules[1], "nl") == "one minute of games"  # no title: the key
    assert title(policy.schedules["work"], "nl") == "werktijd" and title(policy.categories["games"], "nl") == "games"
    only_dutch = Localized({"nl": "alleen Nederlands"})
    assert only_dutch == "alleen Nederlands" and only_dutch.in_language("en") == "alleen Nederlands"
    assert pickle.loads(pickle.dumps(rule.message)).in_language("nl") == "Vraag het je begeleider."


def test_titles_and_messages_reach_the_pages_in_the_readers_language(policy) -> None:
    block = evaluate(policy, Who("ivo"), Request("www.facebook.com"), THURSDAY_10)
    nl = block_page(block, host="www.facebook.com", lang="nl", now=THURSDAY_10, policy=policy)
    assert "Geen sociale media voor stagiairs" in nl and "Vraag het je begeleider." in nl and "Sociale media" in nl
    assert "Ask your mentor" not in nl and "<dd>Geen sociale media voor stagiairs</dd>" in nl
    en = block_page(block, host="www.facebook.com", lang="en", now=THURSDAY_10, policy=policy)
    assert "No social media for interns" in en and "Ask your mentor." in en
    assert "Vraag het je begeleider." in block_text(block, host="www.facebook.com", lang="nl", now=THURSDAY_10,
                                                     policy=policy)
    # without the policy (an older caller) the page still shows the rule's key and the right message
    assert "no social for interns" in block_page(block, host="www.facebook.com", lang="nl", now=THURSDAY_10)
    status = status_page(user="ivo", groups=("interns",), policy=policy, rows=[], lang="nl", now=THURSDAY_10)
    assert "Stagiairs" in status and "tijdens werktijd" in status and "categorie “Sociale media”" in status
    assert "Vraag het je begeleider." in status and "Only English here." in status


def test_warn_page_names_the_rule_by_its_title() -> None:
    warned = load_text("version: 1\nrules:\n  - {name: news, title: {en: News, nl: Nieuws}, domains: [nu.nl],"
                       " action: warn, continue_minutes: 1, message: {en: \"Sure?\", nl: \"Zeker?\"}}\n")
    decision = evaluate(warned, Who("a"), Request("nu.nl"), THURSDAY_10)
    page = warn_page(decision, host="nu.nl", lang="nl", now=THURSDAY_10, continue_url="/x", policy=warned)
    assert "Zeker?" in page and "1 minuut gebruiken (regel “Nieuws”)" in page


def test_singular_reads_right_in_both_languages(policy) -> None:
    used = Usage({"one minute of games": BudgetUsage(1, False, 0, "2026-11-26")})
    usage_block = evaluate(policy, Who("dirk"), Request("steam.com"), THURSDAY_10, used)
    assert usage_block.decision == "block"
    assert phrases.why(usage_block, "en", policy) == "The 1 minute per day of rule “one minute of games” is used up."
    assert phrases.why(usage_block, "nl", policy) == "De 1 minuut per dag van regel “one minute of games” is op."
    notice = render_notice(policy, "nl")
    assert "hoogstens 1 minuut per dag" in notice and "1 minuten" not in notice
    assert "at most 1 minute per day" in render_notice(policy, "en")


def test_the_notice_uses_titles_descriptions_and_the_organisation(policy) -> None:
    nl = render_notice(policy, "nl")
    assert nl.startswith("# Sociale media op het werk: de afspraken van Voorbeeld BV")
    assert "**Geen sociale media voor stagiairs — Leden van Stagiairs**" in nl
    assert "categorie “Sociale media”" in nl and "tijdens werktijd" in nl and "Persoonlijke netwerken" in nl
    assert "Vraag het aan de servicedesk." in nl and "Vraag het je begeleider." in nl
    en = render_notice(policy, "en")
    assert "Ask the service desk." in en and "**Stagiairs" not in en and "**Interns**: Learning the job" in en


@pytest.mark.parametrize(("snippet", "message"), [
    ("rules:\n  - {name: r, domains: [a.test], action: block, message: {english: x}}\n",
     "rule #1 'message' must be text, or one text per language like {en: \"...\", nl: \"...\"}; 'english' is not "
     "a language code such as en or nl"),
    ("rules:\n  - {name: r, domains: [a.test], action: block, title: {en: ''}}\n",
     "the text for en must be non-empty text"),
    ("rules:\n  - {name: r, domains: [a.test], action: block, message: 5}\n", "not the number 5"),
    ("organisation: {name: X, phone: 1}\nrules: []\n", "unknown key 'phone' in 'organisation'"),
    ("schedules:\n  s: {title: S}\nrules: []\n", "'schedules.s' is missing 'windows'"),
    ("schedules:\n  s: {title: S, windows: [{days: mon-fry, from: '08:00', to: '17:00'}]}\nrules: []\n",
     "schedule 's': "),
])
def test_bad_texts_are_located_and_explained(snippet: str, message: str) -> None:
    with pytest.raises(PolicyError) as caught:
        load_text("version: 1\n" + snippet, "p.yaml")
    assert any(message in str(p) for p in caught.value.problems), caught.value.problems


def test_a_language_nobody_reads_is_a_warning() -> None:
    loaded = load_text("version: 1\nrules:\n  - {name: r, domains: [a.test], action: block,\n"
                       "     message: {en: x, nll: y}}\n", "p.yaml")
    assert [str(w) for w in loaded.warnings] == [
        "p.yaml:4:23: warning: rule 'r', message: language 'nll' is never shown (gonogo speaks en, nl); "
        "did you mean 'nl'?"]


@pytest.mark.parametrize(("window", "warning"), [
    ('{days: mon-fri, from: "13:00", to: «"12:00"}',
     'schedule \'lunch\': from 13:00 to 12:00 wraps past midnight and lasts 23 hours; did you mean from: "12:00", '
     'to: "13:00"?'),
    ('{days: mon-fri, from: "09:00", to: «"09:00"}',
     'schedule \'lunch\': from 09:00 to 09:00 wraps past midnight and lasts 24 hours; all day is from: "00:00", '
     'to: "24:00"'),
])
def test_check_warns_about_a_long_overnight_window(tmp_path: Path, window: str, warning: str) -> None:
    before = window.split("«")[0]
    text = f"version: 1\nschedules:\n  lunch:\n    - {window.replace('«', '')}\nrules: []\n"
    loaded = load_text(text, "p.yaml")  # never fatal
    assert [str(w) for w in loaded.warnings] == [f"p.yaml:4:{len(before) + 7}: warning: {warning}"]


def test_a_short_overnight_window_is_no_mistake() -> None:
    night = load_text('version: 1\nschedules:\n  night:\n    - {days: mon-fri, from: "22:00", to: "06:00"}\n'
                      'rules: []\n')
    assert night.warnings == ()
