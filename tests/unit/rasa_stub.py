"""A local HTTP server that answers as Rasa's /model/parse and /status would, or fails.

The NLU client is tested over real HTTP on a local port: the same aiohttp client, pool and
connection handling as against the real Rasa (tests/integration/test_nlu_rasa.py).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web


def parse_answer(*ranking: tuple[str, float]) -> dict[str, Any]:
    return {
        "text": "ignored",
        "intent": {"name": ranking[0][0], "confidence": ranking[0][1]},
        "entities": [],
        "intent_ranking": [{"name": n, "confidence": c} for n, c in ranking],
    }


@dataclass(frozen=True)
class Seen:
    method: str
    path: str
    query: dict[str, str]
    body: bytes


Answer = Callable[[Seen], tuple[int, bytes]]


def answers(*ranking: tuple[str, float]) -> Answer:
    """A healthy server: /status answers 200, every parse gives this ranking."""
    parsed = json.dumps(parse_answer(*ranking)).encode()

    def answer(seen: Seen) -> tuple[int, bytes]:
        if seen.path == "/status":
            return 200, b'{"model_file": "nlu.tar.gz"}'
        return 200, parsed

    return answer


class RasaStub:
    """Start it, point a client at `url`; `stop()` makes the port refuse connections, and
    `start()` again serves on the same port."""

    def __init__(self, answer: Answer | None = None, *, delay: float = 0.0) -> None:
        self.answer = answer or answers(("gizi", 0.9), ("hukum", 0.05))
        self.delay = delay  # seconds before each answer: a busy server
        self.seen: list[Seen] = []
        self.port = 0
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def parsed(self) -> int:
        return sum(1 for s in self.seen if s.path == "/model/parse")

    async def start(self) -> RasaStub:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()
        self.port = int(self._runner.addresses[0][1])
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _handle(self, request: web.Request) -> web.Response:
        seen = Seen(request.method, request.path, dict(request.query), await request.read())
        self.seen.append(seen)
        await asyncio.sleep(self.delay)
        status, body = self.answer(seen)
        return web.Response(status=status, body=body, content_type="application/json")

    async def __aenter__(self) -> RasaStub:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()
