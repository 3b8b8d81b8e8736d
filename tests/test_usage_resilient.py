"""A proxy whose Redis goes away keeps answering: per `ledger_unavailable` it counts locally (allow) or
refuses new minutes (block), reports the outage, and reconciles every local minute when Redis is back.
A real redis-server is stopped and restarted under the ledger."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any

import pytest

from proxy_addons.usage import LedgerUnavailable, ResilientLedger
from proxy_addons.usage.redis import RedisLedger
from tests.support.redis import RedisServer, free_port

DAY = "2026-11-27"
TTL = 3600


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RedisServer]:
    with RedisServer(tmp_path / "redis") as s:
        yield s


async def until(condition: Callable[[], bool], what: str, seconds: float = 10) -> None:
    """Let the event loop run (the ledger's probe lives there) until `condition` holds."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting until {what}"
        await asyncio.sleep(0.02)


def run(coro: Coroutine[Any, Any, Any]) -> Any:
    return asyncio.run(coro)


class Events:
    def __init__(self) -> None:
        self.errors: list[BaseException] = []
        self.availability: list[bool] = []

    def ledger(self, url: str, unavailable: str) -> ResilientLedger:
        return ResilientLedger(RedisLedger(url), unavailable=unavailable, retry_interval=0.05,
                               on_error=self.errors.append, on_availability_change=self.availability.append)


def test_allow_counts_locally_during_an_outage_and_reconciles(server: RedisServer) -> None:
    events = Events()

    async def main() -> None:
        ledger = events.ledger(server.url, "allow")
        for m in range(3):
            assert (await ledger.charge("dirk", "social", DAY, m, 6, TTL)).counted
        server.stop()

        c = await ledger.charge("dirk", "social", DAY, 3, 6, TTL)
        assert (c.counted, c.new, c.used) == (True, True, 4)  # on top of what Redis said before
        assert not ledger.available and events.availability == [False] and events.errors
        assert (await ledger.charge("dirk", "social", DAY, 2, 6, TTL)).counted  # paid before the outage
        assert (await ledger.charge("dirk", "social", DAY, 4, 6, TTL)).used == 5
        assert (await ledger.charge("dirk", "social", DAY, 5, 6, TTL)).used == 6
        refused = await ledger.charge("dirk", "social", DAY, 6, 6, TTL)  # the limit still holds
        assert (refused.counted, refused.used) == (False, 6)
        b = await ledger.balance("dirk", "social", DAY, 5)
        assert (b.used, b.minute_counted) == (6, True)
        assert (await ledger.charge("eva", "social", DAY, 5, 6, TTL)).used == 1
        until_ts = time.time() + 600
        await ledger.set_continue("dirk", "news", until_ts)
        assert await ledger.continues("dirk", time.time()) == {"news": until_ts}
        assert ledger.pending == 4
        with pytest.raises(LedgerUnavailable):
            await ledger.grant("dirk", "social", DAY, 5, TTL)  # an admin must hear it, not get a fake

        server.start()
        await until(lambda: ledger.available, "the ledger sees Redis again")
        assert events.availability == [False, True] and ledger.pending == 0 and ledger.reconciled == 4

        direct = RedisLedger(server.url)
        try:
            b = await direct.balance("dirk", "social", DAY, 5)
            assert (b.used, b.minute_counted) == (6, True)
            assert not (await direct.charge("dirk", "social", DAY, 6, 6, TTL)).counted
            assert (await direct.balance("eva", "social", DAY, 5)).minute_counted
            assert await direct.continues("dirk", time.time()) == {"news": until_ts}
        finally:
            await direct.close()
        assert (await ledger.charge("dirk", "social", DAY, 7, 8, TTL)).used == 7  # through Redis again
        await ledger.close()

    run(main())


def test_block_refuses_new_minutes_during_an_outage(server: RedisServer) -> None:
    events = Events()

    async def main() -> None:
        ledger = events.ledger(server.url, "block")
        for m in range(2):
            await ledger.charge("dirk", "social", DAY, m, 30, TTL)
        server.stop()
        same = await ledger.charge("dirk", "social", DAY, 1, 30, TTL)
        assert (same.counted, same.new) == (True, False)  # this minute was paid before the outage
        new = await ledger.charge("dirk", "social", DAY, 2, 30, TTL)
        assert (new.counted, new.used) == (False, 2)
        assert not (await ledger.charge("eva", "social", DAY, 2, 30, TTL)).counted
        assert (await ledger.balance("dirk", "social", DAY, 2)).used == 2
        assert ledger.pending == 0

        server.start()
        await until(lambda: ledger.available, "the ledger sees Redis again")
        c = await ledger.charge("dirk", "social", DAY, 2, 30, TTL)
        assert (c.counted, c.new, c.used) == (True, True, 3)
        await ledger.close()

    run(main())


def test_a_store_that_never_answers_still_gets_answers() -> None:
    async def main() -> None:
        events = Events()
        ledger = events.ledger(f"redis://127.0.0.1:{free_port()}/0", "allow")  # nothing listens there
        c = await ledger.charge("dirk", "social", DAY, 1, 1, TTL)
        assert (c.counted, c.used) == (True, 1)
        assert not (await ledger.charge("dirk", "social", DAY, 2, 1, TTL)).counted
        assert (await ledger.balance("dirk", "social", DAY, 1)).used == 1
        await ledger.set_continue("dirk", "news", time.time() + 60)
        assert "news" in await ledger.continues("dirk", time.time())
        assert not ledger.available and events.availability == [False]
        await ledger.close()  # stops the probe

    run(main())


def test_journals_are_one_per_live_process_and_orphans_are_taken_over(tmp_path: Path) -> None:
    from proxy_addons.usage.resilient import Journal

    first, second = Journal(tmp_path), Journal(tmp_path)
    assert first.path != second.path  # two proxies sharing a state directory never share a journal
    first.append(kind="minute", user="user:a", budget="b", period="p", minute=1, expires=2e9)
    first.close()  # as if its proxy was killed
    third = Journal(tmp_path)
    assert third.path == first.path and third.entries()[0]["user"] == "user:a"
    third.clear()
    assert third.entries() == []
    assert Journal(tmp_path).path not in (second.path, third.path)  # a fourth takes a free slot
