"""PostgreSQL connections in the pool survive the server dropping them (a restart)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import text

from storage import db
from tests.integration.conftest import admin_connection


async def backend_pid(engine: Any) -> int:
    async with engine.connect() as conn:
        return int(await conn.scalar(text("SELECT pg_backend_pid()")))


async def test_a_connection_dropped_while_idle_in_the_pool_is_replaced_before_use(
    pg_url: str,
) -> None:
    engine = db.create_engine(pg_url, pool_size=1, max_overflow=0)
    try:
        first = await backend_pid(engine)
        admin = await admin_connection()
        try:  # what a restart does to the pooled connection
            assert await admin.fetchval("SELECT pg_terminate_backend($1)", first)
        finally:
            await admin.close()
        await asyncio.sleep(db.PING_AFTER_IDLE_S + 0.2)
        assert await backend_pid(engine) != first  # pinged, found gone, connected again
    finally:
        await engine.dispose()


async def test_a_connection_just_returned_is_used_without_a_ping(
    pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The ping is three round trips on asyncpg: not paid for every session of a busy app."""
    engine = db.create_engine(pg_url, pool_size=1, max_overflow=0)
    pings = []
    ping = engine.dialect.do_ping

    def counted(connection: Any) -> bool:
        pings.append(1)
        return ping(connection)

    monkeypatch.setattr(engine.dialect, "do_ping", counted)
    try:
        first = await backend_pid(engine)  # a new connection: not pinged either
        assert await backend_pid(engine) == first
        assert pings == []
        await asyncio.sleep(db.PING_AFTER_IDLE_S + 0.2)
        assert await backend_pid(engine) == first
        assert pings == [1]
    finally:
        await engine.dispose()
