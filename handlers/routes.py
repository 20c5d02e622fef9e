"""Handlers are declared once per module and built into a fresh aiogram Router per dispatcher.

aiogram attaches a Router to one parent only; a factory lets tests and several apps in one
process each build their own.

aiogram runs every synchronous filter in a worker thread (`asyncio.to_thread`), and a magic
filter (`F.text`, `F.data.startswith(...)`) is synchronous: several thread hand-offs for each
update, for what is an attribute test (py-spy, issue 8). Routers built here resolve magic
filters inline instead.

A pressed button is acknowledged (Telegram stops its spinner) by the answerCallbackQuery
that its handler returns, not by a call of its own: aiogram's polling sends a returned method
right after the handler, and a webhook puts it in its HTTP answer, which Telegram runs
(bot/telegram.py). That was a Bot API round trip in the middle of handling half of the ASN's
updates (8% of the app's CPU in the pipeline profile).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from aiogram import Router
from aiogram.filters import Filter
from aiogram.methods import AnswerCallbackQuery
from aiogram.types import CallbackQuery
from aiogram.utils.magic_filter import MagicFilter

Fn = Callable[..., Any]


class Routes:
    def __init__(self, name: str) -> None:
        self.name = name
        self._entries: list[tuple[str, Fn, tuple[Any, ...], dict[str, Any]]] = []

    def message(self, *filters: Any, **kwargs: Any) -> Callable[[Fn], Fn]:
        return self._add("message", filters, kwargs)

    def callback_query(self, *filters: Any, **kwargs: Any) -> Callable[[Fn], Fn]:
        return self._add("callback_query", filters, kwargs)

    def edited_message(self, *filters: Any, **kwargs: Any) -> Callable[[Fn], Fn]:
        return self._add("edited_message", filters, kwargs)

    def _add(
        self, kind: str, filters: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Callable[[Fn], Fn]:
        def register(fn: Fn) -> Fn:
            self._entries.append((kind, fn, filters, kwargs))
            return fn

        return register

    def build(self) -> Router:
        router = Router(name=self.name)
        for kind, fn, filters, kwargs in self._entries:
            inline = (Inline(f) if isinstance(f, MagicFilter) else f for f in filters)
            handler = acknowledged(fn) if kind == "callback_query" else fn
            getattr(router, kind).register(handler, *inline, **kwargs)
        return router


def acknowledged(fn: Fn) -> Fn:
    """The handler, then the button press's answer returned for aiogram to send."""

    @functools.wraps(fn)  # aiogram reads the wrapped handler's parameters to pass them
    async def handle(query: CallbackQuery, *args: Any, **kwargs: Any) -> AnswerCallbackQuery:
        await fn(query, *args, **kwargs)
        return query.answer()

    return handle


class Inline(Filter):
    """A magic filter, resolved in the event loop instead of a worker thread."""

    def __init__(self, magic: MagicFilter) -> None:
        self.magic = magic

    async def __call__(self, event: Any) -> Any:
        return self.magic.resolve(event)
