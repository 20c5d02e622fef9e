"""Fixtures of the web chat tests: the real app with no Telegram token, spoken to over HTTP."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from bot.app import create_app
from bot.runtime import Runtime
from bot.settings import Settings
from core.model import Role, Staff
from core.usecases.staffing import create_invite, redeem_invite
from handlers.web_chat_guard import WebChatConfig
from tests.e2e.conftest import ROOT, SwitchableClassifier

BASE = "http://sapa.test"


def web_settings(tmp_path: Path, database_url: str | None = None) -> Settings:
    return Settings(
        _env_file=None,
        database_url=database_url or f"sqlite+aiosqlite:///{tmp_path / 'sapa.db'}",
        key_file=tmp_path / "keys.json",
        partners_file=ROOT / "config" / "partners.yaml",
        telegram_client_token=None,
        telegram_staff_token=None,
        nlu_url=None,
        crisis_repage_check_seconds=0.5,
    )


@dataclass
class Web:
    app: FastAPI
    settings: Settings
    classifier: SwitchableClassifier
    http: httpx.AsyncClient

    @property
    def rt(self) -> Runtime:
        runtime: Runtime = self.app.state.runtime
        return runtime

    @property
    def config(self) -> WebChatConfig:
        config: WebChatConfig = self.app.state.web_chat
        return config

    async def start(self) -> str:
        response = await self.http.post("/api/chat/start")
        assert response.status_code == 200, response.text
        code: str = response.json()["code"]
        return code

    async def consented(self, locale: str = "id") -> str:
        code = await self.start()
        response = await self.post(code, "consent", agree=True, locale=locale)
        assert response.json()["consented"] is True
        return code

    async def post(self, code: str | None, path: str, **body: Any) -> httpx.Response:
        return await self.http.post(f"/api/chat/{path}", json=body, headers=auth(code))

    async def get(self, code: str | None, path: str) -> httpx.Response:
        return await self.http.get(f"/api/chat/{path}", headers=auth(code))

    async def messages(self, code: str, after: int = 0) -> list[dict[str, Any]]:
        response = await self.get(code, f"messages?after={after}")
        assert response.status_code == 200, response.text
        found: list[dict[str, Any]] = response.json()
        return found

    async def wait_for(
        self, code: str, contains: str, *, count: int = 1, seconds: float = 10.0
    ) -> list[dict[str, Any]]:
        """The mailbox once `count` messages from the service contain `contains`."""
        for _ in range(int(seconds / 0.1)):
            found = await self.messages(code)
            if sum(contains in m["text"] and not m["mine"] for m in found) >= count:
                return found
            await asyncio.sleep(0.1)
        raise AssertionError(f"no message containing {contains!r} in {found}")

    def database_bytes(self) -> bytes:
        """The SQLite file and its journals (empty for PostgreSQL runs)."""
        url = make_url(self.settings.database_url)
        if not url.drivername.startswith("sqlite"):
            return b""
        path = Path(str(url.database))
        return b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))

    async def count(self, table: Any) -> int:
        async with self.rt.svc.sessions() as session:
            return int(await session.scalar(select(func.count()).select_from(table)) or 0)


def auth(code: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {code}"} if code else {}


async def counsellor(web: Web, name: str = "Rina") -> Staff:
    issued = await create_invite(
        uow=web.rt.uow(), role=Role.COUNSELLOR, queue_codes=["psikologi"], clock=web.rt.clock
    )
    return await redeem_invite(
        uow=web.rt.uow(),
        code=issued.code,
        telegram_id="9001",
        telegram_chat="9001",
        display_name=name,
        clock=web.rt.clock,
    )


@pytest.fixture(name="web")
async def web_fixture(tmp_path: Path) -> AsyncIterator[Web]:
    from storage.migrate import upgrade

    settings = web_settings(tmp_path, os.environ.get("SAPA_E2E_DATABASE_URL"))
    await upgrade(settings.database_url)
    classifier = SwitchableClassifier()
    app = create_app(settings, classifier=classifier)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=BASE) as http:
            yield Web(app, settings, classifier, http)


__all__ = ["BASE", "Web", "auth", "counsellor", "web_fixture", "web_settings"]
