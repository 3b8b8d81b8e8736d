"""RedisLedger: one budget per person across many proxies, on Redis or Valkey (7.0+).

Per (user, budget, period) there are two keys sharing a hash tag (so they live on one cluster slot): a set
of counted epoch minutes and a counter of extra minutes. Charging is one Lua script, atomic on the server:
the minute is added only if it is not in the set yet and the set is smaller than limit + extra. So two
proxies counting the same minute count it once, and racing proxies never exceed the limit. Both keys expire
after their period (`ttl_seconds`). Continues are a hash per user (rule -> until) expiring with the latest.

Driver errors that mean "cannot reach the store" become `LedgerUnavailable`; socket timeouts are short so a
dead server costs a request at most about a second, and the resilient wrapper stops asking it at all.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import Any, TypeVar
from urllib.parse import quote

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from .ledger import Balance, Charge, LedgerUnavailable

T = TypeVar("T")

# KEYS: minutes set, extra counter. ARGV: minute, limit, ttl. Returns {used, counted, new, extra}.
_CHARGE = """
local extra = tonumber(redis.call('GET', KEYS[2]) or '0')
local used = redis.call('SCARD', KEYS[1])
if redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 1 then
  return {used, 1, 0, extra}
end
if used >= tonumber(ARGV[2]) + extra then
  return {used, 0, 0, extra}
end
redis.call('SADD', KEYS[1], ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[3])
return {used + 1, 1, 1, extra}
"""

# KEYS: minutes set. ARGV: ttl, minute... Returns used.
_ADD = """
for i = 2, #ARGV do redis.call('SADD', KEYS[1], ARGV[i]) end
local used = redis.call('SCARD', KEYS[1])
if used > 0 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return used
"""

# KEYS: extra counter. ARGV: minutes, ttl. Returns the new extra (never below 0).
_GRANT = """
local extra = math.max(0, tonumber(redis.call('GET', KEYS[1]) or '0') + tonumber(ARGV[1]))
redis.call('SET', KEYS[1], extra, 'EX', ARGV[2])
return extra
"""

# KEYS: continues hash. ARGV: rule, until (s), until (ms). The hash lives as long as its latest continue.
_CONTINUE = """
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
local want = tonumber(ARGV[3])
if redis.call('PEXPIRETIME', KEYS[1]) < want then redis.call('PEXPIREAT', KEYS[1], want) end
return 1
"""

DEFAULT_TIMEOUT = 0.5  # seconds, per connect and per reply
POOL_WAIT = 5.0  # seconds a call may wait for a free pooled connection under load


def _part(value: str) -> str:
    """Key component: percent-encoded, so no user or budget name can forge another key."""
    return quote(value, safe="")



async def redis_call(fn: Callable[[], Awaitable[T]]) -> T:
    """Run one Redis operation; a connection failure becomes `LedgerUnavailable`, which every store caller
    (ledger and exception requests alike) already handles as "the store is down"."""
    try:
        return await fn()
    except (RedisConnectionError, RedisTimeoutError, OSError) as e:
        raise LedgerUnavailable(f"redis: {e}") from e

class RedisLedger:
    """`Ledger` on Redis. `url`: redis://[user:password@]HOST:PORT/DB or rediss://... (TLS)."""

    def __init__(self, url: str, *, prefix: str = "gonogo", timeout: float = DEFAULT_TIMEOUT,
                 max_connections: int = 16) -> None:
        self.url = url
        self.prefix = prefix
        # A blocking pool: a burst of requests waits for a free connection instead of failing with "too many
        # connections" (which would look like an outage). One quick retry only (a pooled connection may be
        # stale after a server restart); the driver's default exponential retries would hold a request for
        # seconds during an outage.
        pool = aioredis.BlockingConnectionPool.from_url(
            url, max_connections=max_connections, timeout=POOL_WAIT, socket_timeout=timeout,
            socket_connect_timeout=timeout, retry=Retry(NoBackoff(), 1))
        self._redis = aioredis.Redis.from_pool(pool)
        self._charge = self._redis.register_script(_CHARGE)
        self._add = self._redis.register_script(_ADD)
        self._grant = self._redis.register_script(_GRANT)
        self._continue = self._redis.register_script(_CONTINUE)

    def _keys(self, user: str, budget: str, period: str) -> tuple[str, str]:
        tag = f"{self.prefix}:{{q:{_part(user)}:{_part(budget)}:{_part(period)}}}"
        return f"{tag}:minutes", f"{tag}:extra"

    @property
    def _changes_key(self) -> str:
        return f"{self.prefix}:changes"

    def _continues_key(self, user: str) -> str:
        return f"{self.prefix}:{{c:{_part(user)}}}:continues"

    _call = staticmethod(redis_call)

    async def charge(self, user: str, budget: str, period: str, minute: int, limit: int,
                     ttl_seconds: int) -> Charge:
        keys = self._keys(user, budget, period)
        used, counted, new, extra = await self._call(
            lambda: self._charge(keys=keys, args=[minute, limit, ttl_seconds]))
        return Charge(int(used), bool(counted), bool(new), int(extra))

    async def balance(self, user: str, budget: str, period: str, minute: int) -> Balance:
        minutes, extra_key = self._keys(user, budget, period)

        async def read() -> list[Any]:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.scard(minutes)
                pipe.sismember(minutes, str(minute))
                pipe.get(extra_key)
                found: list[Any] = await pipe.execute()
                return found

        used, counted, extra = await self._call(read)
        return Balance(int(used), bool(counted), int(extra or 0))

    async def add_minutes(self, user: str, budget: str, period: str, minutes: Iterable[int],
                          ttl_seconds: int) -> int:
        key = self._keys(user, budget, period)[0]
        args = [ttl_seconds, *minutes]
        return int(await self._call(lambda: self._add(keys=[key], args=args)))

    async def grant(self, user: str, budget: str, period: str, minutes: int, ttl_seconds: int) -> int:
        key = self._keys(user, budget, period)[1]
        extra = int(await self._call(lambda: self._grant(keys=[key], args=[minutes, ttl_seconds])))
        await self._call(lambda: self._redis.incr(self._changes_key))  # its own slot: not in the script
        return extra

    async def reset(self, user: str, budget: str, period: str) -> None:
        keys = self._keys(user, budget, period)
        await self._call(lambda: self._redis.delete(*keys))
        await self._call(lambda: self._redis.incr(self._changes_key))

    async def changes(self) -> int:
        value = await self._call(lambda: self._redis.get(self._changes_key))
        return int(value or 0)

    async def set_continue(self, user: str, rule: str, until: float) -> None:
        key = self._continues_key(user)
        await self._call(lambda: self._continue(keys=[key], args=[rule, repr(until), int(until * 1000)]))

    async def continues(self, user: str, now: float) -> dict[str, float]:
        raw: dict[bytes | str, bytes | str] = await self._call(lambda: self._redis.hgetall(self._continues_key(user)))
        found = {_text(rule): float(until) for rule, until in raw.items()}
        return {rule: until for rule, until in found.items() if until > now}

    async def ping(self) -> None:
        await self._call(self._redis.ping)

    async def close(self) -> None:
        await self._redis.aclose()


def _text(value: bytes | str) -> str:
    """A reply as text: the client answers bytes (no decode_responses), its types allow either."""
    return value.decode() if isinstance(value, bytes) else value
