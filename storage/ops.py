"""What operations look at: outbox dead letters, key versions, purge runs, counts for /metrics.

Only metadata leaves here: ids, channels, attempts, error classes, counts and times.
Never a payload, an address, a message body or anyone's identity.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.outbox import DEAD
from storage.setup_store import LAST_PURGE, SqlSetupStore
from storage.tables import cases, clients, data_keys, messages, outbox, queues


@dataclass(frozen=True)
class DeadLetter:
    id: str
    channel: str
    attempts: int
    created_at: datetime
    error: str


@dataclass(frozen=True)
class KeyVersion:
    version: int
    current: bool
    data_keys: int
    first_used: datetime | None
    last_used: datetime | None


async def dead_letters(
    sessions: async_sessionmaker[AsyncSession], *, limit: int = 100
) -> Sequence[DeadLetter]:
    query = (
        select(outbox.c.id, outbox.c.channel, outbox.c.attempts, outbox.c.created_at)
        .add_columns(outbox.c.last_error)
        .where(outbox.c.status == DEAD)
        .order_by(outbox.c.created_at.desc())
        .limit(limit)
    )
    async with sessions() as session:
        rows = await session.execute(query)
        return [
            DeadLetter(r.id, r.channel, int(r.attempts), r.created_at, r.last_error or "-")
            for r in rows
        ]


async def key_versions(
    sessions: async_sessionmaker[AsyncSession], *, loaded: Sequence[int], current: int
) -> Sequence[KeyVersion]:
    """Every KEK version loaded or still wrapping data keys; never the key material."""
    query = select(
        data_keys.c.kek_version,
        func.count(),
        func.min(data_keys.c.created_at),
        func.max(data_keys.c.created_at),
    ).group_by(data_keys.c.kek_version)
    async with sessions() as session:
        used = {int(v): (int(n), first, last) for v, n, first, last in await session.execute(query)}
    versions = sorted(set(loaded) | set(used))
    return [KeyVersion(v, v == current, *used.get(v, (0, None, None))) for v in versions]


async def last_purge(sessions: async_sessionmaker[AsyncSession]) -> datetime | None:
    """When the retention purge last ran (recorded by each run), else its last shredding."""
    async with sessions() as session:
        ran = await SqlSetupStore(session).get(LAST_PURGE)
        if ran:
            return datetime.fromisoformat(str(ran))
        shredded: datetime | None = await session.scalar(select(func.max(cases.c.purged_at)))
    return shredded


async def message_counts(sessions: async_sessionmaker[AsyncSession]) -> dict[tuple[str, str], int]:
    """Messages held, by (channel, direction)."""
    query = (
        select(clients.c.channel, messages.c.direction, func.count())
        .select_from(messages.join(cases, cases.c.id == messages.c.case_id))
        .join(clients, clients.c.id == cases.c.client_id)
        .group_by(clients.c.channel, messages.c.direction)
    )
    async with sessions() as session:
        return {(str(c), str(d)): int(n) for c, d, n in await session.execute(query)}


async def queue_depth(sessions: async_sessionmaker[AsyncSession]) -> dict[str, int]:
    """Cases waiting to be claimed, by queue code (every queue listed, zero included)."""
    waiting = (
        select(cases.c.queue_id, func.count().label("n"))
        .where(cases.c.status == "queued")
        .group_by(cases.c.queue_id)
        .subquery()
    )
    query = select(queues.c.code, waiting.c.n).outerjoin(waiting, waiting.c.queue_id == queues.c.id)
    async with sessions() as session:
        return {str(code): int(n or 0) for code, n in await session.execute(query)}
