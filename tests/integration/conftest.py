"""Integration fixtures: every test runs on SQLite and on PostgreSQL (a fresh database each).

PostgreSQL comes from SAPA_TEST_POSTGRES_URL. When it cannot be reached the PostgreSQL
half is skipped with the reason, unless SAPA_REQUIRE_POSTGRES=1 (CI), where it fails.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from storage.db import create_engine, session_factory
from storage.keys import KeyRing, generate_keyring
from storage.migrate import upgrade
from storage.seed import seed_partners
from storage.uow import SqlUnitOfWork

ROOT = Path(__file__).resolve().parents[2]
PARTNERS = ROOT / "config" / "partners.yaml"
DEFAULT_PG = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"


def postgres_url() -> str:
    return os.environ.get("SAPA_TEST_POSTGRES_URL", DEFAULT_PG)


def _plain(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def admin_connection() -> asyncpg.Connection:
    try:
        return await asyncpg.connect(_plain(postgres_url()), timeout=5)
    except (OSError, asyncpg.PostgresError) as exc:
        reason = f"PostgreSQL unreachable at {postgres_url()} ({type(exc).__name__})"
        if os.environ.get("SAPA_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"{reason}, and SAPA_REQUIRE_POSTGRES=1 requires it")
        pytest.skip(f"{reason}; set SAPA_TEST_POSTGRES_URL to run these tests")
        raise


async def fresh_postgres() -> tuple[str, Callable[[], Awaitable[None]]]:
    name = f"sapa_test_{secrets.token_hex(6)}"
    admin = await admin_connection()
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()

    async def drop() -> None:
        conn = await admin_connection()
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.close()

    return make_url(postgres_url()).set(database=name).render_as_string(hide_password=False), drop


@contextlib.asynccontextmanager
async def a_database(kind: str, tmp_path: Path) -> AsyncIterator[str]:
    """A fresh database: a SQLite file under tmp_path, or a PostgreSQL database dropped after."""
    if kind == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'sapa.db'}"
        return
    url, drop = await fresh_postgres()
    try:
        yield url
    finally:
        await drop()


@pytest.fixture(params=["sqlite", "postgresql"])
async def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    async with a_database(request.param, tmp_path) as url:
        yield url


@pytest.fixture
async def pg_url(tmp_path: Path) -> AsyncIterator[str]:
    """PostgreSQL only: what the test checks does not exist on SQLite."""
    async with a_database("postgresql", tmp_path) as url:
        yield url


@dataclass
class Db:
    url: str
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    keyring: KeyRing

    def uow(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.sessions, self.keyring)

    @property
    def backend(self) -> str:
        return make_url(self.url).get_backend_name()


@pytest.fixture
async def db(db_url: str) -> AsyncIterator[Db]:
    await upgrade(db_url)
    engine = create_engine(db_url)
    sessions = session_factory(engine)
    await seed_partners(sessions, PARTNERS)
    try:
        yield Db(db_url, engine, sessions, generate_keyring())
    finally:
        await engine.dispose()
