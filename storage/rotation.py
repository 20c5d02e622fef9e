"""KEK rotation: rewrap every data key under the current KEK, in small transactions.

Messages are not re-encrypted and the service keeps running: a reader that meets a
data key wrapped by a version it has not loaded rereads the key file.
"""

from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.crypto import KekSource, rewrap_key
from storage.tables import data_keys

BATCH = 200


async def key_status(sessions: async_sessionmaker[AsyncSession]) -> dict[int, int]:
    async with sessions() as session:
        rows = await session.execute(
            select(data_keys.c.kek_version, func.count()).group_by(data_keys.c.kek_version)
        )
        return {int(version): int(count) for version, count in rows}


async def rotate(sessions: async_sessionmaker[AsyncSession], keyring: KekSource) -> int:
    """Rewrap until no data key is wrapped by an older version; returns how many were rewrapped."""
    total = 0
    while True:
        async with sessions() as session, session.begin():
            rows = list(
                await session.execute(
                    select(data_keys.c.owner_id, data_keys.c.wrapped)
                    .where(data_keys.c.kek_version != keyring.current_version)
                    .limit(BATCH)
                    .with_for_update(skip_locked=True)
                )
            )
            for owner_id, wrapped in rows:
                await session.execute(
                    update(data_keys)
                    .where(data_keys.c.owner_id == owner_id)
                    .values(
                        wrapped=rewrap_key(bytes(wrapped), keyring=keyring, owner_id=owner_id),
                        kek_version=keyring.current_version,
                    )
                )
        total += len(rows)
        if len(rows) < BATCH:
            return total
