"""Fair counting in the pure core: which requests show attention (one case per Sec-Fetch-* combination), which
of them spend a time-box minute under `counting:`, the heads-up flag, and the policy keys that set it all."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from proxy_addons.policy import BudgetUsage, PolicyError, Request, Usage, Who, evaluate, load_text
from proxy_addons.policy.attention import (
    BACKGROUND,
    CLIENT_MESSAGE,
    NAVIGATE,
    RENDER,
    SERVER_PUSH,
    UNKNOWN,
    classify,
    counts,
    not_spent_reason,
)

AT = dt.datetime(2026, 11, 26, 10, 0, 5, tzinfo=ZoneInfo("Europe/Amsterdam"))
POLICY = """\
version: 1
timezone: Europe/Amsterdam
counting_background_kb: 100
rules:
  - name: feed
    domains: [facebook.test]
    action: timebox
    quota: {minutes: 30, per: day, heads_up: 5}
  - name: clips
    domains: [tiktok.test]
    action: timebox
    counting: requests
    quota: {minutes: 10, per: day}
"""


def headers(dest: str | None = None, mode: str | None = None) -> dict[str, str | None]:
    return {"sec-fetch-dest": dest, "sec-fetch-mode": mode}


@pytest.mark.parametrize(("dest", "mode", "expected"), [
    ("document", "navigate", NAVIGATE),  # a page load
    (None, "navigate", NAVIGATE),
    ("iframe", "navigate", NAVIGATE),  # a frame inside a page
    ("iframe", "nested-navigate", NAVIGATE),
    ("image", "no-cors", RENDER),  # what scrolling loads
    ("video", "no-cors", RENDER),
    ("audio", "no-cors", RENDER),
    ("style", "no-cors", RENDER),
    ("script", "cors", RENDER),
    ("font", "cors", RENDER),
    ("track", "cors", RENDER),
    ("empty", "cors", BACKGROUND),  # fetch() / XHR polling
    ("empty", "no-cors", BACKGROUND),  # sendBeacon, <a ping>
    ("empty", "same-origin", BACKGROUND),
    ("report", "no-cors", BACKGROUND),
    ("serviceworker", "same-origin", BACKGROUND),
    ("worker", "same-origin", BACKGROUND),
    ("manifest", "cors", BACKGROUND),
    ("websocket", "websocket", BACKGROUND),  # the handshake; its messages are classified by direction
    (None, "cors", BACKGROUND),  # a mode without a destination
    (None, None, UNKNOWN),  # apps, old browsers, scripts
    ("", "", UNKNOWN),
    ("IMAGE", "No-Cors", RENDER),  # header values are compared case-insensitively
])
def test_classify_each_sec_fetch_case(dest: str | None, mode: str | None, expected: str) -> None:
    assert classify(headers(dest, mode).get) == expected


def test_what_counts_under_attention_and_requests() -> None:
    threshold = 100 * 1024
    for attention in (NAVIGATE, RENDER, CLIENT_MESSAGE):
        assert counts("attention", attention, 0, threshold, "requests")
    assert not counts("attention", SERVER_PUSH, 0, threshold, "requests")
    assert not counts("attention", BACKGROUND, threshold - 1, threshold, "requests")
    assert counts("attention", BACKGROUND, threshold, threshold, "requests")
    assert counts("attention", UNKNOWN, 0, threshold, "requests")
    assert not counts("attention", UNKNOWN, 0, threshold, "never")
    for attention in (SERVER_PUSH, BACKGROUND, UNKNOWN):  # counting: requests counts everything
        assert counts("requests", attention, 0, threshold, "never")
    assert not_spent_reason(UNKNOWN) == "no-fetch-metadata"
    assert not_spent_reason(SERVER_PUSH) == "server-push"


def used(policy_text: str, minutes: int, budget: str = "feed", counted: bool = False, seen: bool = False) -> Usage:
    return Usage({budget: BudgetUsage(minutes, counted, 0, "2026-11-26", seen)})


def test_background_poll_is_decided_but_does_not_spend() -> None:
    policy = load_text(POLICY)
    poll = Request("facebook.test", "GET", "/api/poll", BACKGROUND)
    fresh = evaluate(policy, Who("ann"), poll, AT, used(POLICY, 3))
    assert fresh.decision == "allow" and fresh.quota is not None
    assert not fresh.quota.charge and not fresh.quota.counts and fresh.quota.used == 3 and fresh.quota.left == 27
    spent = evaluate(policy, Who("ann"), poll, AT, used(POLICY, 30))
    assert spent.decision == "block"  # a spent budget still blocks it
    counted = evaluate(policy, Who("ann"), poll, AT, used(POLICY, 30, counted=True))
    assert counted.decision == "allow"  # this minute is counted already (e.g. a page load in it)
    heavy = evaluate(policy, Who("ann"), Request("facebook.test", "GET", "/seg", BACKGROUND, 100 * 1024), AT,
                     used(POLICY, 3))
    assert heavy.quota is not None and heavy.quota.charge and heavy.quota.used == 4  # a video's segments count


def test_page_loads_and_rendering_spend_a_minute() -> None:
    policy = load_text(POLICY)
    for attention in (NAVIGATE, RENDER, CLIENT_MESSAGE, UNKNOWN):
        d = evaluate(policy, Who("ann"), Request("facebook.test", "GET", "/", attention), AT, used(POLICY, 3))
        assert d.decision == "allow" and d.quota is not None and d.quota.charge and d.quota.used == 4, attention
    push = evaluate(policy, Who("ann"), Request("facebook.test", "GET", "/", SERVER_PUSH), AT, used(POLICY, 3))
    assert push.quota is not None and not push.quota.charge


def test_rule_counting_requests_counts_every_request() -> None:
    policy = load_text(POLICY)
    d = evaluate(policy, Who("ann"), Request("tiktok.test", "GET", "/api", BACKGROUND), AT,
                 used(POLICY, 3, budget="clips"))
    assert d.quota is not None and d.quota.charge and d.quota.counts


def test_policy_wide_counting_requests_and_never_without_metadata() -> None:
    everything = load_text(POLICY.replace("counting_background_kb: 100", "counting: requests"))
    d = evaluate(everything, Who("ann"), Request("facebook.test", "GET", "/", SERVER_PUSH), AT, used(POLICY, 3))
    assert d.quota is not None and d.quota.charge
    never = load_text(POLICY.replace("counting_background_kb: 100", "counting_without_fetch_metadata: never"))
    d = evaluate(never, Who("ann"), Request("facebook.test"), AT, used(POLICY, 3))
    assert d.quota is not None and not d.quota.charge and d.decision == "allow"


def test_heads_up_on_the_first_page_load_with_few_minutes_left() -> None:
    policy = load_text(POLICY)
    page = Request("facebook.test", "GET", "/", NAVIGATE)
    assert not evaluate(policy, Who("ann"), page, AT, used(POLICY, 20)).quota.heads_up  # type: ignore[union-attr]
    low = evaluate(policy, Who("ann"), page, AT, used(POLICY, 24))  # this load makes 25 of 30: 5 left
    assert low.decision == "allow" and low.quota is not None and low.quota.heads_up and low.quota.left == 5
    seen = evaluate(policy, Who("ann"), page, AT, used(POLICY, 24, seen=True))
    assert seen.quota is not None and not seen.quota.heads_up
    image = evaluate(policy, Who("ann"), Request("facebook.test", "GET", "/a.png", RENDER), AT, used(POLICY, 24))
    assert image.quota is not None and not image.quota.heads_up  # only a page load shows it
    spent = evaluate(policy, Who("ann"), page, AT, used(POLICY, 30))
    assert spent.decision == "block" and spent.quota is not None and not spent.quota.heads_up
    other = evaluate(policy, Who("ann"), Request("tiktok.test", "GET", "/", NAVIGATE), AT,
                     used(POLICY, 9, budget="clips"))
    assert other.quota is not None and not other.quota.heads_up  # no heads_up: nothing changes


def test_policy_keys_are_read_and_checked() -> None:
    policy = load_text(POLICY)
    assert policy.counting.mode == "attention" and policy.counting.background_kb == 100
    assert policy.counting.without_fetch_metadata == "requests"
    assert policy.rule("clips").counting == "requests"  # type: ignore[union-attr]
    assert policy.budgets["feed"].heads_up == 5
    bad = [
        (POLICY.replace("counting_background_kb: 100", "counting: minutes"), "counting"),
        (POLICY.replace("counting_background_kb: 100", "counting_background_kb: -1"), "counting_background_kb"),
        (POLICY.replace("counting_background_kb: 100", "counting_without_fetch_metadata: sometimes"),
         "counting_without_fetch_metadata"),
        (POLICY.replace("heads_up: 5", "heads_up: 30"), "heads_up (30) must be less than"),
        (POLICY + "  - name: x\n    domains: [x.test]\n    action: block\n    counting: requests\n",
         "counting only applies to action timebox"),
    ]
    for text, expected in bad:
        with pytest.raises(PolicyError) as caught:
            load_text(text, "policy.yaml")
        assert expected in str(caught.value), str(caught.value)
        assert "policy.yaml:" in str(caught.value)
