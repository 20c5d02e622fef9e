"""Handlers are declared once per module and built into a fresh aiogram Router per dispatcher.

aiogram attaches a Router to one parent only; a factory lets tests and several apps in one
process each build their own.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiogram import Router

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
            getattr(router, kind).register(fn, *filters, **kwargs)
        return router
