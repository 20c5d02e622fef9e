"""schemathesis against the statistics JSON, as documented in the app's /openapi.json.

The real app (SQLite, real cases) runs under uvicorn in a thread of its own; schemathesis
generates requests from the schema (valid and invalid periods, with and without a
session) and checks every answer: never a server error, always what the schema says.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
import uvicorn

from bot.app import create_app
from handlers.admin_access import COOKIE
from tests.integration.admin_world import CANARY, settings_for, sign_in, world


@dataclass
class Live:
    base: str = ""
    cookies: dict[str, str] = field(default_factory=dict)
    server: uvicorn.Server | None = None
    failed: list[BaseException] = field(default_factory=list)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def _serve(tmp: Path, live: Live, ready: threading.Event) -> None:
    async with world(tmp, f"sqlite+aiosqlite:///{tmp / 'sapa.db'}") as w:
        for who in ("admin", "sari", "rina"):
            async with w.client() as http:
                await sign_in(http, who)
                live.cookies[who] = http.cookies[COOKIE]
        port = free_port()
        config = uvicorn.Config(
            w.app, host="127.0.0.1", port=port, log_config=None, access_log=False, lifespan="off"
        )
        live.server = uvicorn.Server(config)
        task = asyncio.create_task(live.server.serve())
        for _ in range(400):
            if live.server.started or task.done():
                break
            await asyncio.sleep(0.05)
        live.base = f"http://127.0.0.1:{port}"
        ready.set()
        await task


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    found, ready = Live(), threading.Event()

    def run() -> None:
        try:
            asyncio.run(_serve(tmp_path_factory.mktemp("schema"), found, ready))
        except BaseException as error:  # reported by the fixture, not lost in the thread
            found.failed.append(error)
            ready.set()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert ready.wait(120) and not found.failed, found.failed
    yield found
    assert found.server is not None
    found.server.should_exit = True
    thread.join(30)


def documented() -> dict[str, Any]:
    """The app's OpenAPI document (the test below checks the live /openapi.json is the same).

    schemathesis' lazy from_fixture loader does not work with pytest 9, so the schema is
    built at import from the app itself, without starting it.
    """
    settings = settings_for(Path("var/unused"), "sqlite+aiosqlite:///:memory:")
    return create_app(settings).openapi()


schema = schemathesis.openapi.from_dict(documented()).include(path_regex="^/api/stats/")
EXPECTED = {"admin": (200, 422), "sari": (200, 422), "rina": (403, 422), None: (401, 422)}


@schema.parametrize()
def test_the_statistics_api_never_fails_and_keeps_its_schema(case: Any, live: Live) -> None:
    for who, expected in EXPECTED.items():
        cookies = {COOKIE: live.cookies[who]} if who else {}
        response = case.call(base_url=live.base, cookies=cookies)
        assert response.status_code < 500, response.text
        case.validate_response(response)
        if response.request.method != "GET":  # schemathesis also tries undocumented methods
            expected = (405,)
        assert response.status_code in expected, (who, response.request.method, response.text)
        assert CANARY not in response.text


def test_the_schema_documents_the_statistics_endpoints(live: Live) -> None:
    doc = httpx.get(live.base + "/openapi.json").json()
    assert doc == documented()
    summary = doc["paths"]["/api/stats/summary"]["get"]
    period = next(p for p in summary["parameters"] if p["name"] == "period")
    assert {"401", "403", "200"} <= set(summary["responses"])
    enum = doc["components"]["schemas"]["Period"]["enum"]
    assert enum[:3] == ["this_month", "last_3_months", "last_12_months"]
    assert period["schema"]["$ref"].endswith("/Period")
