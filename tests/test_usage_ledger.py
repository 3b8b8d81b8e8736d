"""The ledger contract, the same tests on every store: SQLite (a file), Redis (a real redis-server) and
memory. Plus what only a durable or shared store promises: minutes survive close, restart and `kill -9`;
two proxies on one Redis count a minute once and never exceed the limit."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path
from typing import Any

import pytest

from proxy_addons.usage import (
    MemoryLedger,
    ResilientLedger,
    open_ledger,
    open_store,
    period_ttl,
)
from proxy_addons.usage.ledger import Ledger
from proxy_addons.usage.redis import RedisLedger
from proxy_addons.usage.sqlite import SqliteLedger
from tests.conftest import ROOT
from tests.support.redis import RedisServer, redis_server  # noqa: F401 (fixture)

DAY = "2026-11-27"
TTL = 3600
Factory = Callable[[], Ledger]


def run(coro: Coroutine[Any, Any, Any]) -> Any:
    return asyncio.run(coro)


def factory(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> Factory:
    """A factory of ledgers on one store (call it inside the test's event loop); every call opens
    another client of the same store, as a restarted or second proxy would."""
    if kind == "sqlite":
        return lambda: SqliteLedger(tmp_path / "ledger.db")
    if kind == "redis":
        server: RedisServer = request.getfixturevalue("redis_server")
        prefix = f"t{uuid.uuid4().hex[:8]}"  # one server per module; each test its own keys
        return lambda: RedisLedger(server.url, prefix=prefix)
    memory = MemoryLedger()
    return lambda: memory


@pytest.fixture(params=["sqlite", "redis", "memory"])
def new_ledger(request: pytest.FixtureRequest, tmp_path: Path) -> Factory:
    return factory(request.param, request, tmp_path)


def using(factory: Factory, body: Callable[[Ledger], Awaitable[None]]) -> None:
    async def main() -> None:
        ledger = factory()
        try:
            await body(ledger)
        finally:
            await ledger.close()

    run(main())


def test_charge_is_idempotent_per_minute(new_ledger: Factory) -> None:
    async def body(ledger: Ledger) -> None:
        first = await ledger.charge("dirk", "social", DAY, 100, 30, TTL)
        again = await ledger.charge("dirk", "social", DAY, 100, 30, TTL)
        assert (first.used, first.counted, first.new) == (1, True, True)
        assert (again.used, again.counted, again.new) == (1, True, False)
        b = await ledger.balance("dirk", "social", DAY, 100)
        assert (b.used, b.minute_counted, b.extra) == (1, True, 0)
        assert (await ledger.balance("dirk", "social", DAY, 101)).minute_counted is False

    using(new_ledger, body)


def test_limit_is_enforced_but_a_counted_minute_stays_paid(new_ledger: Factory) -> None:
    async def body(ledger: Ledger) -> None:
        results = [await ledger.charge("dirk", "social", DAY, m, 3, TTL) for m in range(10, 15)]
        assert [c.counted for c in results] == [True, True, True, False, False]
        assert [c.used for c in results] == [1, 2, 3, 3, 3]
        assert not any(c.new for c in results[3:])
        paid = await ledger.charge("dirk", "social", DAY, 11, 3, TTL)
        assert (paid.counted, paid.new, paid.used) == (True, False, 3)
        assert (await ledger.balance("dirk", "social", DAY, 14)).used == 3

    using(new_ledger, body)


def test_extra_minutes_extend_the_limit_for_the_period(new_ledger: Factory) -> None:
    async def body(ledger: Ledger) -> None:
        for m in range(2):
            await ledger.charge("dirk", "social", DAY, m, 2, TTL)
        assert not (await ledger.charge("dirk", "social", DAY, 2, 2, TTL)).counted
        assert await ledger.grant("dirk", "social", DAY, 2, TTL) == 2
        after = [await ledger.charge("dirk", "social", DAY, m, 2, TTL) for m in range(2, 5)]
        assert [c.counted for c in after] == [True, True, False]
        assert after[0].extra == 2 and after[-1].used == 4
        assert (await ledger.balance("dirk", "social", DAY, 4)).extra == 2
        assert await ledger.grant("dirk", "social", DAY, -5, TTL) == 0  # taking back stops at zero
        assert (await ledger.balance("dirk", "social", "2026-11-28", 0)).extra == 0  # only that period

    using(new_ledger, body)


def test_reset_forgets_used_and_extra_minutes_of_that_period(new_ledger: Factory) -> None:
    async def body(ledger: Ledger) -> None:
        for m in range(3):
            await ledger.charge("dirk", "social", DAY, m, 3, TTL)
        await ledger.charge("dirk", "social", "2026-11-26", 7, 3, TTL)
        await ledger.grant("dirk", "social", DAY, 5, TTL)
        await ledger.reset("dirk", "social", DAY)
        b = await ledger.balance("dirk", "social", DAY, 0)
        assert (b.used, b.minute_counted, b.extra) == (0, False, 0)
        c = await ledger.charge("dirk", "social", DAY, 0, 3, TTL)
        assert (c.used, c.new) == (1, True)
        assert (await ledger.balance("dirk", "social", "2026-11-26", 7)).used == 1  # other period untouched

    using(new_ledger, body)


def test_users_budgets_and_periods_are_independent(new_ledger: Factory) -> None:
    async def body(ledger: Ledger) -> None:
        await ledger.charge("dirk", "social", DAY, 1, 1, TTL)
        for key in [("eva", "social", DAY), ("dirk", "video", DAY), ("dirk", "social", "2026-11-28"),
                    ("dirk:social", "", DAY), ("dirk", "social:" + DAY, "")]:  # no separator can forge a key
            assert (await ledger.balance(*key, 1)).used == 0, key
            assert (await ledger.charge(*key, 1, 1, TTL)).new, key

    using(new_ledger, body)


def test_add_minutes_records_spent_minutes_once_and_without_limit(new_ledger: Factory) -> None:
    async def body(ledger: Ledger) -> None:
        await ledger.charge("dirk", "social", DAY, 1, 2, TTL)
        assert await ledger.add_minutes("dirk", "social", DAY, [1, 2, 3, 3], TTL) == 3
        assert not (await ledger.charge("dirk", "social", DAY, 4, 2, TTL)).counted
        assert (await ledger.balance("dirk", "social", DAY, 3)).minute_counted

    using(new_ledger, body)


def test_continues_expire(new_ledger: Factory) -> None:
    async def body(ledger: Ledger) -> None:
        now = time.time()
        await ledger.set_continue("dirk", "news needs a reason", now + 900)
        await ledger.set_continue("dirk", "short", now + 60)
        assert await ledger.continues("dirk", now) == {"news needs a reason": now + 900, "short": now + 60}
        assert await ledger.continues("dirk", now + 61) == {"news needs a reason": now + 900}
        assert await ledger.continues("dirk", now + 901) == {}
        assert await ledger.continues("eva", now) == {}
        await ledger.set_continue("dirk", "short", now + 120)  # continuing again moves the end
        assert (await ledger.continues("dirk", now + 61))["short"] == now + 120

    using(new_ledger, body)


def test_expired_periods_disappear(new_ledger: Factory) -> None:
    async def body(ledger: Ledger) -> None:
        await ledger.charge("dirk", "social", DAY, 1, 30, 1)
        await ledger.charge("dirk", "social", "2026-11-28", 1, 30, TTL)
        deadline = time.monotonic() + 10
        while (await ledger.balance("dirk", "social", DAY, 1)).used:
            assert time.monotonic() < deadline, "the period did not expire"
            if isinstance(ledger, SqliteLedger):
                await ledger.cleanup()
            await asyncio.sleep(0.05)
        assert (await ledger.balance("dirk", "social", "2026-11-28", 1)).used == 1

    using(new_ledger, body)


def test_period_ttl_lasts_past_the_period() -> None:
    import datetime as dt

    now = dt.datetime(2026, 11, 27, 23, 0, tzinfo=dt.UTC)
    assert period_ttl(now + dt.timedelta(hours=1), now) == 3600 + 3600
    assert period_ttl(now, now) >= 1


@pytest.mark.parametrize("store", ["sqlite", "redis"])
def test_minutes_extra_and_continues_survive_reopening(store: str, request: pytest.FixtureRequest,
                                                       tmp_path: Path) -> None:
    new_ledger = factory(store, request, tmp_path)
    now = time.time()

    async def write(ledger: Ledger) -> None:
        for m in range(5):
            await ledger.charge("dirk", "social", DAY, m, 30, TTL)
        await ledger.grant("dirk", "social", DAY, 10, TTL)
        await ledger.set_continue("dirk", "news", now + 600)

    async def read(ledger: Ledger) -> None:
        b = await ledger.balance("dirk", "social", DAY, 4)
        assert (b.used, b.minute_counted, b.extra) == (5, True, 10)
        assert await ledger.continues("dirk", now) == {"news": now + 600}
        assert not (await ledger.charge("dirk", "social", DAY, 3, 30, TTL)).new

    using(new_ledger, write)
    if store == "redis":
        server: RedisServer = request.getfixturevalue("redis_server")
        server.stop()  # a restart of Redis itself (append-only file) keeps them too
        server.start()
    using(new_ledger, read)


_CHARGER = """
import asyncio, sys
from proxy_addons.usage import open_store

async def main():
    ledger = open_store(sys.argv[1])
    minute = 0
    while True:
        c = await ledger.charge("dirk", "social", "2026-11-27", minute, 10**6, 3600)
        if c.new:
            print(minute, flush=True)  # reported only once the store said it is counted
        minute += 1

asyncio.run(main())
"""


@pytest.mark.parametrize("store", ["sqlite", "redis"])
def test_every_minute_reported_counted_survives_kill_9(tmp_path: Path, store: str,
                                                       request: pytest.FixtureRequest) -> None:
    if store == "sqlite":
        state = f"sqlite:{tmp_path / 'var' / 'ledger.db'}"
    else:
        state = request.getfixturevalue("redis_server").url
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    child = subprocess.Popen([sys.executable, "-c", _CHARGER, state], stdout=subprocess.PIPE, text=True, env=env)
    reported = []
    try:
        assert child.stdout is not None
        while len(reported) < 200:
            line = child.stdout.readline()
            assert line, f"the charging process died (exit {child.poll()})"
            reported.append(int(line))
        child.send_signal(signal.SIGKILL)  # mid-traffic: it is charging the next minutes right now
    finally:
        child.kill()
        child.wait(timeout=10)

    async def check() -> None:
        ledger = open_store(state)
        try:
            missing = [m for m in reported if not (await ledger.balance("dirk", "social", DAY, m)).minute_counted]
            assert missing == []
            assert (await ledger.balance("dirk", "social", DAY, 0)).used >= len(reported)
        finally:
            await ledger.close()

    run(check())


def test_two_proxies_on_one_redis_count_a_minute_once_and_never_exceed_the_limit(
        redis_server: RedisServer) -> None:  # noqa: F811
    prefix = f"t{uuid.uuid4().hex[:8]}"
    users = [f"user{i}" for i in range(5)]

    async def proxy(ledger: RedisLedger) -> list[tuple[str, int]]:
        async def one(user: str, minute: int) -> tuple[str, int] | None:
            c = await ledger.charge(user, "social", DAY, minute, 20, TTL)
            return (user, minute) if c.new else None

        # both proxies see the same 40 minutes of every user at once, in the same order
        results = await asyncio.gather(*(one(u, m) for m in range(40) for u in users))
        return [r for r in results if r is not None]

    async def main() -> None:
        a, b = RedisLedger(redis_server.url, prefix=prefix), RedisLedger(redis_server.url, prefix=prefix)
        try:
            new_a, new_b = await asyncio.gather(proxy(a), proxy(b))
            added = new_a + new_b
            assert len(added) == len(set(added)), "a minute was added twice"
            for user in users:
                assert sum(1 for u, _ in added if u == user) == 20
                assert (await a.balance(user, "social", DAY, 0)).used == 20
        finally:
            await a.close()
            await b.close()

    run(main())


def test_open_ledger_reads_the_state_url(tmp_path: Path, redis_server: RedisServer) -> None:  # noqa: F811
    async def main() -> None:
        sqlite = open_ledger(f"sqlite:{tmp_path / 'deep' / 'dir' / 'g.db'}")
        assert isinstance(sqlite, ResilientLedger) and isinstance(sqlite.store, SqliteLedger)
        assert (tmp_path / "deep" / "dir" / "g.db").exists()
        await sqlite.close()
        for url in [redis_server.url, redis_server.url.replace("redis://", "valkey://")]:
            ledger = open_ledger(url, unavailable="block")
            assert isinstance(ledger.store, RedisLedger) and ledger.unavailable == "block"
            await ledger.ping()
            await ledger.close()

    run(main())
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        store = open_store(None)
        assert isinstance(store, SqliteLedger) and store.path == Path("var/gonogo.db")
        run(store.close())
    finally:
        os.chdir(cwd)
    for bad in ["postgres://x", "sqlite:", "var/gonogo.db", "redis"]:
        with pytest.raises(ValueError, match="sqlite:PATH"):
            open_store(bad)
    with pytest.raises(ValueError, match="allow or block"):
        open_ledger(f"sqlite:{tmp_path / 'g.db'}", unavailable="deny")


def test_an_unwritable_sqlite_path_fails_at_open(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a directory")
    with pytest.raises(OSError):
        SqliteLedger(tmp_path / "file" / "g.db")


def test_the_change_counter_moves_on_grant_and_reset_only(new_ledger: Factory) -> None:
    """Proxies poll it to forget cached budgets (gateway/freshness.py): charges must not move it, or every
    proxy would drop its caches every minute."""
    async def body(ledger: Ledger) -> None:
        start = await ledger.changes()
        for m in range(3):
            await ledger.charge("dirk", "social", DAY, m, 30, TTL)
        await ledger.add_minutes("dirk", "social", DAY, [7, 8], TTL)
        await ledger.set_continue("dirk", "news", 2e9)
        assert await ledger.changes() == start
        await ledger.grant("dirk", "social", DAY, 5, TTL)
        after_grant = await ledger.changes()
        assert after_grant != start
        await ledger.reset("dirk", "social", DAY)
        assert await ledger.changes() not in (start, after_grant)

    using(new_ledger, body)
