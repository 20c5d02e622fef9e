"""A small service with real cases for the admin dashboard tests (HTTP and Chromium).

Cases go through the real use cases (consent, message, category, claim, reply, resolve,
feedback, demographics), so the statistics read what the service really wrote.
The message bodies carry CANARY: no statistics page, export or JSON may ever show it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI

from bot.app import create_app
from bot.runtime import Runtime
from bot.settings import Settings
from core.model import Demographics, Role
from core.usecases import casework
from core.usecases.client_rights import record_feedback
from core.usecases.common import Sender
from core.usecases.intake import (
    confirm_category,
    give_consent,
    receive_client_message,
    set_demographics,
)
from core.usecases.staffing import add_staff
from storage.staff_auth import StaffAuth
from tests.e2e.conftest import SwitchableClassifier

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "kata-sandi-statistik-1"
CANARY = "KANARI-7Q2Z-rahasia"
CHANNEL = "statstest"

# (category, how many, crisis, resolved with a rating, gender given)
PLAN = (
    ("kesehatan_jiwa", 6, False, True, True),
    ("keluarga", 2, False, False, False),
    ("gizi", 5, False, False, False),
    ("hukum", 1, False, False, False),
    ("kesehatan_jiwa", 2, True, False, False),
)


class Outbox:
    async def send(self, *, address: str, payload: dict[str, Any]) -> None:
        return None


@dataclass
class World:
    app: FastAPI
    settings: Settings
    codes: list[str] = field(default_factory=list)
    counsellor_id: str = ""

    @property
    def rt(self) -> Runtime:
        runtime: Runtime = self.app.state.runtime
        return runtime

    def client(self, base: str = "http://testserver") -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app), base_url=base)

    async def member(self, username: str, role: Role, *queues: str) -> str:
        rt = self.rt
        staff = await add_staff(
            uow=rt.uow(),
            display_name=username.title(),
            role=role,
            queue_codes=queues,
            clock=rt.clock,
        )
        await StaffAuth(rt.svc.sessions, rt.svc.keyring).add_login(
            staff.id, username, PASSWORD, rt.clock.now()
        )
        return staff.id

    async def open_case(self, who: str, category: str, crisis: bool) -> str:
        rt, sender = self.rt, Sender(CHANNEL, who)
        consent = {"reply_address": who, "locale": "id", "version": "v1"}
        await give_consent(uow=rt.uow(), sender=sender, clock=rt.clock, **consent)
        text = f"{CANARY} saya ingin bunuh diri" if crisis else f"{CANARY} mohon bantuan"
        got = await receive_client_message(
            uow=rt.uow(),
            sender=sender,
            text=text,
            screener=rt.screener,
            classifier=rt.classifier,
            clock=rt.clock,
            policy=rt.policy,
        )
        await confirm_category(
            uow=rt.uow(), sender=sender, category=category, clock=rt.clock, policy=rt.policy
        )
        return got.case_code

    async def handle(self, who: str, code: str) -> None:
        """Claim, answer, resolve, and the client rates the case 5."""
        rt, staff = self.rt, self.counsellor_id
        await casework.claim_case(uow=rt.uow(), staff_id=staff, case_code=code, clock=rt.clock)
        await casework.reply_to_client(
            uow=rt.uow(), staff_id=staff, case_code=code, text=f"{CANARY} balasan", clock=rt.clock
        )
        await casework.resolve_case(uow=rt.uow(), staff_id=staff, case_code=code, clock=rt.clock)
        await record_feedback(
            uow=rt.uow(), sender=Sender(CHANNEL, who), rating=5, comment=CANARY, clock=rt.clock
        )

    async def seed(self) -> None:
        self.counsellor_id = await self.member("rina", Role.COUNSELLOR, "psikologi")
        await self.member("admin", Role.ADMIN)
        await self.member("sari", Role.SUPERVISOR, "psikologi")
        n = 0
        for category, count, crisis, handled, gendered in PLAN:
            for _ in range(count):
                n += 1
                who = f"asn-{n}"
                code = await self.open_case(who, category, crisis)
                if gendered:
                    await set_demographics(
                        uow=self.rt.uow(),
                        sender=Sender(CHANNEL, who),
                        demographics=Demographics(gender="perempuan", employment="PNS"),
                    )
                if handled:
                    await self.handle(who, code)
                self.codes.append(code)


def settings_for(tmp_path: Path, database_url: str) -> Settings:
    return Settings(
        _env_file=None,
        database_url=database_url,
        key_file=tmp_path / "keys.json",
        partners_file=ROOT / "config" / "partners.yaml",
        telegram_client_token=None,
        telegram_staff_token=None,
        nlu_url=None,
    )


@asynccontextmanager
async def world(tmp_path: Path, database_url: str) -> AsyncIterator[World]:
    from storage.migrate import upgrade

    settings = settings_for(tmp_path, database_url)
    await upgrade(database_url)
    app = create_app(settings, classifier=SwitchableClassifier(), senders={CHANNEL: Outbox()})
    async with app.router.lifespan_context(app):
        found = World(app, settings)
        await found.seed()
        yield found


async def sign_in(http: httpx.AsyncClient, username: str) -> httpx.Response:
    return await http.post("/admin/login", data={"username": username, "password": PASSWORD})
