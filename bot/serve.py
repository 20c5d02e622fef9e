"""`sapa serve`: the web app under uvicorn, with the local NLU server when none is configured."""

from __future__ import annotations

import logging
import sys

import uvicorn
from pydantic import SecretStr

from bot.logs import configure
from bot.serve_workers import run_workers, scale_out_problem, settle_heap
from bot.settings import Settings
from nlu.server import NLUServerError, managed_nlu

log = logging.getLogger("sapa.serve")


def _progress(line: str) -> None:
    """Rasa's training progress goes to the terminal, not to the service log."""
    print(line, file=sys.stderr, flush=True)


async def serve(settings: Settings, *, host: str, port: int, workers: int = 1) -> None:
    configure(settings.log_level)
    problem = scale_out_problem(settings, workers)
    if problem:
        raise SystemExit(f"error: {problem}")
    try:
        await _serve(settings, host=host, port=port, workers=workers)
    except NLUServerError as exc:
        raise SystemExit(f"error: {exc}") from None


async def _serve(settings: Settings, *, host: str, port: int, workers: int = 1) -> None:
    if not settings.nlu_url:
        log.info("SAPA_NLU_URL is not set: starting a local NLU server")
    async with managed_nlu(settings, progress=_progress) as (nlu_url, nlu_token):
        settings = settings.model_copy(
            update={"nlu_url": nlu_url, "nlu_token": SecretStr(nlu_token) if nlu_token else None}
        )
        log.info("NLU server at %s", nlu_url)
        if workers > 1:
            # Blocks this loop while the workers run; the local Rasa needs nothing from it.
            run_workers(settings, host=host, port=port, workers=workers)
            return
        from bot.app import create_app  # not in the supervisor of --workers (130 MB)

        app = create_app(settings)
        settle_heap()
        config = uvicorn.Config(app, host=host, port=port, log_config=None, access_log=False)
        log.info("listening on http://%s:%d", host, port)
        await uvicorn.Server(config).serve()
