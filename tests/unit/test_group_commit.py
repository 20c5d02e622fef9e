"""Group commit: writes that arrive while a transaction runs go together in the next one."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

import pytest

from storage.batching import GroupCommit


async def until(condition: Callable[[], object]) -> None:
    for _ in range(100):
        if condition():
            return
        await asyncio.sleep(0)
    raise AssertionError("never happened")


class Writer:
    def __init__(self, fail_on: int | None = None) -> None:
        self.batches: list[list[int]] = []
        self.release = asyncio.Event()
        self.fail_on = fail_on

    async def write(self, items: Sequence[int]) -> list[int]:
        self.batches.append(list(items))
        await self.release.wait()
        if self.fail_on in items:
            raise RuntimeError("database unavailable")
        return [item * 10 for item in items]


async def test_an_idle_writer_writes_at_once_and_latecomers_share_the_next_transaction() -> None:
    writer = Writer()
    batcher: GroupCommit[int, int] = GroupCommit(writer.write)
    first = asyncio.create_task(batcher.submit(1))
    await until(lambda: writer.batches)
    assert writer.batches == [[1]]  # not held back waiting for company
    later = [asyncio.create_task(batcher.submit(n)) for n in (2, 3, 4)]
    await asyncio.sleep(0)
    writer.release.set()
    assert await first == 10
    assert [await task for task in later] == [20, 30, 40]
    assert writer.batches == [[1], [2, 3, 4]]


async def test_batches_are_bounded() -> None:
    writer = Writer()
    writer.release.set()
    batcher: GroupCommit[int, int] = GroupCommit(writer.write, max_batch=2)
    results = await asyncio.gather(*(batcher.submit(n) for n in range(5)))
    assert results == [0, 10, 20, 30, 40]
    assert all(len(batch) <= 2 for batch in writer.batches)
    assert sorted(n for batch in writer.batches for n in batch) == list(range(5))


async def test_a_failed_transaction_fails_its_callers_and_the_next_batch_still_runs() -> None:
    writer = Writer(fail_on=2)
    batcher: GroupCommit[int, int] = GroupCommit(writer.write)
    first = asyncio.create_task(batcher.submit(1))
    await until(lambda: writer.batches)
    doomed = [asyncio.create_task(batcher.submit(n)) for n in (2, 3)]
    await asyncio.sleep(0)
    writer.release.set()
    assert await first == 10
    for task in doomed:
        with pytest.raises(RuntimeError, match="unavailable"):
            await task
    assert await batcher.submit(5) == 50  # the writer recovers for the next caller


async def test_a_caller_that_gives_up_does_not_stop_the_write() -> None:
    writer = Writer()
    batcher: GroupCommit[int, int] = GroupCommit(writer.write)
    impatient = asyncio.create_task(batcher.submit(7))
    await until(lambda: writer.batches)
    impatient.cancel()
    with pytest.raises(asyncio.CancelledError):
        await impatient
    writer.release.set()
    assert await batcher.submit(8) == 80
    assert writer.batches == [[7], [8]]  # 7 was written all the same


async def test_a_writer_cancelled_at_shutdown_leaves_no_stale_waiters_behind() -> None:
    writer = Writer()
    batcher: GroupCommit[int, int] = GroupCommit(writer.write)
    first = asyncio.create_task(batcher.submit(1))
    await until(lambda: writer.batches)
    queued = asyncio.create_task(batcher.submit(2))
    await asyncio.sleep(0)
    assert batcher._writer is not None
    batcher._writer.cancel()  # the service stops mid-transaction
    for task in (first, queued):
        with pytest.raises(asyncio.CancelledError):
            await task
    writer.release.set()
    assert await batcher.submit(3) == 30  # a later write is not tripped by the cancelled ones
    assert writer.batches == [[1], [3]]
