"""The bots' conversation state: in the database, optionally remembered in memory."""

from __future__ import annotations

import asyncpg
import pytest
from aiogram.fsm.storage.base import StorageKey
from sqlalchemy import func, select

from bot.fsm_storage import SqlFsmStorage
from storage.bot_state import StateStore
from storage.db import create_engine, session_factory
from storage.migrate import upgrade
from storage.tables import bot_state
from tests.integration.conftest import Db

KEY = StorageKey(bot_id=1, chat_id=424242, user_id=424242)
OTHER = StorageKey(bot_id=1, chat_id=515151, user_id=515151)


def storage(db: Db, cache_size: int = 0) -> SqlFsmStorage:
    return SqlFsmStorage(StateStore(db.sessions, db.keyring.blind_index_key), cache_size=cache_size)


async def stored_rows(db: Db) -> int:
    async with db.sessions() as session:
        return int((await session.execute(select(func.count()).select_from(bot_state))).scalar())


@pytest.mark.parametrize("cache_size", [0, 10])
async def test_state_and_data_survive_a_restart(db: Db, cache_size: int) -> None:
    fsm = storage(db, cache_size)
    await fsm.set_state(KEY, "Questions:age")
    await fsm.set_data(KEY, {"category": "hukum", "answers": {"gender": None}})
    assert await fsm.get_state(KEY) == "Questions:age"
    restarted = storage(db, cache_size)  # a new process: nothing in memory
    assert await restarted.get_state(KEY) == "Questions:age"
    assert await restarted.get_data(KEY) == {"category": "hukum", "answers": {"gender": None}}
    await restarted.set_state(KEY, None)
    await restarted.set_data(KEY, {})
    assert await storage(db, cache_size).get_state(KEY) is None
    assert await restarted.get_data(KEY) == {}
    assert await stored_rows(db) == 1  # no chat id in the key: one blind-indexed row


async def test_the_cache_serves_reads_after_the_first_and_follows_writes(db: Db) -> None:
    fsm = storage(db, cache_size=10)
    await fsm.set_state(KEY, "Questions:gender")
    assert await fsm.get_state(KEY) == "Questions:gender"  # read once from the database
    async with db.sessions() as session, session.begin():
        await session.execute(bot_state.delete())  # behind its back: it must not read again
    assert await fsm.get_state(KEY) == "Questions:gender"
    await fsm.set_state(KEY, "Questions:age")  # a write goes to the database and the cache
    await fsm.set_data(KEY, {"answers": {}})
    assert await fsm.get_state(KEY) == "Questions:age"
    assert await storage(db).get_state(KEY) == "Questions:age"  # written through


async def test_data_handed_out_cannot_change_the_cache(db: Db) -> None:
    fsm = storage(db, cache_size=10)
    await fsm.get_state(KEY)
    given = {"answers": {"gender": "perempuan"}}
    await fsm.set_data(KEY, given)
    given["answers"]["gender"] = "changed by the caller"
    read = await fsm.get_data(KEY)
    read["answers"]["age"] = "changed by a handler"
    assert await fsm.get_data(KEY) == {"answers": {"gender": "perempuan"}}


async def test_the_cache_is_bounded(db: Db) -> None:
    fsm = storage(db, cache_size=1)
    await fsm.set_state(KEY, "a")
    await fsm.set_state(OTHER, "b")
    assert await fsm.get_state(KEY) == "a"
    assert await fsm.get_state(OTHER) == "b"  # pushes KEY out
    async with db.sessions() as session, session.begin():
        await session.execute(bot_state.delete())
    assert await fsm.get_state(OTHER) == "b"  # still remembered
    assert await fsm.get_state(KEY) is None  # forgotten: read again from the database
    assert len(fsm._cache) == 1


async def test_without_a_cache_every_read_goes_to_the_database(db: Db) -> None:
    """Several workers on PostgreSQL: another worker may have moved the conversation on."""
    mine, theirs = storage(db), storage(db)
    await mine.set_state(KEY, "Questions:gender")
    assert await mine.get_state(KEY) == "Questions:gender"
    await theirs.set_state(KEY, "Questions:age")
    assert await mine.get_state(KEY) == "Questions:age"


async def test_a_read_on_postgresql_starts_no_transaction_and_leaves_none_behind(
    pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Read before every update: one statement, without BEGIN and ROLLBACK round trips.
    The pooled connection goes back to transactions for the writes that follow it."""
    await upgrade(pg_url)
    engine = create_engine(pg_url, pool_size=1, max_overflow=0)  # one connection: reused
    fsm = SqlFsmStorage(StateStore(session_factory(engine), b"k" * 32), cache_size=0)
    await fsm.set_state(OTHER, None)  # connected (SQLAlchemy's first-connect queries) first
    started: list[str] = []
    start = asyncpg.transaction.Transaction.start

    async def counted(transaction: asyncpg.transaction.Transaction) -> None:
        started.append("BEGIN")
        await start(transaction)

    monkeypatch.setattr(asyncpg.transaction.Transaction, "start", counted)
    try:
        await fsm.set_state(KEY, "Questions:age")
        assert started == ["BEGIN"]
        assert await fsm.get_state(KEY) == "Questions:age"
        assert await fsm.get_data(OTHER) == {} and await fsm.get_state(OTHER) is None
        assert started == ["BEGIN"]  # the reads began nothing
        await fsm.set_data(KEY, {"category": "gizi"})
        assert started == ["BEGIN", "BEGIN"]  # the write after them is a transaction again
        assert await fsm.get_data(KEY) == {"category": "gizi"}
    finally:
        await engine.dispose()
