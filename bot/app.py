"""The HTTP app of `sapa serve`: health, readiness, and the background workers."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from sqlalchemy import text

from bot.outbox_worker import OutboxWorker
from bot.senders import Sender
from bot.settings import Settings
from bot.wiring import Services, services
from storage.outbox import OutboxStore
from storage.purge import purge
from storage.seed import seed_partners

log = logging.getLogger("sapa.app")
PURGE_EVERY_SECONDS = 24 * 3600


async def purge_daily(svc: Services, *, first_delay: float = 30.0) -> None:
    await asyncio.sleep(first_delay)
    while True:
        try:
            count = await purge(
                svc.sessions,
                svc.keyring,
                now=svc.clock.now(),
                retention_days=svc.settings.retention_days,
            )
            log.info("retention purge removed %d cases", count)
        except Exception:
            log.exception("retention purge failed; will try again tomorrow")
        await asyncio.sleep(PURGE_EVERY_SECONDS)


def create_app(settings: Settings, *, senders: dict[str, Sender] | None = None) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with services(settings) as svc:
            await seed_partners(svc.sessions, settings.partners_file)
            worker = OutboxWorker(
                store=OutboxStore(svc.sessions, svc.keyring),
                senders=senders or {},
                clock=svc.clock,
                max_attempts=settings.outbox_max_attempts,
                lease_seconds=settings.outbox_lease_seconds,
            )
            app.state.services = svc
            tasks = [
                asyncio.create_task(worker.run_forever(), name="outbox"),
                asyncio.create_task(purge_daily(svc), name="purge"),
            ]
            log.info("sapa serve ready")
            try:
                yield
            finally:
                for task in tasks:
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task

    app = FastAPI(title="Sapa ASN", lifespan=lifespan, docs_url=None, redoc_url=None)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz")
    async def readyz() -> Any:
        svc: Services = app.state.services
        try:
            async with svc.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except Exception:
            return JSONResponse({"status": "database unavailable"}, status_code=503)
        return {"status": "ready"}

    return app
