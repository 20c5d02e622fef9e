"""Conversation state of the bots, in the database so a restart or a second worker continues it.

Rows are keyed by a blind index of the bot, chat and user ids: no chat id is stored.
The data holds only enumerated values (a chosen category, answered bands, a case code).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy import delete as sa_delete
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.batching import GroupCommit
from storage.crypto import blind_index
from storage.db import dialect_of, per_dialect
from storage.tables import bot_state

# Built once at import (see storage/sealing.py).
_STATE = select(bot_state.c.state, bot_state.c.data).where(
    bot_state.c.key_index == bindparam("key")
)


def _upsert_of(column: str) -> dict[str, Any]:
    """INSERT the row, or on a known key set `column` and the time from the values given."""

    def build(insert: Any) -> Any:
        statement = insert(bot_state)
        return statement.on_conflict_do_update(
            index_elements=["key_index"],
            set_={column: statement.excluded[column], "updated_at": statement.excluded.updated_at},
        )

    return per_dialect(build)


_UPSERT = {column: _upsert_of(column) for column in ("state", "data")}


class StateStore:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], index_key: bytes) -> None:
        self._sessions, self._key = sessions, index_key
        self._writes: GroupCommit[tuple[str, dict[str, Any]], None] = GroupCommit(self._upsert_many)

    def key(self, *parts: object) -> str:
        return blind_index("|".join(str(p) for p in parts), key=self._key, namespace="bot_state")

    async def get(self, key: str) -> tuple[str | None, dict[str, Any]]:
        """Read before every update of a bot whose state is not kept in memory or Redis."""
        async with self._sessions() as session:
            if dialect_of(session) == "postgresql":
                # One statement needs no transaction: without one, no BEGIN and ROLLBACK
                # round trips around it (asyncpg starts a transaction with a BEGIN of its own).
                await session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
            row = (await session.execute(_STATE, {"key": key})).first()
        if row is None:
            return None, {}
        data: dict[str, Any] = json.loads(row.data)
        return row.state, data

    async def set_state(self, key: str, state: str | None) -> None:
        await self._upsert(key, state=state)

    async def set_data(self, key: str, data: dict[str, Any]) -> None:
        await self._upsert(key, data=json.dumps(data, sort_keys=True))

    async def _upsert(self, key: str, **values: Any) -> None:
        """Writes of many conversations at about the same time share a transaction."""
        values["updated_at"] = datetime.now(UTC)
        await self._writes.submit((key, values))

    async def _upsert_many(self, writes: Sequence[tuple[str, dict[str, Any]]]) -> list[None]:
        async with self._sessions() as session, session.begin():
            dialect = dialect_of(session)
            for key, values in writes:  # in the order asked: a later write of a key wins
                column = "state" if "state" in values else "data"
                await session.execute(
                    _UPSERT[column][dialect], {"key_index": key, "data": "{}", **values}
                )
        return [None] * len(writes)

    async def delete(self, key: str) -> None:
        async with self._sessions() as session, session.begin():
            await session.execute(sa_delete(bot_state).where(bot_state.c.key_index == key))
