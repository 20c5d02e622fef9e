"""Real `sapa serve` processes on one database and one Redis, fed Telegram updates by webhook.

Used by tests/integration/test_scale_out.py and bench/faults.py. The fake Bot API runs in the
caller's event loop; the servers send to it over HTTP, and updates are posted to their webhooks.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.e2e.fake_bot_api import FakeBotApi

ROOT = Path(__file__).resolve().parents[2]
SAPA = str(Path(sys.executable).with_name("sapa"))
CLIENT_TOKEN = "1111:asn-bot-token"
STAFF_TOKEN = "2222:staff-bot-token"
TOKENS = {"client": CLIENT_TOKEN, "staff": STAFF_TOKEN}


def cluster_env(
    *, database_url: str, redis_url: str, key_file: Path, api: FakeBotApi, nlu_url: str
) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if not k.startswith("SAPA_")}
    return {
        **keep,
        "SAPA_DATABASE_URL": database_url,
        "SAPA_REDIS_URL": redis_url,
        "SAPA_KEY_FILE": str(key_file),
        "SAPA_PARTNERS_FILE": str(ROOT / "config" / "partners.yaml"),
        "SAPA_TELEGRAM_CLIENT_TOKEN": CLIENT_TOKEN,
        "SAPA_TELEGRAM_STAFF_TOKEN": STAFF_TOKEN,
        "SAPA_TELEGRAM_API_BASE": api.base_url,
        "SAPA_PUBLIC_URL": "https://sapa.example.test",
        "SAPA_NLU_URL": nlu_url,
        "SAPA_NLU_TIMEOUT_SECONDS": "1.0",
        "SAPA_OUTBOX_LEASE_SECONDS": "10",
    }


async def sapa(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        SAPA,
        *args,
        env=env,
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await proc.communicate()
    return proc.returncode or 0, out.decode(), err.decode()


@dataclass
class Server:
    """One `sapa serve` process (which may run several uvicorn workers)."""

    env: dict[str, str]
    port: int
    log: Path
    workers: int = 1
    proc: asyncio.subprocess.Process | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self, ready_seconds: float = 120.0) -> None:
        args = ["serve", "--port", str(self.port), "--workers", str(self.workers)]
        with self.log.open("ab") as log:
            self.proc = await asyncio.create_subprocess_exec(
                SAPA, *args, env=self.env, cwd=ROOT, stdout=log, stderr=log
            )
        async with httpx.AsyncClient(timeout=2.0) as http, asyncio.timeout(ready_seconds):
            while True:
                assert self.proc.returncode is None, self.log.read_text()[-3000:]
                with contextlib.suppress(httpx.TransportError):
                    if (await http.get(f"{self.url}/readyz")).status_code == 200:
                        return
                await asyncio.sleep(0.3)

    def kill(self) -> None:
        """SIGKILL: no shutdown, no cleanup, whatever was in flight is cut off."""
        if self.proc is not None and self.proc.returncode is None:
            self.proc.send_signal(signal.SIGKILL)

    async def stop(self) -> None:
        if self.proc is None or self.proc.returncode is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(self.proc.wait(), 30)
        except TimeoutError:
            self.proc.kill()
            await self.proc.wait()


@dataclass
class Endpoint:
    """An app reached some other way (e.g. in-process through httpx.ASGITransport)."""

    url: str


@dataclass
class Webhooks:
    """Posts the fake Bot API's queued updates to the servers' webhooks (with the secret).

    `copies` > 1 delivers every update that many times, as an at-least-once sender may.
    """

    api: FakeBotApi
    servers: list[Server] | list[Endpoint]
    http: httpx.AsyncClient = field(default_factory=lambda: httpx.AsyncClient(timeout=30.0))
    turn: int = 0
    copies: int = 1

    def secret(self, kind: str) -> str:
        hook = self.api.webhook(TOKENS[kind])
        assert hook is not None, "the server registers its webhook at start"
        return str(hook["secret_token"])

    async def post(
        self, kind: str, update: dict[str, Any], server: Server | Endpoint | None = None
    ) -> int:
        if server is None:
            server, self.turn = self.servers[self.turn % len(self.servers)], self.turn + 1
        response = await self.http.post(
            f"{server.url}/telegram/{kind}/webhook",
            content=json.dumps(update),
            headers={
                "X-Telegram-Bot-Api-Secret-Token": self.secret(kind),
                "Content-Type": "application/json",
            },
        )
        if response.status_code == 200:  # as Telegram: a method in the answer is run
            await self.api.webhook_answered(TOKENS[kind], response.content)
        return response.status_code

    async def deliver(self, kind: str) -> list[int]:
        """Post every queued update (`copies` times), spread over the servers in turn."""
        statuses = []
        for update in self.api.take_updates(TOKENS[kind]):
            for _ in range(self.copies):
                statuses.append(await self.post(kind, update))
        return statuses

    async def aclose(self) -> None:
        await self.http.aclose()
