"""What the gonogo dashboards show: every panel's queries, words and unit, and the recording rules they read.

Why separate from `dashboards.py`: this is the content (PromQL built from the metric names in `metrics/names.py`, so a
renamed metric cannot leave a panel silently empty); `dashboards.py` turns it into Grafana JSON with Grafana's
Foundation SDK. Ratios are computed in PromQL from counters summed over all proxies, never stored per process,
so the numbers stay right with any number of proxies behind one Prometheus. Active time is exported in seconds
(Prometheus' base unit); panels show it with Grafana's `s` unit, which reads as minutes and hours.
"""

from __future__ import annotations

from dataclasses import dataclass

from .. import metrics as m

JOB = "gonogo"  # the scrape job name in deploy/prometheus/prometheus.yml; `up` and the alerts use it

# ---- recording rules (names follow level:metric:operations) ----
R_REQUESTS = "group_category_rule_decision:gonogo_requests:rate5m"
R_SHADOW = "group_category_rule_decision:gonogo_shadow_decisions:rate5m"
R_SECONDS = "group_category:gonogo_active_seconds:rate5m"  # active seconds per second = people active
R_ACTIVE = "group_category:gonogo_active_users:sum"
R_TODAY = "group:gonogo_users_today:sum"
R_POLICY_PROXIES = "sha256:gonogo_policy_info:count"
R_POLICY_REQUESTS = "sha256_group_category_decision:gonogo_requests:rate5m"
R_POLICY_SECONDS = "sha256_group_category:gonogo_active_seconds:rate5m"
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
    (R_SECONDS, f"sum by (group, category) (rate({m.ACTIVE_SECONDS}[5m]))"),
    (R_ACTIVE, f"sum by (group, category) ({m.ACTIVE_USERS})"),
    (R_TODAY, f"sum by (group) ({m.USERS_TODAY})"),
    (R_POLICY_PROXIES, f"count by (sha256) ({m.POLICY_INFO})"),
    # each proxy's numbers attributed to the policy that proxy had in force at the time
    (R_POLICY_REQUESTS, f"sum by (sha256, group, category, decision) (rate({m.REQUESTS}[5m]) {_BY_POLICY})"),
    (R_POLICY_SECONDS, f"sum by (sha256, group, category) (rate({m.ACTIVE_SECONDS}[5m]) {_BY_POLICY})"),
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


MINUTES_NOTE = ("Time is counted in *active minutes*: a person counts one minute (60 s) for a category when at "
                "least one request went to it in that clock minute (the time-box unit, see the employee notice; "
                "on time-boxed sites only requests that show attention, so a tab left open that only polls in "
                "the background counts nothing). It is not time spent looking at a screen.")
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


def _not_spent_panel() -> Panel:
    """The "open tab" use that fair counting (policy/attention.py) did not charge."""
    return Panel("timeseries", "Time-boxed requests that spent no minute, per hour",
                 "Requests to time-boxed sites that were allowed without spending a minute of anyone's budget, "
                 "because they showed no attention: `background` (fetch/XHR polls under the data threshold), "
                 "`server-push` (WebSocket messages the server sent), `no-fetch-metadata` (clients without "
                 "Sec-Fetch-* headers, when the policy says they never count). This is the \"open tab\" use the "
                 "fair counting does not charge. " + GROUP_NOTE + " " + REQUESTS_NOTE,
                 (Q(f"sum by (reason) (rate({m.NOT_SPENT}{GC}[{RATE}])) * 3600", "{{reason}}"),), "short", 24, 8)


def _overview() -> Board:
    work_share = (f"(sum by (category) ({R_SECONDS}{GC}) / on () group_left () sum ({R_TODAY}{G})) "
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
              "Over the dashboard's time range, while the schedule `$schedule` was on: active time in each "
              "category divided by (people seen today x time). Among people who used a covered site today; "
              "it does not include people who never did. " + MINUTES_NOTE,
              (Q(f"avg_over_time(({work_share})[$__range:])", "{{category}}", instant=True),), "percentunit", 8, 5,
              decimals=1),
        Panel("bars", "Active time per person per workday",
              "For each workday (a day on which the schedule `$schedule` was on, so weekends and holidays are "
              "left out), active time in the category divided by the people who used that category that "
              "day: the time a typical user of, say, social media spent there. Days are 24 h buckets. "
              + MINUTES_NOTE,
              (Q(f"sum by (group, category) (increase({m.ACTIVE_SECONDS}{GC}[1d])) / sum by (group, category) "
                 f"(max_over_time({m.CATEGORY_USERS_TODAY}{GC}[1d])) and on () "
                 f'(max (max_over_time({m.SCHEDULE_ACTIVE}{{schedule="$schedule"}}[1d])) == 1)',
                 "{{group}} / {{category}}"),),
              "s", 12, 9, interval="1d"),
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
        _not_spent_panel(),
    ))


def _policy_impact() -> Board:
    blocks = f"sum by (sha256) ({R_POLICY_REQUESTS}{sel(BLOCK)}) * 3600"
    seconds_per_person = (f"sum by (sha256) ({R_POLICY_SECONDS}{GC}) * 3600 / sum by (sha256) "
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
        Panel("timeseries", "Active time per hour per active person, by policy version",
              before_after + "Active time per hour divided by people active in the last 5 minutes: how "
              "intensely people who use covered sites use them, independent of headcount. " + MINUTES_NOTE,
              (Q(seconds_per_person, "{{sha256}}"),), "s", 12, 8),
        Panel("bargauge", "Before vs after: blocks per hour while each policy was in force",
              "Average over the dashboard's time range of blocked requests per hour, per policy version, counting "
              "only the time each version was in force. Pick a range that spans the change. " + REQUESTS_NOTE,
              (Q(f"avg_over_time(({blocks})[$__range:])", "{{sha256}}", instant=True),), "short", 12, 7),
        Panel("bargauge", "Before vs after: active time per hour per active person",
              "Average over the dashboard's time range, per policy version, counting only the time each version "
              "was in force. Seasons, holidays and headcount differ between the periods too. " + MINUTES_NOTE,
              (Q(f"avg_over_time(({seconds_per_person})[$__range:])", "{{sha256}}", instant=True),), "s", 12, 7),
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
        Panel("timeseries", "Groups side by side: active time per hour per active person",
              "Per group: active time per hour divided by people of the group active in the last 5 minutes. "
              + by_group + " " + MINUTES_NOTE,
              (Q(f"sum by (group) ({R_SECONDS}{GC}) * 3600 / sum by (group) ({R_ACTIVE}{GC})", "{{group}}"),),
              "s", 12, 8),
        Panel("bargauge", "Groups side by side: decisions over the range",
              "Requests per group and decision over the dashboard's time range. " + by_group + " " + REQUESTS_NOTE,
              (Q(f"sum by (group, decision) (increase({m.REQUESTS}{GC}[$__range]))", "{{group}}: {{decision}}",
                 instant=True),), "short", 24, 8),
        Panel("bargauge", "Exception requests: asked, approved, denied, expired",
              "Requests for an exception people made from block pages (rules with `exceptions:`) over the "
              "dashboard's time range, by what became of them, per group. Many requests for one rule suggest the "
              "rule is in the way of real work. " + by_group,
              (Q(f"sum by (group, result) (increase({m.EXCEPTION_REQUESTS}{G}[$__range]))", "{{group}}: {{result}}",
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


# A policy change: a policy version (sha256) in force now that was in force nowhere 5 minutes ago. Shown as an
# annotation on every time-series panel, so the before and after of a change sit on either side of it.
POLICY_CHANGE_EXPR = f"count by (sha256) ({m.POLICY_INFO}) unless count by (sha256) ({m.POLICY_INFO} offset 5m)"
