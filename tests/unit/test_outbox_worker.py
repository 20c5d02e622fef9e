"""The outbox worker: delivery, retry-after, backoff, dead letters, per-chat pacing."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.exc import OperationalError

from bot.outbox_worker import OutboxWorker, RateLimiter
from bot.senders import DeliveryFailed, RetryLater


@dataclass
class Item:
    id: str
    channel: str
    address: str | None
    payload: dict[str, Any]
    attempts: int = 0
    direct: bool = False
    status: str = "pending"
    not_before: datetime | None = None
    error: str | None = None


@dataclass
class FakeStore:
    items: list[Item] = field(default_factory=list)

    async def claim_batch(self, *, worker_id, now, limit, lease_seconds, channels):
        ready = [
            i
            for i in self.items
            if i.status == "pending"
            and i.channel in channels
            and (i.not_before is None or i.not_before <= now)
        ]
        return ready[:limit]

    async def claim_channels(self, *, worker_id, now, limits, lease_seconds):
        claimed = []
        for channel, limit in limits.items():
            claimed += await self.claim_batch(
                worker_id=worker_id,
                now=now,
                limit=limit,
                lease_seconds=lease_seconds,
                channels=(channel,),
            )
        return claimed

    async def mark_sent(self, item, worker_id, external_id=None):
        self._get(item.id).status = "sent"

    async def mark_retry(self, item_id, *, at, error_code):
        item = self._get(item_id)
        item.attempts += 1
        item.not_before, item.error = at, error_code

    async def mark_dead(self, item_id, error_code):
        item = self._get(item_id)
        item.status, item.error = "dead", error_code

    def _get(self, item_id):
        return next(i for i in self.items if i.id == item_id)


@dataclass
class Clock:
    at: datetime = datetime(2026, 1, 5, 3, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self.at


@dataclass
class ScriptedSender:
    """Answers each send with the next scripted outcome (None = delivered)."""

    script: list[Exception | None] = field(default_factory=list)
    delivered: list[tuple[str, str]] = field(default_factory=list)

    async def send(self, *, address: str, payload: dict[str, Any]) -> None:
        outcome = self.script.pop(0) if self.script else None
        if outcome is not None:
            raise outcome
        self.delivered.append((address, payload["text"]))


def worker(store: FakeStore, sender: ScriptedSender, clock: Clock, **kw: Any) -> OutboxWorker:
    limiter = RateLimiter(per_second=1000, per_chat_interval=0.0)
    return OutboxWorker(
        store=store, senders={"telegram": sender}, clock=clock, limiter=limiter, **kw
    )


async def test_delivers_and_marks_sent() -> None:
    store = FakeStore([Item("1", "telegram", "chat-a", {"text": "halo"})])
    sender, clock = ScriptedSender(), Clock()
    assert await worker(store, sender, clock).run_once() == 1
    assert sender.delivered == [("chat-a", "halo")]
    assert store.items[0].status == "sent"


async def test_retry_after_is_honoured() -> None:
    store = FakeStore([Item("1", "telegram", "chat-a", {"text": "halo"})])
    sender, clock = ScriptedSender([RetryLater(17)]), Clock()
    w = worker(store, sender, clock)
    await w.run_once()
    assert store.items[0].not_before == clock.at + timedelta(seconds=17)
    clock.at += timedelta(seconds=16)
    assert await w.run_once() == 0  # not before retry_after
    clock.at += timedelta(seconds=1)
    await w.run_once()
    assert sender.delivered == [("chat-a", "halo")]


async def test_temporary_failures_back_off_then_go_dead() -> None:
    store = FakeStore([Item("1", "telegram", "chat-a", {"text": "halo"})])
    sender = ScriptedSender([DeliveryFailed("http_502")] * 10)
    clock = Clock()
    w = worker(store, sender, clock, max_attempts=3)
    for _ in range(3):
        await w.run_once()
        clock.at += timedelta(minutes=10)
    assert store.items[0].status == "dead"
    assert store.items[0].error == "http_502"
    assert sender.delivered == []


async def test_permanent_failure_is_dead_at_once() -> None:
    store = FakeStore([Item("1", "telegram", "chat-a", {"text": "halo"})])
    sender = ScriptedSender([DeliveryFailed("blocked_by_user", permanent=True)])
    await worker(store, sender, Clock()).run_once()
    assert store.items[0].status == "dead"


async def test_row_without_address_is_dead() -> None:
    store = FakeStore([Item("1", "telegram", None, {"text": "halo"})])
    await worker(store, ScriptedSender(), Clock()).run_once()
    assert store.items[0].error == "no_address"


async def test_channels_without_sender_are_left_alone() -> None:
    store = FakeStore([Item("1", "whatsapp", "wa", {"text": "halo"})])
    await worker(store, ScriptedSender(), Clock()).run_once()
    assert store.items[0].status == "pending"


async def test_rate_limiter_paces_one_chat_not_others(monkeypatch: pytest.MonkeyPatch) -> None:
    import asyncio

    import bot.outbox_worker as module

    waits: list[float] = []

    async def recorded_sleep(seconds: float) -> None:
        waits.append(seconds)
        await real_sleep(0)

    real_sleep = asyncio.sleep
    monkeypatch.setattr(module.asyncio, "sleep", recorded_sleep)
    limiter = RateLimiter(per_second=1000, per_chat_interval=1.0)
    await limiter.wait("telegram", "chat-a")
    await limiter.wait("telegram", "chat-a")
    await limiter.wait("telegram", "chat-b")
    assert len(waits) == 1 and 0.5 < waits[0] <= 1.0  # only the second message to chat-a waited


@dataclass
class RestartingStore(FakeStore):
    """The database is restarting while the first `outage` rows are marked sent."""

    outage: int = 2

    async def mark_sent(self, item, worker_id, external_id=None):
        if self.outage:
            self.outage -= 1
            raise OperationalError("UPDATE outbox", {}, ConnectionRefusedError())
        await super().mark_sent(item, worker_id)


async def test_a_database_restart_after_a_send_does_not_send_it_again() -> None:
    store = RestartingStore([Item("1", "telegram", "chat-a", {"text": "halo"})])
    sender, clock = ScriptedSender(), Clock()
    w = worker(store, sender, clock, mark_retry_delays=(0.0, 0.0, 0.0))
    await w.run_once()
    assert store.items[0].status == "sent"
    assert await w.run_once() == 0
    assert sender.delivered == [("chat-a", "halo")]
