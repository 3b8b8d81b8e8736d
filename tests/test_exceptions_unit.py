"""Exceptions without processes: the engine honours an approved exception only for its rule, while it lasts
and while the rule opts in; the loader checks the keys; the webhook payload keeps to the privacy level."""

from __future__ import annotations

import datetime as dt
import time

import pytest

from proxy_addons.gateway.exception_events import chat_escape, payload
from proxy_addons.policy import BudgetUsage, PolicyError, Request, Usage, Who, evaluate, load_text
from proxy_addons.policy.engine import exception_of
from proxy_addons.usage.requests import ExceptionRequest

UTC = dt.UTC
NOON = dt.datetime(2026, 11, 30, 12, 0, tzinfo=UTC)

POLICY = """\
version: 1
categories:
  social: {domains: [facebook.test]}
  games: {domains: [steam.test]}
rules:
  - name: no facebook
    categories: [social]
    action: block
    exceptions: {max_minutes: 60}
  - name: games budget
    categories: [games]
    action: timebox
    quota: {minutes: 1, per: day}
    exceptions: {max_minutes: 30}
privacy: {audit_log: AUDIT}
"""


def policy(audit: str = "pseudonymous"):  # type: ignore[no-untyped-def]
    return load_text(POLICY.replace("AUDIT", audit))


def test_an_exception_allows_its_rule_until_it_ends() -> None:
    p = policy()
    who = Who("alice")
    usage = Usage(exceptions={"no facebook": ("abc", NOON + dt.timedelta(minutes=30))})
    allowed = evaluate(p, who, Request("facebook.test"), NOON, usage)
    assert allowed.decision == "allow" and allowed.action == "block" and "exception abc" in allowed.reason
    assert allowed.until == NOON + dt.timedelta(minutes=30)
    assert exception_of(allowed, usage) == usage.exceptions["no facebook"]
    assert evaluate(p, who, Request("facebook.test"), NOON + dt.timedelta(minutes=30), usage).decision == "block"
    assert evaluate(p, who, Request("steam.test"), NOON, usage).quota is not None  # another rule: no effect


def test_an_exception_to_a_time_box_costs_no_minutes() -> None:
    p = policy()
    usage = Usage(exceptions={"games budget": ("xyz", NOON + dt.timedelta(minutes=5))})
    found = evaluate(p, Who("alice"), Request("steam.test"), NOON, usage)
    assert found.decision == "allow" and found.quota is None and "exception xyz" in found.reason


def test_a_rule_that_stopped_opting_in_ignores_old_exceptions() -> None:
    p = load_text(POLICY.replace("AUDIT", "named").replace("    exceptions: {max_minutes: 60}\n", ""))
    usage = Usage(exceptions={"no facebook": ("abc", NOON + dt.timedelta(minutes=30))})
    assert evaluate(p, Who("alice"), Request("facebook.test"), NOON, usage).decision == "block"


@pytest.mark.parametrize(("fragment", "message"), [
    ("    action: allow\n    exceptions: {max_minutes: 5}\n", "exceptions only apply to action block or timebox"),
    ("    action: block\n    exceptions: {max_minutes: 0}\n", "max_minutes"),
    ("    action: block\n    exceptions: {}\n", "max_minutes"),
])
def test_loader_checks_exceptions(fragment: str, message: str) -> None:
    text = "version: 1\nrules:\n  - name: r\n    domains: [x.test]\n" + fragment
    with pytest.raises(PolicyError, match=message) as caught:
        load_text(text, "p.yaml")
    assert "p.yaml:" in str(caught.value)


def test_loader_checks_the_webhook() -> None:
    with pytest.raises(PolicyError, match="webhook"):
        load_text("version: 1\nnotify: {webhook: 'ftp://x'}\nrules: []\n", "p.yaml")
    assert load_text("version: 1\nnotify: {webhook: 'https://hooks.test/T/B/X'}\nrules: []\n").notify.webhook


def request(**changes: object) -> ExceptionRequest:
    base = ExceptionRequest("id1", "user:alice", "alice", "10.0.0.1", "no facebook", "facebook.test",
                            "<!channel> call <https://evil.test|here>", 20, "open", NOON.timestamp())
    return ExceptionRequest(**{**base.to_json(), **changes})  # type: ignore[arg-type]


def test_the_webhook_says_no_more_than_the_privacy_level() -> None:
    hidden = payload(request(), policy("pseudonymous"), "f00d")
    assert "alice" not in str(hidden) and "channel" not in str(hidden) and hidden["pseudonym"] == "f00d"
    assert hidden["text"].startswith("New exception request id1: someone (f00d)")
    named = payload(request(), policy("named"), None)
    assert named["user"] == "alice" and named["reason"] == "<!channel> call <https://evil.test|here>"
    assert "&lt;!channel&gt;" in named["text"] and "<!channel>" not in named["text"]  # no mention, no link
    approved = payload(request(state="approved", until=NOON.timestamp() + 600, granted=10), policy("named"), None)
    assert approved["event"] == "approved" and approved["granted_minutes"] == 10 and "until" in approved


def test_chat_escape() -> None:
    assert chat_escape("a <b> & c\x1b[0m\nd") == "a &lt;b&gt; &amp; c[0m\nd"


def test_the_time_box_spent_page_offers_the_form() -> None:
    """A spent time-box of an opted-in rule gets the form (and a CSP that lets it post to its own site); a rule
    without `exceptions:` gets none."""
    from mitmproxy.test import tutils

    from proxy_addons.gateway.exceptions import ExceptionRequests, verify_token
    from proxy_addons.gateway.responses import Responder
    from proxy_addons.gateway.state import GatewayState
    from proxy_addons.metrics import Metrics
    from proxy_addons.usage import MemoryLedger

    p = policy()
    addon = ExceptionRequests(GatewayState())
    addon.key = b"k" * 32
    addon.book = object()  # type: ignore[assignment]  # any book: the form only needs one to exist
    responder = Responder(addon.key, MemoryLedger(), Metrics())
    responder.request_form = addon.form
    first = evaluate(p, Who("alice"), Request("steam.test"), NOON)
    assert first.quota is not None
    spent = evaluate(p, Who("alice"), Request("steam.test"), NOON,
                     Usage(budgets={"games budget": BudgetUsage(1, False, 0, first.quota.period)}))
    assert spent.decision == "block" and spent.quota is not None
    req = tutils.treq(host="steam.test", path=b"/play", headers=((b"accept", b"text/html"),))
    answer = responder.refusal(p, Who("alice"), spent, "steam.test", req, "gonogo.status")
    page = answer.get_text() or ""
    assert 'action="/__gonogo__/exception"' in page and "at most 30" in page
    assert "form-action 'self'" in answer.headers["content-security-policy"]
    token = form_of_page(page)["token"]
    assert verify_token(addon.key, "user:alice", "games budget", token, time.time())
    assert not verify_token(addon.key, "user:bob", "games budget", token, time.time())
    assert not verify_token(addon.key, "user:alice", "games budget", token, time.time() + 7200)  # expired

    plain = load_text("version: 1\nrules:\n  - {name: b, domains: [steam.test], action: block}\n")
    blocked = evaluate(plain, Who("alice"), Request("steam.test"), NOON)
    answer = responder.refusal(plain, Who("alice"), blocked, "steam.test", req, "gonogo.status")
    assert "__gonogo__/exception" not in (answer.get_text() or "")
    assert "form-action 'none'" in answer.headers["content-security-policy"]


def form_of_page(page: str) -> dict[str, str]:
    import html
    import re

    return {k: html.unescape(v) for k, v in re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', page)}


def test_request_ids_never_read_as_command_line_options() -> None:
    from proxy_addons.usage.requests import new_id

    ids = {new_id() for _ in range(2000)}
    assert len(ids) == 2000 and all(len(i) == 12 and i[0].isalnum() for i in ids)


def test_withdraw_tokens_and_buttons() -> None:
    """A withdraw token is good for one person and one request only, and is no request token (nor the other way
    round); the status page shows a Withdraw button, in the reader's language, on open requests only."""
    import dataclasses

    from proxy_addons.gateway.exceptions import ASK, WITHDRAW, make_token, verify_token
    from proxy_addons.pages.requests import requests_section

    key, now = b"k" * 32, time.time()
    token = make_token(key, "user:alice", "req1", now, WITHDRAW)
    assert verify_token(key, "user:alice", "req1", token, now, WITHDRAW)
    assert not verify_token(key, "user:bob", "req1", token, now, WITHDRAW)
    assert not verify_token(key, "user:alice", "req2", token, now, WITHDRAW)
    assert not verify_token(key, "user:alice", "req1", token, now, ASK)
    assert not verify_token(key, "user:alice", "req1", make_token(key, "user:alice", "req1", now), now, WITHDRAW)

    open_one = ExceptionRequest("req1", "user:alice", "alice", None, "no facebook", "facebook.test", "call", 30,
                                "open", NOON.timestamp())
    decided = dataclasses.replace(open_one, id="req2", state="denied")
    for lang, button in (("en", ">Withdraw</button>"), ("nl", ">Intrekken</button>")):
        html = requests_section([open_one, decided], lang=lang, tz=UTC, now=NOON, withdraw_token=lambda i: f"t-{i}")
        assert html.count(button) == 1 and 'name="id" value="req1"' in html and "t-req1" in html
        assert "t-req2" not in html
    assert "Withdraw" not in requests_section([open_one], lang="en", tz=UTC, now=NOON)
