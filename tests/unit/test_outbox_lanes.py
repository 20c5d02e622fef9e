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


async def reply_after_first_send(
    w: OutboxWorker, store: FakeStore, sender: TimedSender, *, until: int
) -> list[str]:
    """Runs the worker; after its first send an ASN reply is written (and the worker kicked).
    Returns the texts in the order sent, once `until` were."""
    running = asyncio.create_task(w.run_forever())
    try:
        async with asyncio.timeout(10):
            await sender.until(1)
            store.items.append(Item("asn", "telegram", "asn", {"text": "balasan"}))
            w.kick()
            await sender.until(until)
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
    return [text for _, text, _ in sender.delivered]


async def test_a_new_reply_overtakes_a_chat_still_being_paced() -> None:
    store = LeasingStore(
        [Item(str(n), "telegram", "counsellor", {"text": f"kasus {n}"}) for n in range(3)]
    )
    sender = TimedSender()
    w = worker(store, sender, RateLimiter(per_second=1000, per_chat_interval=0.4))
    texts = await reply_after_first_send(w, store, sender, until=4)
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
    texts = await reply_after_first_send(w, store, sender, until=3)
    assert "balasan" in texts[:3], texts


@dataclass
class CountingStore(LeasingStore):
    """Counts claim transactions, and the most rows claimed and not yet marked at once."""

    claims: int = 0
    most_out: int = 0
    all_sent: asyncio.Event = field(default_factory=asyncio.Event)

    async def claim_channels(self, **kwargs):  # type: ignore[no-untyped-def]
        self.claims += 1
        items = await super().claim_channels(**kwargs)
        out = sum(1 for i in self.items if i.status == "sending")
        self.most_out = max(self.most_out, out)
        return items

    async def mark_sent(self, item, worker_id, external_id=None):  # type: ignore[no-untyped-def]
        await super().mark_sent(item, worker_id, external_id)
        if {i.status for i in self.items} == {"sent"}:
            self.all_sent.set()


async def run_until_sent(w: OutboxWorker, store: CountingStore) -> None:
    running = asyncio.create_task(w.run_forever())
    try:
        async with asyncio.timeout(10):
            await store.all_sent.wait()
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)


class SteadySender(TimedSender):
    """Each send takes 20 ms (a network round trip): with one send place, a steady trickle."""

    async def send(self, *, address: str, payload: dict[str, Any]) -> None:
        await super().send(address=address, payload=payload)
        await asyncio.sleep(0.02)


def backlog_worker(store: FakeStore, sender: TimedSender, **kwargs: Any) -> OutboxWorker:
    """A channel with a backlog of one-message chats (a reply to each of many ASN)."""
    store.items += [Item(str(n), "telegram", f"chat-{n}", {"text": "halo"}) for n in range(60)]
    limiter = RateLimiter(per_second=1000, per_chat_interval=0.0)
    return OutboxWorker(
        store=store,
        senders={"telegram": sender},
        clock=Clock(),
        limiter=limiter,
        concurrency=1,
        idle_seconds=5,  # no poll: claims follow the sends
        **kwargs,
    )


async def test_rows_on_their_way_count_against_what_a_worker_holds() -> None:
    """A row waiting for the send limits is held too: a backlog of many chats is not claimed
    all at once (rows that then waited past their lease would be claimed again, sent twice)."""
    store, sender = CountingStore(), SteadySender()
    await run_until_sent(backlog_worker(store, sender, max_held=20, refill=1), store)
    assert store.most_out <= 20, store.most_out


async def test_a_backlog_is_refilled_in_batches_not_a_claim_per_send() -> None:
    """Each send done frees one row of room; claiming it at once cost a transaction per send
    while a backlog drained. The channel is refilled once `refill` rows of room are free."""
    store, sender = CountingStore(), SteadySender()
    await run_until_sent(backlog_worker(store, sender, max_held=20, refill=10), store)
    assert store.most_out <= 20, store.most_out
    assert store.claims <= 8, store.claims  # 20 rows first, then about 10 at a time


async def test_a_row_kicked_while_the_channel_is_nearly_full_goes_with_the_next_poll() -> None:
    """Too little room to refill on the kick: the idle poll claims it, well before the paced
    chat's backlog is through."""
    store = LeasingStore(
        [Item(str(n), "telegram", "counsellor", {"text": f"kasus {n}"}) for n in range(5)]
    )
    sender = TimedSender()
    w = OutboxWorker(
        store=store,
        senders={"telegram": sender},
        clock=Clock(),
        limiter=RateLimiter(per_second=1000, per_chat_interval=0.5),
        max_held=6,
        refill=4,
        idle_seconds=0.2,
    )
    # 4 held after the first send, room 2 < 4: the reply is not claimed on the kick
    texts = await reply_after_first_send(w, store, sender, until=6)
    assert texts.index("balasan") <= 2, texts
