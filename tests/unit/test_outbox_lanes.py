"""The outbox worker delivers different chats concurrently, in order within a chat."""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass, field
from typing import Any

from bot.outbox_worker import OutboxWorker, RateLimiter
from tests.unit.test_outbox_worker import Clock, FakeStore, Item


@dataclass
class TimedSender:
    """Records what was delivered, to whom and when (the event loop's clock)."""

    delivered: list[tuple[str, str, float]] = field(default_factory=list)

    async def send(self, *, address: str, payload: dict[str, Any]) -> None:
        self.delivered.append((address, payload["text"], asyncio.get_running_loop().time()))


def worker(store: FakeStore, sender: TimedSender, limiter: RateLimiter) -> OutboxWorker:
    return OutboxWorker(store=store, senders={"telegram": sender}, clock=Clock(), limiter=limiter)


async def test_a_chat_waiting_for_its_pacing_does_not_hold_up_another_chat() -> None:
    store = FakeStore(
        [
            Item("1", "telegram", "counsellor", {"text": "kasus baru 1"}),
            Item("2", "telegram", "counsellor", {"text": "kasus baru 2"}),
            Item("3", "telegram", "asn", {"text": "balasan"}),
        ]
    )
    sender = TimedSender()
    limiter = RateLimiter(per_second=1000, per_chat_interval=0.3)
    assert await worker(store, sender, limiter).run_once() == 3
    assert [text for _, text, _ in sender.delivered] == ["kasus baru 1", "balasan", "kasus baru 2"]
    assert {i.status for i in store.items} == {"sent"}


async def test_one_chat_keeps_its_order_and_pacing() -> None:
    store = FakeStore([Item(str(n), "telegram", "asn", {"text": f"pesan {n}"}) for n in range(3)])
    sender = TimedSender()
    await worker(store, sender, RateLimiter(per_second=1000, per_chat_interval=0.2)).run_once()
    assert [text for _, text, _ in sender.delivered] == ["pesan 0", "pesan 1", "pesan 2"]
    times = [at for _, _, at in sender.delivered]
    assert all(later - earlier >= 0.19 for earlier, later in itertools.pairwise(times))


async def test_concurrent_chats_never_exceed_the_channel_limit() -> None:
    store = FakeStore([Item(str(n), "telegram", f"chat-{n}", {"text": "halo"}) for n in range(7)])
    sender = TimedSender()
    await worker(store, sender, RateLimiter(per_second=3, per_chat_interval=0.0)).run_once()
    times = sorted(at for _, _, at in sender.delivered)
    assert len(times) == 7
    for start in times:  # any one-second window holds at most 3 sends
        assert sum(1 for t in times if start <= t < start + 0.999) <= 3
