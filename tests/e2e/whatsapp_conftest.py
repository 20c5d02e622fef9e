"""Fixtures of the WhatsApp tests: the real app on SQLite and PostgreSQL, the staff bot on the
fake Bot API, and the WhatsApp channel against the local fake Graph API."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from bot.app import create_app
from bot.runtime import Runtime
from bot.settings import Settings
from bot.whatsapp_sender import WhatsAppSender
from handlers.whatsapp import WhatsAppChannel
from storage.tables import metadata
from tests.e2e.conftest import ROOT, STAFF_TOKEN, SwitchableClassifier
from tests.e2e.fake_bot_api import FakeBotApi
from tests.e2e.fake_graph_api import PHONE_NUMBER_ID, TOKEN, FakeGraphApi
from tests.e2e.whatsapp_payloads import envelope, message_value, signed
from tests.integration.conftest import a_database
from tests.integration.test_confidentiality import _database_bytes

APP_SECRET = "wa-app-secret-for-tests"
VERIFY_TOKEN = "wa-verify-token-for-tests"
BASE = "http://sapa.test"


class ShiftedClock:
    """The service's clock, moved forward on demand (the 24-hour window)."""

    def __init__(self, clock: Any) -> None:
        self._clock, self.shift = clock, timedelta()

    def now(self) -> datetime:
        now: datetime = self._clock.now()
        return now + self.shift


@dataclass
class WA:
    app: FastAPI
    settings: Settings
    api: FakeBotApi  # the staff bot's fake Bot API
    graph: FakeGraphApi
    http: httpx.AsyncClient
    clock: ShiftedClock

    @property
    def rt(self) -> Runtime:
        runtime: Runtime = self.app.state.runtime
        return runtime

    @property
    def channel(self) -> WhatsAppChannel:
        channel: WhatsAppChannel = self.app.state.whatsapp
        return channel

    @property
    def sender(self) -> WhatsAppSender:
        return self.channel.sender

    async def post(self, payload: dict[str, Any], *, secret: str = APP_SECRET) -> httpx.Response:
        body, headers = signed(payload, secret)
        return await self.http.post("/whatsapp/webhook", content=body, headers=headers)

    async def write(self, phone: str | None, content: dict[str, Any], **kw: Any) -> None:
        response = await self.post(envelope(message_value(phone, content, **kw)))
        assert response.status_code == 200, response.text

    async def count(self, table: Any) -> int:
        async with self.rt.svc.sessions() as session:
            return int(await session.scalar(select(func.count()).select_from(table)) or 0)

    async def idle(self, seconds: float = 10.0) -> None:
        """Every webhook item processed."""
        for _ in range(int(seconds / 0.05)):
            if not await self.channel.inbox.waiting():
                return
            await asyncio.sleep(0.05)
        raise AssertionError("webhook items still waiting")

    async def stored(self) -> bytes:
        """The SQLite file or a pg_dump, plus a scan of every table's rows."""
        raw = _database_bytes(None, self.settings.database_url)
        async with self.rt.svc.sessions() as session:
            for table in metadata.sorted_tables:
                for row in await session.execute(select(table)):
                    raw += repr(tuple(row)).encode()
        return raw


def wa_settings(tmp_path: Path, api: FakeBotApi, graph: FakeGraphApi, url: str) -> Settings:
    return Settings(
        _env_file=None,
        database_url=url,
        key_file=tmp_path / "keys.json",
        partners_file=ROOT / "config" / "partners.yaml",
        telegram_client_token=None,
        telegram_staff_token=STAFF_TOKEN,
        telegram_api_base=api.base_url,
        nlu_url=None,
        crisis_repage_check_seconds=0.5,
        whatsapp_token=TOKEN,
        whatsapp_phone_number_id=PHONE_NUMBER_ID,
        whatsapp_app_secret=APP_SECRET,
        whatsapp_verify_token=VERIFY_TOKEN,
        whatsapp_api_base=graph.base_url,
    )


@pytest.fixture(params=["sqlite", "postgresql"])
async def wa_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    async with a_database(request.param, tmp_path) as url:
        yield url


@pytest.fixture(name="wa")
async def wa_fixture(tmp_path: Path, wa_url: str) -> AsyncIterator[WA]:
    from storage.migrate import upgrade

    await upgrade(wa_url)
    async with FakeBotApi() as api, FakeGraphApi() as graph:
        settings = wa_settings(tmp_path, api, graph, wa_url)
        app = create_app(settings, classifier=SwitchableClassifier())
        async with app.router.lifespan_context(app):
            clock = ShiftedClock(app.state.runtime.svc.clock)
            app.state.runtime.svc.clock = clock
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url=BASE) as http:
                yield WA(app, settings, api, graph, http, clock)


__all__ = ["APP_SECRET", "VERIFY_TOKEN", "WA", "wa_fixture", "wa_url"]
