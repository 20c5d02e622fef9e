"""`sapa serve`: the web app under uvicorn, with the local NLU server when none is configured."""

from __future__ import annotations

import logging

import uvicorn

from bot.app import create_app
from bot.logs import configure
from bot.settings import Settings

log = logging.getLogger("sapa.serve")


async def serve(settings: Settings, *, host: str, port: int) -> None:
    configure(settings.log_level)
    app = create_app(settings)
    config = uvicorn.Config(app, host=host, port=port, log_config=None, access_log=False)
    log.info("listening on http://%s:%d", host, port)
    await uvicorn.Server(config).serve()
