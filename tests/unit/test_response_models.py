"""The bots' HTTP session keeps the pydantic models it parses Bot API answers with."""

from __future__ import annotations

import gc
import json
from typing import Any

import pytest
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.methods import AnswerCallbackQuery, GetMyCommands, SendMessage
from pydantic._internal import _generics

from bot.telegram_sender import telegram_bot

MESSAGE = {"message_id": 7, "date": 0, "chat": {"id": 5, "type": "private"}, "text": "ok"}


def count_model_builds(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    built: list[Any] = []
    original = _generics.create_generic_submodel

    def counting(*args: Any, **kwargs: Any) -> Any:
        built.append(args[0])
        return original(*args, **kwargs)

    monkeypatch.setattr(_generics, "create_generic_submodel", counting)
    return built


async def test_answers_are_parsed_without_rebuilding_models_after_a_collection(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bot = telegram_bot("42:TEST")
    send = SendMessage(chat_id=5, text="ok")
    answer = AnswerCallbackQuery(callback_query_id="1")
    try:
        bot.session.check_response(bot, send, 200, json.dumps({"ok": True, "result": MESSAGE}))
        bot.session.check_response(bot, answer, 200, '{"ok": true, "result": true}')
        built = count_model_builds(monkeypatch)
        for _ in range(3):
            gc.collect()
            parsed = bot.session.check_response(
                bot, send, 200, json.dumps({"ok": True, "result": MESSAGE})
            )
            assert parsed.result is not None and parsed.result.message_id == 7
            bot.session.check_response(bot, answer, 200, '{"ok": true, "result": true}')
        assert built == []
    finally:
        await bot.session.close()


async def test_stock_aiogram_rebuilds_them_which_is_what_the_session_avoids(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Guards the premise: if aiogram or pydantic stop rebuilding, the keeping can go."""
    session = AiohttpSession()
    bot = telegram_bot("42:TEST")
    try:
        method = GetMyCommands()  # a return type no kept model has (list[BotCommand])
        built = count_model_builds(monkeypatch)
        for _ in range(2):
            gc.collect()
            session.check_response(bot, method, 200, '{"ok": true, "result": []}')
        assert len(built) == 2
    finally:
        await session.close()
        await bot.session.close()
