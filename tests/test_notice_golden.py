"""The employee notice of policies/example.yaml, in English and Dutch, against reviewed golden files.

tests/golden/notice.en.md and notice.nl.md were read as an employee would read them, in both languages,
before they were frozen: a change to any sentence of the notice shows up here as a diff to review (is it
still plain, true and complete?), not as a silent change in what HR hands out. The policy's version hash is
replaced by VERSION, so editing a comment in the example does not count as a change of wording.

After a deliberate change: GONOGO_UPDATE_GOLDEN=1 pytest tests/test_notice_golden.py, then read the diff.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from proxy_addons.policy import load_policy
from proxy_addons.tools.notice import render_notice
from tests.conftest import EXAMPLE_POLICY, ROOT

GOLDEN = ROOT / "tests" / "golden"


def rendered(lang: str) -> str:
    policy = load_policy(EXAMPLE_POLICY)
    return render_notice(policy, lang).replace(policy.sha256[:12], "VERSION")


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_notice_of_the_example_policy_reads_as_reviewed(lang: str) -> None:
    golden: Path = GOLDEN / f"notice.{lang}.md"
    text = rendered(lang)
    if os.environ.get("GONOGO_UPDATE_GOLDEN"):
        golden.write_text(text, "utf-8")
    assert text == golden.read_text("utf-8"), f"the {lang} notice changed: review it, then update {golden}"


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_the_notice_leaves_nothing_unexplained(lang: str) -> None:
    """What HR must be able to hand out unedited: whose gateway, what it decrypts and keeps, where to look,
    whom to ask, and every domain (no "and 16 more" without the list)."""
    text = rendered(lang)
    policy = load_policy(EXAMPLE_POLICY)
    appendix = text.split("\n## ")[-1]
    for category in policy.categories.values():
        for domain in policy.index.examples(category.tag, category.domain_count):
            assert domain in appendix, domain
    words = {
        "en": ["Example BV", "decrypts your connections", "under your user name", "http://gonogo.status/",
               "Ask the service desk", "extra minutes", "ask for an exception", "the appendix"],
        "nl": ["Example BV", "ontsleutelt de gateway je verbindingen", "onder je gebruikersnaam",
               "http://gonogo.status/", "Vraag het aan de servicedesk", "extra minuten", "uitzondering aanvragen",
               "de bijlage"],
    }[lang]
    for expected in words:
        assert expected in text, expected
    for awkward in ("The policy tries out", "Proeven", "Een proef wordt nooit uitgevoerd", "na doorgaan",
                    "unless a time says otherwise", "tenzij bij een tijd anders staat", "1 minutes", "1 minuten"):
        assert awkward not in text, awkward
