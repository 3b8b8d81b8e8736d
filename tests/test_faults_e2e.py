"""Many proxies, one budget, and faults that must lose nothing: real `gonogo run` processes sharing a real
`redis-server`, `kill -9` of a proxy, and Redis stopped and restarted under traffic."""

from __future__ import annotations

import asyncio
import datetime as dt
import signal
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from proxy_addons.usage import open_store
from tests.support.proxy import Gonogo, Origin
from tests.support.redis import RedisServer

POLICY = """\
version: 1
categories:
  social: {domains: [facebook.test]}
rules:
  - name: social time-box
    categories: [social]
    action: timebox
    quota: {minutes: 3, per: week}
"""
BUDGET = "social time-box"



@pytest.fixture
def redis(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path / "redis").start()
    yield server
    server.stop()


@pytest.fixture
def policy(tmp_path: Path) -> Path:
    path = tmp_path / "policy.yaml"
    path.write_text(POLICY)
    return path


def week() -> tuple[str, int, int]:
    """(period key, this minute, the week's first minute) in UTC, the policy's zone."""
    now = dt.datetime.now(dt.UTC)
    monday = (now - dt.timedelta(days=now.weekday())).date()
    start = int(dt.datetime.combine(monday, dt.time(0), dt.UTC).timestamp() // 60)
    return f"week-{monday}", int(now.timestamp() // 60), start


def precharge(state: str, person: str, count: int) -> None:
    period, minute, start = week()
    earlier = [m for m in range(minute - count, minute) if m >= start]
    if len(earlier) < count:
        pytest.skip("the week started only minutes ago")

    async def spend() -> None:
        store = open_store(state)
        for m in earlier:
            assert (await store.charge(person, BUDGET, period, m, 3, 3600)).counted
        await store.close()

    asyncio.run(spend())


def used(state: str, person: str) -> int:
    period, minute, _ = week()

    async def read() -> int:
        store = open_store(state)
        balance = await store.balance(person, BUDGET, period, minute)
        await store.close()
        return balance.used

    return asyncio.run(read())


def get(proxy: Gonogo, origin: Origin, user: str, path: str = "/") -> httpx.Response:
    with proxy.client(user, also_trust=(origin.cert,)) as c:
        return c.get(f"https://facebook.test:{origin.https_port}{path}")


def test_two_proxies_enforce_one_budget(tmp_path: Path, policy: Path, origin: Origin, redis: RedisServer) -> None:
    a = Gonogo(tmp_path / "a", policy, "--set", "proxyauth=any", state=redis.url)
    b = Gonogo(tmp_path / "b", policy, "--set", "proxyauth=any", state=redis.url)
    for proxy in (a, b):
        proxy.workdir.mkdir()
        proxy.start()
    try:
        precharge(redis.url, "user:yan", 3)  # yan's week is spent
        assert get(a, origin, "yan").status_code == 403
        assert get(b, origin, "yan").status_code == 403
        precharge(redis.url, "user:zoe", 2)  # zoe has one minute left
        first = get(a, origin, "zoe")
        assert first.status_code == 200 and first.headers["x-gonogo-minutes-left"] == "0"
        # proxy b knows: zoe's budget is spent; this minute (if still this one) costs nothing more
        second = get(b, origin, "zoe")
        assert (second.status_code, second.headers.get("x-gonogo-minutes-left")) in ((200, "0"), (403, None))
        assert used(redis.url, "user:zoe") == 3
    finally:
        assert a.stop() == 0 and b.stop() == 0


@pytest.mark.parametrize("store", ["sqlite", "redis"])
def test_kill_9_keeps_every_counted_minute(tmp_path: Path, policy: Path, origin: Origin, redis: RedisServer,
                                           store: str) -> None:
    state = redis.url if store == "redis" else f"sqlite:{tmp_path / 'state' / 'gonogo.db'}"
    proxy = Gonogo(tmp_path, policy, "--set", "proxyauth=any", state=state).start()
    counted: list[str] = []
    enough = threading.Event()

    def one(n: int) -> None:
        if enough.is_set():
            return
        try:
            r = get(proxy, origin, f"kim{n}")
        except httpx.HTTPError:
            return  # in flight when the proxy died: nothing was promised
        if r.status_code == 200 and r.headers.get("x-gonogo-minutes-left") == "2":
            counted.append(f"user:kim{n}")
            if len(counted) >= 10:
                enough.set()

    with ThreadPoolExecutor(4) as pool:
        futures = [pool.submit(one, n) for n in range(60)]
        enough.wait(timeout=60)
        proxy.stop(signal.SIGKILL)  # mid-traffic: requests are still in flight
        for future in futures:
            future.result()
    assert len(counted) >= 10
    assert [person for person in counted if used(state, person) < 1] == []
    again = Gonogo(tmp_path, policy, "--set", "proxyauth=any", state=state).start()
    try:
        person = counted[0].removeprefix("user:")
        r = get(again, origin, person)
        assert r.status_code == 200 and r.headers["x-gonogo-minutes-left"] in ("1", "2")
        assert used(state, counted[0]) in (1, 2)
    finally:
        again.stop()


def test_redis_outage_allows_counts_locally_and_reconciles(tmp_path: Path, policy: Path, origin: Origin,
                                                           redis: RedisServer) -> None:
    proxy = Gonogo(tmp_path, policy, "--set", "proxyauth=any", state=redis.url).start()
    restarted = RedisServer(redis.dir, port=redis.port)
    try:
        assert get(proxy, origin, "olga").status_code == 200
        redis.stop()
        during = get(proxy, origin, "piet")  # the store is gone: allowed (ledger_unavailable=allow), counted here
        assert during.status_code == 200 and during.headers["x-gonogo-minutes-left"] == "2"
        proxy.wait_for("quota ledger unavailable")
        metrics = httpx.get(f"http://127.0.0.1:{proxy.metrics_port}/metrics").text
        assert "gonogo_ledger_available 0.0" in metrics
        restarted.start()
        proxy.wait_for("quota ledger available again")
        assert used(redis.url, "user:piet") == 1  # the minute counted during the outage reached Redis
        assert used(redis.url, "user:olga") == 1  # and what Redis had before survived its restart
    finally:
        proxy.stop()
        restarted.stop()


def test_redis_outage_with_ledger_unavailable_block(tmp_path: Path, policy: Path, origin: Origin,
                                                    redis: RedisServer) -> None:
    proxy = Gonogo(tmp_path, policy, "--set", "proxyauth=any", "--ledger-unavailable", "block",
                   state=redis.url).start()
    try:
        assert get(proxy, origin, "rita").status_code == 200
        redis.stop()
        r = get(proxy, origin, "sven")
        assert r.status_code == 403, proxy.output()  # a new minute cannot be verified: refused
        uncovered = proxy.client("sven", also_trust=(origin.cert,)).get(f"https://example.test:{origin.https_port}/")
        assert uncovered.status_code == 200  # only time-boxed traffic depends on the ledger
    finally:
        proxy.stop()


def test_minutes_counted_during_an_outage_survive_a_kill_of_the_proxy(tmp_path: Path, policy: Path,
                                                                      origin: Origin, redis: RedisServer) -> None:
    proxy = Gonogo(tmp_path, policy, "--set", "proxyauth=any", state=redis.url).start()
    restarted = RedisServer(redis.dir, port=redis.port)
    again = Gonogo(tmp_path, policy, "--set", "proxyauth=any", state=redis.url)
    try:
        assert get(proxy, origin, "vera").status_code == 200  # the store is up: counted there
        redis.stop()
        during = get(proxy, origin, "walt")  # counted locally, and journalled
        assert during.status_code == 200 and during.headers["x-gonogo-minutes-left"] == "2"
        proxy.stop(signal.SIGKILL)  # a double fault: the proxy dies before the store returns
        restarted.start()
        again.start()
        again.wait_for("will be handed to the store")
        again.wait_for("quota ledger available again")
        assert used(redis.url, "user:walt") == 1
        assert used(redis.url, "user:vera") == 1
    finally:
        again.stop()
        restarted.stop()
