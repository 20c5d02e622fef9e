"""The Telegram bots under awkward input, races, restarts, webhooks and identity leaks."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.app import create_app
from tests.e2e.conftest import (
    CLIENT_TOKEN,
    STAFF_TOKEN,
    Service,
    SwitchableClassifier,
    e2e_settings,
)
from tests.e2e.fake_bot_api import FakeBotApi
from tests.e2e.test_telegram_journey import (
    ASN,
    COUNSELLOR,
    consent,
    invite,
    open_case,
    register_counsellor,
)

NOT_TEXT = {
    "photo": {"photo": [{"file_id": "p", "file_unique_id": "p1", "width": 1, "height": 1}]},
    "voice": {"voice": {"file_id": "v", "file_unique_id": "v1", "duration": 3}},
    "document": {"document": {"file_id": "d", "file_unique_id": "d1"}},
    "video": {
        "video": {"file_id": "x", "file_unique_id": "x1", "width": 1, "height": 1, "duration": 1}
    },
    "location": {"location": {"latitude": -7.71, "longitude": 110.0}},
    "contact": {"contact": {"phone_number": "+6281234567890", "first_name": "Ani"}},
    "poll": {
        "poll": {
            "id": "1",
            "question": "?",
            "options": [],
            "total_voter_count": 0,
            "is_closed": False,
            "is_anonymous": True,
            "type": "regular",
            "allows_multiple_answers": False,
            "allows_revoting": False,
            "members_only": False,
        }
    },
}


async def test_every_kind_of_non_text_gets_a_kind_reply_and_is_not_stored(
    service: Service,
) -> None:
    api = service.api
    await consent(service)
    for n, extra in enumerate(NOT_TEXT.values(), start=1):
        api.push_message(CLIENT_TOKEN, user_id=ASN, extra=extra)
        await api.wait_for_sent(CLIENT_TOKEN, chat_id=ASN, contains="hanya dapat menerima", count=n)
    raw = b"".join(p.read_bytes() for p in Path(service.settings.key_file).parent.glob("sapa.db*"))
    assert b"6281234567890" not in raw
    async with service.rt.uow() as uow:
        client = await uow.clients.find(channel="telegram", external_id=str(ASN))
        assert client is not None
        assert await uow.cases.open_for_client(client.id) is None  # nothing was opened


async def test_a_group_chat_is_told_and_left(service: Service) -> None:
    api = service.api
    api.push_message(
        CLIENT_TOKEN,
        user_id=ASN,
        chat_id=-100555,
        text="halo",
        extra={"chat": {"id": -100555, "type": "supergroup", "title": "Kantor"}},
    )
    await api.wait_for_sent(CLIENT_TOKEN, chat_id=-100555, contains="chat pribadi")
    for _ in range(50):
        if any(c["method"] == "leaveChat" for c in api.calls):
            break
        await asyncio.sleep(0.1)
    assert any(c["method"] == "leaveChat" for c in api.calls)


async def test_an_edit_is_kept_as_a_new_marked_message(service: Service) -> None:
    api = service.api
    await register_counsellor(service)
    await consent(service)
    code = await open_case(service)
    api.push_message(STAFF_TOKEN, user_id=COUNSELLOR, text=f"/ambil {code}")
    await api.wait_for_sent(STAFF_TOKEN, chat_id=COUNSELLOR, contains="sekarang Anda tangani")
    edited = {
        "message_id": 77,
        "date": 1,
        "edit_date": 2,
        "chat": {"id": ASN, "type": "private"},
        "from": {"id": ASN, "is_bot": False, "first_name": "A"},
        "text": "maksud saya besok",
    }
    api.push_update(CLIENT_TOKEN, {"edited_message": edited})
    await api.wait_for_sent(STAFF_TOKEN, chat_id=COUNSELLOR, contains="(pesan diedit) maksud saya")


async def test_two_counsellors_claiming_at_once_one_wins(service: Service) -> None:
    api = service.api
    await register_counsellor(service, COUNSELLOR)
    await register_counsellor(service, COUNSELLOR + 1)
    await consent(service)
    code = await open_case(service)
    api.push_message(STAFF_TOKEN, user_id=COUNSELLOR, text=f"/ambil {code}")
    api.push_message(STAFF_TOKEN, user_id=COUNSELLOR + 1, text=f"/ambil {code}")
    won = [COUNSELLOR, COUNSELLOR + 1]
    await asyncio.sleep(0)
    for user in won:
        await api.wait_for_sent(STAFF_TOKEN, chat_id=user, contains=code, count=2)
    outcomes = {
        user: [c["params"]["text"] for c in api.sent(STAFF_TOKEN, chat_id=user)][-1] for user in won
    }
    winners = [u for u, text in outcomes.items() if "sekarang Anda tangani" in text]
    losers = [u for u, text in outcomes.items() if "sudah diambil" in text]
    assert len(winners) == 1 and len(losers) == 1, outcomes


async def test_someone_without_an_invite_is_refused_and_nothing_is_stored(
    service: Service,
) -> None:
    api = service.api
    api.push_message(STAFF_TOKEN, user_id=424242, text="/antrian")
    await api.wait_for_sent(STAFF_TOKEN, chat_id=424242, contains="belum terdaftar")
    api.push_message(STAFF_TOKEN, user_id=424242, text="/start SALAHKODE1234")
    await api.wait_for_sent(STAFF_TOKEN, chat_id=424242, contains="tidak berlaku")
    async with service.rt.uow() as uow:
        assert await uow.staff.all() == []


async def test_a_restart_between_two_messages_continues_the_conversation(
    tmp_path: Path,
) -> None:
    async with FakeBotApi() as api:
        settings = e2e_settings(tmp_path, api)
        from storage.migrate import upgrade

        await upgrade(settings.database_url)
        first = create_app(settings, classifier=SwitchableClassifier())
        async with first.router.lifespan_context(first):
            service = Service(api, first, settings, SwitchableClassifier())
            await consent(service)
            api.push_message(CLIENT_TOKEN, user_id=ASN, text="Anak saya susah makan")
            await api.wait_for_sent(CLIENT_TOKEN, chat_id=ASN, contains="Sepertinya ini tentang")
            api.push_callback(CLIENT_TOKEN, user_id=ASN, data="cat:gizi")
            await api.wait_for_sent(CLIENT_TOKEN, chat_id=ASN, contains="jenis kelamin")
        second = create_app(settings, classifier=SwitchableClassifier())
        async with second.router.lifespan_context(second):
            for data in ("q:gender:-", "q:age:-", "q:employment:PPPK"):
                api.push_callback(CLIENT_TOKEN, user_id=ASN, data=data)
                await asyncio.sleep(0.1)
            opened = await api.wait_for_sent(CLIENT_TOKEN, chat_id=ASN, contains="Tim Gizi")
            assert "tercatat dengan kode" in opened[-1]["params"]["text"]


async def test_switching_language_midway_through_the_questions_asks_the_rest_in_it(
    service: Service,
) -> None:
    """The language rides along in the questions' conversation state: a switch updates it."""
    api = service.api
    await consent(service)
    api.push_message(CLIENT_TOKEN, user_id=ASN, text="Anak saya susah makan")
    await api.wait_for_sent(CLIENT_TOKEN, chat_id=ASN, contains="Sepertinya ini tentang")
    api.push_callback(CLIENT_TOKEN, user_id=ASN, data="cat:gizi")
    await api.wait_for_sent(CLIENT_TOKEN, chat_id=ASN, contains="jenis kelamin")
    api.push_callback(CLIENT_TOKEN, user_id=ASN, data="q:gender:-")
    await api.wait_for_sent(CLIENT_TOKEN, chat_id=ASN, contains="kelompok usia")
    api.push_message(CLIENT_TOKEN, user_id=ASN, text="/language")
    await asyncio.sleep(0.2)
    api.push_callback(CLIENT_TOKEN, user_id=ASN, data="q:age:40-49")
    asked = await api.wait_for_sent(CLIENT_TOKEN, chat_id=ASN, contains="employment status")
    assert "Optional question" in asked[-1]["params"]["text"]
    api.push_callback(CLIENT_TOKEN, user_id=ASN, data="q:employment:PNS")
    await api.wait_for_sent(CLIENT_TOKEN, chat_id=ASN, contains="Your case is recorded")
    # Each press was acknowledged, once, by the method the handler returned (polling).
    pressed = [c["params"]["callback_query_id"] for c in api.sent(method="answerCallbackQuery")]
    assert len(pressed) == len(set(pressed)) == 5  # consent, category, three answers


@contextlib.asynccontextmanager
async def webhook_service(tmp_path: Path) -> AsyncIterator[tuple[FakeBotApi, Any, dict[str, Any]]]:
    """The app in webhook mode (SAPA_PUBLIC_URL set): the fake, the app, the ASN bot's hook."""
    async with FakeBotApi() as api:
        settings = e2e_settings(tmp_path, api).model_copy(
            update={"public_url": "https://sapa.example.go.id"}
        )
        from storage.migrate import upgrade

        await upgrade(settings.database_url)
        app = create_app(settings, classifier=SwitchableClassifier())
        async with app.router.lifespan_context(app):
            hook = api.webhook(CLIENT_TOKEN)
            assert hook is not None
            yield api, app, hook


async def test_webhooks_need_the_secret_and_a_wrong_one_writes_nothing(tmp_path: Path) -> None:
    async with webhook_service(tmp_path) as (api, app, hook):
        assert hook["url"] == "https://sapa.example.go.id/telegram/client/webhook"
        secret = hook["secret_token"]
        update = {
            "update_id": 5,
            "message": {
                "message_id": 1,
                "date": 1,
                "chat": {"id": ASN, "type": "private"},
                "from": {"id": ASN, "is_bot": False, "first_name": "A"},
                "text": "/start",
            },
        }
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://app") as http:
            url = "/telegram/client/webhook"
            for headers in ({}, {"X-Telegram-Bot-Api-Secret-Token": "wrong"}):
                answer = await http.post(url, json=update, headers=headers)
                assert answer.status_code == 401
            async with app.state.services.sessions() as session:
                from sqlalchemy import func, select

                from storage.tables import inbox

                assert await session.scalar(select(func.count()).select_from(inbox)) == 0
            good = {"X-Telegram-Bot-Api-Secret-Token": secret}
            assert (await http.post(url, json=update, headers=good)).status_code == 200
            assert (await http.post(url, json=update, headers=good)).status_code == 200
        await api.wait_for_sent(CLIENT_TOKEN, chat_id=ASN, contains="Pemberitahuan privasi")
        await asyncio.sleep(0.5)
        assert len(api.sent(CLIENT_TOKEN, chat_id=ASN)) == 1  # the replay had no effect


async def test_a_button_press_is_answered_in_the_webhook_answer(tmp_path: Path) -> None:
    """No Bot API call of its own while the update is handled: Telegram runs the method."""
    async with webhook_service(tmp_path) as (api, app, hook):
        headers = {"X-Telegram-Bot-Api-Secret-Token": hook["secret_token"]}
        user = {"id": ASN, "is_bot": False, "first_name": "A"}
        chat = {"id": ASN, "type": "private"}
        start = {"message_id": 1, "date": 1, "chat": chat, "from": user, "text": "/start"}
        press = {
            "id": "cb-77",
            "from": user,
            "chat_instance": "ci",
            "data": "consent:yes:id",
            "message": {"message_id": 2, "date": 1, "chat": chat, "from": user, "text": "?"},
        }
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://app") as http:
            url = "/telegram/client/webhook"
            first = await http.post(url, json={"update_id": 7, "message": start}, headers=headers)
            assert first.json() == {"ok": True}  # a message: nothing to run
            await api.wait_for_sent(CLIENT_TOKEN, chat_id=ASN, contains="Pemberitahuan privasi")
            answer = await http.post(
                url, json={"update_id": 8, "callback_query": press}, headers=headers
            )
        assert answer.status_code == 200
        assert answer.json() == {"method": "answerCallbackQuery", "callback_query_id": "cb-77"}
        assert not api.sent(method="answerCallbackQuery"), "answered by a call of its own"
        await api.webhook_answered(CLIENT_TOKEN, answer.content)  # what Telegram does
        [run] = api.sent(method="answerCallbackQuery")
        assert (run["via"], run["params"]) == ("webhook", {"callback_query_id": "cb-77"})
        await api.wait_for_sent(CLIENT_TOKEN, chat_id=ASN, contains="ceritakan")


async def test_the_webhook_path_answers_only_its_bots_and_is_timed(tmp_path: Path) -> None:
    """Webhooks are answered ahead of the router: a bot that is off (or unknown) is not
    found, another method goes on to the app, and each webhook is timed as `telegram`."""
    async with webhook_service(tmp_path) as (api, app, hook):
        headers = {"X-Telegram-Bot-Api-Secret-Token": hook["secret_token"]}
        chat, user = {"id": ASN, "type": "private"}, {"id": ASN, "is_bot": False, "first_name": "A"}
        start = {"message_id": 1, "date": 1, "chat": chat, "from": user, "text": "/start"}
        update = {"update_id": 9, "message": start}
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://app") as http:
            bots = app.state.bots
            app.state.bots = {"staff": bots["staff"]}  # the ASN bot is off
            try:
                off = await http.post("/telegram/client/webhook", json=update, headers=headers)
            finally:
                app.state.bots = bots
            other = await http.post("/telegram/other/webhook", json=update, headers=headers)
            read = await http.get("/telegram/client/webhook", headers=headers)
            handled = await http.post("/telegram/client/webhook", json=update, headers=headers)
        assert (off.status_code, off.json()) == (404, {"detail": "not found"})
        assert other.status_code == 404 and read.status_code in (404, 405)
        assert (handled.status_code, handled.json()) == (200, {"ok": True})
        timed = app.state.metrics.latency.labels("telegram")._sum.get()
        assert timed > 0
        samples = {
            (s.name, tuple(sorted(s.labels.items()))): s.value
            for family in app.state.metrics.registry.collect()
            for s in family.samples
        }
        # All four are timed: two answered ahead of the router, two by the app behind it.
        assert samples[("sapa_request_seconds_count", (("surface", "telegram"),))] == 4
        await api.wait_for_sent(CLIENT_TOKEN, chat_id=ASN, contains="Pemberitahuan privasi")


async def test_the_asn_identity_never_reaches_staff_or_logs(
    service: Service, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    api = service.api
    name, username = "KANARINAMA", "kanari_pengguna"
    await register_counsellor(service)
    api.push_message(CLIENT_TOKEN, user_id=ASN, text="/start", first_name=name, username=username)
    await api.wait_for_sent(CLIENT_TOKEN, chat_id=ASN, contains="Pemberitahuan privasi")
    api.push_callback(CLIENT_TOKEN, user_id=ASN, data="consent:yes:id")
    await api.wait_for_sent(CLIENT_TOKEN, chat_id=ASN, contains="Silakan ceritakan")
    code = await open_case(service)
    api.push_message(STAFF_TOKEN, user_id=COUNSELLOR, text=f"/ambil {code}")
    api.push_message(STAFF_TOKEN, user_id=COUNSELLOR, text=f"/transkrip {code} review")
    await api.wait_for_sent(STAFF_TOKEN, chat_id=COUNSELLOR, contains="dicatat")
    to_staff = " ".join(str(c["params"]) for c in api.sent(STAFF_TOKEN))
    for identity in (str(ASN), name, username):
        assert identity not in to_staff
    logged = "\n".join(r.getMessage() for r in caplog.records)
    for identity in (str(ASN), str(COUNSELLOR), name, username, "KANARI-RAHASIA"):
        assert identity not in logged


async def test_a_429_storm_delivers_everything_and_never_early(service: Service) -> None:
    api = service.api
    users = [ASN + i for i in range(4)]
    api.fail_next("sendMessage", status=429, retry_after=1, times=6, token=CLIENT_TOKEN)
    for user in users:
        api.push_message(CLIENT_TOKEN, user_id=user, text="/start")
    for user in users:
        await api.wait_for_sent(
            CLIENT_TOKEN, chat_id=user, contains="Pemberitahuan privasi", timeout=40
        )
    sends = [c for c in api.calls if c["method"] == "sendMessage" and c["token"] == CLIENT_TOKEN]
    refused = [c for c in sends if c["status"] == 429]
    delivered = [c for c in sends if c["status"] == 200]
    assert len(refused) == 6 and len(delivered) == len(users)
    first_refusal = refused[0]["at"]
    assert all(c["at"] >= first_refusal + 1.0 for c in delivered if c["at"] > first_refusal)
    assert await invite(service)  # the service still works afterwards


DANGER = "saya sudah tidak kuat, pengen bunuh diri aja"


async def test_crisis_words_in_a_message_not_kept_still_bring_the_emergency_contacts(
    service: Service,
) -> None:
    """Before consent, in a photo's caption, in a message too long: nothing is stored, but the
    safety message comes first, then what the ASN needs to do next."""
    api = service.api
    api.push_message(CLIENT_TOKEN, user_id=ASN, text=DANGER)  # a first message, no consent yet
    await api.wait_for_sent(CLIENT_TOKEN, chat_id=ASN, contains="Pemberitahuan privasi")
    first, notice = [c["params"]["text"] for c in api.sent(CLIENT_TOKEN, chat_id=ASN)]
    assert first.startswith("Bapak/Ibu, keselamatan Bapak/Ibu") and "119" in first
    assert "belum kami simpan" in first and "Pemberitahuan privasi" in notice
    async with service.rt.uow() as uow:
        assert await uow.clients.find(channel="telegram", external_id=str(ASN)) is None

    await consent(service)
    photo = NOT_TEXT["photo"]
    api.push_message(CLIENT_TOKEN, user_id=ASN, extra={**photo, "caption": DANGER})
    await api.wait_for_sent(CLIENT_TOKEN, chat_id=ASN, contains="hanya dapat menerima pesan teks")
    said = [c["params"]["text"] for c in api.sent(CLIENT_TOKEN, chat_id=ASN)]
    assert "119" in said[-2] and said[-2].startswith("Bapak/Ibu, keselamatan")

    api.push_message(CLIENT_TOKEN, user_id=ASN, text="cerita " * 700 + DANGER)  # over 4,096
    await api.wait_for_sent(CLIENT_TOKEN, chat_id=ASN, contains="terlalu panjang")
    said = [c["params"]["text"] for c in api.sent(CLIENT_TOKEN, chat_id=ASN)]
    assert "119" in said[-2] and "terlalu panjang" in said[-1]

    api.push_message(CLIENT_TOKEN, user_id=ASN, text="x" * 4096)  # a full-size message is kept
    await api.wait_for_sent(CLIENT_TOKEN, chat_id=ASN, contains="Sepertinya ini tentang")
