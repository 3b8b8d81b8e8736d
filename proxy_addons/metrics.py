"""Prometheus metrics of the gateway: every metric name, the collectors and the `/metrics` server.

Why it is built this way:
- One module holds every name; `dashboards.py` and the recording rules take their names from here.
- Collectors live in a per-instance `CollectorRegistry`: when mitmdump re-runs a changed script a new
  `Metrics` is made and "Duplicated timeseries" cannot happen.
- Label values come from the loaded policy only (group, category and rule names), never from traffic: the
  number of series is bounded by the policy and no user name or address can reach a label. A group is
  reported as `other` until `privacy.min_group_size` distinct people of it were seen.
- Only counters and plain gauges are exported, never per-process ratios, so several proxies behind one
  Prometheus sum correctly; the dashboards compute ratios in PromQL. `_created` series are dropped (they
  would double the series count and nothing reads them).
- People are remembered only as keyed pseudonyms (HMAC with a per-process random key), in memory, in
  bounded sets, for as long as a metric needs them (deduplication of a minute, "active in the last 5
  minutes", "seen today").
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import hmac
import os
import re
import socket
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from socketserver import ThreadingMixIn
from typing import TYPE_CHECKING, Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, make_wsgi_app
from prometheus_client.core import GaugeMetricFamily, Metric

if TYPE_CHECKING:
    from .policy import Decision, Policy

# ---- metric names (the only place they are spelled out) ----
REQUESTS = "gonogo_requests_total"
SHADOW_DECISIONS = "gonogo_shadow_decisions_total"
DECISION_SECONDS = "gonogo_decision_seconds"
ACTIVE_SECONDS = "gonogo_active_seconds_total"  # was gonogo_active_minutes_total (x60), see README
ACTIVE_USERS = "gonogo_active_users"
USERS_TODAY = "gonogo_users_today"
CATEGORY_USERS_TODAY = "gonogo_category_users_today"
QUOTA_EXHAUSTED = "gonogo_quota_exhausted_total"
WARN_CONTINUES = "gonogo_warn_continues_total"
POLICY_INFO = "gonogo_policy_info"
POLICY_RELOADS = "gonogo_policy_reloads_total"
POLICY_LAST_RELOAD_OK = "gonogo_policy_last_reload_successful"
SCHEDULE_ACTIVE = "gonogo_schedule_active"
PASSTHROUGH = "gonogo_passthrough_connections_total"
INTERCEPTED = "gonogo_intercepted_connections_total"
LEDGER_ERRORS = "gonogo_ledger_errors_total"
LEDGER_AVAILABLE = "gonogo_ledger_available"
NOT_SPENT = "gonogo_requests_not_spent_total"
LIST_REFRESHES = "gonogo_list_refresh_total"
LIST_INFO = "gonogo_list_info"
LIST_NAMES = (LIST_REFRESHES, LIST_INFO)  # exported only when the policy has category lists
EXCEPTION_REQUESTS = "gonogo_exception_requests_total"
DIRECTORY_AVAILABLE = "gonogo_directory_available"
DIRECTORY_REFRESHES = "gonogo_directory_refreshes_total"

ALL_NAMES = (
    REQUESTS, SHADOW_DECISIONS, DECISION_SECONDS, ACTIVE_SECONDS, ACTIVE_USERS, USERS_TODAY, CATEGORY_USERS_TODAY,
    QUOTA_EXHAUSTED, WARN_CONTINUES, POLICY_INFO, POLICY_RELOADS, POLICY_LAST_RELOAD_OK, SCHEDULE_ACTIVE,
    PASSTHROUGH, INTERCEPTED, LEDGER_ERRORS, LEDGER_AVAILABLE, NOT_SPENT, EXCEPTION_REQUESTS, DIRECTORY_AVAILABLE,
    DIRECTORY_REFRESHES, *LIST_NAMES,
)
"""Every metric this module exports (histograms add `_bucket`, `_sum` and `_count` series)."""

# ---- label values that do not come from the policy ----
OTHER = "other"  # a group with too few people seen, or a name the policy does not know
NONE = "none"  # no group / no category
DEFAULT_RULE = "default"  # the policy's default decided
DECISIONS = ("allow", "block", "warn")
RELOAD_RESULTS = ("ok", "error")
LIST_RESULTS = ("updated", "unchanged", "failed", "rejected")  # proxy_addons.lists.fetch.RESULTS
DIRECTORY_RESULTS = ("ok", "error")
PASSTHROUGH_REASONS = ("uncovered", "no-ca-mode")  # the addon's reasons, exported at 0 from the start
# why a time-boxed request was decided but spent no minute (policy/attention.py)
NOT_SPENT_REASONS = ("background", "server-push", "no-fetch-metadata")
EXCEPTION_RESULTS = ("requested", "approved", "denied", "expired")  # exception requests, by what happened

ACTIVE_WINDOW_MINUTES = 5
DECISION_BUCKETS = (0.000005, 0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
                    0.025, 0.05, 0.1, 0.25, 1.0)
MAX_TRACKED = 100_000  # bound of every in-memory set of pseudonyms
_KEEP_MINUTES = 10  # minute-dedupe memory; a request older than this is not counted again
_MAX_REASONS = 16
_REASON = re.compile(r"[a-z0-9_.-]{1,40}")


def _not_spent_counter(registry: CollectorRegistry) -> Counter:
    """`NOT_SPENT`: the "open tab" use that fair counting (policy/attention.py) did not charge."""
    return Counter(NOT_SPENT, "Time-boxed requests allowed without spending a minute (no attention: background "
                   "polls, server pushes, ...), by primary group, category and reason.",
                   ("group", "category", "reason"), registry=registry)


class Metrics:
    """The gateway's metrics. The addon calls the methods below; Prometheus scrapes `serve()`.

    Thread-safe: the addon calls from the event loop (and worker threads), the server collects from its own
    threads.
    """

    def __init__(self, registry: CollectorRegistry | None = None, *, clock: Callable[[], float] = time.time) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        self._clock = clock
        self._lock = threading.Lock()
        self._key = os.urandom(32)  # pseudonym key: never stored, different in every process
        self._own = CollectorRegistry(auto_describe=False)
        labels = ("group", "category", "rule", "decision")
        self._requests = Counter(REQUESTS, "Requests decided, by primary group, category, deciding rule "
                                 "(`default` when no rule matched) and decision.", labels, registry=self._own)
        self._shadow = Counter(SHADOW_DECISIONS, "What shadow rules would have decided (never enforced).", labels,
                               registry=self._own)
        self._seconds = Histogram(DECISION_SECONDS, "Time to decide one request.", buckets=DECISION_BUCKETS,
                                  registry=self._own)
        self._seconds_active = Counter(ACTIVE_SECONDS, "Active time: each person counts 60 s per category and "
                                       "clock minute with at least one request (an active minute).",
                                       ("group", "category"), registry=self._own)
        self._exhausted = Counter(QUOTA_EXHAUSTED, "Who-periods that ran out of a time-box budget.",
                                  ("group", "category", "rule"), registry=self._own)
        self._continues = Counter(WARN_CONTINUES, "Warnings a person chose to continue past.",
                                  ("group", "category", "rule"), registry=self._own)
        self._info = Gauge(POLICY_INFO, "The policy in force (value 1).", ("version", "sha256"), registry=self._own)
        self._reloads = Counter(POLICY_RELOADS, "Policy reload attempts by result.", ("result",), registry=self._own)
        for result in RELOAD_RESULTS:
            self._reloads.labels(result)
        self._reload_ok = Gauge(POLICY_LAST_RELOAD_OK, "1 when the last policy (re)load succeeded, else 0.",
                                registry=self._own)
        self._passthrough = Counter(PASSTHROUGH, "Client connections passed through without decrypting, by reason.",
                                    ("reason",), registry=self._own)
        for reason in PASSTHROUGH_REASONS:
            self._passthrough.labels(reason)
        self._intercepted = Counter(INTERCEPTED, "Client connections decrypted and decided per request.",
                                    registry=self._own)
        self._ledger_errors = Counter(LEDGER_ERRORS, "Usage-ledger operations that failed.", registry=self._own)
        self._list_refreshes, self._list_info = _list_collectors(self._own)
        self._exception_requests = Counter(EXCEPTION_REQUESTS, "Exception requests made, approved, denied and "
                                           "expired, by primary group of the person asking.", ("group", "result"),
                                           registry=self._own)
        self._directory_refreshes = Counter(DIRECTORY_REFRESHES, "Reads of the directory groups' membership, by "
                                            "result (once a policy uses a directory).", ("result",), registry=self._own)
        # policy-derived label sets
        self._policy: Policy | None = None
        self._groups: frozenset[str] = frozenset()
        self._categories: frozenset[str] = frozenset()
        self._rules: frozenset[str] = frozenset()
        self._min_group_size = 5
        self._zero_plan: ZeroPlan = ()
        # pseudonymous, bounded, in-memory state
        self._seen: dict[str, set[bytes]] = {}  # group -> people seen, until the group is revealed
        self._revealed: set[str] = set()
        self._minute_seen: dict[int, set[tuple[bytes, str]]] = {}  # minute -> (person, category)
        self._newest_minute = 0
        self._last_active: dict[tuple[str, str], dict[bytes, int]] = {}  # (group, category) -> person -> minute
        self._day: dt.date | None = None
        self._today: dict[str, set[bytes]] = {}  # group -> people seen today
        self._today_by_category: dict[tuple[str, str], set[bytes]] = {}
        self._exhausted_seen: OrderedDict[tuple[bytes, str, str], None] = OrderedDict()
        self._reasons: set[str] = set(PASSTHROUGH_REASONS)
        self._ledger_ok: bool | None = None
        self._directory_ok: bool | None = None
        self.registry.register(self)

    @functools.cached_property
    def _request_children(self) -> dict[tuple[str, str, str, str], Any]:
        """Labelled request counters by label values (bounded by the policies' labels): `labels()` validates and
        locks on every call, once per label set is enough."""
        return {}

    # ---- the policy ----
    def policy_loaded(self, policy: Policy) -> None:
        """The policy now in force: export its identity, take label values from it."""
        with self._lock:
            if policy.privacy.min_group_size != self._min_group_size:
                self._seen.clear()
                self._revealed.clear()
            self._policy = policy
            self._groups = frozenset(policy.groups)
            self._categories = frozenset(policy.categories)
            self._rules = frozenset(r.name for r in policy.rules)
            self._min_group_size = policy.privacy.min_group_size
            self._revealed &= self._groups | {NONE}
            for gone in set(self._seen) - self._groups - {NONE}:
                del self._seen[gone]
            self._zero_plan = _zero_plan(policy, self._requests, self._shadow, self._seconds_active,
                                         self._exhausted, self._continues)
            known = (OTHER, *self._revealed)
        for group in known:
            self._zero(group)
        self._info.clear()
        self._info.labels(str(policy.version), policy.sha256).set(1)
        self._list_info.clear()
        for category in policy.categories.values():
            if category.sources:
                self._list_info.labels(category.name, category.lists_sha256, str(category.domain_count)).set(1)
            if any(s.remote for s in category.sources):
                for result in LIST_RESULTS:
                    self._list_refreshes.labels(category.name, result)
        self._reload_ok.set(1)

    def list_refreshed(self, category: str, result: str) -> None:
        """One fetch of a remote list of `category` (a policy category name) and its result."""
        if result not in LIST_RESULTS:
            raise ValueError(f"list refresh result must be one of {LIST_RESULTS}, not {result!r}")
        self._list_refreshes.labels(self._category(category), result).inc()

    def reload(self, result: str) -> None:
        """A reload attempt: `ok` or `error`. Call `policy_loaded` as well after a successful one."""
        if result not in RELOAD_RESULTS:
            raise ValueError(f"reload result must be one of {RELOAD_RESULTS}, not {result!r}")
        self._reloads.labels(result).inc()
        self._reload_ok.set(1 if result == "ok" else 0)

    @property
    def has_policy(self) -> bool:
        return self._policy is not None

    # ---- labels ----
    def group_label(self, groups: tuple[str, ...], user_key: str) -> str:
        """The `group` label for a person: the primary group, `other` while fewer than `min_group_size`
        people of it were seen. People in no group (often unidentified clients, known by address only)
        are the group `none`, folded into `other` the same way: one anonymous person must not be a series
        of their own. `user_key` identifies the person (user name or address); only its keyed pseudonym is
        kept, and only until the group is revealed."""
        primary = groups[0] if groups else NONE
        if primary in self._revealed:
            return primary
        if primary not in self._groups and primary != NONE:
            return OTHER
        pseudonym = self._pseudonym(user_key)
        with self._lock:
            if primary in self._revealed:
                return primary
            seen = self._seen.setdefault(primary, set())
            seen.add(pseudonym)
            if len(seen) < self._min_group_size:
                return OTHER
            self._revealed.add(primary)
            del self._seen[primary]
        self._zero(primary)
        return primary

    def _zero(self, group: str) -> None:
        """Create the group's series at 0 before their first event. Prometheus' increase() and rate() cannot
        see the first increment of a series that appears with value 1, so without this a group's first block
        by a rule, exhausted budget or continued warning would be missing from the dashboards."""
        for counter, groups, labels in self._zero_plan:
            if groups is None or group in groups or group == OTHER:
                counter.labels(group, *labels)
        for result in EXCEPTION_RESULTS:
            self._exception_requests.labels(group, result)

    def _pseudonym(self, user_key: str) -> bytes:
        return hmac.new(self._key, user_key.encode("utf-8", "surrogatepass"), hashlib.sha256).digest()[:16]

    def _group(self, label: str) -> str:
        """Only a revealed group (or `other`/`none`) may become a label, whatever the caller passes."""
        return label if label in self._revealed or label in (OTHER, NONE) else OTHER

    def _category(self, name: str | None) -> str:
        return name if name is not None and name in self._categories else NONE

    def _rule(self, name: str | None) -> str:
        if name is None or name == DEFAULT_RULE:
            return DEFAULT_RULE
        return name if name in self._rules else OTHER

    # ---- per request ----
    def decision(self, decision: Decision, group_label: str, seconds: float) -> None:
        """One decided request (and what its shadow rules would have done)."""
        group = self._group(group_label)
        verdict = decision.decision if decision.decision in DECISIONS else OTHER
        labels = (group, self._category(decision.category), self._rule(decision.rule), verdict)
        child = self._request_children.get(labels)
        if child is None:
            child = self._request_children[labels] = self._requests.labels(*labels)
        child.inc()
        for shadow in decision.shadow:
            verdict = shadow.decision if shadow.decision in DECISIONS else OTHER
            self._shadow.labels(group, self._category(shadow.category), self._rule(shadow.rule), verdict).inc()
        self._seconds.observe(seconds)

    def active_minute(self, group_label: str, category: str | None, user_key: str, minute: int) -> bool:
        """A request of a person in `category` during epoch minute `minute`. Counts one active minute per
        (person, category, minute), exported as 60 seconds; returns whether this call counted it."""
        group, category = self._group(group_label), self._category(category)
        pseudonym = self._pseudonym(user_key)
        day = self._local_date(minute * 60)
        with self._lock:
            if minute > self._newest_minute:
                self._newest_minute = minute
                self._prune(minute)
            elif minute < self._newest_minute - _KEEP_MINUTES:
                return False
            bucket = self._minute_seen.setdefault(minute, set())
            key = (pseudonym, category)
            if key in bucket:
                return False
            if len(bucket) < MAX_TRACKED:
                bucket.add(key)
            people = self._last_active.setdefault((group, category), {})
            if len(people) < MAX_TRACKED or pseudonym in people:
                people[pseudonym] = max(minute, people.get(pseudonym, minute))
            if self._day is None or day > self._day:  # a new day: yesterday's people are not today's
                self._day = day
                self._today.clear()
                self._today_by_category.clear()
            if day == self._day:
                for people_today in (self._today.setdefault(group, set()),
                                     self._today_by_category.setdefault((group, category), set())):
                    if len(people_today) < MAX_TRACKED:
                        people_today.add(pseudonym)
        self._seconds_active.labels(group, category).inc(60)  # Prometheus' base unit: seconds
        return True

    def _prune(self, newest: int) -> None:
        """Forget minutes and people no metric needs any more (called with the lock held)."""
        for minute in [m for m in self._minute_seen if m < newest - _KEEP_MINUTES]:
            del self._minute_seen[minute]
        oldest_active = newest - ACTIVE_WINDOW_MINUTES
        for people in self._last_active.values():
            for pseudonym in [p for p, m in people.items() if m < oldest_active]:
                del people[pseudonym]

    def quota_exhausted(self, group_label: str, category: str | None, rule: str, *, user_key: str | None = None,
                        period: str | None = None) -> bool:
        """A person ran out of `rule`'s budget. With `user_key` and `period`, counts once per person-period
        (within a bounded memory); returns whether it counted."""
        if user_key is not None and period is not None:
            key = (self._pseudonym(user_key), rule, period)
            with self._lock:
                if key in self._exhausted_seen:
                    return False
                self._exhausted_seen[key] = None
                if len(self._exhausted_seen) > MAX_TRACKED:
                    self._exhausted_seen.popitem(last=False)
        self._exhausted.labels(self._group(group_label), self._category(category), self._rule(rule)).inc()
        return True

    def exception_request(self, group_label: str, result: str) -> None:
        """An exception request was made (`requested`), approved, denied or expired."""
        self._exception_requests.labels(self._group(group_label), result if result in EXCEPTION_RESULTS
                                        else OTHER).inc()

    def warn_continue(self, group_label: str, category: str | None, rule: str) -> None:
        """A person chose to continue past a warning."""
        self._continues.labels(self._group(group_label), self._category(category), self._rule(rule)).inc()

    # ---- per connection, ledger ----
    def passthrough(self, reason: str = "uncovered") -> None:
        """A client connection passed through undecrypted. `reason` is a short fixed word chosen by the addon
        (e.g. `uncovered`, `ignored`, `tls-error`); anything else becomes `other`."""
        if reason not in self._reasons:
            with self._lock:
                if not _REASON.fullmatch(reason) or len(self._reasons) >= _MAX_REASONS:
                    reason = OTHER
                self._reasons.add(reason)
        self._passthrough.labels(reason).inc()

    def intercepted(self) -> None:
        """A client connection is decrypted (or plain HTTP) and decided per request."""
        self._intercepted.inc()

    def ledger_error(self) -> None:
        self._ledger_errors.inc()

    @functools.cached_property
    def _not_spent(self) -> Counter:
        """Made on first use (a policy without time-boxes never exports it)."""
        return _not_spent_counter(self._own)

    def not_spent(self, group_label: str, category: str | None, reason: str) -> None:
        """A time-boxed request was allowed without spending a minute; `reason` outside the known set is `other`."""
        self._not_spent.labels(self._group(group_label), self._category(category),
                               reason if reason in NOT_SPENT_REASONS else OTHER).inc()

    def ledger_available(self, available: bool) -> None:
        """Whether the usage ledger answers; exported only once the addon has said so."""
        self._ledger_ok = bool(available)

    def directory_refresh(self, ok: bool) -> None:
        """A refresh of the directory membership answered (`ok`) or failed; the directory is available while
        the last one answered. Exported only once a policy uses a directory."""
        if self._directory_ok is None:
            for result in DIRECTORY_RESULTS:
                self._directory_refreshes.labels(result)
        self._directory_refreshes.labels("ok" if ok else "error").inc()
        self._directory_ok = bool(ok)

    # ---- exposition ----
    def collect(self) -> Iterator[Metric]:
        """prometheus-client collector protocol: the static collectors without `_created`, plus the values
        computed now (active users, people today, schedules, ledger)."""
        for family in self._own.collect():
            family.samples = [s for s in family.samples if not s.name.endswith("_created")]
            yield family
        yield from self._live()

    def describe(self) -> Iterable[Metric]:
        return self.collect()

    def _live(self) -> Iterator[Metric]:
        now = self._clock()
        now_minute = int(now // 60)
        today = self._local_date(now)
        active = GaugeMetricFamily(ACTIVE_USERS, f"People with at least one active minute in the last "
                                   f"{ACTIVE_WINDOW_MINUTES} minutes.", labels=("group", "category"))
        users = GaugeMetricFamily(USERS_TODAY, "People with at least one active minute today (policy time zone), "
                                  "any category.", labels=("group",))
        by_category = GaugeMetricFamily(CATEGORY_USERS_TODAY, "People with at least one active minute in the "
                                        "category today (policy time zone).", labels=("group", "category"))
        with self._lock:
            for (group, category), people in sorted(self._last_active.items()):
                recent = sum(1 for m in people.values() if now_minute - ACTIVE_WINDOW_MINUTES < m <= now_minute)
                active.add_metric((group, category), recent)
            current = self._day == today
            for group, seen in sorted(self._today.items()):
                users.add_metric((group,), len(seen) if current else 0)
            for (group, category), seen in sorted(self._today_by_category.items()):
                by_category.add_metric((group, category), len(seen) if current else 0)
            policy = self._policy
            ledger_ok = self._ledger_ok
            directory_ok = self._directory_ok
        yield from (active, users, by_category)
        if policy is not None:
            schedules = GaugeMetricFamily(SCHEDULE_ACTIVE, "1 while the policy's schedule is on (holidays "
                                          "respected), else 0.", labels=("schedule",))
            moment = dt.datetime.fromtimestamp(now, dt.UTC)
            for name, schedule in sorted(policy.schedules.items()):
                schedules.add_metric((name,), 1 if schedule.active_local(moment.astimezone(schedule.tz)) else 0)
            yield schedules
        if ledger_ok is not None:
            yield GaugeMetricFamily(LEDGER_AVAILABLE, "1 while the usage ledger answers, else 0.",
                                    value=1 if ledger_ok else 0)
        if directory_ok is not None:
            yield GaugeMetricFamily(DIRECTORY_AVAILABLE, "1 while the directory answered the last membership "
                                    "refresh, else 0 (the last known membership stays in force).",
                                    value=1 if directory_ok else 0)

    def _local_date(self, timestamp: float) -> dt.date:
        policy = self._policy
        moment = dt.datetime.fromtimestamp(timestamp, dt.UTC)
        return (moment.astimezone(policy.timezone) if policy is not None else moment).date()

    def unregister(self) -> None:
        """Remove these metrics from the registry (needed only when it is shared, e.g. the global one)."""
        self.registry.unregister(self)

    def serve(self, host: str = "127.0.0.1", port: int = 0) -> MetricsServer:
        """Serve `/metrics` and `/healthz` from a thread; port 0 picks a free port (see `.port`)."""
        return MetricsServer(self, host, port)


_OUTCOMES = {"allow": ("allow",), "block": ("block",), "warn": ("warn", "allow"), "timebox": ("allow", "block")}
ZeroPlan = tuple[tuple[Counter, frozenset[str] | None, tuple[str, ...]], ...]


def _list_collectors(registry: CollectorRegistry) -> tuple[Counter, Gauge]:
    """The category-list metrics: refresh results, and which lists each category has in force."""
    refreshes = Counter(LIST_REFRESHES, "Fetches of a category's remote lists, by result: updated, unchanged (304 "
                        "or same bytes), failed, rejected (implausible download; the last copy stays).",
                        ("category", "result"), registry=registry)
    info = Gauge(LIST_INFO, "The lists of a category in force (value 1): sha256 of their contents and the "
                 "category's distinct domains. Not part of gonogo_policy_info's sha256.",
                 ("category", "sha256", "entries"), registry=registry)
    return refreshes, info


def _zero_plan(policy: Policy, requests: Counter, shadow: Counter, minutes: Counter, exhausted: Counter,
               continues: Counter) -> ZeroPlan:
    """(counter, groups the series can occur for (None: all), labels after `group`) to create at 0. Bounded
    by the policy: each rule x the categories it can match x the decisions its action can give, for the
    groups it applies to; the default x every category; active minutes per category."""
    everywhere = (*policy.categories, NONE)
    plan: list[tuple[Counter, frozenset[str] | None, tuple[str, ...]]] = [
        (minutes, None, (category,)) for category in policy.categories]
    plan += [(requests, None, (category, DEFAULT_RULE, policy.default)) for category in everywhere]
    for rule in policy.rules:
        categories = rule.categories or everywhere
        for category in categories:
            for outcome in _OUTCOMES.get(rule.action, ()):
                plan.append((shadow if rule.shadow else requests, rule.groups, (category, rule.name, outcome)))
            if rule.shadow:
                continue
            if rule.quota is not None:
                plan.append((exhausted, rule.groups, (category, rule.name)))
            if rule.action == "warn":
                plan.append((continues, rule.groups, (category, rule.name)))
    return tuple(plan)


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True


class _Server6(_Server):
    address_family = socket.AF_INET6


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Scrapes every few seconds would flood the proxy's log."""


class MetricsServer:
    """`/metrics` (the registry, text or OpenMetrics as Prometheus asks) and `/healthz` (200 `ok` once a
    policy is loaded, else 503), served by a thread until `stop()`."""

    def __init__(self, metrics: Metrics, host: str, port: int) -> None:
        self._metrics = metrics
        self._exposition = make_wsgi_app(metrics.registry)
        server_class = _Server6 if ":" in host else _Server
        self._server = make_server(host, port, self._app, server_class=server_class, handler_class=_QuietHandler)
        self.host = host
        self.port: int = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, name=f"gonogo-metrics-{self.port}",
                                        daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def _app(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "/")
        if path == "/metrics":
            return self._exposition(environ, start_response)
        if path == "/healthz":
            ok = self._metrics.has_policy
            body = b"ok\n" if ok else b"no policy loaded\n"
            start_response("200 OK" if ok else "503 Service Unavailable",
                           [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body)))])
            return [body]
        body = b"not found; try /metrics or /healthz\n"
        start_response("404 Not Found", [("Content-Type", "text/plain; charset=utf-8"),
                                         ("Content-Length", str(len(body)))])
        return [body]

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> MetricsServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
