"""Schema migrations (Alembic), run programmatically by `sapa db upgrade` and the tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from storage.db import create_engine

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


async def upgrade(url: str, revision: str = "head") -> None:
    await _run(url, lambda cfg: command.upgrade(cfg, revision))


async def downgrade(url: str, revision: str = "base") -> None:
    await _run(url, lambda cfg: command.downgrade(cfg, revision))


async def revision(url: str, message: str) -> None:
    """Developers: write a new migration from the difference between tables.py and the DB."""
    await _run(url, lambda cfg: command.revision(cfg, message=message, autogenerate=True))


async def is_current(url: str) -> bool:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            current = await conn.run_sync(
                lambda sync: MigrationContext.configure(sync).get_current_revision()
            )
    finally:
        await engine.dispose()
    return bool(current == ScriptDirectory.from_config(alembic_config()).get_current_head())


async def _run(url: str, action: Any) -> None:
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:

            def go(sync_conn: Any) -> None:
                config = alembic_config()
                config.attributes["connection"] = sync_conn
                action(config)

            await conn.run_sync(go)
    finally:
        await engine.dispose()
