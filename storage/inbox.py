"""The inbox: every inbound update is recorded under UNIQUE (channel, external id) first.

A replayed or duplicated delivery (webhooks are at least once) is then recognised and
processed no more than once.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.tables import inbox


class InboxStore:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def record(self, *, channel: str, external_id: str, at: datetime) -> bool:
        """True the first time this update is seen; False for a replay."""
        try:
            async with self._sessions() as session, session.begin():
                await session.execute(
                    insert(inbox).values(channel=channel, external_id=external_id, received_at=at)
                )
        except IntegrityError:
            return False
        return True
