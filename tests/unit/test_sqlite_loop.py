"""SQLite's calls run on the event loop's thread; a wait for the write lock does not."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import create_engine
from storage.sqlite_loop import LoopConnection, loop_connector


@pytest_asyncio.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'loop.db'}", pool_timeout=10)
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE t (v INTEGER)"))
    yield engine
    await engine.dispose()


async def _driver(engine: AsyncEngine) -> LoopConnection:
    async with engine.connect() as conn:
        raw = await conn.get_raw_connection()
        driver = raw.driver_connection
    assert isinstance(driver, LoopConnection)
    return driver


async def test_statements_run_on_the_event_loops_thread(engine: AsyncEngine) -> None:
    driver = await _driver(engine)
    driver._conn.create_function("thread_id", 0, threading.get_ident)
    threads_before = threading.active_count()
    async with engine.begin() as conn:
        ran_on = (await conn.execute(text("SELECT thread_id()"))).scalar_one()
        await conn.execute(text("INSERT INTO t VALUES (1)"))
        busy = (await conn.execute(text("PRAGMA busy_timeout"))).scalar_one()
    assert ran_on == threading.get_ident()
    assert threading.active_count() == threads_before
    assert busy == 0  # the loop never sleeps in SQLite's busy handler
    assert driver.waited_for_lock == 0


class Ticker:
    """A task that counts its turns on the event loop."""

    def __init__(self, every: float) -> None:
        self.ticks = 0
        self.task = asyncio.create_task(self._run(every))

    async def _run(self, every: float) -> None:
        while True:
            self.ticks += 1
            await asyncio.sleep(every)


async def test_a_long_run_of_statements_lets_other_tasks_run(engine: AsyncEngine) -> None:
    ticker = Ticker(0)
    async with engine.begin() as conn:
        await conn.execute(text("SELECT 1"))
        before = ticker.ticks
        for value in range(3000):  # tens of milliseconds of SQLite work, no other await
            await conn.execute(text("INSERT INTO t VALUES (:v)"), {"v": value})
        during = ticker.ticks - before
    ticker.task.cancel()
    assert during >= 2  # without the turns it would not have run once


async def test_a_wait_for_the_write_lock_leaves_the_loop_running(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    driver = await _driver(engine)
    other = sqlite3.connect(tmp_path / "loop.db", isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")  # another process's write transaction, say a backup

    async def write() -> None:
        async with engine.begin() as conn:
            await conn.execute(text("INSERT INTO t VALUES (2)"))

    ticker = Ticker(0.01)
    writing = asyncio.create_task(write())
    await asyncio.sleep(0.5)
    assert not writing.done()  # waiting for the lock ...
    assert ticker.ticks >= 20  # ... while the loop goes on
    other.execute("COMMIT")
    await asyncio.wait_for(writing, 10)
    ticker.task.cancel()
    other.close()
    assert driver.waited_for_lock == 1
    async with engine.connect() as conn:
        assert (await conn.execute(text("SELECT v FROM t"))).scalars().all() == [2]
        assert (await conn.execute(text("PRAGMA busy_timeout"))).scalar_one() == 0


async def test_a_lock_held_past_the_busy_timeout_fails_the_transaction(tmp_path: Path) -> None:
    path = tmp_path / "short.db"
    engine = create_engine(
        f"sqlite+aiosqlite:///{path}", async_creator=loop_connector(str(path), 200)
    )
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(OperationalError, match="locked"):
            async with engine.begin() as conn:
                await conn.execute(text("SELECT 1"))
    finally:
        other.execute("ROLLBACK")
        other.close()
    async with engine.begin() as conn:  # and the connection works once the lock is free
        assert (await conn.execute(text("SELECT 1"))).scalar_one() == 1
    await engine.dispose()


async def test_other_errors_are_raised_where_they_happen(engine: AsyncEngine) -> None:
    driver = await _driver(engine)
    with pytest.raises(OperationalError, match="no such table"):
        async with engine.begin() as conn:
            await conn.execute(text("SELECT * FROM missing"))
    assert driver.waited_for_lock == 0


async def test_closed_connections_refuse_work_and_dispose_closes_sqlite(
    engine: AsyncEngine,
) -> None:
    driver = await _driver(engine)
    sqlite_connection = driver._conn
    await engine.dispose()
    with pytest.raises(sqlite3.ProgrammingError):
        sqlite_connection.execute("SELECT 1")  # closed
    with pytest.raises(ValueError, match="closed"):
        await driver._execute(lambda: None)
