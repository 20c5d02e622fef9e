"""Admin setup values (JSON by key) that override the embedded defaults."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.tables import admin_settings

MAPPING_MANAGED = "mapping.managed"  # set once an admin changed the category mapping
LAST_PURGE = "ops.last_purge"
NAMES_MANAGED = "names.managed"  # set once an admin renamed a partner or a queue
QUEUES_REMOVED = "queues.removed"  # queue codes an admin removed


class SqlSetupStore:
    """The SetupStore port, inside a unit of work."""

    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def get(self, key: str) -> Any:
        raw = await self._s.scalar(
            select(admin_settings.c.value).where(admin_settings.c.key == key)
        )
        return None if raw is None else json.loads(raw)

    async def put(self, key: str, value: Any, *, at: datetime) -> None:
        raw = json.dumps(value, ensure_ascii=False, sort_keys=True)
        changed = await self._s.execute(
            update(admin_settings)
            .where(admin_settings.c.key == key)
            .values(value=raw, updated_at=at)
        )
        if getattr(changed, "rowcount", 0) != 1:
            await self._s.execute(insert(admin_settings).values(key=key, value=raw, updated_at=at))

    async def all(self) -> dict[str, Any]:
        rows = await self._s.execute(select(admin_settings.c.key, admin_settings.c.value))
        return {row.key: json.loads(row.value) for row in rows}


async def read_setting(sessions: async_sessionmaker[AsyncSession], key: str) -> Any:
    async with sessions() as session:
        return await SqlSetupStore(session).get(key)


async def write_setting(
    sessions: async_sessionmaker[AsyncSession], key: str, value: Any, *, at: datetime
) -> None:
    async with sessions() as session, session.begin():
        await SqlSetupStore(session).put(key, value, at=at)
