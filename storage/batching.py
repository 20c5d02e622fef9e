"""Group commit: small writes of many tasks share one transaction.

Under load, most of the cost of a one-row write is the transaction around it (session,
connection, BEGIN, COMMIT). A `GroupCommit` writes the first request at once; requests that
arrive while that transaction runs wait and then go together in the next one. Each caller
still returns only after its own row is committed, so nothing is acknowledged early, and an
idle service adds no delay.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class GroupCommit(Generic[T, R]):
    """`write(items)` commits a batch in one transaction and returns one result per item."""

    def __init__(
        self, write: Callable[[Sequence[T]], Awaitable[Sequence[R]]], *, max_batch: int = 200
    ) -> None:
        self._write, self._max = write, max_batch
        self._waiting: list[tuple[T, asyncio.Future[R]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def submit(self, item: T) -> R:
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        future.add_done_callback(_retrieved)
        self._waiting.append((item, future))
        if self._writer is None:
            self._writer = asyncio.create_task(self._drain())
        # A caller that gives up does not stop the write: its batch is already on its way.
        return await asyncio.shield(future)

    async def _drain(self) -> None:
        try:
            while self._waiting:
                batch, self._waiting = self._waiting[: self._max], self._waiting[self._max :]
                try:
                    results = await self._write([item for item, _ in batch])
                except Exception as exc:  # every caller of the batch sees it, and may retry
                    for _, future in batch:
                        future.set_exception(exc)
                except BaseException:  # shutting down: nobody is left waiting for nothing
                    for _, future in (*batch, *self._waiting):
                        future.cancel()
                    self._waiting = []  # cancelled: a later writer must not answer them
                    raise
                else:
                    for (_, future), result in zip(batch, results, strict=True):
                        future.set_result(result)
        finally:
            self._writer = None


def _retrieved(future: asyncio.Future[Any]) -> None:
    """A failure nobody awaits any more (its caller gave up) is not reported as lost."""
    if not future.cancelled():
        future.exception()
