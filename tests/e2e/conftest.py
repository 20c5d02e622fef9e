"""End-to-end fixtures: the real app (aiogram polling over HTTP) against the local fake Bot API."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi import FastAPI

from bot.app import create_app
from bot.runtime import Runtime
from bot.settings import Settings
from core.triage import Category, Classification, Classifier, ClassifierUnavailable
from tests.e2e.fake_bot_api import FakeBotApi

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM_PATH = Path("/usr/bin/chromium")
# A laptop without Chromium skips the browser tests with the reason; CI (CI=true) never
# skips them: there a missing browser is an error (`make test` installs it first).
needs_chromium = pytest.mark.skipif(
    not CHROMIUM_PATH.exists() and os.environ.get("CI", "").lower() != "true",
    reason="Chromium missing at /usr/bin/chromium: run `make browser` first",
)
CLIENT_TOKEN = "1111:asn-bot-token"
STAFF_TOKEN = "2222:staff-bot-token"


class SwitchableClassifier:
    """Stands in for Rasa (tested on its own in tests/integration/test_nlu_rasa.py)."""

    def __init__(self) -> None:
        self.category: Category | None = Category.KESEHATAN_JIWA

    async def classify(self, text: str) -> Classification:
        if self.category is None:
            raise ClassifierUnavailable("down")
        return Classification(
            self.category, False, 0.9, self.category.value, ((self.category.value, 0.9),)
        )


@dataclass
class Service:
    api: FakeBotApi
    app: FastAPI
    settings: Settings
    classifier: SwitchableClassifier

    @property
    def rt(self) -> Runtime:
        runtime: Runtime = self.app.state.runtime
        return runtime


def e2e_settings(tmp_path: Path, api: FakeBotApi, database_url: str | None = None) -> Settings:
    return Settings(
        _env_file=None,
        database_url=database_url or f"sqlite+aiosqlite:///{tmp_path / 'sapa.db'}",
        key_file=tmp_path / "keys.json",
        partners_file=ROOT / "config" / "partners.yaml",
        telegram_client_token=CLIENT_TOKEN,
        telegram_staff_token=STAFF_TOKEN,
        telegram_api_base=api.base_url,
        nlu_url=None,
        crisis_repage_check_seconds=0.5,
    )


@pytest.fixture
async def service(tmp_path: Path) -> AsyncIterator[Service]:
    from storage.migrate import upgrade

    async with FakeBotApi() as api:
        settings = e2e_settings(tmp_path, api, os.environ.get("SAPA_E2E_DATABASE_URL"))
        await upgrade(settings.database_url)
        classifier = SwitchableClassifier()
        app = create_app(settings, classifier=classifier)
        async with app.router.lifespan_context(app):
            yield Service(api, app, settings, classifier)


__all__ = ["CLIENT_TOKEN", "STAFF_TOKEN", "Classifier", "Service"]
