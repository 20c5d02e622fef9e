"""The inbox: every inbound update is recorded under UNIQUE (channel, external id) first.

A replayed or duplicated delivery (webhooks are at least once) is then recognised and
processed no more than once. An update whose handling started but never finished (the worker
was killed) is handled again when it is delivered again after `stale_seconds`, so a crash
loses no message; the price is a possible repeat of that one update's effect.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import insert, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.tables import inbox

STALE_SECONDS = 60.0  # longer than any handler runs, database retries included


class InboxStore:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def record(self, *, channel: str, external_id: str, at: datetime) -> bool:
        """True the first time this update is seen; False for a replay."""
        return await self._insert(channel, external_id, at, done=True)

    async def begin(
        self, *, channel: str, external_id: str, at: datetime, stale_seconds: float = STALE_SECONDS
    ) -> bool:
        """True when the update is to be handled now: new, or an unfinished stale attempt."""
        if await self._insert(channel, external_id, at, done=False):
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

    async def finish(self, *, channel: str, external_id: str, at: datetime) -> None:
        async with self._sessions() as session, session.begin():
            await session.execute(
                update(inbox)
                .where(inbox.c.channel == channel, inbox.c.external_id == external_id)
                .values(done_at=at)
            )

    async def _insert(self, channel: str, external_id: str, at: datetime, *, done: bool) -> bool:
        try:
            async with self._sessions() as session, session.begin():
                await session.execute(
                    insert(inbox).values(
                        channel=channel,
                        external_id=external_id,
                        received_at=at,
                        done_at=at if done else None,
                    )
                )
        except IntegrityError:
            return False
        return True
