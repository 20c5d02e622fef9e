"""Limits and leases shared by every worker process through Redis (used when SAPA_REDIS_URL is set).

Telegram allows about one message a second per chat and thirty a second per bot. With several
workers an in-process limiter lets each worker send its own thirty, so the slots are reserved
in Redis instead: one atomic script picks the earliest time that keeps both limits, records it,
and the worker sleeps until then. Redis's own clock is used, so worker clocks cannot disagree.
The slot is reserved only once the send holds one of its worker's send places, right before it
goes: a reservation taken earlier and then held up (every place busy with slow sends) would let
the chat's next message, reserved from that stale time, go right behind it.
Chat ids never reach Redis: a chat's key is an HMAC blind index of (channel, address).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from storage.crypto import blind_index

if TYPE_CHECKING:  # the client is imported only where Redis is configured (16 MB, issue 8)
    from redis.asyncio import Redis

# KEYS[1] the chat's next free time, KEYS[2] the channel's reserved send times (a sorted set).
# ARGV: per-chat interval (us), sends per second per channel, a unique member id.
# Times are whole microseconds, written with %d (Lua's default number format would round them).
# The search loop is bounded: every pass moves past one reserved send, and at most 1000 passes.
# Returns the delay in microseconds until the reserved slot.
RESERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval, per_second, member = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3]
local second = 1000000
local function us(x) return string.format('%d', x) end
local at = math.max(now, tonumber(redis.call('GET', KEYS[1]) or '0'))
for _ = 1, 1000 do
  -- every one-second window that contains `at` must keep a free place
  local busy = redis.call('ZRANGEBYSCORE', KEYS[2], '(' .. us(at - second),
                          '(' .. us(at + second), 'WITHSCORES', 'LIMIT', 0, per_second)
  if #busy < 2 * per_second then break end
  at = math.max(at + 1, tonumber(busy[2]) + second)
end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', us(now - second))
redis.call('ZADD', KEYS[2], us(at), member)
redis.call('PEXPIRE', KEYS[2], us((at - now) / 1000 + 2000))
redis.call('SET', KEYS[1], us(at + interval), 'PX', us((at - now + interval) / 1000 + 1000))
return at - now
"""

# KEYS[1] the chat's next free time. Returns the microseconds until then (0: free now).
PEEK = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
return math.max(0, tonumber(redis.call('GET', KEYS[1]) or '0') - now)
"""


class RedisRateLimiter:
    """The outbox worker's limiter, shared by every worker through one Redis."""

    def __init__(
        self,
        redis: Redis,
        index_key: bytes,
        *,
        per_second: int = 30,
        per_chat_interval: float = 1.0,
        prefix: str = "sapa:rate",
    ) -> None:
        self._redis, self._key, self._prefix = redis, index_key, prefix
        self.per_second, self.per_chat_interval = per_second, per_chat_interval
        self._script = redis.register_script(RESERVE)
        self._peek = redis.register_script(PEEK)

    async def wait(self, channel: str, address: str) -> None:
        await asyncio.sleep(await self.reserve(channel, address))

    async def pace_chat(self, channel: str, address: str) -> None:
        """Wait until the chat may get its next message, reserving nothing: this wait holds
        no send place of the worker (the outbox worker takes one after it)."""
        micros: Any = await self._peek(keys=self._keys(channel, address)[:1])
        await asyncio.sleep(max(0, int(micros)) / 1_000_000)

    async def take_slot(self, channel: str, address: str) -> None:
        """Reserve the send's time (chat and bot limits at once) right before it goes."""
        await self.wait(channel, address)

    def _keys(self, channel: str, address: str) -> list[str]:
        chat = blind_index(f"{channel}|{address}", key=self._key, namespace="rate_limit")
        return [f"{self._prefix}:chat:{chat}", f"{self._prefix}:channel:{channel}"]

    async def reserve(self, channel: str, address: str) -> float:
        """Reserve the next allowed send time; returns the seconds to wait for it."""
        keys = self._keys(channel, address)
        interval_us = round(self.per_chat_interval * 1e6)
        args: list[str | int] = [interval_us, self.per_second, uuid.uuid4().hex]
        micros: Any = await self._script(keys=keys, args=args)
        return max(0, int(micros)) / 1_000_000


class JobLease:
    """One worker at a time runs a periodic job: whoever sets the key first holds it for a while."""

    def __init__(self, redis: Redis, *, prefix: str = "sapa:job") -> None:
        self._redis, self._prefix = redis, prefix
        self.owner = uuid.uuid4().hex

    async def acquire(self, name: str, seconds: float) -> bool:
        key = f"{self._prefix}:{name}"
        taken = await self._redis.set(key, self.owner, nx=True, px=max(1, int(seconds * 1000)))
        return bool(taken)


def singleton(
    lease: JobLease | None, name: str, seconds: float, job: Callable[[], Awaitable[Any]]
) -> Callable[[], Awaitable[Any]]:
    """`job`, run by only one worker per period when a lease is shared (always when alone)."""

    async def run() -> Any:
        if lease is None or await lease.acquire(name, seconds * 0.9):
            return await job()
        return None

    return run


REDIS_CONNECTIONS = 64  # per client and worker process


def redis_client(url: str) -> Redis:
    """A client whose commands wait for a free connection instead of failing.

    redis-py's default pool fails with MaxConnectionsError past 100 connections: a burst of
    updates (each takes its chat's lock and reads its state) reached that with two workers
    and 200 ASN in the pipeline benchmark (issue 8)."""
    from redis.asyncio import BlockingConnectionPool, Redis

    pool = BlockingConnectionPool.from_url(url, max_connections=REDIS_CONNECTIONS, timeout=20)
    return Redis.from_pool(pool)


def shared_redis(url: str | None) -> Redis | None:
    return redis_client(url) if url else None
