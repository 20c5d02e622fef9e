"""SQLite on the event loop's thread: aiosqlite's connection without aiosqlite's thread.

aiosqlite runs every call on a thread of its own and hands each result back to the event loop:
a round trip between threads for each of the several calls one statement makes (cursor,
execute, fetch, close). The service keeps one SQLite connection per process (storage/db.py),
and SQLite answers from its page cache in microseconds, so the round trips cost more than the
work (issue 8's profile). Here the calls run where they are made.

Only one call may wait: taking the write lock (every transaction begins IMMEDIATE) while another
process holds it, say a `sapa` admin command or a backup. That wait must not stop the event loop,
so the connection's busy timeout is 0 and a statement that SQLite refuses as busy runs again on a
worker thread with the full timeout. A busy refusal means the statement did nothing, so running
it again is safe.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable, Generator
from functools import partial
from typing import Any

import aiosqlite

ITER_CHUNK_SIZE = 64
# The longest the event loop runs SQLite calls in a row before it lets other tasks run: a task
# with many statements (a key rotation, a purge) must not hold up webhooks.
YIELD_EVERY_SECONDS = 0.004


class _RunNow:
    """aiosqlite's queue of calls for its thread, with each call run as it is put."""

    def put_nowait(self, item: tuple[asyncio.Future[Any] | None, Callable[[], Any]]) -> None:
        future, function = item
        try:
            result = function()
        except BaseException as error:  # handed to the caller, as aiosqlite's thread does
            if future is not None and not future.done():
                future.set_exception(error)
        else:
            if future is not None and not future.done():
                future.set_result(result)


class LoopConnection(aiosqlite.Connection):
    """An aiosqlite connection whose calls run on the caller's thread (see the module)."""

    def __init__(self, connector: Callable[[], sqlite3.Connection], busy_ms: int) -> None:
        super().__init__(connector, ITER_CHUNK_SIZE)
        self._tx = _RunNow()  # type: ignore[assignment]
        self.busy_ms = busy_ms
        self.waited_for_lock = 0  # statements that went to a thread to wait for the lock
        self._ran_since = time.perf_counter()

    async def _execute(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if time.perf_counter() - self._ran_since > YIELD_EVERY_SECONDS:
            await asyncio.sleep(0)  # other tasks' turn
            self._ran_since = time.perf_counter()
        if not self._running or not self._connection:
            raise ValueError("Connection closed")
        try:
            return fn(*args, **kwargs)
        except sqlite3.OperationalError as error:
            if error.sqlite_errorcode & 0xFF != sqlite3.SQLITE_BUSY:
                raise
        self.waited_for_lock += 1
        try:
            return await asyncio.to_thread(self._waiting, partial(fn, *args, **kwargs))
        finally:
            self._ran_since = time.perf_counter()

    def _waiting(self, call: Callable[[], Any]) -> Any:
        connection = self._conn
        connection.execute(f"PRAGMA busy_timeout={self.busy_ms}")
        try:
            return call()
        finally:
            connection.execute("PRAGMA busy_timeout=0")

    async def _connect(self) -> LoopConnection:
        if self._connection is None:
            connection = self._connector()
            connection.execute("PRAGMA busy_timeout=0")
            self._connection = connection
        return self

    def __await__(self) -> Generator[Any, None, LoopConnection]:
        return self._connect().__await__()  # no thread to start

    def stop(self) -> None:
        self._running = False
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    async def close(self) -> None:
        self.stop()


def loop_connector(database: str, busy_ms: int, **kwargs: Any) -> Callable[[], Any]:
    """An `async_creator` for SQLAlchemy's aiosqlite dialect."""

    async def connect() -> LoopConnection:
        connector = partial(sqlite3.connect, database, **{**kwargs, "check_same_thread": False})
        return await LoopConnection(connector, busy_ms)

    return connect
