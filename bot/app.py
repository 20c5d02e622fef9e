"""The HTTP app of `sapa serve`: health, readiness, Telegram webhooks, background workers."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from sqlalchemy import text

from bot import telegram
from bot.outbox_worker import OutboxWorker
from bot.runtime import Runtime
from bot.senders import Sender
from bot.settings import Settings
from bot.setup_overrides import apply_saved, retention_days
from bot.shared_limits import JobLease, RedisRateLimiter, shared_redis, singleton
from bot.wiring import Services, services
from core.triage import Classification, Classifier, ClassifierUnavailable
from core.usecases.intake import repage_unclaimed_crisis
from core.usecases.reminders import remind_sla
from handlers import admin_stats, staff_console, web_chat
from handlers import whatsapp as whatsapp_channel
from handlers.admin_manage import mount as mount_admin_manage
from nlu.lexicon import CrisisLexicon
from storage.outbox import OutboxStore
from storage.purge import purge
from storage.seed import seed_partners

log = logging.getLogger("sapa.app")
PURGE_EVERY_SECONDS = 24 * 3600


class NoClassifier:
    """No NLU server configured: triage still completes and the ASN picks the category."""

    async def classify(self, text: str) -> Classification:
        raise ClassifierUnavailable("no NLU server configured")

    async def aclose(self) -> None:
        return None


def make_classifier(settings: Settings) -> Classifier:
    if not settings.nlu_url:
        return NoClassifier()
    from nlu.client import RasaClassifier

    token = settings.nlu_token.get_secret_value() if settings.nlu_token else None
    if "," in settings.nlu_url:  # several Rasa servers: round robin over the healthy ones
        from nlu.pool import RoundRobinClassifier, nlu_urls

        urls = nlu_urls(settings.nlu_url)
        return RoundRobinClassifier(urls, token=token, timeout=settings.nlu_timeout_seconds)
    return RasaClassifier(settings.nlu_url, token=token, timeout=settings.nlu_timeout_seconds)


async def every(seconds: float, job: Callable[[], Awaitable[Any]], name: str, first: float) -> None:
    """Run a periodic job forever; a failure (a database restart) is logged and tried again."""
    await asyncio.sleep(first)
    while True:
        try:
            await job()
        except Exception:
            log.exception("%s failed; will try again", name)
        await asyncio.sleep(seconds)


def background(
    svc: Services, rt: Runtime, worker: OutboxWorker, lease: JobLease | None = None
) -> list[asyncio.Task[Any]]:
    settings = svc.settings

    async def purge_now() -> None:
        count = await purge(
            svc.sessions, svc.keyring, now=svc.clock.now(), retention_days=await retention_days(svc)
        )
        log.info("retention purge removed %d cases", count)

    async def repage() -> None:
        if await repage_unclaimed_crisis(uow=svc.uow(), clock=svc.clock):
            rt.kick()

    async def remind() -> None:
        if await remind_sla(uow=svc.uow(), clock=svc.clock, policy=svc.policy):
            rt.kick()

    # With several workers only one runs each periodic job per period (a Redis lease).
    jobs = {
        "purge": singleton(lease, "purge", PURGE_EVERY_SECONDS, purge_now),
        "repage": singleton(lease, "repage", settings.crisis_repage_check_seconds, repage),
        "sla": singleton(lease, "sla", 300.0, remind),
    }
    return [
        asyncio.create_task(worker.run_forever(), name="outbox"),
        # Not a singleton: each worker keeps its own copy of the admin's setup up to date.
        asyncio.create_task(
            every(
                settings.setup_refresh_seconds,
                lambda: apply_saved(svc),
                "setup refresh",
                settings.setup_refresh_seconds,
            ),
            name="setup",
        ),
        asyncio.create_task(every(PURGE_EVERY_SECONDS, jobs["purge"], "purge", 30.0), name="purge"),
        asyncio.create_task(
            every(settings.crisis_repage_check_seconds, jobs["repage"], "crisis re-page", 5.0),
            name="repage",
        ),
        asyncio.create_task(every(300.0, jobs["sla"], "SLA reminders", 60.0), name="sla"),
    ]


def create_app(
    settings: Settings,
    *,
    senders: dict[str, Sender] | None = None,
    classifier: Classifier | None = None,
) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with services(settings) as svc:
            await seed_partners(svc.sessions, settings.partners_file)
            await apply_saved(svc)  # the admin's service hours, holidays, contacts
            store = OutboxStore(svc.sessions, svc.keyring)
            rt = Runtime(svc, CrisisLexicon(), classifier or make_classifier(settings), store)
            bots = telegram.build_bots(settings, rt, telegram.fsm_storage(settings, rt))
            wa = app.state.whatsapp = whatsapp_channel.build(settings, rt)
            worker = OutboxWorker(
                store=store,
                senders={
                    **telegram.senders_for(bots),
                    **web_chat.senders(rt),
                    **whatsapp_channel.senders(wa),
                    **(senders or {}),
                },
                clock=svc.clock,
                max_attempts=settings.outbox_max_attempts,
                lease_seconds=settings.outbox_lease_seconds,
            )
            redis = shared_redis(settings.redis_url)
            if redis is not None:  # several workers share the send limits and periodic jobs
                worker.limiter = RedisRateLimiter(redis, svc.keyring.blind_index_key)  # type: ignore[assignment]
            rt.workers.append(worker)
            app.state.services, app.state.runtime = svc, rt
            app.state.bots = {b.kind: b for b in bots}
            tasks = background(svc, rt, worker, JobLease(redis) if redis is not None else None)
            if wa is not None:
                wa.start()
            await telegram.start(bots, settings)
            log.info("sapa serve ready")
            try:
                yield
            finally:
                await telegram.stop(bots)
                if wa is not None:
                    await wa.stop()
                for task in tasks:
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task
                if redis is not None:
                    await redis.aclose()
                closer = getattr(rt.classifier, "aclose", None)
                if closer is not None:
                    await closer()

    app = FastAPI(title="Sapa ASN", lifespan=lifespan, docs_url=None, redoc_url=None)

    web_chat.mount(app, settings)
    staff_console.mount(app, settings)
    mount_admin_manage(app, settings)  # /admin/setup, /staff, /audit, /ops and /metrics
    admin_stats.mount(app)
    whatsapp_channel.mount(app)

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

    # Last, so outermost: Telegram's webhooks are answered before the router and the other
    # surfaces' middlewares.
    app.add_middleware(telegram.Webhooks, owner=app, enabled=settings.public_url is not None)
    return app
