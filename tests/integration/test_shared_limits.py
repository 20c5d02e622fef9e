"""Send limits and job leases shared by two workers through the real Redis."""

from __future__ import annotations

import asyncio
import itertools
import os
import secrets
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from redis.asyncio import Redis

from bot.outbox_worker import OutboxWorker, RateLimiter
from bot.shared_limits import JobLease, RedisRateLimiter
from tests.unit.test_outbox_lanes import TimedSender
from tests.unit.test_outbox_worker import Clock, FakeStore, Item

REDIS_URL = os.environ.get("SAPA_TEST_REDIS_URL", "redis://127.0.0.1:6379/11")
CHAT = "7004401234"  # a canary: a chat id that must never appear in Redis


@pytest.fixture
async def redis_pair() -> AsyncIterator[tuple[Redis, Redis, str]]:
    """Two connections (two workers) and a key prefix of this test's own."""
    prefix = f"sapa-test-{secrets.token_hex(4)}"
    first, second = Redis.from_url(REDIS_URL), Redis.from_url(REDIS_URL)
    try:
        yield first, second, prefix
    finally:
        async for key in first.scan_iter(match=f"{prefix}*"):
            await first.delete(key)
        await first.aclose()
        await second.aclose()


def most_in_one_window(times: list[float], window: float) -> int:
    times = sorted(times)
    return max(sum(1 for t in times[i:] if t < start + window) for i, start in enumerate(times))


async def send_times(limiters: list[object], addresses: list[str]) -> list[float]:
    """Each address sent once, alternating between the limiters; when each send may go."""

    async def one(limiter: object, address: str) -> float:
        await limiter.wait("telegram", address)  # type: ignore[attr-defined]
        return time.monotonic()

    jobs = [one(limiters[i % len(limiters)], a) for i, a in enumerate(addresses)]
    return list(await asyncio.gather(*jobs))


async def test_two_workers_share_the_per_bot_limit(redis_pair: tuple[Redis, Redis, str]) -> None:
    first, second, prefix = redis_pair
    key = secrets.token_bytes(32)
    limiters = [RedisRateLimiter(r, key, per_second=10, prefix=prefix) for r in (first, second)]
    times = await send_times(limiters, [str(1000 + i) for i in range(35)])
    assert most_in_one_window(times, 0.95) <= 10
    # The same load on two in-process limiters breaks the limit: the check above can fail.
    alone = [RateLimiter(per_second=10), RateLimiter(per_second=10)]
    assert most_in_one_window(await send_times(alone, [str(i) for i in range(35)]), 0.95) > 10


async def test_two_workers_share_the_per_chat_limit_without_storing_the_chat_id(
    redis_pair: tuple[Redis, Redis, str],
) -> None:
    first, second, prefix = redis_pair
    key = secrets.token_bytes(32)
    limiters = [
        RedisRateLimiter(r, key, per_chat_interval=0.5, prefix=prefix) for r in (first, second)
    ]
    times = sorted(await send_times(limiters, [CHAT] * 6))
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert min(gaps) >= 0.45, gaps
    stored = [k async for k in first.scan_iter(match=f"{prefix}*")]
    assert stored and not [k for k in stored if CHAT.encode() in k]
    for k in stored:
        if await first.type(k) == b"string":
            assert CHAT.encode() not in (await first.get(k) or b"")


async def test_a_periodic_job_runs_on_one_worker_per_period(
    redis_pair: tuple[Redis, Redis, str],
) -> None:
    first, second, prefix = redis_pair
    leases = [JobLease(first, prefix=prefix), JobLease(second, prefix=prefix)]
    won = await asyncio.gather(*(lease.acquire("repage", 0.5) for lease in leases * 3))
    assert sum(won) == 1
    await asyncio.sleep(0.6)  # the period is over: the job may run again, on either worker
    assert await leases[1].acquire("repage", 0.5)


class SlowChatSender(TimedSender):
    """Records when each send went; sends to the chat "slow" take 0.6 s (a slow network)."""

    def __init__(self) -> None:
        super().__init__()
        self.slow_started = asyncio.Event()

    async def send(self, *, address: str, payload: dict[str, Any]) -> None:
        await super().send(address=address, payload=payload)
        if address == "slow":
            self.slow_started.set()
            await asyncio.sleep(0.6)


class AfterSlowLimiter(RedisRateLimiter):
    """Lets the chat's messages ask for their time only once the slow send holds the worker's
    one send place, so the first of them is certain to wait for it (which lane's Redis reply
    comes back first is otherwise a race)."""

    def __init__(self, sender: SlowChatSender, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._sender = sender

    async def pace_chat(self, channel: str, address: str) -> None:
        if address == CHAT:
            await self._sender.slow_started.wait()
        await super().pace_chat(channel, address)


async def test_a_send_held_up_for_a_send_place_keeps_its_chats_pacing(
    redis_pair: tuple[Redis, Redis, str],
) -> None:
    """The worker's only send place is busy with a slow send while the chat's first message
    waits: its second must still go a full interval after the first actually went."""
    first, _, prefix = redis_pair
    store = FakeStore(
        [
            Item("s", "telegram", "slow", {"text": "lambat"}),
            Item("a1", "telegram", CHAT, {"text": "pesan 1"}),
            Item("a2", "telegram", CHAT, {"text": "pesan 2"}),
        ]
    )
    sender = SlowChatSender()
    limiter = AfterSlowLimiter(
        sender, first, secrets.token_bytes(32), per_chat_interval=0.5, prefix=prefix
    )
    worker = OutboxWorker(store=store, senders={"telegram": sender}, clock=Clock(), concurrency=1)
    worker.limiter = limiter  # type: ignore[assignment]
    async with asyncio.timeout(10):
        assert await worker.run_once() == 3
    at = {text: when for _, text, when in sender.delivered}
    assert at["pesan 1"] - at["lambat"] >= 0.55  # held up behind the slow send
    assert at["pesan 2"] - at["pesan 1"] >= 0.45, sender.delivered
