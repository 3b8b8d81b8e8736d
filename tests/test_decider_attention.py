"""The decider with fair counting, on a real SQLite ledger: background requests are decided without writing
the store, their data tally counts the minute once it crosses the threshold, an admin's grant or reset is seen
on the next request once the change counter moves, and the heads-up is remembered per budget and period."""

from __future__ import annotations

import asyncio
import datetime as dt
import sqlite3
from pathlib import Path

from prometheus_client import CollectorRegistry

from proxy_addons.gateway import headsup
from proxy_addons.gateway.decider import Decider
from proxy_addons.gateway.freshness import ChangeWatch
from proxy_addons.metrics import NOT_SPENT, Metrics
from proxy_addons.policy import Policy, Who, load_text
from proxy_addons.policy.attention import BACKGROUND, NAVIGATE, RENDER, SERVER_PUSH
from proxy_addons.usage.sqlite import SqliteLedger
from tests.test_attention import AT, POLICY
from tests.test_decider import Clock, CountingLedger

ANN = Who("ann", "10.0.0.1")
HOSTS = ["facebook.test"]


def make(tmp_path: Path, text: str = POLICY) -> tuple[Policy, Decider, CountingLedger, Metrics, Clock]:
    policy = load_text(text)
    ledger = CountingLedger(SqliteLedger(tmp_path / "gonogo.db"))
    metrics = Metrics(CollectorRegistry())
    metrics.policy_loaded(policy)
    clock = Clock(AT.timestamp())
    return policy, Decider(ledger, metrics, clock=clock), ledger, metrics, clock


def minutes(tmp_path: Path) -> int:
    with sqlite3.connect(tmp_path / "gonogo.db") as db:
        return int(db.execute("SELECT count(*) FROM minutes").fetchone()[0])


def test_background_polls_never_write_the_store(tmp_path: Path) -> None:
    policy, decider, ledger, metrics, clock = make(tmp_path)

    async def run() -> None:
        for minute in range(5):
            clock.now = AT.timestamp() + 60 * minute
            for _ in range(10):
                decision, _ = await decider.decide(policy, ANN, HOSTS, "GET", "/api/poll", attention=BACKGROUND)
                assert decision.decision == "allow" and decision.quota is not None and decision.quota.left == 30
        assert ledger.charges == []
        decision, _ = await decider.decide(policy, ANN, HOSTS, "GET", "/", attention=NAVIGATE)
        assert decision.quota is not None and decision.quota.left == 29
        decision, _ = await decider.decide(policy, ANN, HOSTS, "GET", "/api/poll", attention=BACKGROUND)
        assert decision.quota is not None and decision.quota.counted  # the page load's minute covers it
        await ledger.store.close()

    asyncio.run(run())
    assert minutes(tmp_path) == 1
    spent_nothing = [sample for family in metrics.registry.collect() if family.name + "_total" == NOT_SPENT
                     for sample in family.samples if sample.name == NOT_SPENT]
    assert [(s.labels["reason"], s.value) for s in spent_nothing] == [("background", 50)]


def test_a_spent_budget_still_blocks_background_requests(tmp_path: Path) -> None:
    policy, decider, ledger, _, clock = make(tmp_path, POLICY.replace("minutes: 30, per: day, heads_up: 5",
                                                                      "minutes: 2, per: day"))

    async def run() -> None:
        for minute in range(2):
            clock.now = AT.timestamp() + 60 * minute
            assert (await decider.decide(policy, ANN, HOSTS, "GET", "/a.png", attention=RENDER))[0].decision == "allow"
        clock.now = AT.timestamp() + 120
        decision, _ = await decider.decide(policy, ANN, HOSTS, "GET", "/api/poll", attention=BACKGROUND)
        assert decision.decision == "block"
        decision, _ = await decider.decide(policy, ANN, HOSTS, "GET", "/ws", attention=SERVER_PUSH)
        assert decision.decision == "block"
        await ledger.store.close()

    asyncio.run(run())


def test_background_data_counts_the_minute_once_it_crosses_the_threshold(tmp_path: Path) -> None:
    policy, decider, ledger, _, clock = make(tmp_path)  # 100 KB a minute

    async def run() -> None:
        for _ in range(3):  # 3 x 30 KB: under the threshold
            decision, host = await decider.decide(policy, ANN, HOSTS, "GET", "/seg", attention=BACKGROUND)
            await decider.moved(policy, ANN, decision, host, "GET", "/seg", BACKGROUND, 30 * 1024)
        assert ledger.charges == []
        decision, host = await decider.decide(policy, ANN, HOSTS, "GET", "/seg", attention=BACKGROUND)
        assert decision.quota is not None and not decision.quota.counts
        await decider.moved(policy, ANN, decision, host, "GET", "/seg", BACKGROUND, 30 * 1024)  # 120 KB
        assert len(ledger.charges) == 1
        decision, _ = await decider.decide(policy, ANN, HOSTS, "GET", "/seg", attention=BACKGROUND)
        assert decision.quota is not None and decision.quota.counted and decision.quota.left == 29
        clock.now += 60  # a new minute starts from nothing
        decision, host = await decider.decide(policy, ANN, HOSTS, "GET", "/seg", attention=BACKGROUND)
        assert decision.quota is not None and not decision.quota.counted and decision.quota.left == 29
        await decider.moved(policy, ANN, decision, host, "GET", "/seg", BACKGROUND, 50 * 1024)
        assert len(ledger.charges) == 1
        await ledger.store.close()

    asyncio.run(run())
    assert minutes(tmp_path) == 1


def test_grant_and_reset_apply_on_the_next_request_once_the_counter_moves(tmp_path: Path) -> None:
    policy, decider, ledger, _, clock = make(tmp_path, POLICY.replace("minutes: 30, per: day, heads_up: 5",
                                                                      "minutes: 1, per: day"))
    admin = SqliteLedger(tmp_path / "gonogo.db")  # `gonogo quota` opens the store on its own

    async def run() -> None:
        watch = ChangeWatch(ledger, decider.forget)
        assert not await watch.check()  # the first reading only remembers the counter
        assert (await decider.decide(policy, ANN, HOSTS, "GET", "/", attention=NAVIGATE))[0].decision == "allow"
        clock.now += 60
        assert (await decider.decide(policy, ANN, HOSTS, "GET", "/", attention=NAVIGATE))[0].decision == "block"
        await admin.grant("user:ann", "feed", "2026-11-26", 2, 3600)
        assert await watch.check()
        assert (await decider.decide(policy, ANN, HOSTS, "GET", "/", attention=NAVIGATE))[0].decision == "allow"
        clock.now += 60
        assert (await decider.decide(policy, ANN, HOSTS, "GET", "/", attention=NAVIGATE))[0].decision == "allow"
        clock.now += 60
        assert (await decider.decide(policy, ANN, HOSTS, "GET", "/", attention=NAVIGATE))[0].decision == "block"
        await admin.reset("user:ann", "feed", "2026-11-26")
        assert await watch.check()
        decision, _ = await decider.decide(policy, ANN, HOSTS, "GET", "/", attention=NAVIGATE)
        assert decision.decision == "allow" and decision.quota is not None and decision.quota.used == 1
        assert not await watch.check()  # normal traffic does not move the counter
        await admin.close()
        await ledger.store.close()

    asyncio.run(run())


def test_heads_up_shows_until_continued_then_once_per_period(tmp_path: Path) -> None:
    policy, decider, ledger, _, clock = make(tmp_path)

    async def run() -> None:
        await ledger.store.add_minutes("user:ann", "feed", "2026-11-26", range(100, 124), 3600)  # 24 used
        decision, _ = await decider.decide(policy, ANN, HOSTS, "GET", "/", attention=NAVIGATE)
        assert decision.quota is not None and decision.quota.heads_up and decision.quota.left == 5
        image, _ = await decider.decide(policy, ANN, HOSTS, "GET", "/a.png", attention=RENDER)
        assert image.quota is not None and not image.quota.heads_up
        again, _ = await decider.decide(policy, ANN, HOSTS, "GET", "/", attention=NAVIGATE)
        assert again.quota is not None and again.quota.heads_up  # not continued yet: shown again
        await ledger.store.set_continue("user:ann", headsup.key("feed", "2026-11-26"), clock.now + 86400)
        later, _ = await decider.decide(policy, ANN, HOSTS, "GET", "/", attention=NAVIGATE)
        assert later.quota is not None and not later.quota.heads_up and later.decision == "allow"
        clock.now = dt.datetime(2026, 11, 27, 10, 0, tzinfo=AT.tzinfo).timestamp()  # the next day
        await ledger.store.add_minutes("user:ann", "feed", "2026-11-27", range(200, 226), 3600)
        tomorrow, _ = await decider.decide(policy, ANN, HOSTS, "GET", "/", attention=NAVIGATE)
        assert tomorrow.quota is not None and tomorrow.quota.heads_up
        await ledger.store.close()

    asyncio.run(run())
