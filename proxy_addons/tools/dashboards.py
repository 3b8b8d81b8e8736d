"""Grafana dashboards and the Prometheus recording rules they read, generated from code.

Why generated: every query takes its metric names from `metrics.py`, so renaming a metric cannot leave a
dashboard silently empty; the committed JSON/YAML are compared with this output by a test, and an end-to-end
test runs every query below against a real Prometheus scraping a real proxy.

    python -m proxy_addons.tools.dashboards --write dashboards/ --rules deploy/prometheus/rules/recording.yml
    python -m proxy_addons.tools.dashboards --check ...      # exit 1 when the committed files differ

Ratios are computed here in PromQL from counters summed over all proxies, never stored per process, so the
numbers stay right with any number of proxies behind one Prometheus.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from .. import metrics as m

JOB = "gonogo"  # the scrape job name in deploy/prometheus/prometheus.yml; `up` and the alerts use it
DATASOURCE_UID = "prometheus"
DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}
SCHEMA_VERSION = 39
TAG = "gonogo"

# ---- recording rules (names follow level:metric:operations) ----
R_REQUESTS = "group_category_rule_decision:gonogo_requests:rate5m"
R_SHADOW = "group_category_rule_decision:gonogo_shadow_decisions:rate5m"
R_MINUTES = "group_category:gonogo_active_minutes:rate5m"
R_ACTIVE = "group_category:gonogo_active_users:sum"
R_TODAY = "group:gonogo_users_today:sum"
R_POLICY_PROXIES = "sha256:gonogo_policy_info:count"
R_POLICY_REQUESTS = "sha256_group_category_decision:gonogo_requests:rate5m"
R_POLICY_MINUTES = "sha256_group_category:gonogo_active_minutes:rate5m"
R_POLICY_ACTIVE = "sha256_group_category:gonogo_active_users:sum"
R_P50 = "job:gonogo_decision_seconds:p50_rate5m"
R_P99 = "job:gonogo_decision_seconds:p99_rate5m"
R_INSTANCE_P99 = "instance:gonogo_decision_seconds:p99_rate5m"
R_PASSTHROUGH_SHARE = "job:gonogo_passthrough_connections:ratio_rate5m"

_BY_POLICY = f"* on (job, instance) group_left (sha256) {m.POLICY_INFO}"
_PASS_5M = f"(sum by (job) (rate({m.PASSTHROUGH}[5m])) or sum by (job) (rate({m.INTERCEPTED}[5m])) * 0)"

RECORDING_RULES: tuple[tuple[str, str], ...] = (
    (R_REQUESTS, f"sum by (group, category, rule, decision) (rate({m.REQUESTS}[5m]))"),
    (R_SHADOW, f"sum by (group, category, rule, decision) (rate({m.SHADOW_DECISIONS}[5m]))"),
    (R_MINUTES, f"sum by (group, category) (rate({m.ACTIVE_MINUTES}[5m]))"),
    (R_ACTIVE, f"sum by (group, category) ({m.ACTIVE_USERS})"),
    (R_TODAY, f"sum by (group) ({m.USERS_TODAY})"),
    (R_POLICY_PROXIES, f"count by (sha256) ({m.POLICY_INFO})"),
    # each proxy's numbers attributed to the policy that proxy had in force at the time
    (R_POLICY_REQUESTS, f"sum by (sha256, group, category, decision) (rate({m.REQUESTS}[5m]) {_BY_POLICY})"),
    (R_POLICY_MINUTES, f"sum by (sha256, group, category) (rate({m.ACTIVE_MINUTES}[5m]) {_BY_POLICY})"),
    (R_POLICY_ACTIVE, f"sum by (sha256, group, category) ({m.ACTIVE_USERS} {_BY_POLICY})"),
    (R_P50, f"histogram_quantile(0.5, sum by (job, le) (rate({m.DECISION_SECONDS}_bucket[5m])))"),
    (R_P99, f"histogram_quantile(0.99, sum by (job, le) (rate({m.DECISION_SECONDS}_bucket[5m])))"),
    (R_INSTANCE_P99, f"histogram_quantile(0.99, sum by (job, instance, le) (rate({m.DECISION_SECONDS}_bucket[5m])))"),
    (R_PASSTHROUGH_SHARE, f"{_PASS_5M} / ({_PASS_5M} + sum by (job) (rate({m.INTERCEPTED}[5m])))"),
)

GC = '{group=~"$group", category=~"$category"}'
G = '{group=~"$group"}'
INST = '{instance=~"$instance"}'
RATE = "$__rate_interval"
BLOCK = 'decision="block"'
BLOCK_WARN = 'decision=~"block|warn"'


def sel(*matchers: str) -> str:
    """A label selector: group and category variables plus extra matchers."""
    return "{" + ", ".join(['group=~"$group"', 'category=~"$category"', *matchers]) + "}"


MINUTES_NOTE = ("Minutes are *active minutes*: a person counts one minute for a category when at least one "
                "request went to it in that clock minute (the time-box unit, see the employee notice). They are "
                "not time spent looking at a screen, and a tab left open without requests counts nothing.")
GROUP_NOTE = ("Groups are the person's first group in the policy; a group with fewer people seen than "
              "`privacy.min_group_size` is shown as `other`, people in no group as `none`. No person is ever named.")
REQUESTS_NOTE = ("Counts HTTP requests, not page views: one page load makes many requests, so compare numbers "
                 "with each other, not with a count of visits.")


@dataclass(frozen=True)
class Q:
    expr: str
    legend: str = ""
    instant: bool = False
    table: bool = False


@dataclass(frozen=True)
class Panel:
    kind: str  # timeseries | bars | stat | bargauge | table
    title: str
    description: str
    queries: tuple[Q, ...]
    unit: str = "short"
    width: int = 12
    height: int = 8
    interval: str | None = None
    decimals: int | None = None
    hide_value: bool = False  # tables whose value is always 1 (info metrics)


@dataclass(frozen=True)
class Board:
    uid: str
    title: str
    description: str
    time_from: str
    variables: tuple[str, ...]  # of: group, category, schedule, instance
    panels: tuple[Panel, ...]


def _overview() -> Board:
    work_share = (f"(sum by (category) ({R_MINUTES}{GC}) * 60 / on () group_left () sum ({R_TODAY}{G})) "
                  f'and on () (max ({m.SCHEDULE_ACTIVE}{{schedule="$schedule"}}) == 1)')
    return Board("gonogo-overview", "gonogo / Overview", "What people do with covered sites under the policy, "
                 "by group and category. Never names a person.", "now-7d", ("group", "category", "schedule"), (
        Panel("stat", "People active now, by category",
              "People with at least one active minute in the category during the last 5 minutes, summed over "
              "the selected groups and all proxies. A person active in two categories counts in both; a person "
              "using two proxies at once counts twice. " + GROUP_NOTE,
              (Q(f"sum by (category) ({m.ACTIVE_USERS}{GC})", "{{category}}", instant=True),), "none", 8, 5),
        Panel("stat", "People seen today",
              "People with at least one active minute on any covered category since local midnight (policy time "
              "zone). People who only used uncovered sites are not seen and not counted.",
              (Q(f"sum ({m.USERS_TODAY}{G})", "people", instant=True),), "none", 8, 5),
        Panel("stat", "Average share of $schedule on covered sites",
              "Over the dashboard's time range, while the schedule `$schedule` was on: active minutes in each "
              "category divided by (people seen today x minutes). Among people who used a covered site today; "
              "it does not include people who never did. " + MINUTES_NOTE,
              (Q(f"avg_over_time(({work_share})[$__range:])", "{{category}}", instant=True),), "percentunit", 8, 5,
              decimals=1),
        Panel("bars", "Active minutes per person per workday",
              "For each workday (a day on which the schedule `$schedule` was on, so weekends and holidays are "
              "left out), active minutes in the category divided by the people who used that category that "
              "day: the time a typical user of, say, social media spent there. Days are 24 h buckets. "
              + MINUTES_NOTE,
              (Q(f"sum by (group, category) (increase({m.ACTIVE_MINUTES}{GC}[1d])) / sum by (group, category) "
                 f"(max_over_time({m.CATEGORY_USERS_TODAY}{GC}[1d])) and on () "
                 f'(max (max_over_time({m.SCHEDULE_ACTIVE}{{schedule="$schedule"}}[1d])) == 1)',
                 "{{group}} / {{category}}"),),
              "m", 12, 9, interval="1d"),
        Panel("timeseries", "Share of $schedule spent on each category",
              "While `$schedule` is on: people active in the category this minute divided by people seen today, "
              "i.e. the share of work time spent there, averaged over everyone seen today. Empty outside the "
              "schedule. Not a measure of anyone's productivity. " + MINUTES_NOTE,
              (Q(work_share, "{{category}}"),), "percentunit", 12, 9),
        Panel("timeseries", "Blocks, warnings and continues per hour",
              "Requests refused (block) or answered with a warning page (warn), and warnings people chose to "
              "continue past, per hour. " + REQUESTS_NOTE,
              (Q(f"sum by (decision) ({R_REQUESTS}{sel(BLOCK_WARN)}) * 3600", "{{decision}}"),
               Q(f"sum (rate({m.WARN_CONTINUES}{GC}[{RATE}])) * 3600", "continue")), "short", 12, 8),
        Panel("bars", "Time-box budgets used up, share of users per day",
              "Of the people who used a time-boxed category on a day, the share who used up the budget that day "
              "(each person counts once per budget period). A high share means the budget is tight for many; "
              "it says nothing about who.",
              (Q(f"sum by (group, category) (increase({m.QUOTA_EXHAUSTED}{GC}[1d])) / sum by (group, category) "
                 f"(max_over_time({m.CATEGORY_USERS_TODAY}{GC}[1d]))", "{{group}} / {{category}}"),),
              "percentunit", 12, 8, interval="1d"),
        Panel("timeseries", "People active (last 5 minutes), by group and category",
              "Distinct people with an active minute in the last 5 minutes, summed over proxies. " + GROUP_NOTE,
              (Q(f"sum by (group, category) ({R_ACTIVE}{GC})", "{{group}} / {{category}}"),), "none", 12, 8),
        Panel("bargauge", "Blocked requests by rule",
              "Requests refused over the dashboard's time range, by the rule that refused them (`default` = the "
              "policy's default). " + REQUESTS_NOTE,
              (Q(f"sum by (rule) (increase({m.REQUESTS}{sel(BLOCK)}[$__range]))", "{{rule}}",
                 instant=True),), "short", 12, 8),
    ))


def _policy_impact() -> Board:
    blocks = f"sum by (sha256) ({R_POLICY_REQUESTS}{sel(BLOCK)}) * 3600"
    minutes_per_person = (f"sum by (sha256) ({R_POLICY_MINUTES}{GC}) * 3600 / sum by (sha256) "
                          f"({R_POLICY_ACTIVE}{GC})")
    by_group = "Groups are side by side so groups under different rules can be compared. " + GROUP_NOTE
    before_after = ("Each series is one policy version (sha256): every proxy's numbers count for the policy that "
                    "proxy had in force at the time, so the line changes colour at a policy change (orange "
                    "annotations). ")
    return Board("gonogo-policy-impact", "gonogo / Policy impact", "What a policy change did: before vs after, "
                 "shadow rules' would-be blocks beside real ones, groups side by side.", "now-14d",
                 ("group", "category"), (
        Panel("table", "Policies in force",
              "Each policy version now in force and on how many proxies. Two rows mean the proxies disagree (a "
              "roll-out in progress or a proxy that rejected the new file; see Gateway health).",
              (Q(f"count by (version, sha256) ({m.POLICY_INFO})", instant=True, table=True),), "none", 12, 6),
        Panel("timeseries", "Proxies per policy version",
              "How many proxies had each policy version in force over time; a change shows as one line "
              "handing over to another.", (Q(R_POLICY_PROXIES, "{{sha256}}"),), "none", 12, 6),
        Panel("timeseries", "Blocked requests per hour, by policy version",
              before_after + REQUESTS_NOTE + " A change of headcount changes this too; compare with the "
              "per-person panel below.", (Q(blocks, "{{sha256}}"),), "short", 12, 8),
        Panel("timeseries", "Active minutes per hour per active person, by policy version",
              before_after + "Active minutes per hour divided by people active in the last 5 minutes: how "
              "intensely people who use covered sites use them, independent of headcount. " + MINUTES_NOTE,
              (Q(minutes_per_person, "{{sha256}}"),), "m", 12, 8),
        Panel("bargauge", "Before vs after: blocks per hour while each policy was in force",
              "Average over the dashboard's time range of blocked requests per hour, per policy version, counting "
              "only the time each version was in force. Pick a range that spans the change. " + REQUESTS_NOTE,
              (Q(f"avg_over_time(({blocks})[$__range:])", "{{sha256}}", instant=True),), "short", 12, 7),
        Panel("bargauge", "Before vs after: active minutes per hour per active person",
              "Average over the dashboard's time range, per policy version, counting only the time each version "
              "was in force. Seasons, holidays and headcount differ between the periods too. " + MINUTES_NOTE,
              (Q(f"avg_over_time(({minutes_per_person})[$__range:])", "{{sha256}}", instant=True),), "m", 12, 7),
        Panel("timeseries", "Shadow rules: would-be blocks beside real blocks",
              "Per hour: requests a shadow (trial) rule would have blocked, next to requests real rules did "
              "block. Shadow rules are never enforced; the request they matched was decided by the real rules "
              "(often allowed), so the two lines may count the same request. " + REQUESTS_NOTE,
              (Q(f"sum by (rule) ({R_SHADOW}{sel(BLOCK)}) * 3600", "would block: {{rule}}"),
               Q(f"sum by (rule) ({R_REQUESTS}{sel(BLOCK)}) * 3600", "blocked: {{rule}}")),
              "short", 12, 8),
        Panel("bargauge", "Shadow vs real over the range",
              "Total requests over the dashboard's time range that each shadow rule would have decided (block, "
              "warn or allow), next to the real blocks by rule.",
              (Q(f"sum by (rule, decision) (increase({m.SHADOW_DECISIONS}{GC}[$__range]))",
                 "shadow {{rule}}: {{decision}}", instant=True),
               Q(f"sum by (rule) (increase({m.REQUESTS}{sel(BLOCK)}[$__range]))",
                 "blocked: {{rule}}", instant=True)), "short", 12, 8),
        Panel("timeseries", "Groups side by side: share of requests blocked or warned",
              "Per group, blocked and warned requests divided by all decided requests of that group. " + by_group,
              (Q(f"sum by (group, decision) ({R_REQUESTS}{sel(BLOCK_WARN)}) / on (group) "
                 f"group_left () sum by (group) ({R_REQUESTS}{GC})", "{{group}}: {{decision}}"),),
              "percentunit", 12, 8),
        Panel("timeseries", "Groups side by side: active minutes per hour per active person",
              "Per group: active minutes per hour divided by people of the group active in the last 5 minutes. "
              + by_group + " " + MINUTES_NOTE,
              (Q(f"sum by (group) ({R_MINUTES}{GC}) * 3600 / sum by (group) ({R_ACTIVE}{GC})", "{{group}}"),),
              "m", 12, 8),
        Panel("bargauge", "Groups side by side: decisions over the range",
              "Requests per group and decision over the dashboard's time range. " + by_group + " " + REQUESTS_NOTE,
              (Q(f"sum by (group, decision) (increase({m.REQUESTS}{GC}[$__range]))", "{{group}}: {{decision}}",
                 instant=True),), "short", 24, 8),
    ))


def _gateway_health() -> Board:
    pass_rate = f"(sum (rate({m.PASSTHROUGH}{INST}[{RATE}])) or sum (rate({m.INTERCEPTED}{INST}[{RATE}])) * 0)"
    return Board("gonogo-gateway-health", "gonogo / Gateway health", "Is the proxy up, fast and deciding with "
                 "the policy you expect?", "now-6h", ("instance",), (
        Panel("stat", "Proxies up",
              f"Proxies Prometheus scrapes successfully (job `{JOB}`) out of those it knows. A proxy that is down "
              "lets nobody through if clients have no fallback.",
              (Q(f'sum (up{{job="{JOB}", instance=~"$instance"}})', "up", instant=True),
               Q(f'count (up{{job="{JOB}", instance=~"$instance"}})', "known", instant=True)), "none", 6, 5),
        Panel("stat", "Last policy reload succeeded",
              "Per proxy: 1 when its last policy load or reload worked, 0 when it rejected a changed file (the "
              "previous policy stays in force; `gonogo check` names the line).",
              (Q(f"min by (instance) ({m.POLICY_LAST_RELOAD_OK}{INST})", "{{instance}}", instant=True),),
              "none", 6, 5),
        Panel("table", "Policy per proxy",
              "The policy version (sha256) each proxy enforces now; proxies should agree. A proxy that is down is "
              "missing here rather than shown as wrong (see Proxies up).",
              (Q(f"max by (instance, sha256) ({m.POLICY_INFO}{INST})", instant=True, table=True),), "none", 12, 5,
              hide_value=True),
        Panel("timeseries", "Requests per second by decision",
              "Decided requests per second over all selected proxies. Connections passed through undecrypted "
              "are not requests here (see the connections panel). " + REQUESTS_NOTE,
              (Q(f"sum by (decision) (rate({m.REQUESTS}{INST}[{RATE}]))", "{{decision}}"),), "reqps", 12, 8),
        Panel("timeseries", "Requests per second by proxy",
              "Decided requests per second per proxy: an uneven spread means the load balancer sticks many "
              "clients to one proxy.",
              (Q(f"sum by (instance) (rate({m.REQUESTS}{INST}[{RATE}]))", "{{instance}}"),), "reqps", 12, 8),
        Panel("timeseries", "Decision latency p50 / p99",
              "Time to decide one request (policy evaluation plus the ledger when a time-box minute is "
              "charged), over all selected proxies and per proxy (p99). It is not the page load time: "
              "upstream and TLS time are not included.",
              (Q(f"histogram_quantile(0.5, sum by (le) (rate({m.DECISION_SECONDS}_bucket{INST}[{RATE}])))", "p50"),
               Q(f"histogram_quantile(0.99, sum by (le) (rate({m.DECISION_SECONDS}_bucket{INST}[{RATE}])))",
                 "p99"),
               Q(f"{R_INSTANCE_P99}{INST}", "p99 {{instance}}")), "s", 12, 8),
        Panel("timeseries", "Passthrough share of connections",
              "Share of client TLS connections passed through without decrypting (no rule could decide their "
              "host, or no-CA mode). A sudden rise can mean clients bypass interception; it is not a share of "
              "requests.",
              (Q(f"{pass_rate} / ({pass_rate} + sum (rate({m.INTERCEPTED}{INST}[{RATE}])))", "passthrough share"),),
              "percentunit", 12, 8),
        Panel("timeseries", "Connections per second: decrypted vs passed through",
              "Client connections decrypted and decided per request, and connections passed through by reason.",
              (Q(f"sum (rate({m.INTERCEPTED}{INST}[{RATE}]))", "decrypted"),
               Q(f"sum by (reason) (rate({m.PASSTHROUGH}{INST}[{RATE}]))", "passed through: {{reason}}")),
              "cps", 12, 8),
        Panel("timeseries", "Policy reloads",
              "Reload attempts per interval by result. `error` means a changed policy file was rejected and the "
              "previous policy stayed in force; the proxy log and `gonogo check` say why.",
              (Q(f"sum by (result) (increase({m.POLICY_RELOADS}{INST}[{RATE}]))", "{{result}}"),), "short", 12, 8),
        Panel("timeseries", "Ledger errors and availability",
              "Failed operations on the quota ledger (SQLite or Redis) per interval, and whether each proxy's "
              "ledger answers (1) or not (0). While it does not, time-boxes follow --ledger-unavailable and "
              "minutes may be counted late or not at all.",
              (Q(f"sum by (instance) (increase({m.LEDGER_ERRORS}{INST}[{RATE}]))", "errors {{instance}}"),
               Q(f"min by (instance) ({m.LEDGER_AVAILABLE}{INST})", "available {{instance}}")), "short", 12, 8),
    ))


BOARDS = {"overview": _overview, "policy-impact": _policy_impact, "gateway-health": _gateway_health}


# ---- Grafana JSON ----
def _variable(name: str) -> dict[str, Any]:
    if name == "schedule":
        query = f"label_values({m.SCHEDULE_ACTIVE}, schedule)"
        return {"name": "schedule", "label": "Schedule", "type": "query", "datasource": DATASOURCE,
                "definition": query, "query": {"query": query, "refId": "StandardVariableQuery"}, "refresh": 2,
                "multi": False, "includeAll": False, "sort": 1, "hide": 0, "regex": "", "options": [],
                "description": "The policy schedule that stands for work time (e.g. work-hours).",
                "current": {"selected": True, "text": "work-hours", "value": "work-hours"}}
    metric, label = {"group": (m.REQUESTS, "Group"), "category": (m.REQUESTS, "Category"),
                     "instance": (m.POLICY_INFO, "Proxy")}[name]
    query = f"label_values({metric}, {name})"
    return {"name": name, "label": label, "type": "query", "datasource": DATASOURCE, "definition": query,
            "query": {"query": query, "refId": "StandardVariableQuery"}, "refresh": 2, "multi": True,
            "includeAll": True, "allValue": ".*", "sort": 1, "hide": 0, "regex": "", "options": [],
            "current": {"selected": True, "text": ["All"], "value": ["$__all"]}}


def _datasource_variable() -> dict[str, Any]:
    return {"name": "datasource", "label": "Data source", "type": "datasource", "query": "prometheus",
            "current": {"selected": True, "text": "Prometheus", "value": DATASOURCE_UID}, "hide": 0,
            "refresh": 1, "regex": "", "options": []}


POLICY_CHANGE_EXPR = f"count by (sha256) ({m.POLICY_INFO}) unless count by (sha256) ({m.POLICY_INFO} offset 5m)"


def _annotations() -> list[dict[str, Any]]:
    return [
        {"builtIn": 1, "datasource": {"type": "grafana", "uid": "-- Grafana --"}, "enable": True, "hide": True,
         "iconColor": "rgba(0, 211, 255, 1)", "name": "Annotations & Alerts", "type": "dashboard"},
        {"name": "Policy changes", "datasource": DATASOURCE, "enable": True, "hide": False, "iconColor": "orange",
         "expr": POLICY_CHANGE_EXPR, "step": "1m", "titleFormat": "Policy changed",
         "textFormat": "now in force: sha256 {{sha256}}", "tagKeys": "sha256", "useValueForTime": False},
    ]


def _target(index: int, q: Q) -> dict[str, Any]:
    target: dict[str, Any] = {"refId": chr(ord("A") + index), "datasource": DATASOURCE, "editorMode": "code",
                              "expr": q.expr, "legendFormat": q.legend or "__auto", "range": not q.instant,
                              "instant": q.instant}
    if q.table:
        target["format"] = "table"
    return target


def _panel_json(pid: int, p: Panel, grid: dict[str, int]) -> dict[str, Any]:
    defaults: dict[str, Any] = {"unit": p.unit, "color": {"mode": "palette-classic"}}
    if p.decimals is not None:
        defaults["decimals"] = p.decimals
    options: dict[str, Any]
    reduce = {"calcs": ["lastNotNull"], "fields": "", "values": False}
    kind = p.kind
    if kind in ("timeseries", "bars"):
        defaults["min"] = 0
        defaults["custom"] = {"drawStyle": "bars" if kind == "bars" else "line", "fillOpacity": 70 if kind == "bars"
                              else 10, "lineWidth": 1, "showPoints": "never", "spanNulls": False}
        options = {"legend": {"displayMode": "list", "placement": "bottom", "showLegend": True},
                   "tooltip": {"mode": "multi", "sort": "desc"}}
        kind = "timeseries"
    elif kind == "stat":
        options = {"reduceOptions": reduce, "colorMode": "value", "graphMode": "none", "justifyMode": "auto",
                   "orientation": "auto", "textMode": "auto"}
    elif kind == "bargauge":
        defaults["min"] = 0
        options = {"reduceOptions": reduce, "orientation": "horizontal", "displayMode": "basic",
                   "showUnfilled": True, "valueMode": "color"}
    else:
        options = {"showHeader": True, "cellHeight": "sm"}
    panel: dict[str, Any] = {"id": pid, "type": kind, "title": p.title, "description": p.description,
                             "datasource": DATASOURCE, "gridPos": grid,
                             "targets": [_target(i, q) for i, q in enumerate(p.queries)],
                             "fieldConfig": {"defaults": defaults, "overrides": []}, "options": options}
    if p.interval:
        panel["interval"] = p.interval
    if p.kind == "table":
        hidden = {"Time": True, **({"Value": True} if p.hide_value else {})}
        panel["transformations"] = [{"id": "organize", "options": {"excludeByName": hidden}}]
    return panel


def dashboard(name: str) -> dict[str, Any]:
    """The Grafana JSON of one dashboard (`overview`, `policy-impact`, `gateway-health`)."""
    board = BOARDS[name]()
    panels, x, y, row_height = [], 0, 0, 0
    for pid, p in enumerate(board.panels, start=1):
        if x + p.width > 24:
            x, y, row_height = 0, y + row_height, 0
        panels.append(_panel_json(pid, p, {"h": p.height, "w": p.width, "x": x, "y": y}))
        x, row_height = x + p.width, max(row_height, p.height)
    return {
        "uid": board.uid, "title": board.title, "description": board.description, "tags": [TAG],
        "schemaVersion": SCHEMA_VERSION, "version": 1, "editable": True, "graphTooltip": 1,
        "timezone": "browser", "refresh": "1m", "time": {"from": board.time_from, "to": "now"},
        "fiscalYearStartMonth": 0, "liveNow": False, "weekStart": "monday",
        "links": [{"type": "dashboards", "tags": [TAG], "asDropdown": False, "includeVars": False,
                   "keepTime": True, "title": "gonogo dashboards", "icon": "external link", "targetBlank": False,
                   "tooltip": "", "url": ""}],
        "annotations": {"list": _annotations()},
        "templating": {"list": [_datasource_variable(), *(_variable(v) for v in board.variables)]},
        "panels": panels,
    }


def recording_rules() -> dict[str, Any]:
    return {"groups": [{"name": "gonogo-recording",
                        "rules": [{"record": name, "expr": expr} for name, expr in RECORDING_RULES]}]}


@dataclass(frozen=True)
class Query:
    """One PromQL query of a dashboard, for tests and tooling."""

    board: str
    panel: str
    ref: str
    expr: str
    instant: bool


def queries(name: str) -> Iterator[Query]:
    """Every PromQL query a dashboard runs: panel targets and annotations (variables are label_values)."""
    board = dashboard(name)
    for panel in board["panels"]:
        for target in panel["targets"]:
            yield Query(name, panel["title"], target["refId"], target["expr"], target["instant"])
    for annotation in board["annotations"]["list"]:
        if "expr" in annotation:
            yield Query(name, "annotation: " + annotation["name"], "A", annotation["expr"], False)


# ---- files ----
RULES_HEADER = ("# Generated by `python -m proxy_addons.tools.dashboards --rules ...` from "
                "proxy_addons/tools/dashboards.py;\n"
                "# do not edit here (a test compares this file with the generator).\n")


def render_dashboard(name: str) -> str:
    return json.dumps(dashboard(name), indent=2, ensure_ascii=False) + "\n"


def render_rules() -> str:
    return RULES_HEADER + yaml.safe_dump(recording_rules(), sort_keys=False, width=100_000, allow_unicode=True)


def outputs(dashboards_dir: Path | None, rules_file: Path | None) -> dict[Path, str]:
    files: dict[Path, str] = {}
    if dashboards_dir is not None:
        files.update({dashboards_dir / f"{name}.json": render_dashboard(name) for name in BOARDS})
    if rules_file is not None:
        files[rules_file] = render_rules()
    return files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m proxy_addons.tools.dashboards", description=__doc__.split("\n")[0])
    parser.add_argument("--write", type=Path, metavar="DIR", help="directory for the dashboard JSON files")
    parser.add_argument("--rules", type=Path, metavar="FILE", help="the recording rules file to write")
    parser.add_argument("--check", action="store_true", help="compare instead of writing; exit 1 on a difference")
    args = parser.parse_args(argv)
    files = outputs(args.write, args.rules)
    if not files:
        parser.error("nothing to do: give --write DIR and/or --rules FILE")
    stale = [path for path, text in files.items() if not path.is_file() or path.read_text("utf-8") != text]
    if args.check:
        for path in stale:
            print(f"{path}: differs from the generator; run python -m proxy_addons.tools.dashboards", file=sys.stderr)
        return 1 if stale else 0
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, "utf-8")
        print(f"{'wrote' if path in stale else 'unchanged'} {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
