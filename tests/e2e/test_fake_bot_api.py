"""The fake Bot API server, driven by the real aiogram client over HTTP."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiogram import Bot, Dispatcher, F, Router
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramConflictError,
    TelegramForbiddenError,
    TelegramRetryAfter,
)
from aiogram.types import (
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
)

from tests.e2e.fake_bot_api import FakeBotApi

TOKEN = "123456:TEST-token"
OTHER = "654321:other-token"


@pytest.fixture
async def api() -> AsyncIterator[FakeBotApi]:
    async with FakeBotApi() as fake:
        yield fake


@contextlib.asynccontextmanager
async def make_bot(api: FakeBotApi, token: str = TOKEN) -> AsyncIterator[Bot]:
    session = AiohttpSession(api=TelegramAPIServer.from_base(api.base_url))
    bot = Bot(token, session=session)
    try:
        yield bot
    finally:
        await bot.session.close()


async def test_get_me_and_send_message(api: FakeBotApi) -> None:
    async with make_bot(api) as bot:
        me = await bot.get_me()
        assert (me.id, me.is_bot, me.username) == (123456, True, "fake123456_bot")
        markup = InlineKeyboardMarkup(
            inline_keyboard=[[InlineKeyboardButton(text="Ya", callback_data="yes")]]
        )
        message = await bot.send_message(42, "halo", reply_markup=markup)
    assert message.chat.id == 42 and message.chat.type == "private"
    assert message.text == "halo" and message.from_user and message.from_user.id == 123456
    assert message.reply_markup.model_dump() == markup.model_dump()
    [call] = api.sent(TOKEN, chat_id=42, method="sendMessage")
    assert call["params"]["text"] == "halo"
    assert call["params"]["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "yes"
    assert api.sent(OTHER) == []


async def test_text_that_looks_like_json_stays_text(api: FakeBotApi) -> None:
    async with make_bot(api) as bot:
        await bot.send_message(7, "123")
        await bot.send_message(7, "[1, 2]")
    assert [c["params"]["text"] for c in api.sent(chat_id=7)] == ["123", "[1, 2]"]


async def test_json_and_urlencoded_bodies(api: FakeBotApi) -> None:
    async with aiohttp.ClientSession() as http:
        url = f"{api.base_url}/bot{TOKEN}/sendMessage"
        async with http.post(url, json={"chat_id": 5, "text": "json"}) as resp:
            assert (await resp.json())["result"]["text"] == "json"
        async with http.post(url, data={"chat_id": "5", "text": "form"}) as resp:
            assert (await resp.json())["result"]["chat"]["id"] == 5
        async with http.get(f"{api.base_url}/bot{TOKEN}/nope") as resp:
            assert resp.status == 404
            assert await resp.json() == {
                "ok": False,
                "error_code": 404,
                "description": "Not Found: method not found",
            }
    assert [c["params"]["text"] for c in api.sent(TOKEN, chat_id=5)] == ["json", "form"]


async def test_send_document_records_upload(api: FakeBotApi) -> None:
    async with make_bot(api) as bot:
        file = BufferedInputFile(b"%PDF-1.4 data", filename="ringkasan.pdf")
        message = await bot.send_document(9, file, caption="Ringkasan")
    assert message.document and message.document.file_name == "ringkasan.pdf"
    [call] = await api.wait_for_sent(TOKEN, chat_id=9, contains="Ringkasan")
    assert call["params"]["document"] == {"filename": "ringkasan.pdf", "content": b"%PDF-1.4 data"}


async def test_get_updates_long_polls_until_an_update_arrives(api: FakeBotApi) -> None:
    async with make_bot(api) as bot:
        started = time.monotonic()
        assert await bot.get_updates(timeout=0) == []
        poll = asyncio.create_task(bot.get_updates(timeout=10))
        await asyncio.sleep(0.2)
        assert not poll.done()  # waiting for an update
        update_id = api.push_message(TOKEN, user_id=77, text="/start", username="ani")
        [update] = await asyncio.wait_for(poll, 5)
        assert time.monotonic() - started < 5
        assert update.update_id == update_id
        assert update.message and update.message.text == "/start"
        assert update.message.entities and update.message.entities[0].type == "bot_command"
        # Not confirmed yet: offered again; confirmed with offset: gone.
        assert [u.update_id for u in await bot.get_updates(timeout=0)] == [update_id]
        assert await bot.get_updates(offset=update_id + 1, timeout=0) == []
        # An empty long poll answers after its timeout.
        started = time.monotonic()
        assert await bot.get_updates(offset=update_id + 1, timeout=1) == []
        assert 0.9 <= time.monotonic() - started < 3


async def test_updates_are_kept_per_token(api: FakeBotApi) -> None:
    api.push_message(OTHER, user_id=1, text="bukan untukmu")
    message = {"message_id": 1, "date": 0, "chat": {"id": 1, "type": "private"}, "text": "x"}
    raw = api.push_update(TOKEN, {"message": message})
    async with make_bot(api) as bot:
        updates = await bot.get_updates(limit=5, timeout=0)
    assert [u.update_id for u in updates] == [raw]


async def test_fail_next_429_is_retry_after(api: FakeBotApi) -> None:
    api.fail_next("sendMessage", status=429, retry_after=3)
    async with make_bot(api) as bot:
        with pytest.raises(TelegramRetryAfter) as caught:
            await bot.send_message(42, "halo")
        assert caught.value.retry_after == 3
        api.fail_next("sendMessage", status=403, token=TOKEN, times=2)
        for _ in range(2):
            with pytest.raises(TelegramForbiddenError, match="blocked by the user"):
                await bot.send_message(42, "halo")
        await bot.send_message(42, "halo")  # failures used up
    assert [c["status"] for c in api.calls] == [429, 403, 403, 200]
    assert len(api.sent(TOKEN)) == 1


async def test_edits_webhook_and_misc_methods(api: FakeBotApi) -> None:
    async with make_bot(api) as bot:
        sent = await bot.send_message(3, "pilih")
        edited = await bot.edit_message_text(text="dipilih", chat_id=3, message_id=sent.message_id)
        assert isinstance(edited, Message) and edited.text == "dipilih"
        markup = InlineKeyboardMarkup(
            inline_keyboard=[[InlineKeyboardButton(text="B", callback_data="b")]]
        )
        edited = await bot.edit_message_reply_markup(
            chat_id=3, message_id=sent.message_id, reply_markup=markup
        )
        assert (
            isinstance(edited, Message) and edited.reply_markup.model_dump() == markup.model_dump()
        )
        assert await bot.delete_message(3, sent.message_id) is True
        assert await bot.set_webhook("https://example.test/hook", secret_token="s3cret") is True
        assert api.webhook(TOKEN) == {"url": "https://example.test/hook", "secret_token": "s3cret"}
        info = await bot.get_webhook_info()
        assert info.url == "https://example.test/hook"
        assert await bot.delete_webhook(drop_pending_updates=True) is True
        assert api.webhook(TOKEN) is None
        assert await bot.set_my_commands([]) is True
        assert await bot.close() is True
        assert await bot.log_out() is True


async def test_wait_for_sent_times_out_with_what_was_sent(api: FakeBotApi) -> None:
    async with make_bot(api) as bot:
        await bot.send_message(1, "sesuatu yang lain")
    with pytest.raises(AssertionError, match="sesuatu yang lain"):
        await api.wait_for_sent(TOKEN, contains="tidak ada", timeout=0.3)


async def test_dispatcher_polling_answers_messages_and_callbacks(api: FakeBotApi) -> None:
    router = Router()

    @router.message(F.text)
    async def echo(message: Message) -> None:
        markup = InlineKeyboardMarkup(
            inline_keyboard=[[InlineKeyboardButton(text="Lagi", callback_data="again")]]
        )
        await message.answer(f"echo: {message.text}", reply_markup=markup)

    @router.callback_query(F.data == "again")
    async def again(query: CallbackQuery) -> None:
        await query.answer()
        assert query.message is not None
        await query.message.answer("lagi")

    dp = Dispatcher()
    dp.include_router(router)
    session = AiohttpSession(api=TelegramAPIServer.from_base(api.base_url))
    bot = Bot(TOKEN, session=session)
    polling = asyncio.create_task(dp.start_polling(bot, handle_signals=False, polling_timeout=5))
    try:
        api.push_message(TOKEN, user_id=501, text="halo")
        [reply] = await api.wait_for_sent(TOKEN, chat_id=501, contains="echo: halo", timeout=10)
        assert reply["params"]["reply_markup"]["inline_keyboard"][0][0]["text"] == "Lagi"
        api.push_callback(TOKEN, user_id=501, data="again")
        await api.wait_for_sent(TOKEN, chat_id=501, contains="lagi", timeout=10)
        assert api.sent(TOKEN, method="answerCallbackQuery")
    finally:
        await dp.stop_polling()
        await asyncio.wait_for(polling, 10)


async def test_a_second_poller_terminates_the_first_with_409(api: FakeBotApi) -> None:
    async with make_bot(api) as bot, make_bot(api) as twin:
        first = asyncio.create_task(bot.get_updates(timeout=10))
        await asyncio.sleep(0.2)
        second = asyncio.create_task(twin.get_updates(timeout=10))
        with pytest.raises(TelegramConflictError, match="terminated by other getUpdates"):
            await asyncio.wait_for(first, 5)
        api.push_message(TOKEN, user_id=1, text="halo")
        assert len(await asyncio.wait_for(second, 5)) == 1


async def test_malformed_requests_are_bad_requests(api: FakeBotApi) -> None:
    async with make_bot(api) as bot:
        with pytest.raises(TelegramBadRequest, match="message text is empty"):
            await bot.send_message(1, "")
    url = f"{api.base_url}/bot{TOKEN}/sendMessage"
    async with aiohttp.ClientSession() as http, http.post(url, json={"text": "x"}) as resp:
        assert resp.status == 400 and (await resp.json())["error_code"] == 400
