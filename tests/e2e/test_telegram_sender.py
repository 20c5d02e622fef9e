"""The Telegram outbox Sender, through the real aiogram client against the fake Bot API."""

from __future__ import annotations

import asyncio
import base64
import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiogram import Bot

from bot.clock import SystemClock
from bot.outbox_worker import OutboxWorker, RateLimiter
from bot.senders import DeliveryFailed, RetryLater
from bot.telegram_sender import TelegramSender, keyboard, split_text, telegram_bot, utf16_len
from tests.e2e.fake_bot_api import FakeBotApi
from tests.unit.test_outbox_worker import FakeStore, Item

TOKEN = "777000:sender-token"


@pytest.fixture
async def api() -> AsyncIterator[FakeBotApi]:
    async with FakeBotApi() as fake:
        yield fake


@pytest.fixture
async def bot(api: FakeBotApi) -> AsyncIterator[Bot]:
    bot = telegram_bot(TOKEN, api.base_url)
    yield bot
    await bot.session.close()


def text_payload(text: str, buttons: list[list[str]] | None = None) -> dict[str, Any]:
    return {"text": text, "buttons": buttons or [], "urgent": False}


# -- pure helpers ------------------------------------------------------------------------------


def test_short_labels_share_rows_of_three_long_labels_get_their_own() -> None:
    short = keyboard([[str(n), f"rate:{n}"] for n in range(1, 6)])
    assert short is not None
    assert [[b.text for b in row] for row in short.inline_keyboard] == [["1", "2", "3"], ["4", "5"]]
    long = keyboard([["Kekerasan atau pelecehan di kantor", "cat:a"], ["Lainnya", "cat:b"]])
    assert long is not None and [len(row) for row in long.inline_keyboard] == [1, 1]
    assert keyboard([]) is None


def test_callback_data_over_64_bytes_is_a_permanent_failure() -> None:
    with pytest.raises(DeliveryFailed) as caught:
        keyboard([["Ya", "x" * 65]])
    assert caught.value.permanent and caught.value.code == "telegram_callback_data_too_long"
    keyboard([["Ya", "é" * 32]])  # 64 bytes exactly is fine


def test_split_text_respects_the_limit_and_prefers_paragraphs() -> None:
    paragraph = "kata " * 500  # 2500 characters
    pieces = split_text(f"{paragraph}\n\n{paragraph}\n\n{paragraph}")
    assert len(pieces) == 3 and all(utf16_len(p) <= 4096 for p in pieces)
    assert [p.strip() for p in pieces] == [paragraph.strip()] * 3
    emoji = split_text("🙂" * 3000)  # two UTF-16 units each
    assert [utf16_len(p) for p in emoji] == [4096, 1904]
    assert split_text("x" * 5000) == ["x" * 4096, "x" * 904]
    assert split_text("   ") == []


# -- against the fake ---------------------------------------------------------------------------


async def test_text_and_buttons_arrive_as_inline_keyboard(api: FakeBotApi, bot: Bot) -> None:
    payload = text_payload("Pilih <b>kategori</b>", [["Ya", "yes"], ["Tidak", "no"]])
    await TelegramSender(bot).send(address="4242", payload=payload)
    [call] = api.sent(TOKEN, chat_id=4242)
    assert call["method"] == "sendMessage"
    assert call["params"]["text"] == "Pilih <b>kategori</b>"  # plain text, never HTML
    assert "parse_mode" not in call["params"]
    rows = call["params"]["reply_markup"]["inline_keyboard"]
    assert [[(b["text"], b["callback_data"]) for b in row] for row in rows] == [
        [("Ya", "yes"), ("Tidak", "no")]
    ]


async def test_long_text_is_split_with_buttons_on_the_last(api: FakeBotApi, bot: Bot) -> None:
    text = "\n".join(f"baris {n}" + " isi" * 20 for n in range(200))  # ~17k characters
    await TelegramSender(bot).send(address="5", payload=text_payload(text, [["OK", "ok"]]))
    calls = api.sent(TOKEN, chat_id=5, method="sendMessage")
    assert len(calls) == 5
    assert all(len(c["params"]["text"]) <= 4096 for c in calls)
    assert "\n".join(c["params"]["text"] for c in calls) == text
    assert [("reply_markup" in c["params"]) for c in calls] == [False] * 4 + [True]


async def test_document_is_uploaded(api: FakeBotApi, bot: Bot) -> None:
    content = b"%PDF-1.4 ringkasan kasus"
    payload = {
        **text_payload("", [["Selesai", "done"]]),
        "document": {
            "filename": "ringkasan.pdf",
            "content_b64": base64.b64encode(content).decode(),
            "caption": "Ringkasan kasus",
        },
    }
    await TelegramSender(bot).send(address="6", payload=payload)
    [call] = await api.wait_for_sent(TOKEN, chat_id=6, contains="Ringkasan kasus")
    assert call["method"] == "sendDocument"
    assert call["params"]["document"] == {"filename": "ringkasan.pdf", "content": content}
    assert call["params"]["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "done"


async def test_document_with_text_and_an_overlong_caption(api: FakeBotApi, bot: Bot) -> None:
    payload = {
        **text_payload("Ini ringkasan kasus Anda.", [["OK", "ok"]]),
        "document": {"filename": "r.txt", "content_b64": "aGFsbw==", "caption": "c" * 1100},
    }
    await TelegramSender(bot).send(address="6", payload=payload)
    calls = api.sent(TOKEN, chat_id=6)
    assert [c["method"] for c in calls] == ["sendMessage", "sendMessage", "sendDocument"]
    assert calls[0]["params"]["text"] == "Ini ringkasan kasus Anda."
    assert calls[1]["params"]["text"] == "c" * 1100  # too long for a caption
    assert "caption" not in calls[2]["params"] and "reply_markup" in calls[2]["params"]
    assert calls[2]["params"]["document"]["content"] == b"halo"


async def test_undecodable_document_is_permanent(bot: Bot) -> None:
    payload = {**text_payload(""), "document": {"filename": "x", "content_b64": "%%%"}}
    with pytest.raises(DeliveryFailed) as caught:
        await TelegramSender(bot).send(address="6", payload=payload)
    assert (caught.value.code, caught.value.permanent) == ("telegram_bad_document", True)


async def test_429_is_retry_later_with_the_seconds(api: FakeBotApi, bot: Bot) -> None:
    api.fail_next("sendMessage", status=429, retry_after=7)
    with pytest.raises(RetryLater) as caught:
        await TelegramSender(bot).send(address="1", payload=text_payload("halo"))
    assert (caught.value.seconds, caught.value.code) == (7, "telegram_429")


@pytest.mark.parametrize(
    ("status", "code", "permanent"),
    [
        (403, "telegram_forbidden", True),
        (400, "telegram_bad_request", True),
        (500, "telegram_unavailable", False),
        (502, "telegram_unavailable", False),
    ],
)
async def test_errors_map_to_delivery_failures(
    api: FakeBotApi, bot: Bot, status: int, code: str, permanent: bool
) -> None:
    api.fail_next("sendMessage", status=status)
    with pytest.raises(DeliveryFailed) as caught:
        await TelegramSender(bot).send(address="1", payload=text_payload("halo"))
    assert (caught.value.code, caught.value.permanent) == (code, permanent)


async def test_unreachable_api_is_retryable() -> None:
    bot = telegram_bot(TOKEN, "http://127.0.0.1:9", timeout=2)  # nothing listens there
    try:
        with pytest.raises(DeliveryFailed) as caught:
            await TelegramSender(bot).send(address="1", payload=text_payload("halo"))
    finally:
        await bot.session.close()
    assert (caught.value.code, caught.value.permanent) == ("telegram_unavailable", False)


async def test_failures_log_codes_only(
    api: FakeBotApi, bot: Bot, caplog: pytest.LogCaptureFixture
) -> None:
    api.fail_next("sendMessage", status=403)
    with caplog.at_level(logging.DEBUG), pytest.raises(DeliveryFailed):
        await TelegramSender(bot).send(address="918273", payload=text_payload("rahasia klien"))
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "telegram_forbidden" in logged
    assert "918273" not in logged and "rahasia" not in logged


async def test_retry_of_a_split_message_does_not_repeat_delivered_parts(
    api: FakeBotApi, bot: Bot
) -> None:
    sender = TelegramSender(bot)
    payload = text_payload("a" * 4096 + " " + "b" * 10)
    requests = 0

    async def refuse_the_second_part(make_request, bot, method):  # type: ignore[no-untyped-def]
        nonlocal requests
        requests += 1
        if requests == 2:  # the first part went through; Telegram refuses the second
            api.fail_next("sendMessage", status=429, retry_after=1)
        return await make_request(bot, method)

    bot.session.middleware(refuse_the_second_part)
    with pytest.raises(RetryLater):
        await sender.send(address="8", payload=payload)
    await sender.send(address="8", payload=payload)
    assert [c["params"]["text"][0] for c in api.sent(TOKEN, chat_id=8)] == ["a", "b"]
    assert [c["status"] for c in api.calls] == [200, 429, 200]


async def test_bad_address_and_empty_text_are_permanent(bot: Bot) -> None:
    sender = TelegramSender(bot)
    for address, payload in [("not-a-chat", text_payload("halo")), ("1", text_payload(" "))]:
        with pytest.raises(DeliveryFailed) as caught:
            await sender.send(address=address, payload=payload)
        assert caught.value.permanent


# -- the outbox worker end to end --------------------------------------------------------------


async def test_outbox_worker_delivers_everything_once_honouring_retry_after(
    api: FakeBotApi, bot: Bot
) -> None:
    store = FakeStore(
        [Item(str(n), "telegram", str(100 + n % 3), text_payload(f"pesan {n}")) for n in range(9)]
    )
    worker = OutboxWorker(
        store=store,
        senders={"telegram": TelegramSender(bot)},
        clock=SystemClock(),
        limiter=RateLimiter(per_second=1000, per_chat_interval=0.0),
    )
    api.fail_next("sendMessage", status=429, retry_after=1, times=2)
    async with asyncio.timeout(20):
        while any(r.status == "pending" for r in store.items):
            await worker.run_once()
            await asyncio.sleep(0.05)

    assert {r.status for r in store.items} == {"sent"}
    texts = [c["params"]["text"] for c in api.sent(TOKEN, method="sendMessage")]
    assert sorted(texts) == sorted(f"pesan {n}" for n in range(9))  # each exactly once
    retried = [r for r in store.items if r.attempts]
    assert len(retried) == 2 and {r.error for r in retried} == {"telegram_429"}
    sends = [c for c in api.calls if c["method"] == "sendMessage"]
    for refused in (c for c in sends if c["status"] == 429):
        chat, text = refused["params"]["chat_id"], refused["params"]["text"]
        [delivered] = [
            c
            for c in sends
            if c["status"] == 200 and (c["params"]["chat_id"], c["params"]["text"]) == (chat, text)
        ]
        assert delivered["at"] - refused["at"] >= 1.0  # retry_after honoured
