"""`gonogo check`, `explain` and `notice` know fair counting: the summary names it, explain says whether a
request would count and why (from --sec-fetch-dest/--sec-fetch-mode or --attention), the notice explains in
plain English and Dutch what counts as use."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.test_attention import POLICY
from tests.test_cli import gonogo


@pytest.fixture
def policy(tmp_path: Path) -> Path:
    path = tmp_path / "policy.yaml"
    path.write_text(POLICY, "utf-8")
    return path


def test_check_summarises_counting_and_heads_up(policy: Path) -> None:
    out = gonogo("check", policy, check_rc=0).stdout
    assert "feed: 30 minutes per day, heads-up at 5 minutes left" in out
    assert "counting    attention: page loads, what renders, WebSocket messages sent; background requests from " \
           "100 KB a minute; clients without Sec-Fetch-*: every request counts" in out
    assert "rule 'clips': requests" in out


@pytest.mark.parametrize(("args", "expected"), [
    (["--sec-fetch-dest", "empty", "--sec-fetch-mode", "cors"],
     "counting    background: does not count: background requests (fetch/XHR) count only once they move 100 KB"),
    (["--sec-fetch-dest", "empty", "--sec-fetch-mode", "cors", "--background-kb", "120"],
     "counting    background: counts: background requests moved 120 KB this minute"),
    (["--sec-fetch-dest", "image", "--sec-fetch-mode", "no-cors"], "counting    render: counts: it loads something"),
    (["--sec-fetch-dest", "document", "--sec-fetch-mode", "navigate"], "counting    navigate: counts: a page load"),
    (["--attention", "server-push"], "counting    server-push: does not count: a message the server pushed"),
    (["--attention", "client-message"], "counting    client-message: counts: a WebSocket message the person sent"),
    ([], "counting    unknown: counts: the client sends no Sec-Fetch-* headers"),
])
def test_explain_says_whether_the_request_counts(policy: Path, args: list[str], expected: str) -> None:
    out = gonogo("explain", policy, "--user", "ann", "--url", "https://facebook.test/", "--at", "2026-11-26T10:00",
                 *args, check_rc=0).stdout
    assert expected in out, out


def test_explain_spent_budget_blocks_a_background_poll_and_shows_the_heads_up(policy: Path) -> None:
    out = gonogo("explain", policy, "--user", "ann", "--url", "facebook.test", "--at", "2026-11-26T10:00",
                 "--attention", "background", "--used", "30", check_rc=0).stdout
    assert out.startswith("decision    BLOCK"), out
    out = gonogo("explain", policy, "--user", "ann", "--url", "facebook.test", "--at", "2026-11-26T10:00",
                 "--attention", "navigate", "--used", "26", check_rc=0).stdout
    assert "heads-up    a page load now shows the one-time heads-up (3 left)" in out
    out = gonogo("explain", policy, "--user", "ann", "--url", "tiktok.test", "--at", "2026-11-26T10:00",
                 "--attention", "background", check_rc=0).stdout
    assert "counts: every request to this site spends a minute (counting: requests)" in out
    bad = gonogo("explain", policy, "--user", "ann", "--url", "facebook.test", "--attention", "staring")
    assert bad.returncode == 2 and "--attention" in bad.stderr


def test_notice_explains_what_counts_in_english_and_dutch(policy: Path) -> None:
    en = gonogo("notice", policy, check_rc=0).stdout
    assert "A minute counts only when you are using the site" in en
    assert "at least 100 KB in a minute" in en
    assert "For 'clips', every request counts" in en
    assert "For 'feed': when 5 minutes or fewer are left, the first page you open shows a notice once" in en
    nl = gonogo("notice", "--lang", "nl", policy, check_rc=0).stdout
    assert "Een minuut telt alleen als je de site gebruikt" in nl
    assert "minstens 100 KB per minuut" in nl
    assert "Voor 'feed': als er nog 5 minuten of minder over zijn" in nl
    plain = gonogo("notice", Path(__file__).parent.parent / "policies" / "example.yaml", check_rc=0).stdout
    assert "A minute counts only when you are using the site" in plain  # attention is the default
