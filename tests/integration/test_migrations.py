"""The migrations build exactly the schema of storage/tables.py, and run down and up again."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from storage.db import create_engine
from storage.migrate import downgrade, is_current, upgrade
from storage.tables import metadata


async def _differences(url: str) -> list:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(
                lambda sync: compare_metadata(
                    MigrationContext.configure(sync, opts={"compare_type": True}), metadata
                )
            )
    finally:
        await engine.dispose()


async def test_migrations_match_the_tables_and_round_trip(db_url: str) -> None:
    assert not await is_current(db_url)
    await upgrade(db_url)
    assert await is_current(db_url)
    assert await _differences(db_url) == []
    await downgrade(db_url, "base")
    assert not await is_current(db_url)
    await upgrade(db_url)
    assert await _differences(db_url) == []
