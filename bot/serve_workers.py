"""`sapa serve --workers N`: N uvicorn worker processes on one socket, one PostgreSQL, one Redis.

Every worker runs the whole app: webhooks, the outbox worker (rows are leased, so workers never
send the same row twice), and the periodic jobs (each run by one worker per period, a Redis
lease). The supervising process restarts a worker that dies.
"""

from __future__ import annotations

import gc
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

import uvicorn
from uvicorn.supervisors import Multiprocess

from bot.logs import configure
from bot.settings import Settings
from storage.db import is_sqlite

if TYPE_CHECKING:
    from fastapi import FastAPI

log = logging.getLogger("sapa.serve")
HEALTHCHECK_SECONDS = 60


def scale_out_problem(settings: Settings, workers: int) -> str | None:
    """Why these settings cannot run `workers` processes, in one sentence (None: they can)."""
    if workers < 1:
        return "--workers must be at least 1"
    if workers == 1:
        return None
    if is_sqlite(settings.database_url):
        return (
            "SQLite serves one worker only; for --workers > 1 set SAPA_DATABASE_URL to "
            "PostgreSQL (postgresql+asyncpg://...)"
        )
    if not settings.redis_url:
        return (
            "--workers > 1 needs SAPA_REDIS_URL: the send limits and periodic jobs are shared "
            "through Redis"
        )
    bots = settings.telegram_client_token or settings.telegram_staff_token
    if bots and not settings.public_url:
        return (
            "long polling runs in one process only; set SAPA_PUBLIC_URL (webhooks) "
            "for --workers > 1"
        )
    return None


@dataclass(frozen=True)
class WorkerApp:
    """The app factory each worker process calls (pickled to it, settings included)."""

    settings: Settings

    def __call__(self) -> FastAPI:
        # Imported here: the supervising process never builds the app (aiogram alone is
        # 130 MB), only the workers do.
        from bot.app import create_app

        configure(self.settings.log_level)
        app = create_app(self.settings)
        settle_heap()
        return app


def settle_heap() -> None:
    """What start-up made (modules, schemas, models, the app) lives as long as the process:
    frozen out of the garbage collector, whose full passes walked it all again and again under
    load (110 ms per pass in the pipeline benchmark, 37 ms frozen; issue 8)."""
    gc.collect()
    gc.freeze()


def run_workers(settings: Settings, *, host: str, port: int, workers: int) -> None:
    config = uvicorn.Config(
        WorkerApp(settings),
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_config=None,
        access_log=False,
        # A worker that has not answered the supervisor's ping in time is killed and replaced;
        # starting one (imports, key file, database) takes longer than 5 s on a busy machine.
        timeout_worker_healthcheck=HEALTHCHECK_SECONDS,
    )
    log.info("listening on http://%s:%d with %d workers", host, port, workers)
    Multiprocess(config, sockets=[config.bind_socket()]).run()
