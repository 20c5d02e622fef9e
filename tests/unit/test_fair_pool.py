"""SQLite's one pooled connection goes to waiting tasks first come, first served."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import text

from storage.db import FairAsyncQueuePool, HandOffQueue, create_engine


async def test_a_returned_item_goes_to_the_longest_waiter_not_to_the_next_caller() -> None:
    queue: HandOffQueue[str] = HandOffQueue()
    queue.put_nowait("conn")
    held = await queue.get()
    order: list[str] = []

    async def waiter(name: str) -> None:
        item = await queue.get()
        order.append(name)
        queue.put_nowait(item)

    first, second = asyncio.create_task(waiter("first")), asyncio.create_task(waiter("second"))
    await asyncio.sleep(0)  # both wait now
    queue.put_nowait(held)
    again = asyncio.create_task(waiter("returner asking again"))  # asks before they run
    await asyncio.gather(first, second, again)
    assert order == ["first", "second", "returner asking again"]
    assert queue.qsize() == 1


async def test_a_waiter_that_gives_up_after_the_hand_over_passes_the_item_on() -> None:
    queue: HandOffQueue[str] = HandOffQueue()
    impatient = asyncio.create_task(queue.get())
    patient = asyncio.create_task(queue.get())
    await asyncio.sleep(0)
    queue.put_nowait("conn")  # handed to `impatient`, which is cancelled before it runs
    impatient.cancel()
    assert await asyncio.wait_for(patient, 1) == "conn"
    assert impatient.cancelled()
    assert queue.empty()


async def test_a_timed_out_waiter_leaves_the_line() -> None:
    queue: HandOffQueue[str] = HandOffQueue()
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(queue.get(), 0.01)
    queue.put_nowait("conn")
    assert queue.qsize() == 1  # nobody waits any more: the item is kept, not lost
    assert await queue.get() == "conn"


async def test_sqlite_engine_queues_transactions_fairly(tmp_path: Path) -> None:
    """A writer beside three readers in a tight loop gets its turn within a round."""
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'fair.db'}", pool_timeout=5)
    assert isinstance(engine.pool, FairAsyncQueuePool)
    assert engine.pool.size() == 1
    stop, turns = asyncio.Event(), []

    async def reader(name: str) -> None:
        while not stop.is_set():
            async with engine.connect() as conn:
                await conn.execute(text("select 1"))
            turns.append(name)

    try:
        async with engine.begin() as conn:
            await conn.execute(text("create table t (x integer)"))
        readers = [asyncio.create_task(reader(f"r{i}")) for i in range(3)]
        await asyncio.sleep(0.05)
        before = len(turns)
        async with engine.begin() as conn:
            await conn.execute(text("insert into t values (1)"))
        waited_for = len(turns) - before
        stop.set()
        await asyncio.gather(*readers)
        assert waited_for <= 3  # each reader at most once ahead of it, never starved
    finally:
        await engine.dispose()
