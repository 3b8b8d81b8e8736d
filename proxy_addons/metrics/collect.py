"""The `Metrics` collector: counters the gateway's addons feed, and gauges computed at each scrape.

Why one class: every label value passes through the same checks (revealed groups, policy categories and rule
names) under one lock, and the pseudonymous per-person state lives with the metrics that need it.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import hmac
import os
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric

from . import names as n
from .series import ZeroPlan, list_collectors, not_spent_counter, zero_plan
from .server import MetricsServer

if TYPE_CHECKING:
    from ..policy import Decision, Policy

_KEEP_MINUTES = 10  # minute-dedupe memory; a request older than this is not counted again
_MAX_REASONS = 16
_REASON = re.compile(r"[a-z0-9_.-]{1,40}")


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
        self._requests = Counter(n.REQUESTS, "Requests decided, by primary group, category, deciding rule "
                                 "(`default` when no rule matched) and decision.", labels, registry=self._own)
        self._shadow = Counter(n.SHADOW_DECISIONS, "What shadow rules would have decided (never enforced).", labels,
                               registry=self._own)
        self._seconds = Histogram(n.DECISION_SECONDS, "Time to decide one request.", buckets=n.DECISION_BUCKETS,
                                  registry=self._own)
        self._seconds_active = Counter(n.ACTIVE_SECONDS, "Active time: each person counts 60 s per category and "
                                       "clock minute with at least one request (an active minute).",
                                       ("group", "category"), registry=self._own)
        self._exhausted = Counter(n.QUOTA_EXHAUSTED, "Who-periods that ran out of a time-box budget.",
                                  ("group", "category", "rule"), registry=self._own)
        self._continues = Counter(n.WARN_CONTINUES, "Warnings a person chose to continue past.",
                                  ("group", "category", "rule"), registry=self._own)
        self._info = Gauge(n.POLICY_INFO, "The policy in force (value 1).", ("version", "sha256"), registry=self._own)
        self._reloads = Counter(n.POLICY_RELOADS, "Policy reload attempts by result.", ("result",), registry=self._own)
        for result in n.RELOAD_RESULTS:
            self._reloads.labels(result)
        self._reload_ok = Gauge(n.POLICY_LAST_RELOAD_OK, "1 when the last policy (re)load succeeded, else 0.",
                                registry=self._own)
        self._passthrough = Counter(n.PASSTHROUGH, "Client connections passed through without decrypting, by reason.",
                                    ("reason",), registry=self._own)
        for reason in n.PASSTHROUGH_REASONS:
            self._passthrough.labels(reason)
        self._intercepted = Counter(n.INTERCEPTED, "Client connections decrypted and decided per request.",
                                    registry=self._own)
        self._ledger_errors = Counter(n.LEDGER_ERRORS, "Usage-ledger operations that failed.", registry=self._own)
        self._list_refreshes, self._list_info = list_collectors(self._own)
        self._exception_requests = Counter(n.EXCEPTION_REQUESTS, "Exception requests made, approved, denied and "
                                           "expired, by primary group of the person asking.", ("group", "result"),
                                           registry=self._own)
        self._directory_refreshes = Counter(n.DIRECTORY_REFRESHES, "Reads of the directory groups' membership, by "
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
        self._reasons: set[str] = set(n.PASSTHROUGH_REASONS)
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
            self._revealed &= self._groups | {n.NONE}
            for gone in set(self._seen) - self._groups - {n.NONE}:
                del self._seen[gone]
            self._zero_plan = zero_plan(policy, self._requests, self._shadow, self._seconds_active,
                                         self._exhausted, self._continues)
            known = (n.OTHER, *self._revealed)
        for group in known:
            self._zero(group)
        self._info.clear()
        self._info.labels(str(policy.version), policy.sha256).set(1)
        self._list_info.clear()
        for category in policy.categories.values():
            if category.sources:
                self._list_info.labels(category.name, category.lists_sha256, str(category.domain_count)).set(1)
            if any(s.remote for s in category.sources):
                for result in n.LIST_RESULTS:
                    self._list_refreshes.labels(category.name, result)
        self._reload_ok.set(1)

    def list_refreshed(self, category: str, result: str) -> None:
        """One fetch of a remote list of `category` (a policy category name) and its result."""
        if result not in n.LIST_RESULTS:
            raise ValueError(f"list refresh result must be one of {n.LIST_RESULTS}, not {result!r}")
        self._list_refreshes.labels(self._category(category), result).inc()

    def reload(self, result: str) -> None:
        """A reload attempt: `ok` or `error`. Call `policy_loaded` as well after a successful one."""
        if result not in n.RELOAD_RESULTS:
            raise ValueError(f"reload result must be one of {n.RELOAD_RESULTS}, not {result!r}")
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
        primary = groups[0] if groups else n.NONE
        if primary in self._revealed:
            return primary
        if primary not in self._groups and primary != n.NONE:
            return n.OTHER
        pseudonym = self._pseudonym(user_key)
        with self._lock:
            if primary in self._revealed:
                return primary
            seen = self._seen.setdefault(primary, set())
            seen.add(pseudonym)
            if len(seen) < self._min_group_size:
                return n.OTHER
            self._revealed.add(primary)
            del self._seen[primary]
        self._zero(primary)
        return primary

    def _zero(self, group: str) -> None:
        """Create the group's series at 0 before their first event. Prometheus' increase() and rate() cannot
        see the first increment of a series that appears with value 1, so without this a group's first block
        by a rule, exhausted budget or continued warning would be missing from the dashboards."""
        for counter, groups, labels in self._zero_plan:
            if groups is None or group in groups or group == n.OTHER:
                counter.labels(group, *labels)
        for result in n.EXCEPTION_RESULTS:
            self._exception_requests.labels(group, result)

    def _pseudonym(self, user_key: str) -> bytes:
        return hmac.new(self._key, user_key.encode("utf-8", "surrogatepass"), hashlib.sha256).digest()[:16]

    def _group(self, label: str) -> str:
        """Only a revealed group (or `other`/`none`) may become a label, whatever the caller passes."""
        return label if label in self._revealed or label in (n.OTHER, n.NONE) else n.OTHER

    def _category(self, name: str | None) -> str:
        return name if name is not None and name in self._categories else n.NONE

    def _rule(self, name: str | None) -> str:
        if name is None or name == n.DEFAULT_RULE:
            return n.DEFAULT_RULE
        return name if name in self._rules else n.OTHER

    # ---- per request ----
    def decision(self, decision: Decision, group_label: str, seconds: float) -> None:
        """One decided request (and what its shadow rules would have done)."""
        group = self._group(group_label)
        verdict = decision.decision if decision.decision in n.DECISIONS else n.OTHER
        labels = (group, self._category(decision.category), self._rule(decision.rule), verdict)
        child = self._request_children.get(labels)
        if child is None:
            child = self._request_children[labels] = self._requests.labels(*labels)
        child.inc()
        for shadow in decision.shadow:
            verdict = shadow.decision if shadow.decision in n.DECISIONS else n.OTHER
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
            if len(bucket) < n.MAX_TRACKED:
                bucket.add(key)
            people = self._last_active.setdefault((group, category), {})
            if len(people) < n.MAX_TRACKED or pseudonym in people:
                people[pseudonym] = max(minute, people.get(pseudonym, minute))
            if self._day is None or day > self._day:  # a new day: yesterday's people are not today's
                self._day = day
                self._today.clear()
                self._today_by_category.clear()
            if day == self._day:
                for people_today in (self._today.setdefault(group, set()),
                                     self._today_by_category.setdefault((group, category), set())):
                    if len(people_today) < n.MAX_TRACKED:
                        people_today.add(pseudonym)
        self._seconds_active.labels(group, category).inc(60)  # Prometheus' base unit: seconds
        return True

    def _prune(self, newest: int) -> None:
        """Forget minutes and people no metric needs any more (called with the lock held)."""
        for minute in [m for m in self._minute_seen if m < newest - _KEEP_MINUTES]:
            del self._minute_seen[minute]
        oldest_active = newest - n.ACTIVE_WINDOW_MINUTES
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
                if len(self._exhausted_seen) > n.MAX_TRACKED:
                    self._exhausted_seen.popitem(last=False)
        self._exhausted.labels(self._group(group_label), self._category(category), self._rule(rule)).inc()
        return True

    def exception_request(self, group_label: str, result: str) -> None:
        """An exception request was made (`requested`), approved, denied, expired or withdrawn."""
        self._exception_requests.labels(self._group(group_label), result if result in n.EXCEPTION_RESULTS
                                        else n.OTHER).inc()

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
                    reason = n.OTHER
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
        return not_spent_counter(self._own)

    def not_spent(self, group_label: str, category: str | None, reason: str) -> None:
        """A time-boxed request was allowed without spending a minute; `reason` outside the known set is `other`."""
        self._not_spent.labels(self._group(group_label), self._category(category),
                               reason if reason in n.NOT_SPENT_REASONS else n.OTHER).inc()

    def ledger_available(self, available: bool) -> None:
        """Whether the usage ledger answers; exported only once the addon has said so."""
        self._ledger_ok = bool(available)

    def directory_refresh(self, ok: bool) -> None:
        """A refresh of the directory membership answered (`ok`) or failed; the directory is available while
        the last one answered. Exported only once a policy uses a directory."""
        if self._directory_ok is None:
            for result in n.DIRECTORY_RESULTS:
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
        active = GaugeMetricFamily(n.ACTIVE_USERS, f"People with at least one active minute in the last "
                                   f"{n.ACTIVE_WINDOW_MINUTES} minutes.", labels=("group", "category"))
        users = GaugeMetricFamily(n.USERS_TODAY, "People with at least one active minute today (policy time zone), "
                                  "any category.", labels=("group",))
        by_category = GaugeMetricFamily(n.CATEGORY_USERS_TODAY, "People with at least one active minute in the "
                                        "category today (policy time zone).", labels=("group", "category"))
        with self._lock:
            for (group, category), people in sorted(self._last_active.items()):
                recent = sum(1 for m in people.values() if now_minute - n.ACTIVE_WINDOW_MINUTES < m <= now_minute)
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
            schedules = GaugeMetricFamily(n.SCHEDULE_ACTIVE, "1 while the policy's schedule is on (holidays "
                                          "respected), else 0.", labels=("schedule",))
            moment = dt.datetime.fromtimestamp(now, dt.UTC)
            for name, schedule in sorted(policy.schedules.items()):
                schedules.add_metric((name,), 1 if schedule.active_local(moment.astimezone(schedule.tz)) else 0)
            yield schedules
        if ledger_ok is not None:
            yield GaugeMetricFamily(n.LEDGER_AVAILABLE, "1 while the usage ledger answers, else 0.",
                                    value=1 if ledger_ok else 0)
        if directory_ok is not None:
            yield GaugeMetricFamily(n.DIRECTORY_AVAILABLE, "1 while the directory answered the last membership "
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
