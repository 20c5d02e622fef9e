"""Fault injection, end to end: a flaky Bot API (429 and 5xx), and every webhook update sent 3x."""

from __future__ import annotations

import asyncio
import itertools
from collections import defaultdict
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from bot.app import create_app
from storage.migrate import upgrade
from storage.tables import inbox
from tests.e2e.cluster import Endpoint, Webhooks
from tests.e2e.cluster_flows import consent, open_case
from tests.e2e.conftest import CLIENT_TOKEN, STAFF_TOKEN, Service, SwitchableClassifier
from tests.e2e.conftest import e2e_settings as base_settings
from tests.e2e.fake_bot_api import FakeBotApi
from tests.e2e.test_telegram_journey import ASN, COUNSELLOR, register_counsellor
from tests.e2e.test_telegram_journey import consent as consent_polling
from tests.e2e.test_telegram_journey import open_case as open_case_polling

SENDS = ("sendMessage", "sendDocument")


def attempts(api: FakeBotApi) -> dict[tuple[Any, ...], list[dict[str, Any]]]:
    """Every send attempt, grouped by message (bot, chat, text), in order."""
    grouped: dict[tuple[Any, ...], list[dict[str, Any]]] = defaultdict(list)
    for call in api.calls:
        if call["method"] in SENDS:
            params = call["params"]
            grouped[(call["token"], params.get("chat_id"), str(params.get("text")))].append(call)
    return grouped


async def settled(api: FakeBotApi, seconds: float = 30.0) -> dict[tuple[Any, ...], list[Any]]:
    """The attempts once no message is waiting for a retry (or after `seconds`)."""
    for _ in range(int(seconds * 4)):
        grouped = attempts(api)
        if all(calls[-1]["status"] == 200 for calls in grouped.values()):
            break
        await asyncio.sleep(0.25)
    return grouped


async def test_a_flaky_bot_api_delays_messages_but_loses_none(service: Service) -> None:
    api = service.api
    api.fail_randomly(0.2, seed=8, retry_after=1)
    await register_counsellor(service)
    for asn in (ASN, ASN + 1):
        await consent_polling(service, user_id=asn)
        code = await open_case_polling(service, user_id=asn)
        await api.wait_for_sent(STAFF_TOKEN, chat_id=COUNSELLOR, contains=f"Kasus baru {code}")
    api.fail_randomly(0)
    grouped = await settled(api)
    statuses = [c["status"] for calls in grouped.values() for c in calls]
    print({"sends": len(grouped), "429": statuses.count(429), "5xx": statuses.count(500)
           + statuses.count(502), "attempts": len(statuses)})  # fmt: skip
    assert statuses.count(429) >= 1 and statuses.count(500) + statuses.count(502) >= 1
    for key, calls in grouped.items():
        assert calls[-1]["status"] == 200, f"never delivered: {key[2][:40]!r}"
        assert [c["status"] for c in calls].count(200) == 1, "delivered twice"
        for refused, retried in itertools.pairwise(calls):
            if refused["status"] == 429:  # retry_after was 1 s
                assert retried["at"] >= refused["at"] + 1.0, "retried before retry_after"


@pytest.fixture
async def webhooks(tmp_path: Path) -> AsyncIterator[tuple[Webhooks, Service]]:
    async with FakeBotApi() as api:
        settings = base_settings(tmp_path, api).model_copy(
            update={"public_url": "https://sapa.example.test"}
        )
        await upgrade(settings.database_url)
        classifier = SwitchableClassifier()
        classifier.category = None  # NLU down: the ASN picks the category
        app = create_app(settings, classifier=classifier)
        async with app.router.lifespan_context(app):
            http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), timeout=30)
            hooks = Webhooks(api, [Endpoint("http://app")], http=http, copies=3)
            try:
                yield hooks, Service(api, app, settings, classifier)
            finally:
                await http.aclose()


async def test_every_webhook_update_sent_three_times_has_one_effect(
    webhooks: tuple[Webhooks, Service],
) -> None:
    hooks, service = webhooks
    await consent(hooks, ASN)
    code = await open_case(hooks, ASN, "saya tidak bisa tidur berminggu-minggu")
    await hooks.api.wait_for_sent(CLIENT_TOKEN, chat_id=ASN, contains=code)

    sent = [(c["params"]["chat_id"], c["params"]["text"]) for c in hooks.api.sent(method=None)
            if c["method"] in SENDS]  # fmt: skip
    assert len(sent) == len(set(sent)), "a reply was sent more than once"
    async with service.rt.svc.sessions() as session:
        stored = await session.scalar(select(func.count()).select_from(inbox))
    updates = 1 + 1 + 1 + 1 + 3  # /start, consent, the story, the category, three answers
    print({"updates": updates, "posted": updates * 3, "inbox_rows": stored, "replies": len(sent)})
    assert stored == updates
