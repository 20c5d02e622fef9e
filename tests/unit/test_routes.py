"""Magic filters are resolved in the event loop, not in a worker thread per check."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest
from aiogram import F
from aiogram.types import Chat, Message

from handlers.routes import Inline, Routes


def message(text: str, chat_type: str = "private") -> Message:
    return Message(
        message_id=1, date=datetime(2026, 11, 30, tzinfo=UTC), chat=Chat(id=5, type=chat_type),
        text=text,
    )  # fmt: skip


async def test_magic_filters_run_inline_and_still_decide(monkeypatch: pytest.MonkeyPatch) -> None:
    routes = Routes("test")

    @routes.message(F.text & ~F.text.startswith("/"), F.chat.type == "private")
    async def concern(message: Message) -> None: ...

    (handler,) = routes.build().message.handlers
    assert all(isinstance(f.callback, Inline) for f in handler.filters or [])

    async def no_threads(*_args: Any, **_kwargs: Any) -> Any:
        raise AssertionError("a filter went to a worker thread")

    monkeypatch.setattr(asyncio, "to_thread", no_threads)
    assert (await handler.check(message("gaji saya dipotong")))[0] is True
    assert (await handler.check(message("/status")))[0] is False
    assert (await handler.check(message("halo", chat_type="group")))[0] is False


async def test_stock_aiogram_would_use_a_thread_for_the_same_filter(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Guards the premise: if aiogram stops doing this, `Inline` can go."""
    from aiogram import Router

    router = Router()

    @router.message(F.text)
    async def any_text(message: Message) -> None: ...

    used: list[object] = []

    async def recording(fn: Any, *args: Any, **kwargs: Any) -> Any:
        used.append(fn)
        return fn(*args, **kwargs)

    monkeypatch.setattr(asyncio, "to_thread", recording)
    (handler,) = router.message.handlers
    assert (await handler.check(message("halo")))[0]
    assert used
