"""The inbox: every inbound update is recorded under UNIQUE (channel, external id) first.

A replayed or duplicated delivery (webhooks are at least once) is then recognised and
processed no more than once. An update whose handling started but never finished (the worker
was killed) is handled again when it is delivered again after `stale_seconds`, so a crash
loses no message; the price is a possible repeat of that one update's effect.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import bindparam, delete, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.batching import GroupCommit
from storage.db import dialect_of, per_dialect
from storage.tables import inbox

STALE_SECONDS = 60.0  # longer than any handler runs, database retries included
Row = tuple[str, str, datetime, bool]  # channel, external id, received at, already done

# Built once at import (see storage/sealing.py); values are bound per row.
_RECORD = per_dialect(
    lambda insert: insert(inbox).on_conflict_do_nothing(index_elements=["channel", "external_id"])
)
_FINISH = (
    update(inbox)
    .where(inbox.c.channel == bindparam("b_channel"))
    .where(inbox.c.external_id == bindparam("b_external_id"))
)


class InboxStore:
    """Records and finishes updates; under load, many updates share one transaction."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        self._inserts: GroupCommit[Row, bool] = GroupCommit(self._insert_many)
        self._finishes: GroupCommit[Row, None] = GroupCommit(self._finish_many)

    async def record(self, *, channel: str, external_id: str, at: datetime) -> bool:
        """True the first time this update is seen; False for a replay."""
        return await self._inserts.submit((channel, external_id, at, True))

    async def begin(
        self, *, channel: str, external_id: str, at: datetime, stale_seconds: float = STALE_SECONDS
    ) -> bool:
        """True when the update is to be handled now: new, or an unfinished stale attempt."""
        if await self._inserts.submit((channel, external_id, at, False)):
            return True
        async with self._sessions() as session, session.begin():
            retried = await session.execute(
                update(inbox)
                .where(
                    inbox.c.channel == channel,
                    inbox.c.external_id == external_id,
                    inbox.c.done_at.is_(None),
                    inbox.c.received_at < at - timedelta(seconds=stale_seconds),
                )
                .values(received_at=at)
            )
        return bool(getattr(retried, "rowcount", 0) == 1)

    async def abandon(self, *, channel: str, external_id: str) -> None:
        """Handling failed in this process (an error, not a crash): the next delivery of the
        update is handled at once instead of being taken for a replay until it goes stale."""
        async with self._sessions() as session, session.begin():
            await session.execute(
                delete(inbox).where(
                    inbox.c.channel == channel,
                    inbox.c.external_id == external_id,
                    inbox.c.done_at.is_(None),
                )
            )

    async def finish(self, *, channel: str, external_id: str, at: datetime) -> None:
        await self._finishes.submit((channel, external_id, at, True))

    async def _insert_many(self, rows: Sequence[Row]) -> list[bool]:
        """One row per update; a row already there (a replay) is left as it is."""
        async with self._sessions() as session, session.begin():
            record = _RECORD[dialect_of(session)]
            new = []
            for channel, external_id, at, done in rows:
                values = {
                    "channel": channel,
                    "external_id": external_id,
                    "received_at": at,
                    "done_at": at if done else None,
                }
                result = await session.execute(record, values)
                new.append(getattr(result, "rowcount", 0) == 1)
        return new

    async def _finish_many(self, rows: Sequence[Row]) -> list[None]:
        async with self._sessions() as session, session.begin():
            for channel, external_id, at, _ in rows:
                await session.execute(
                    _FINISH, {"b_channel": channel, "b_external_id": external_id, "done_at": at}
                )
        return [None] * len(rows)
