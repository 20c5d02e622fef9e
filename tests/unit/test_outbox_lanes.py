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
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    async def send(self, *, address: str, payload: dict[str, Any]) -> None:
        self.delivered.append((address, payload["text"], asyncio.get_running_loop().time()))
        self.changed.set()

    async def until(self, count: int) -> None:
        while len(self.delivered) < count:
            self.changed.clear()
            await self.changed.wait()


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


class LeasingStore(FakeStore):
    """Claimed rows are leased (status "sending") until marked, as in storage/outbox.py."""

    async def claim_batch(self, *, worker_id, now, limit, lease_seconds, channels):  # type: ignore[no-untyped-def]
        items = await super().claim_batch(
            worker_id=worker_id, now=now, limit=limit, lease_seconds=lease_seconds,
            channels=channels,
        )  # fmt: skip
        for item in items:
            item.status = "sending"
        return items


async def test_a_new_reply_overtakes_a_chat_still_being_paced() -> None:
    store = LeasingStore(
        [Item(str(n), "telegram", "counsellor", {"text": f"kasus {n}"}) for n in range(3)]
    )
    sender = TimedSender()
    w = worker(store, sender, RateLimiter(per_second=1000, per_chat_interval=0.4))
    running = asyncio.create_task(w.run_forever())
    try:
        async with asyncio.timeout(10):
            await sender.until(1)
            store.items.append(Item("asn", "telegram", "asn", {"text": "balasan"}))
            w.kick()
            await sender.until(4)
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
    texts = [text for _, text, _ in sender.delivered]
    assert texts.index("balasan") < texts.index("kasus 2"), texts
    assert [t for t in texts if t.startswith("kasus")] == ["kasus 0", "kasus 1", "kasus 2"]
    assert {i.status for i in store.items} == {"sent"}


async def test_a_flooded_staff_bot_leaves_room_for_asn_replies() -> None:
    store = LeasingStore(
        [Item(f"s{n}", "staff", "counsellor", {"text": f"kasus {n}"}) for n in range(6)]
    )
    sender = TimedSender()
    w = OutboxWorker(
        store=store,
        senders={"staff": sender, "telegram": sender},
        clock=Clock(),
        limiter=RateLimiter(per_second=1000, per_chat_interval=0.3),
        max_held=3,
    )
    running = asyncio.create_task(w.run_forever())
    try:
        async with asyncio.timeout(10):
            await sender.until(1)
            store.items.append(Item("asn", "telegram", "asn", {"text": "balasan"}))
            w.kick()
            await sender.until(3)
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
    texts = [text for _, text, _ in sender.delivered]
    assert "balasan" in texts[:3], texts
