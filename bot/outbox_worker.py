"""Delivers outbox rows through the channel senders, with backoff, leases and dead letters."""

from __future__ import annotations

import asyncio
import logging
import random
import uuid
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Protocol

from sqlalchemy.exc import DBAPIError, OperationalError

from bot.senders import DeliveryFailed, RetryLater, Sender
from core.ports import Clock

log = logging.getLogger("sapa.outbox")


class OutboxItemLike(Protocol):
    id: str
    channel: str
    address: str | None
    payload: dict[str, Any]
    attempts: int
    direct: bool


class OutboxStoreLike(Protocol):
    async def claim_channels(
        self, *, worker_id: str, now: Any, limits: Mapping[str, int], lease_seconds: int
    ) -> list[Any]: ...
    async def mark_sent(self, item: Any, worker_id: str, *args: Any) -> None: ...
    async def mark_retry(self, item_id: str, *, at: Any, error_code: str) -> None: ...
    async def mark_dead(self, item_id: str, error_code: str) -> None: ...


@dataclass
class RateLimiter:
    """At most one message a second per chat and `per_second` per channel (Telegram's limits)."""

    per_second: int = 30
    per_chat_interval: float = 1.0
    _chat_next: dict[tuple[str, str], float] = field(default_factory=dict)
    _channel_slots: dict[str, list[float]] = field(default_factory=dict)

    async def wait(self, channel: str, address: str) -> None:
        await self.pace_chat(channel, address)
        await self.take_slot(channel, address)

    async def pace_chat(self, channel: str, address: str) -> None:
        """Wait until this chat may get its next message."""
        loop = asyncio.get_running_loop()
        chat_delay = self._chat_next.get((channel, address), 0.0) - loop.time()
        if chat_delay > 0:
            await asyncio.sleep(chat_delay)

    async def take_slot(self, channel: str, address: str) -> None:
        """Wait for a free slot in the channel's one-second window and take it.

        Other chats are delivered concurrently: the window is checked again after every
        sleep, as they may have taken the free slots meanwhile."""
        loop = asyncio.get_running_loop()
        while True:
            delay = self._channel_delay(channel, loop.time())
            if delay <= 0:
                break
            await asyncio.sleep(delay)
        now = loop.time()
        self._chat_next[(channel, address)] = now + self.per_chat_interval
        self._channel_slots[channel].append(now)

    def _channel_delay(self, channel: str, now: float) -> float:
        slots = [t for t in self._channel_slots.get(channel, []) if t > now - 1.0]
        self._channel_slots[channel] = slots
        return slots[0] + 1.0 - now if len(slots) >= self.per_second else 0.0


def backoff(attempts: int) -> float:
    return min(2.0**attempts, 300.0) * random.uniform(0.8, 1.2)


@dataclass
class OutboxWorker:
    store: OutboxStoreLike
    senders: Mapping[str, Sender]
    clock: Clock
    max_attempts: int = 8
    lease_seconds: int = 60
    batch: int = 50
    idle_seconds: float = 0.5
    limiter: RateLimiter = field(default_factory=RateLimiter)
    worker_id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    # After a send the row must be marked even through a database restart, or it goes again.
    mark_retry_delays: tuple[float, ...] = (0.5, 1.0, 2.0, 4.0)
    concurrency: int = 8  # sends (and their database writes) in flight at once
    # Rows claimed and not yet done with, per channel across its chats: queued in a lane or
    # on their way (waiting for the send limits or a send place). Also what bounds how long a
    # claimed row can wait for its send, far inside its lease (200 rows at 30/s: 7 s).
    max_held: int = 200
    # A channel whose lanes hold rows is refilled on a wake (a kick, a lane done) only once
    # this much room is free, or by the idle poll: not a row at a time as each lane pops,
    # which cost a claim transaction per send while a backlog drained.
    refill: int = 25
    _wake: asyncio.Event = field(default_factory=asyncio.Event, repr=False)
    _slots: asyncio.Semaphore | None = field(default=None, repr=False)
    _lanes: dict[tuple[str, str | None], list[tuple[float, Any]]] = field(
        default_factory=dict, repr=False
    )
    _lane_tasks: dict[tuple[str, str | None], asyncio.Task[None]] = field(
        default_factory=dict, repr=False
    )
    _held: Counter[str] = field(default_factory=Counter, repr=False)
    _capped: bool = field(default=False, repr=False)  # the last claim may have left rows

    async def run_once(self) -> int:
        """Claim one batch and deliver it completely; returns how many rows were handled."""
        handled = await self._claim()
        await asyncio.gather(*self._lane_tasks.values())
        return handled

    async def run_forever(self) -> None:
        """Claims keep coming while slow chats are still being paced: one chat waiting for
        Telegram's 1 msg/s never holds up the others.

        A claim runs when something was written (`kick`), when a full claim may have left
        rows behind, or every `idle_seconds` (retries falling due, expired leases, rows of
        other workers); a kick during a claim is not lost, it asks for the next one."""
        polled = True
        try:
            while True:
                self._wake.clear()
                try:
                    handled = await self._claim(polled=polled)
                except Exception:  # a database restart must not kill delivery for good
                    log.exception("outbox batch failed; retrying")
                    handled = 0
                polled = False
                if handled and self._capped:
                    continue  # a full claim may have left rows behind: claim again now
                try:
                    async with asyncio.timeout(self.idle_seconds):
                        await self._wake.wait()
                except TimeoutError:
                    polled = True  # the poll tops up any room (bounds an urgent row's wait)
        finally:
            lanes = list(self._lane_tasks.values())
            for task in lanes:
                task.cancel()
            await asyncio.gather(*lanes, return_exceptions=True)

    async def _claim(self, *, polled: bool = True) -> int:
        """Each channel has its own room: a flooded staff bot leaves the ASN bot free.

        One transaction claims for every channel with room (on a wake, with room enough to
        refill)."""
        limits = {}
        for channel in self.senders:
            room = self._room(channel)
            if room >= (1 if polled else self._refill_at()):
                limits[channel] = min(self.batch, room)
        # Until this claim shows otherwise, a channel without room may have rows waiting.
        self._capped = len(limits) < len(self.senders)
        if not limits:
            return 0
        items = await self.store.claim_channels(
            worker_id=self.worker_id,
            now=self.clock.now(),
            limits=limits,
            lease_seconds=self.lease_seconds,
        )
        per_channel = Counter(item.channel for item in items)
        self._capped = self._capped or any(per_channel[c] >= n for c, n in limits.items())
        claimed_at = asyncio.get_running_loop().time()
        self._held.update(per_channel)
        for item in items:  # one lane per chat: in order within a chat, chats concurrently
            key = (item.channel, item.address)
            self._lanes.setdefault(key, []).append((claimed_at, item))
            if key not in self._lane_tasks:
                self._lane_tasks[key] = asyncio.create_task(self._run_lane(key))
        return len(items)

    async def _run_lane(self, key: tuple[str, str | None]) -> None:
        lane = self._lanes[key]
        try:
            while lane:
                claimed_at, item = lane.pop(0)
                try:
                    if asyncio.get_running_loop().time() - claimed_at > self.lease_seconds * 0.8:
                        continue  # its lease is running out: claimed again later, not doubled
                    await self._deliver(item)
                except Exception:  # a database restart: the row is claimed again later
                    log.exception("outbox delivery failed; retrying after the lease")
                finally:
                    self._held[item.channel] -= 1
                    if self._capped and self._room(item.channel) >= self._refill_at():
                        self._wake.set()  # room enough for rows a full claim left behind
        finally:
            del self._lanes[key], self._lane_tasks[key]

    def _room(self, channel: str) -> int:
        return self.max_held - self._held[channel]

    def _refill_at(self) -> int:
        """The room a channel holding rows needs before a wake claims for it again."""
        return min(self.refill, self.max_held)

    def kick(self) -> None:
        """Something was written to the outbox: deliver it now instead of at the next poll."""
        self._wake.set()

    async def _deliver(self, item: OutboxItemLike) -> None:
        if item.address is None:
            await self.store.mark_dead(item.id, "no_address")
            return
        await self.limiter.pace_chat(item.channel, item.address)
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.concurrency)
        async with self._slots:  # a chat waiting for its pacing holds no slot
            await self.limiter.take_slot(item.channel, item.address)
            await self._send(item)

    async def _send(self, item: OutboxItemLike) -> None:
        try:
            sent_id = await self.senders[item.channel].send(
                address=item.address or "", payload=item.payload
            )
        except RetryLater as wait:
            await self._retry(item, wait.seconds, wait.code)
        except DeliveryFailed as failure:
            if failure.permanent:
                await self.store.mark_dead(item.id, failure.code)
            else:
                await self._retry(item, backoff(item.attempts), failure.code)
        else:
            # the channel's message id, when it has one, for its delivery reports
            await self._mark_sent(item, sent_id if isinstance(sent_id, str) else None)

    async def _mark_sent(self, item: OutboxItemLike, external_id: str | None) -> None:
        for delay in self.mark_retry_delays:
            try:
                return await self.store.mark_sent(item, self.worker_id, external_id)
            except (OperationalError, DBAPIError, OSError) as exc:
                log.warning(
                    "marking a sent row failed (%s); again in %.1f s", type(exc).__name__, delay
                )
                await asyncio.sleep(delay)
        await self.store.mark_sent(item, self.worker_id, external_id)

    async def _retry(self, item: OutboxItemLike, seconds: float, code: str) -> None:
        if item.attempts + 1 >= self.max_attempts:
            log.warning("outbox row dead after %d attempts (%s)", item.attempts + 1, code)
            await self.store.mark_dead(item.id, code)
            return
        at = self.clock.now() + timedelta(seconds=seconds)
        await self.store.mark_retry(item.id, at=at, error_code=code)
