"""RedisRequests: exception requests on the ledger's Redis, shared by every proxy (see requests.py).

Each request is one JSON value; an index of all ids and one per person (sorted by creation) make listing
and the per-person limits cheap. All keys share one hash tag, so they live on one cluster slot. Every change
is an optimistic transaction (WATCH the keys read, MULTI, EXEC, retry if another writer came first) that also
increments the version counter the proxies poll. Claiming an event is such a transaction too, so of several
proxies exactly one announces it.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar
from urllib.parse import quote

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import WatchError

from . import requests as rules
from .ledger import LedgerUnavailable
from .redis import redis_call
from .requests import ExceptionRequest

T = TypeVar("T")
_RETRIES = 20


class RedisRequests:
    def __init__(self, url: str, *, prefix: str = "gonogo", timeout: float = 1.0) -> None:
        self.url = url
        self._redis = aioredis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout,
                                              retry=Retry(NoBackoff(), 1))
        tag = f"{prefix}:{{x}}"
        self._ids = f"{tag}:ids"
        self._version = f"{tag}:version"
        self._tag = tag

    def _key(self, request_id: str) -> str:
        return f"{self._tag}:req:{quote(request_id, safe='')}"

    def _person(self, person: str) -> str:
        return f"{self._tag}:person:{quote(person, safe='')}"

    _call = staticmethod(redis_call)

    async def _records(self, ids: list[Any]) -> list[ExceptionRequest]:
        if not ids:
            return []
        raw = await self._redis.mget([self._key(_text(i)) for i in ids])
        return [ExceptionRequest.from_json(json.loads(r)) for r in raw if r is not None]

    async def _transact(self, keys: list[str], change: Callable[[Any], Awaitable[T]]) -> T:
        """Run `change(pipe)` with `keys` watched; it reads, then calls pipe.multi() and queues writes (a
        None result writes nothing, and the version stays)."""
        for _ in range(_RETRIES):
            async with self._redis.pipeline(transaction=True) as pipe:
                try:
                    await pipe.watch(*keys)
                    result = await change(pipe)
                    if result is None:
                        return result  # leaving the pipeline unwatches
                    pipe.incr(self._version)
                    await pipe.execute()
                    return result
                except WatchError:
                    continue
        raise LedgerUnavailable("redis: too much contention on exception requests")

    async def create(self, req: ExceptionRequest, *, max_open: int = rules.MAX_OPEN,
                     max_per_hour: int = rules.MAX_PER_HOUR) -> ExceptionRequest:
        person_key = self._person(req.person)

        async def change(pipe: Any) -> ExceptionRequest:
            mine = await self._records(await pipe.zrange(person_key, 0, -1))
            rules.check_new(sum(r.state == "open" for r in mine), sum(r.created > req.created - 3600 for r in mine),
                            max_open, max_per_hour)
            pipe.multi()
            pipe.set(self._key(req.id), json.dumps(dataclasses.asdict(req)))
            pipe.zadd(self._ids, {req.id: req.created})
            pipe.zadd(person_key, {req.id: req.created})
            return req

        return await self._call(lambda: self._transact([person_key], change))

    async def get(self, request_id: str) -> ExceptionRequest | None:
        raw = await self._call(lambda: self._redis.get(self._key(request_id)))
        return None if raw is None else ExceptionRequest.from_json(json.loads(raw))

    async def find(self, person: str | None = None, open_only: bool = False) -> list[ExceptionRequest]:
        index = self._ids if person is None else self._person(person)

        async def read() -> list[ExceptionRequest]:
            return await self._records(await self._redis.zrange(index, 0, -1, desc=True))

        found = await self._call(read)
        return [r for r in found if not open_only or r.state == "open"]

    async def _replace(self, request_id: str, update: Callable[[ExceptionRequest | None], ExceptionRequest | None]
                       ) -> ExceptionRequest | None:
        """Read one request, `update` it (None: leave it) and write it back, in one transaction."""
        key = self._key(request_id)

        async def change(pipe: Any) -> ExceptionRequest | None:
            raw = await pipe.get(key)
            changed = update(None if raw is None else ExceptionRequest.from_json(json.loads(raw)))
            if changed is not None:
                pipe.multi()
                pipe.set(key, json.dumps(dataclasses.asdict(changed)))
            return changed

        return await self._call(lambda: self._transact([key], change))

    async def decide(self, request_id: str, approve: bool, minutes: int | None, note: str | None,
                     now: float) -> ExceptionRequest:
        changed = await self._replace(request_id, lambda r: rules.decide(r, request_id, approve, minutes, note, now))
        assert changed is not None
        return changed

    async def withdraw(self, request_id: str, person: str, now: float) -> ExceptionRequest | None:
        return await self._replace(request_id, lambda r: rules.withdrawn(r, person, now))

    async def active(self, now: float) -> list[ExceptionRequest]:
        return [r for r in await self.find() if r.state == "approved" and (r.until or 0) > now]

    async def expire(self, now: float) -> int:
        count = 0
        for r in await self.find():
            if rules.lapsed(r, now):
                done = await self._replace(r.id, lambda x: rules.expired(x) if x and rules.lapsed(x, now) else None)
                count += done is not None
        return count

    async def claim(self) -> list[ExceptionRequest]:
        claimed = []
        for r in await self.find():
            if r.announced != r.state:
                done = await self._replace(
                    r.id, lambda x: dataclasses.replace(x, announced=x.state) if x and x.announced != x.state else None)
                if done is not None:
                    claimed.append(done)
        return claimed

    async def version(self) -> int:
        raw = await self._call(lambda: self._redis.get(self._version))
        return int(raw or 0)

    async def purge(self, before: float) -> int:
        count = 0
        for r in await self.find():
            if r.created < before and r.state in rules.FINISHED:
                await self._call(lambda r=r: self._delete(r))  # type: ignore[misc]
                count += 1
        return count

    async def _delete(self, r: ExceptionRequest) -> None:
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.delete(self._key(r.id))
            pipe.zrem(self._ids, r.id)
            pipe.zrem(self._person(r.person), r.id)
            pipe.incr(self._version)
            await pipe.execute()

    async def close(self) -> None:
        await self._redis.aclose()


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
