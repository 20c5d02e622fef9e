"""Builds the service's parts from settings, once, and hands them down."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.clock import SystemClock
from bot.settings import Settings
from core.policy import ServicePolicy
from storage.db import create_engine, session_factory
from storage.keys import KeyRing, ReloadingKeyRing, load_keyring
from storage.uow import SqlUnitOfWork

AnyKeyRing = KeyRing | ReloadingKeyRing


@dataclass
class Services:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    keyring: AnyKeyRing
    clock: SystemClock
    policy: ServicePolicy

    def uow(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.sessions, self.keyring)


def keyring_from(settings: Settings, *, create: bool = True) -> AnyKeyRing:
    if settings.master_key is not None:
        return load_keyring(
            master_key=settings.master_key.get_secret_value(), key_file=settings.key_file
        )
    ring = load_keyring(master_key=None, key_file=settings.key_file, create=create)
    return ReloadingKeyRing(settings.key_file, ring)


@asynccontextmanager
async def services(settings: Settings) -> AsyncIterator[Services]:
    keyring = keyring_from(settings)
    engine = create_engine(settings.database_url)
    try:
        yield Services(
            settings, engine, session_factory(engine), keyring, SystemClock(), ServicePolicy()
        )
    finally:
        await engine.dispose()
