"""End to end: a real Prometheus scrapes a real `gonogo run` that receives real traffic; then every query of
every dashboard panel, every annotation, every variable and every recording rule runs through Prometheus'
HTTP API. A query that errors fails the test, and so does one that comes back empty: the traffic below
exercises every panel (blocks, warnings, a continue, an exhausted budget, a shadow rule, a passthrough), and
the rare-event counters exist at 0 before their first event, so nothing may legitimately be empty."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from proxy_addons import metrics as m
from proxy_addons.policy import load_policy, period_of
from proxy_addons.tools import dashboards as d
from proxy_addons.usage.sqlite import SqliteLedger
from tests.conftest import ROOT
from tests.support.prometheus import Prometheus, PromQLError, promtool_findings
from tests.support.prometheus import running as prometheus_running
from tests.support.proxy import Gonogo, Origin

pytestmark = pytest.mark.skipif(shutil.which("prometheus") is None or shutil.which("promtool") is None,
                                reason="prometheus/promtool (Debian package prometheus) not installed")

# user names that cannot occur in metric text by accident
STAFF = ("alicia-q7", "bodhi-q7", "carmen-q7")
INTERN = "ivan-q7"
POLICY = f"""\
version: 1
timezone: UTC
schedules:
  always: [{{days: mon-sun, from: "00:00", to: "24:00"}}]
categories:
  social: {{domains: [facebook.test, tiktok.test]}}
  news: {{domains: [news.test]}}
groups:
  staff: {{users: [{", ".join(STAFF)}]}}
  interns: {{users: [{INTERN}]}}
rules:
  - {{name: tiktok trial, domains: [tiktok.test], action: block, shadow: true}}
  - {{name: interns no social, groups: [interns], categories: [social], action: block}}
  - {{name: news needs a reason, categories: [news], when: always, action: warn}}
  - {{name: social time-box, categories: [social], when: always, action: timebox, quota: {{minutes: 1, per: week}}}}
default: allow
privacy: {{min_group_size: 2}}
"""
NAV = {"accept": "text/html", "sec-fetch-dest": "document"}
POLL = {"sec-fetch-dest": "empty", "sec-fetch-mode": "cors"}
# Grafana's values for the variables: "All" is the regex .*; the test policy's schedule is `always`
VARIABLES = {"$group": ".*", "$category": ".*", "$instance": ".*", "$schedule": "always",
             "$__rate_interval": "1m", "$__range": "1h"}
RULE_FILES = (ROOT / "deploy/prometheus/rules/recording.yml", ROOT / "deploy/prometheus/rules/alerts.yml")


def expand(expr: str) -> str:
    for name, value in sorted(VARIABLES.items(), key=lambda kv: -len(kv[0])):
        expr = expr.replace(name, value)
    assert "$" not in expr, f"a Grafana variable the test does not know: {expr}"
    return expr



def precharge(state: str, policy_path: Path, person: str) -> None:
    """Spend the one minute of `person`'s weekly budget (an earlier minute of this week)."""
    policy = load_policy(policy_path)
    now = dt.datetime.now(dt.UTC)
    period, resets_at = period_of(policy.budgets["social time-box"], now, policy)
    if resets_at - now < dt.timedelta(minutes=3):
        pytest.skip("the budget week ends in a moment; the precharged minute would not count")

    async def spend() -> None:
        ledger = SqliteLedger(Path(state.removeprefix("sqlite:")))
        charge = await ledger.charge(person, "social time-box", period, int(now.timestamp() // 60) - 1, 1, 3600)
        assert charge.counted
        await ledger.close()

    asyncio.run(spend())


def url(origin: Origin, host: str, path: str = "/") -> str:
    return f"https://{host}:{origin.https_port}{path}"


def scrape(gonogo: Gonogo) -> str:
    return httpx.get(f"http://127.0.0.1:{gonogo.metrics_port}/metrics", trust_env=False, timeout=10).text


def total(exposition: str, name: str) -> float:
    return sum(s.value for f in text_string_to_metric_families(exposition) for s in f.samples if s.name == name)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, origin: Origin) -> Iterator[tuple[Gonogo, Prometheus]]:
    work = tmp_path_factory.mktemp("gonogo")
    policy = work / "policy.yaml"
    policy.write_text(POLICY)
    gonogo = Gonogo(work, policy, "--set", "proxyauth=any", "--quiet")
    (work / "state").mkdir()
    precharge(gonogo.state, policy, f"user:{STAFF[2]}")
    gonogo.start()
    try:
        with prometheus_running(tmp_path_factory.mktemp("prometheus"), [f"127.0.0.1:{gonogo.metrics_port}"],
                                RULE_FILES) as prometheus:
            prometheus.wait(lambda: prometheus.value(f'up{{job="{d.JOB}"}}') == 1, 30, "the proxy as a target")
            traffic(gonogo, origin, prometheus)
            yield gonogo, prometheus
    finally:
        assert gonogo.stop() == 0, gonogo.output()


def traffic(gonogo: Gonogo, origin: Origin, prometheus: Prometheus) -> None:
    """Requests that touch every panel, then wait until Prometheus has all of them."""
    alicia, bodhi, carmen = (gonogo.client(u, also_trust=(origin.cert,)) for u in STAFF)
    ivan = gonogo.client(INTERN, also_trust=(origin.cert,))
    try:
        # staff reaches min_group_size (2) with the second person
        for person in (alicia, bodhi):
            # an open tab's poll first: decided, allowed, spends no minute (gonogo_requests_not_spent_total)
            assert person.get(url(origin, "www.facebook.test", "/api/poll"), headers=POLL).status_code == 200
            assert person.get(url(origin, "www.facebook.test", "/feed")).status_code == 200
            assert person.get(url(origin, "tiktok.test", "/clip")).status_code in (200, 403)  # shadow: would block
        # the 0 series of staff's rare events must be scraped before the events, as in real life
        prometheus.wait(lambda: prometheus.query(f'{m.QUOTA_EXHAUSTED}{{group="staff"}}'), 20,
                        f"staff's zero series; the proxy says:\n{scrape(gonogo)}")
        blocked = carmen.get(url(origin, "facebook.test"), headers=NAV)  # her minute was spent: exhausted
        assert blocked.status_code == 403, blocked.text
        assert ivan.get(url(origin, "facebook.test"), headers=NAV).status_code == 403  # interns no social
        warned = alicia.get(url(origin, "news.test", "/story"), headers=NAV)
        assert warned.status_code == 403
        link = re.search(r'href="(/__gonogo__/continue\?[^"]+)"', warned.text)
        assert link, warned.text
        assert alicia.get(url(origin, "news.test", link.group(1).replace("&amp;", "&"))).status_code == 302
        assert alicia.get(url(origin, "news.test", "/story"), headers=NAV).status_code == 200
        assert bodhi.get(url(origin, "news.test", "/"), headers=NAV).status_code == 403
        assert bodhi.get(url(origin, "example.test", "/")).status_code == 200  # uncovered: passed through
    finally:
        for client in (alicia, bodhi, carmen, ivan):
            client.close()
    # Prometheus has everything once its sums equal the proxy's own counts
    exposition = scrape(gonogo)
    for name in (m.REQUESTS, m.QUOTA_EXHAUSTED, m.WARN_CONTINUES, m.PASSTHROUGH, m.SHADOW_DECISIONS):
        expected = total(exposition, name)
        assert expected > 0, name
        prometheus.wait(lambda n=name, e=expected: prometheus.value(f"sum({n})") == e, 20, f"{name} = {expected}")
    # rates need two samples of every series, and the recording rules an evaluation after that
    names = [n for n in m.ALL_NAMES if n != m.DECISION_SECONDS] + [m.DECISION_SECONDS + "_count"]

    def sampled_twice() -> bool:
        return all(prometheus.value(f"count({n})") == prometheus.value(f"count(count_over_time({n}[1m]) >= 2)")
                   for n in names)

    prometheus.wait(sampled_twice, 20, "two samples of every series")
    for record, expr in d.RECORDING_RULES:
        prometheus.wait(lambda r=record, e=expr: (prometheus.value(f"count({r})") or -1) == prometheus.value(
            f"count({e})"), 20, f"recording rule {record} to catch up")


def test_every_dashboard_query_runs_and_has_data(stack: tuple[Gonogo, Prometheus]) -> None:
    _, prometheus = stack
    problems, ran = [], 0
    now = time.time()
    for board in d.BOARDS:
        for q in d.queries(board):
            expr = expand(q.expr)
            where = f"{board} / {q.panel} / {q.ref}: {expr}"
            try:
                result = prometheus.query(expr, at=now)
                if not q.instant:
                    prometheus.query_range(expr, now - 60, now, 5)
            except PromQLError as exc:
                problems.append(f"{where}\n    error: {exc}")
                continue
            ran += 1
            if not result:
                problems.append(f"{where}\n    empty")
    assert ran >= 40
    assert not problems, "\n".join(problems)


def test_every_variable_lists_values_from_the_policy(stack: tuple[Gonogo, Prometheus]) -> None:
    _, prometheus = stack
    seen = {}
    for board in d.BOARDS:
        for variable in d.dashboard(board)["templating"]["list"]:
            if variable["type"] != "query":
                continue
            metric, label = re.fullmatch(r"label_values\((\w+), (\w+)\)", variable["query"]["query"]).groups()
            seen[label] = set(prometheus.api(f"label/{label}/values", **{"match[]": metric}))
    assert {"staff", "other"} <= seen["group"] and seen["group"] <= {"staff", "interns", "other", "none"}
    assert {"social", "news"} <= seen["category"]
    assert seen["schedule"] == {"always"}
    assert len(seen["instance"]) == 1


def test_recording_rules_and_alerts_evaluate_without_errors(stack: tuple[Gonogo, Prometheus]) -> None:
    _, prometheus = stack
    rules = list(prometheus.rules())
    alerts = [r for r in rules if r["type"] == "alerting"]
    assert len(rules) - len(alerts) == len(d.RECORDING_RULES) and len(alerts) >= 5
    assert [(r["name"], r.get("lastError")) for r in rules if r["health"] != "ok"] == []
    for record, expr in d.RECORDING_RULES:  # and the expressions themselves, directly
        assert prometheus.query(expr), record
    # a healthy proxy matches no alert condition (latency is left out: a busy CI host may be slow)
    for alert in alerts:
        if alert["name"] != "GonogoDecisionLatencyHigh":
            assert prometheus.query(alert["query"]) == [], alert["name"]


def test_the_numbers_say_what_happened(stack: tuple[Gonogo, Prometheus]) -> None:
    _, prometheus = stack

    def by(expr: str, label: str) -> dict[str, float]:
        return {s["metric"].get(label, ""): float(s["value"][1]) for s in prometheus.query(expand(expr))}

    blocked = by(f'sum by (rule) (increase({m.REQUESTS}{{decision="block"}}[1h]))', "rule")
    assert blocked.get("interns no social", 0) > 0
    groups = by(f"sum by (group) ({m.REQUESTS})", "group")
    assert groups.get("staff", 0) > 0 and groups.get("other", 0) > 0  # ivan alone is not a group yet
    shadow = by(f'sum by (rule) ({m.SHADOW_DECISIONS}{{decision="block"}})', "rule")
    assert shadow == {"tiktok trial": 2}
    assert prometheus.value(f"sum({m.WARN_CONTINUES})") == 1
    share = prometheus.value(f"max({d.R_PASSTHROUGH_SHARE})")
    assert share is not None and 0 < share < 1
    rate = next(q for q in d.queries("overview") if q.panel.startswith("Time-box budgets used up"))
    exhausted = by(rate.expr, "group")
    assert exhausted.get("staff", 0) > 0, exhausted  # carmen ran out; her group is named, she is not
    assert prometheus.value(f"sum({m.ACTIVE_USERS})") >= 2
    assert prometheus.value(f'{m.SCHEDULE_ACTIVE}{{schedule="always"}}') == 1


def test_the_real_exposition_passes_promtool_and_names_nobody(stack: tuple[Gonogo, Prometheus]) -> None:
    gonogo, _ = stack
    exposition = scrape(gonogo)
    assert promtool_findings(exposition) == []
    for name in (*STAFF, INTERN, "q7", "127.0.0.1"):
        assert name not in exposition
    health = httpx.get(f"http://127.0.0.1:{gonogo.metrics_port}/healthz", trust_env=False, timeout=10)
    assert (health.status_code, health.text) == (200, "ok\n")


def test_a_policy_change_shows_as_an_annotation(stack: tuple[Gonogo, Prometheus]) -> None:
    """Last in this module (it changes the policy): the proxy reloads a changed file, and the dashboards'
    "Policy changes" annotation query, run by the real Prometheus, marks the new version (sha256) in force."""
    gonogo, prometheus = stack
    (annotation,) = {q.expr for board in d.BOARDS for q in d.queries(board) if q.panel == "annotation: Policy changes"}
    before = {s["metric"]["sha256"] for s in prometheus.query(f"{m.POLICY_INFO}")}
    assert len(before) == 1
    gonogo.policy.write_text(POLICY + "# a changed policy file is a new policy version\n")
    changed = prometheus.wait(lambda: {s["metric"]["sha256"] for s in prometheus.query(m.POLICY_INFO)} - before,
                              30, f"the reloaded policy in {m.POLICY_INFO}\n{gonogo.output()}")
    marks = prometheus.query(annotation)
    assert changed <= {s["metric"]["sha256"] for s in marks}, marks
    now = time.time()
    assert prometheus.query_range(annotation, now - 60, now, 5), "Grafana asks for a range: it must not be empty"
