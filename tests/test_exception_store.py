"""The exception-request stores (SQLite and a real redis-server) obey the same rules: limits per person,
one decision per request, expiry, one claim per event across stores, purge; and SQLite survives kill -9."""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

import pytest

from proxy_addons.usage.requests import (
    ExceptionRequest,
    NotOpen,
    RateLimited,
    RequestError,
    RequestStore,
    TooManyOpen,
    new_id,
    open_requests,
)
from tests.support import processes
from tests.support.redis import RedisServer, redis_server  # noqa: F401 (fixture)


def make(person: str = "user:alice", created: float | None = None, minutes: int = 30) -> ExceptionRequest:
    return ExceptionRequest(new_id(), person, person.split(":", 1)[1], "10.0.0.1", "no facebook", "facebook.test",
                            "customer <b>call</b>", minutes, "open", created if created is not None else time.time())


@pytest.fixture(params=["sqlite", "redis"])
def state(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:{tmp_path / 'gonogo.db'}"
    server: RedisServer = request.getfixturevalue("redis_server")
    db = 1 + abs(hash(request.node.name)) % 15
    return server.url.rsplit("/", 1)[0] + f"/{db}"


def run(state: str, body: object) -> None:
    async def main() -> None:
        store: RequestStore = open_requests(state)
        try:
            if hasattr(store, "_redis"):
                await store._redis.flushdb()  # type: ignore[attr-defined]
            await body(store)  # type: ignore[operator]
        finally:
            await store.close()

    asyncio.run(main())


def test_limits_decisions_expiry_and_claims(state: str) -> None:
    async def body(store: RequestStore) -> None:
        v0 = await store.version()
        first = await store.create(make())
        assert await store.version() != v0
        await store.create(make())
        await store.create(make())
        with pytest.raises(TooManyOpen):
            await store.create(make())
        await store.create(make("user:bob"))  # another person has their own limit
        assert len(await store.find("user:alice", open_only=True)) == 3
        assert [r.person for r in await store.find("user:bob")] == ["user:bob"]

        now = time.time()
        approved = await store.decide(first.id, True, 1, "ok", now)
        assert approved.state == "approved" and approved.until == pytest.approx(now + 60)
        with pytest.raises(RequestError, match="already approved"):
            await store.decide(first.id, False, None, None, now)
        with pytest.raises(RequestError, match="no request"):
            await store.decide("nope", True, None, None, now)
        assert [r.id for r in await store.active(now)] == [first.id]

        claimed = await store.claim()
        assert {r.state for r in claimed} == {"open", "approved"} and len(claimed) == 4
        assert await store.claim() == []  # each event once

        assert await store.expire(now + 61) == 1
        assert await store.active(now + 61) == []
        with pytest.raises(RequestError, match="expired"):
            await store.decide(first.id, True, None, None, now + 61)
        assert [r.state for r in await store.claim()] == ["expired"]
        assert await store.purge(time.time() + 1) == 1
        assert await store.get(first.id) is None
        kept = [await store.get(r.id) for r in claimed if r.id != first.id]
        assert all(kept) and len(kept) == 3  # open ones are kept

    run(state, body)


def test_withdraw_only_ones_own_open_request(state: str) -> None:
    async def body(store: RequestStore) -> None:
        mine, other = await store.create(make()), await store.create(make("user:bob"))
        decided = await store.create(make())
        await store.decide(decided.id, False, None, None, time.time())
        await store.claim()
        v0 = await store.version()
        now = time.time()
        assert await store.withdraw(other.id, "user:alice", now) is None  # bob's: as if it did not exist
        assert await store.withdraw("no-such-id", "user:alice", now) is None
        assert await store.version() == v0  # nothing changed
        assert (await store.get(other.id)).state == "open"  # type: ignore[union-attr]
        with pytest.raises(NotOpen, match="denied") as refused:
            await store.withdraw(decided.id, "user:alice", now)
        assert refused.value.state == "denied"

        done = await store.withdraw(mine.id, "user:alice", now)
        assert done is not None and done.state == "withdrawn" and done.decided == now
        assert (await store.get(mine.id)) == done and await store.version() != v0  # the books see it
        assert [r.state for r in await store.claim()] == ["withdrawn"]  # announced once
        with pytest.raises(NotOpen, match="withdrawn"):
            await store.withdraw(mine.id, "user:alice", now)
        for approve in (True, False):
            with pytest.raises(RequestError, match="was withdrawn"):
                await store.decide(mine.id, approve, None, None, now)
        assert len(await store.find("user:alice", open_only=True)) == 0
        with pytest.raises(NotOpen, match="expired"):  # an open one past its time counts as expired
            await store.withdraw((await store.create(make(created=now - 2 * 86400))).id, "user:alice", now)
        assert await store.purge(now + 1) == 2  # the withdrawn and the denied one; open ones stay
        assert await store.get(mine.id) is None and await store.get(other.id) is not None

    run(state, body)


def test_rate_limit(state: str) -> None:
    async def body(store: RequestStore) -> None:
        now = time.time()
        for _ in range(10):
            r = await store.create(make())
            await store.decide(r.id, False, None, None, now)
        with pytest.raises(RateLimited):
            await store.create(make())
        await store.create(make(created=now + 3700))  # an hour later it is fine again

    run(state, body)


def test_sqlite_request_survives_kill_9(tmp_path: Path) -> None:
    state = f"sqlite:{tmp_path / 'gonogo.db'}"
    script = (
        "import asyncio, os, signal, sys\n"
        "from proxy_addons.usage.requests import open_requests\n"
        "from tests.test_exception_store import make\n"
        "async def main():\n"
        f"    s = open_requests({state!r}); r = await s.create(make()); print(r.id, flush=True)\n"
        "    os.kill(os.getpid(), signal.SIGKILL)\n"
        "asyncio.run(main())\n")
    done = processes.run([sys.executable, "-c", script], timeout=60, text=True)
    assert done.returncode == -9
    request_id = done.stdout.strip()

    async def body(store: RequestStore) -> None:
        found = await store.get(request_id)
        assert found is not None and found.state == "open" and found.reason == "customer <b>call</b>"

    run(state, body)
