"""Engines and sessions. SQLite gets WAL, a busy timeout and BEGIN IMMEDIATE transactions."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import event
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.ext.asyncio import create_async_engine as _create_async_engine
from sqlalchemy.pool import AsyncAdaptedQueuePool, ConnectionPoolEntry
from sqlalchemy.util import memoized_property
from sqlalchemy.util.queue import AsyncAdaptedQueue

from storage.sqlite_loop import LoopConnection, loop_connector

SQLITE_BUSY_MS = 15000
# A pooled server connection idle this long is checked before it is used again.
PING_AFTER_IDLE_S = 1.0
T = TypeVar("T")


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def ensure_sqlite_dir(url: str) -> None:
    """The default database lives in var/; create the folder on first start."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        Path(str(parsed.database)).parent.mkdir(parents=True, exist_ok=True)


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    ensure_sqlite_dir(url)
    if not is_sqlite(url):
        engine = _create_async_engine(url, **kwargs)
        if not kwargs.get("pool_pre_ping"):
            _ping_when_idle(engine)  # survive a database restart
        return engine
    if make_url(url).database not in (None, "", ":memory:"):
        # SQLite has one write lock and every transaction takes it up front, so several
        # connections only had their threads sleep in SQLite's busy handler (py-spy, issue
        # 8). One connection, handed to waiting tasks first come, first served: the process
        # queues its own transactions in asyncio, and no task can be passed over.
        kwargs.setdefault("poolclass", FairAsyncQueuePool)
        kwargs.setdefault("pool_size", 1)
        kwargs.setdefault("max_overflow", 0)
        # ... and that connection's calls run on the event loop's thread (sqlite_loop.py).
        parsed = make_url(url)
        args, options = parsed.get_dialect()().create_connect_args(parsed)
        database = str(args[0])
        kwargs.setdefault("async_creator", loop_connector(database, SQLITE_BUSY_MS, **options))
    engine = _create_async_engine(url, **kwargs)
    _tune_sqlite(engine)
    return engine


class HandOffQueue(asyncio.Queue[T]):
    """An asyncio queue that hands a returned item straight to the longest waiter.

    asyncio.Queue only wakes that waiter: a task that asks before it runs takes the item
    (SQLAlchemy's pool tries `get_nowait` first), so a task returning a connection and
    asking again at once could starve a waiter until the pool timeout."""

    def put_nowait(self, item: T) -> None:
        while self._getters:  # type: ignore[attr-defined]
            getter = self._getters.popleft()  # type: ignore[attr-defined]
            if not getter.done():
                getter.set_result(item)
                return
        super().put_nowait(item)

    async def get(self) -> T:
        if not self.empty():  # items only wait here while no task does
            return self.get_nowait()
        getter = asyncio.get_running_loop().create_future()
        self._getters.append(getter)  # type: ignore[attr-defined]
        try:
            item: T = await getter
        except BaseException:
            getter.cancel()
            if getter in self._getters:  # type: ignore[attr-defined]
                self._getters.remove(getter)  # type: ignore[attr-defined]
            if getter.done() and not getter.cancelled():
                self.put_nowait(getter.result())  # handed over as we gave up: pass it on
            raise
        return item


class _FairQueue(AsyncAdaptedQueue[ConnectionPoolEntry]):
    @memoized_property
    def _queue(self) -> asyncio.Queue[ConnectionPoolEntry]:
        return HandOffQueue(maxsize=self.maxsize)


class FairAsyncQueuePool(AsyncAdaptedQueuePool):
    """SQLAlchemy's asyncio pool, first come, first served."""

    _queue_class = _FairQueue


def _ping_when_idle(engine: AsyncEngine, idle_s: float = PING_AFTER_IDLE_S) -> None:
    """A connection that sat in the pool (the database may have restarted meanwhile) is
    pinged before use, and replaced if the server is gone.

    SQLAlchemy's `pool_pre_ping` pings at every checkout, and on asyncpg a ping is three
    round trips (BEGIN, an empty query, ROLLBACK): about 17 per update in bench.pipeline,
    where under load no connection sits idle a second. One checked in moments ago is used
    as it is: if the server went away in that moment, its statement fails as a disconnect,
    as one in flight would, and SQLAlchemy then replaces every connection of the pool."""

    @event.listens_for(engine.sync_engine, "connect")
    @event.listens_for(engine.sync_engine, "checkin")
    def _fresh(_dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def _checked_out(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        if time.monotonic() - record.info.get("idle_since", float("-inf")) < idle_s:
            return
        try:
            alive = engine.dialect.do_ping(dbapi_connection)
        except Exception as error:  # the pool discards it and connects again
            raise DisconnectionError("the pooled connection is gone") from error
        if not alive:
            raise DisconnectionError("the pooled connection is gone")


def _tune_sqlite(engine: AsyncEngine) -> None:
    # Every transaction takes the write lock up front: a read-then-write transaction
    # can then never fail to upgrade its lock, and racing claims queue up instead.
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        on_loop = isinstance(getattr(dbapi_connection, "_connection", None), LoopConnection)
        cursor.execute(f"PRAGMA busy_timeout={0 if on_loop else SQLITE_BUSY_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA secure_delete=ON")  # deleted rows are zeroed on disk
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def per_dialect(build: Callable[[Any], T]) -> dict[str, T]:
    """A statement built once at import for each database: their ON CONFLICT clauses differ.
    Pick it with `dialect_of(session)`."""
    return {"postgresql": build(pg_insert), "sqlite": build(sqlite_insert)}


def dialect_of(session: AsyncSession) -> str:
    return str(session.get_bind().dialect.name)


def dialect_insert(session: AsyncSession) -> Any:
    """The INSERT of the session's database, with its ON CONFLICT clauses (upserts)."""
    return pg_insert if dialect_of(session) == "postgresql" else sqlite_insert


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)
