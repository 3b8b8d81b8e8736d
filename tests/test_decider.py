"""The decider keeps the ledger off the hot path: at most one store call per (person, budget, minute),
even when a browser fires many requests at once, with a real SQLite ledger underneath; and an active
minute reaches the metrics once per person, category and minute."""

from __future__ import annotations

import asyncio
import datetime as dt
import random
import sqlite3
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from prometheus_client import CollectorRegistry

from proxy_addons.gateway.decider import Decider
from proxy_addons.metrics import ACTIVE_SECONDS, Metrics
from proxy_addons.policy import Decision, Policy, Who, load_policy
from proxy_addons.usage import MemoryLedger
from proxy_addons.usage.ledger import Charge
from proxy_addons.usage.sqlite import SqliteLedger

EXAMPLE = Path(__file__).resolve().parent.parent / "policies" / "example.yaml"
# a Thursday in work hours, not lunch, not a holiday: the example policy time-boxes facebook.com
THURSDAY_10 = dt.datetime(2026, 11, 26, 10, 0, 5, tzinfo=ZoneInfo("Europe/Amsterdam")).timestamp()


class CountingLedger:
    """The real store, with every `charge` call recorded as (user, budget, minute)."""

    def __init__(self, store: SqliteLedger, fail_first: int = 0) -> None:
        self.store = store
        self.charges: list[tuple[str, str, int]] = []
        self.fail_first = fail_first

    async def charge(self, user: str, budget: str, period: str, minute: int, limit: int,
                     ttl_seconds: int) -> Charge:
        self.charges.append((user, budget, minute))
        await asyncio.sleep(0)  # let other requests of the same moment arrive while this one is in flight
        if self.fail_first > 0:
            self.fail_first -= 1
            raise ConnectionError("store unreachable")
        return await self.store.charge(user, budget, period, minute, limit, ttl_seconds)

    def __getattr__(self, name: str) -> object:
        return getattr(self.store, name)


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def policy() -> Policy:
    return load_policy(EXAMPLE)


def make(tmp_path: Path, policy: Policy, fail_first: int = 0) -> tuple[Decider, CountingLedger, Metrics, Clock]:
    store = SqliteLedger(tmp_path / "gonogo.db")
    ledger = CountingLedger(store, fail_first)
    metrics = Metrics(CollectorRegistry())
    metrics.policy_loaded(policy)
    clock = Clock(THURSDAY_10)
    return Decider(ledger, metrics, clock=clock), ledger, metrics, clock


def minute_rows(tmp_path: Path) -> list[tuple[str, int]]:
    with sqlite3.connect(tmp_path / "gonogo.db") as db:
        return sorted(db.execute("SELECT user, minute FROM minutes").fetchall())


def test_one_store_call_per_person_budget_and_minute(tmp_path: Path, policy: Policy) -> None:
    decider, ledger, _, clock = make(tmp_path, policy)
    people = [Who(name, "10.1.2.3") for name in ("dirk", "erik", "fenna")]

    async def browse(seconds: list[float]) -> list[int]:
        used = []
        for offset in seconds:
            clock.now = THURSDAY_10 + offset
            for person in people:
                for host in (["facebook.com"], ["www.facebook.com", "facebook.com"], ["instagram.com"]):
                    decision, _ = await decider.decide(policy, person, host, "GET", "/feed")
                    assert decision.decision == "allow" and decision.rule == "social time-box"
                    assert decision.quota is not None
                    used.append(decision.quota.used)
        return used

    async def run() -> list[int]:
        try:
            # 0-50 s: the first minute, 60-110 s: the second (facebook and instagram share the one budget)
            return await browse([0, 10, 30, 50, 60, 70, 110])
        finally:
            await ledger.store.close()

    used = asyncio.run(run())
    assert len(ledger.charges) == len(set(ledger.charges)) == 2 * len(people)
    assert set(used) == {1, 2}  # minute one costs one minute, minute two a second one
    minutes = int(THURSDAY_10 // 60)
    assert minute_rows(tmp_path) == sorted((f"user:{p.user}", m) for p in people for m in (minutes, minutes + 1))


def test_simultaneous_requests_share_one_charge(tmp_path: Path, policy: Policy) -> None:
    decider, ledger, _, _ = make(tmp_path, policy)
    anna_ip = Who(None, "10.1.2.3")  # no user name: the address is the person

    async def run() -> list:
        try:
            return await asyncio.gather(*(decider.decide(policy, anna_ip, ["facebook.com"], "GET", f"/{i}")
                                          for i in range(50)))
        finally:
            await ledger.store.close()

    results = asyncio.run(run())
    assert len(ledger.charges) == 1
    assert {(d.decision, d.quota.used) for d, _ in results} == {("allow", 1)}
    assert minute_rows(tmp_path) == [("ip:10.1.2.3", int(THURSDAY_10 // 60))]


def test_a_failed_charge_leaves_the_waiting_requests_to_ask_the_store(tmp_path: Path, policy: Policy) -> None:
    decider, ledger, _, _ = make(tmp_path, policy, fail_first=1)
    person = Who("dirk", None)

    async def run() -> list:
        try:
            return await asyncio.gather(*(decider.decide(policy, person, ["facebook.com"], "GET", "/")
                                          for _ in range(5)))
        finally:
            await ledger.store.close()

    results = asyncio.run(run())
    # the first charge failed (ledger_unavailable=allow lets that request through uncounted); the requests
    # that were waiting for it did not take its failure as theirs: one of them charged the store
    assert all(d.decision == "allow" for d, _ in results)
    assert len(minute_rows(tmp_path)) == 1
    assert 2 <= len(ledger.charges) <= 5


def test_an_active_minute_is_counted_once_per_person_category_and_minute(tmp_path: Path, policy: Policy) -> None:
    decider, ledger, metrics, clock = make(tmp_path, policy)

    async def run() -> None:
        try:
            for offset in (0, 20, 40, 61, 62):
                clock.now = THURSDAY_10 + offset
                for user in ("dirk", "erik"):
                    for host in ("facebook.com", "linkedin.com", "www.linkedin.com"):
                        await decider.decide(policy, Who(user, None), [host], "GET", "/")
        finally:
            await ledger.store.close()

    asyncio.run(run())
    # two people in no group: fewer than min_group_size, so reported as `other`
    counted = {c: metrics.registry.get_sample_value(ACTIVE_SECONDS, {"group": "other", "category": c})
               for c in ("social", "professional")}
    assert counted == {"social": 240.0, "professional": 240.0}  # 2 people x 2 minutes x 60 s, each category


class GeneralPathDecider(Decider):
    """The decider without its one-evaluation shortcut: what every decision must equal."""

    def _counted_minute(self, *args: object) -> None:  # type: ignore[override]
        return None


class ShortcutCounter(Decider):
    shortcuts = 0

    def _counted_minute(self, *args: object) -> Decision | None:  # type: ignore[override]
        found = super()._counted_minute(*args)  # type: ignore[arg-type]
        self.shortcuts += found is not None
        return found


TWO_BUDGETS = """\
version: 1
timezone: Europe/Amsterdam
schedules:
  work-hours: [{days: mon-fri, from: "08:30", to: "17:30"}]
categories:
  social: {domains: [facebook.com, instagram.com, www.facebook.com]}
  video: {domains: [youtube.com]}
  news: {domains: [nu.nl]}
groups:
  interns: {users: [ivo]}
rules:
  - {name: interns read only, groups: [interns], categories: [social], methods: [POST], action: block}
  - {name: social time-box, categories: [social], when: work-hours, action: timebox, quota: {minutes: 3, per: day}}
  - {name: video time-box, categories: [video], action: timebox, quota: {minutes: 2, per: week}}
  - {name: news needs a reason, categories: [news], action: warn}
default: allow
"""


@pytest.mark.parametrize("which", ["example", "two budgets"])
def test_the_shortcut_decides_exactly_as_the_general_path(which: str, policy: Policy, tmp_path: Path) -> None:
    """Random traffic of people in every group over working days (lunch, evening, exhausted budgets):
    the decider with its shortcut and without it give equal decisions, request by request."""
    if which == "two budgets":
        (tmp_path / "policy.yaml").write_text(TWO_BUDGETS)
        policy = load_policy(tmp_path / "policy.yaml")
    rng = random.Random(6)
    people = [Who(u, None) for u in ("anna", "ivo", "dirk", "erik")]
    people += [Who(None, "10.20.1.1"), Who(None, None)]
    hosts = [["facebook.com"], ["www.facebook.com"], ["instagram.com"], ["www.facebook.com", "facebook.com"],
             ["linkedin.com"], ["nu.nl"], ["tiktok.com"], ["example.org"], ["youtube.com"]]
    clock = Clock(dt.datetime(2026, 11, 26, 8, 0, tzinfo=ZoneInfo("Europe/Amsterdam")).timestamp())
    fast = ShortcutCounter(MemoryLedger(), Metrics(CollectorRegistry()), clock=clock)
    general = GeneralPathDecider(MemoryLedger(), Metrics(CollectorRegistry()), clock=clock)
    seen: set[str] = set()

    async def run() -> None:
        for _ in range(1500):  # bursts of browsing from 8:00 on: work hours, lunch, evening, the next days
            clock.now += rng.choice((1, 7, 30, 61, 61, 120, 300, 1800))
            person = rng.choice(people) if rng.random() < 0.5 else people[2]  # dirk uses up his time-box
            for _ in range(rng.randint(1, 8)):
                names, method = rng.choice(hosts), rng.choice(("GET", "GET", "GET", "POST"))
                a = await fast.decide(policy, person, names, method, "/p")
                b = await general.decide(policy, person, names, method, "/p")
                assert a == b, (person, names, method, clock.now)
                seen.add(a[0].decision if a[0].quota is None else f"{a[0].decision} time-boxed")

    asyncio.run(run())
    assert fast.shortcuts > 30  # the shortcut was really taken ...
    assert seen == {"allow", "block", "warn", "allow time-boxed", "block time-boxed"}  # ... among all outcomes
