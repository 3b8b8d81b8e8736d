"""Metrics against a real prometheus-client registry: what the exposition says, that it never names a person,
that small groups hide as `other`, and that `promtool check metrics` accepts it."""

from __future__ import annotations

import datetime as dt
import shutil
import urllib.error
import urllib.request

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from proxy_addons import metrics as m
from proxy_addons.metrics import Metrics
from proxy_addons.policy import Request, Who, evaluate, load_text
from tests.support.prometheus import promtool_findings

POLICY = """
version: 1
timezone: Europe/Amsterdam
schedules:
  office: [{days: mon-fri, from: "09:00", to: "17:00"}]
categories:
  social: {domains: [facebook.test, tiktok.test]}
  news: {domains: [news.test]}
groups:
  staff: {users: [alice, bob, carol]}
  interns: {users: [ivan, ines]}
rules:
  - {name: tiktok trial, domains: [tiktok.test], action: block, shadow: true}
  - {name: interns no social, groups: [interns], categories: [social], action: block}
  - {name: news needs a reason, categories: [news], action: warn}
default: allow
privacy: {min_group_size: 3}
"""

# Wednesday 2026-11-25 10:00 in Amsterdam (office hours)
NOW = dt.datetime(2026, 11, 25, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=1)))
MINUTE = int(NOW.timestamp() // 60)


class Clock:
    def __init__(self, at: dt.datetime = NOW) -> None:
        self.now = at.timestamp()

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def policy():
    return load_text(POLICY)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def metrics(policy, clock) -> Metrics:
    metrics = Metrics(clock=clock)
    metrics.policy_loaded(policy)
    return metrics


def request(metrics: Metrics, policy, user: str, url: str, method: str = "GET") -> str:
    """What the addon does per request: decide, label, record. Returns the group label."""
    groups = policy.groups_of(user)
    decision = evaluate(policy, Who(user), Request.from_url(url, method), NOW)
    label = metrics.group_label(groups, f"user:{user}")
    metrics.decision(decision, label, 0.00003)
    if decision.decision == "allow" and decision.category:
        metrics.active_minute(label, decision.category, f"user:{user}", MINUTE)
    return label


def exposition(metrics: Metrics) -> str:
    return generate_latest(metrics.registry).decode()


def samples(metrics: Metrics, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    """Sample name -> {sorted labels: value} from the parsed text exposition."""
    found = {}
    for family in text_string_to_metric_families(exposition(metrics)):
        for sample in family.samples:
            if sample.name == name:
                found[tuple(sorted(sample.labels.items()))] = sample.value
    return found


def nonzero(metrics: Metrics, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    return {k: v for k, v in samples(metrics, name).items() if v}


def labels(**kw: str) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(kw.items()))


def test_requests_are_counted_by_group_category_rule_and_decision(metrics, policy):
    for user in ("alice", "bob", "carol"):
        request(metrics, policy, user, "https://news.test/")
    request(metrics, policy, "alice", "https://www.facebook.test/")
    request(metrics, policy, "alice", "https://example.test/")
    got = samples(metrics, m.REQUESTS)
    # alice's first and bob's request happened while `staff` had fewer than 3 people seen: `other`
    assert got[labels(group="other", category="news", rule="news needs a reason", decision="warn")] == 2
    assert got[labels(group="staff", category="news", rule="news needs a reason", decision="warn")] == 1
    assert got[labels(group="staff", category="social", rule="default", decision="allow")] == 1
    assert got[labels(group="staff", category="none", rule="default", decision="allow")] == 1
    assert sum(got.values()) == 5
    histogram = samples(metrics, m.DECISION_SECONDS + "_count")
    assert histogram == {(): 5}


def test_shadow_rules_are_counted_beside_the_real_decision(metrics, policy):
    for user in ("alice", "bob", "carol", "alice"):
        request(metrics, policy, user, "https://tiktok.test/")
    shadow = samples(metrics, m.SHADOW_DECISIONS)
    assert shadow[labels(group="staff", category="social", rule="tiktok trial", decision="block")] == 2
    assert shadow[labels(group="other", category="social", rule="tiktok trial", decision="block")] == 2
    real = nonzero(metrics, m.REQUESTS)
    assert all(key[1] == ("decision", "allow") for key in real)  # the trial blocked nothing


def test_group_stays_other_until_min_group_size_distinct_people_are_seen(metrics, policy):
    assert [request(metrics, policy, "ivan", "https://news.test/") for _ in range(5)] == ["other"] * 5
    assert request(metrics, policy, "ines", "https://news.test/") == "other"  # 2 of 3
    assert request(metrics, policy, "alice", "https://news.test/") == "other"
    assert request(metrics, policy, "bob", "https://news.test/") == "other"
    assert request(metrics, policy, "carol", "https://news.test/") == "staff"  # the third person of staff
    assert request(metrics, policy, "alice", "https://news.test/") == "staff"  # and from then on
    assert request(metrics, policy, "ivan", "https://news.test/") == "other"  # interns: still 2 people
    assert metrics.group_label(("no-such-group",), "user:x") == m.OTHER
    groups = {dict(k)["group"] for k in nonzero(metrics, m.REQUESTS)}
    assert groups == {"other", "staff"}


def test_people_in_no_group_are_folded_like_any_small_group(metrics, policy):
    """One unidentified client is not reported as `none` on its own: `none` is a group like the others."""
    assert [request(metrics, policy, "", "https://news.test/") for _ in range(4)] == [m.OTHER] * 4
    assert metrics.group_label((), "ip:10.0.0.10") == m.OTHER  # 2 of 3
    assert metrics.group_label((), "ip:10.0.0.11") == m.NONE  # the third: min_group_size reached
    assert request(metrics, policy, "dirk", "https://news.test/") == m.NONE  # in no group either
    assert {dict(k)["group"] for k in nonzero(metrics, m.REQUESTS)} == {"other", "none"}


def test_a_group_name_passed_directly_is_hidden_until_revealed(metrics, policy):
    """The addon might pass decision.group instead of group_label(): privacy must still hold."""
    decision = evaluate(policy, Who("ivan"), Request.from_url("https://news.test/"), NOW)
    metrics.decision(decision, "interns", 0.0001)
    metrics.warn_continue("interns", "news", "news needs a reason")
    metrics.quota_exhausted("interns", "social", "interns no social")
    text = exposition(metrics)
    assert 'group="interns"' not in text
    assert 'group="other"' in text


def test_higher_min_group_size_on_reload_hides_groups_again(metrics, policy):
    for user in ("alice", "bob", "carol"):
        request(metrics, policy, user, "https://news.test/")
    assert metrics.group_label(("staff",), "user:alice") == "staff"
    metrics.policy_loaded(load_text(POLICY.replace("min_group_size: 3", "min_group_size: 4")))
    assert metrics.group_label(("staff",), "user:alice") == "other"


def test_no_person_name_or_address_reaches_the_exposition(metrics, policy):
    people = ["alice", "bob", "carol", "ivan", "ines"]
    for user in people:
        for url in ("https://www.facebook.test/", "https://news.test/", "https://tiktok.test/"):
            request(metrics, policy, user, url)
    metrics.active_minute("other", "social", "ip:192.0.2.77", MINUTE)
    metrics.quota_exhausted("staff", "social", "interns no social", user_key="user:alice", period="2026-11-25")
    text = exposition(metrics)
    assert 'group="staff"' in text  # the test exercised real labels
    for secret in (*people, "192.0.2.77", "user:"):
        assert secret not in text


def test_active_minutes_count_once_per_person_category_and_minute(metrics):
    for _ in range(3):
        metrics.active_minute("none", "social", "user:alice", MINUTE)
    metrics.active_minute("none", "news", "user:alice", MINUTE)
    metrics.active_minute("none", "social", "user:bob", MINUTE)
    metrics.active_minute("none", "social", "user:alice", MINUTE + 1)
    got = nonzero(metrics, m.ACTIVE_SECONDS)  # Prometheus' base unit: 60 s per active minute
    assert got == {labels(group="none", category="social"): 180, labels(group="none", category="news"): 60}


def test_active_users_are_the_people_of_the_last_5_minutes(metrics, clock):
    metrics.active_minute("none", "social", "user:alice", MINUTE - 6)
    metrics.active_minute("none", "social", "user:bob", MINUTE - 2)
    metrics.active_minute("none", "social", "user:carol", MINUTE)
    metrics.active_minute("none", "news", "user:carol", MINUTE)
    assert samples(metrics, m.ACTIVE_USERS) == {labels(group="none", category="social"): 2,
                                                labels(group="none", category="news"): 1}
    clock.now += 10 * 60
    # nobody active any more: the series stay, at 0, so sums over time have no gaps
    assert samples(metrics, m.ACTIVE_USERS) == {labels(group="none", category="social"): 0,
                                                labels(group="none", category="news"): 0}


def test_people_seen_today_reset_at_local_midnight(metrics, clock):
    metrics.active_minute("none", "social", "user:alice", MINUTE)
    metrics.active_minute("none", "news", "user:alice", MINUTE)
    metrics.active_minute("none", "social", "user:bob", MINUTE + 1)
    assert samples(metrics, m.USERS_TODAY) == {labels(group="none"): 2}
    assert samples(metrics, m.CATEGORY_USERS_TODAY) == {labels(group="none", category="social"): 2,
                                                        labels(group="none", category="news"): 1}
    midnight = dt.datetime(2026, 11, 26, 0, 0, 30, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    clock.now = midnight.timestamp()
    assert samples(metrics, m.USERS_TODAY) == {labels(group="none"): 0}
    metrics.active_minute("none", "social", "user:bob", int(clock.now // 60))
    assert samples(metrics, m.USERS_TODAY) == {labels(group="none"): 1}


def test_quota_exhaustion_counts_once_per_person_and_period(metrics):
    for _ in range(3):
        metrics.quota_exhausted("none", "social", "interns no social", user_key="user:ivan", period="2026-11-25")
    metrics.quota_exhausted("none", "social", "interns no social", user_key="user:ivan", period="2026-11-26")
    metrics.quota_exhausted("none", "social", "interns no social")  # the caller deduplicated already
    assert nonzero(metrics, m.QUOTA_EXHAUSTED) == {
        labels(group="none", category="social", rule="interns no social"): 3}


def test_rare_event_series_exist_at_zero_before_the_first_event(metrics, policy):
    """Prometheus cannot see the first increment of a series that appears at 1: a group's first exhausted
    budget or continued warning would be lost. The series exist at 0 as soon as the group can be named."""
    timebox = load_text(POLICY.replace(
        "  - {name: news needs a reason",
        "  - {name: intern box, groups: [interns], categories: [news], action: timebox,"
        " quota: {minutes: 5, per: day}}\n"
        "  - {name: social box, categories: [social], action: timebox, quota: {minutes: 30, per: day}}\n"
        "  - {name: news needs a reason"))
    metrics.policy_loaded(timebox)
    exhausted = samples(metrics, m.QUOTA_EXHAUSTED)
    assert exhausted == {  # `none` is a group like any other: no series before enough people were seen
        labels(group="other", category="social", rule="social box"): 0,
        labels(group="other", category="news", rule="intern box"): 0}
    continues = samples(metrics, m.WARN_CONTINUES)
    assert labels(group="other", category="news", rule="news needs a reason") in continues
    for user in ("alice", "bob", "carol"):
        metrics.group_label(("staff",), f"user:{user}")
    exhausted = samples(metrics, m.QUOTA_EXHAUSTED)
    assert exhausted[labels(group="staff", category="social", rule="social box")] == 0
    assert labels(group="staff", category="news", rule="intern box") not in exhausted  # not a rule for staff
    assert samples(metrics, m.ACTIVE_SECONDS)[labels(group="staff", category="news")] == 0
    requests = samples(metrics, m.REQUESTS)
    assert requests[labels(group="staff", category="social", rule="social box", decision="block")] == 0
    assert requests[labels(group="staff", category="news", rule="news needs a reason", decision="allow")] == 0
    assert labels(group="staff", category="social", rule="interns no social", decision="block") not in requests
    assert labels(group="staff", category="social", rule="social box", decision="warn") not in requests
    assert samples(metrics, m.SHADOW_DECISIONS)[
        labels(group="staff", category="social", rule="tiktok trial", decision="block")] == 0


def test_label_values_come_from_the_policy_only(metrics):
    metrics.warn_continue("none", "news", "news needs a reason")
    metrics.warn_continue("none", "made-up-category", "made-up-rule")
    metrics.quota_exhausted("none", "none", "default")  # how the addon spells "no rule" / "no category"
    assert nonzero(metrics, m.QUOTA_EXHAUSTED) == {labels(group="none", category="none", rule="default"): 1}
    assert nonzero(metrics, m.WARN_CONTINUES) == {
        labels(group="none", category="news", rule="news needs a reason"): 1,
        labels(group="none", category="none", rule="other"): 1}


def test_policy_info_shows_only_the_policy_in_force(metrics, policy):
    assert samples(metrics, m.POLICY_INFO) == {labels(version="1", sha256=policy.sha256): 1}
    newer = load_text(POLICY.replace("default: allow", "default: block"))
    metrics.reload("ok")
    metrics.policy_loaded(newer)
    assert samples(metrics, m.POLICY_INFO) == {labels(version="1", sha256=newer.sha256): 1}


def test_reloads_are_counted_and_the_last_result_kept(metrics):
    assert samples(metrics, m.POLICY_RELOADS) == {labels(result="ok"): 0, labels(result="error"): 0}
    metrics.reload("error")
    assert samples(metrics, m.POLICY_LAST_RELOAD_OK) == {(): 0}
    metrics.reload("ok")
    assert samples(metrics, m.POLICY_RELOADS) == {labels(result="ok"): 1, labels(result="error"): 1}
    assert samples(metrics, m.POLICY_LAST_RELOAD_OK) == {(): 1}
    with pytest.raises(ValueError, match="ok"):
        metrics.reload("maybe")


def test_passthrough_reasons_are_short_words_and_bounded(metrics):
    metrics.passthrough("uncovered")
    metrics.passthrough("Host: evil.example\nX")
    for i in range(40):
        metrics.passthrough(f"reason-{i}")
    metrics.intercepted()
    got = samples(metrics, m.PASSTHROUGH)
    assert got[labels(reason="uncovered")] == 1
    assert len(got) <= 17
    assert got[labels(reason="other")] >= 1
    assert samples(metrics, m.INTERCEPTED) == {(): 1}


def test_ledger_gauge_appears_once_the_addon_reports(metrics):
    assert samples(metrics, m.LEDGER_AVAILABLE) == {}
    metrics.ledger_available(False)
    metrics.ledger_error()
    assert samples(metrics, m.LEDGER_AVAILABLE) == {(): 0}
    assert samples(metrics, m.LEDGER_ERRORS) == {(): 1}
    metrics.ledger_available(True)
    assert samples(metrics, m.LEDGER_AVAILABLE) == {(): 1}


def test_directory_metrics_appear_once_a_refresh_reports(metrics):
    assert samples(metrics, m.DIRECTORY_AVAILABLE) == {}
    assert samples(metrics, m.DIRECTORY_REFRESHES) == {}
    metrics.directory_refresh(True)
    metrics.directory_refresh(False)
    assert samples(metrics, m.DIRECTORY_AVAILABLE) == {(): 0}
    assert samples(metrics, m.DIRECTORY_REFRESHES) == {labels(result="ok"): 1, labels(result="error"): 1}
    metrics.directory_refresh(True)
    assert samples(metrics, m.DIRECTORY_AVAILABLE) == {(): 1}


def test_schedules_report_whether_they_are_on(metrics, clock):
    assert samples(metrics, m.SCHEDULE_ACTIVE) == {labels(schedule="office"): 1}
    clock.now += 8 * 3600  # 18:00
    assert samples(metrics, m.SCHEDULE_ACTIVE) == {labels(schedule="office"): 0}


def test_every_exported_name_is_declared_and_no_created_series(metrics, policy):
    request(metrics, policy, "alice", "https://tiktok.test/")
    metrics.passthrough("uncovered")
    metrics.quota_exhausted("none", "social", "interns no social")
    metrics.warn_continue("none", "news", "news needs a reason")
    metrics.not_spent("none", "social", "background")
    metrics.ledger_available(True)
    metrics.directory_refresh(True)
    names = {s.name for f in text_string_to_metric_families(exposition(metrics)) for s in f.samples}
    histogram = {m.DECISION_SECONDS + suffix for suffix in ("_bucket", "_sum", "_count")}
    # the list metrics need a policy with category lists (tests/test_lists_gateway.py)
    assert names == (set(m.ALL_NAMES) - {m.DECISION_SECONDS} - set(m.LIST_NAMES)) | histogram
    assert not any(name.endswith("_created") for name in names)


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool (Debian package prometheus) not installed")
def test_promtool_accepts_the_exposition(metrics, policy):
    for user in ("alice", "bob", "carol", "ivan"):
        for url in ("https://www.facebook.test/", "https://news.test/", "https://tiktok.test/"):
            request(metrics, policy, user, url)
    metrics.passthrough("uncovered")
    metrics.ledger_available(True)
    metrics.directory_refresh(False)
    assert promtool_findings(exposition(metrics)) == []


def test_a_second_instance_never_collides(policy):
    """mitmdump re-running a changed script makes a new Metrics: no duplicate-timeseries error."""
    first, second = Metrics(), Metrics()
    first.policy_loaded(policy)
    second.policy_loaded(policy)
    shared = CollectorRegistry()
    third = Metrics(shared)
    with pytest.raises(ValueError, match="Duplicated"):
        Metrics(shared)
    third.unregister()
    Metrics(shared).policy_loaded(policy)
    assert m.POLICY_INFO in generate_latest(shared).decode()


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def test_server_serves_metrics_and_health(policy):
    metrics = Metrics()
    server = metrics.serve("127.0.0.1", 0)
    try:
        assert server.port > 0
        assert get(server.url + "/healthz")[0] == 503  # no policy yet
        metrics.policy_loaded(policy)
        assert get(server.url + "/healthz") == (200, "ok\n")
        status, body = get(server.url + "/metrics")
        assert status == 200 and policy.sha256 in body
        assert get(server.url + "/other")[0] == 404
    finally:
        server.stop()
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(server.url + "/metrics", timeout=5)
