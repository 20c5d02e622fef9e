"""Middlewares shared by both Telegram bots: replay protection and riding out a database restart."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject, Update
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from storage.inbox import InboxStore

log = logging.getLogger("sapa.telegram")
Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]
DB_RETRY_DELAYS = (0.5, 1.0, 2.0, 4.0, 8.0)


class ReplayGuard(BaseMiddleware):
    """Records each update id in the inbox first: a replayed update has no second effect."""

    def __init__(self, inbox: InboxStore, channel: str) -> None:
        self._inbox, self._channel = inbox, channel

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        assert isinstance(event, Update)
        key = {"channel": self._channel, "external_id": str(event.update_id)}
        first = await _with_db_retry(lambda: self._inbox.begin(**key, at=datetime.now(UTC)))
        if not first:
            log.info("%s update replayed; ignored", self._channel)
            return None
        try:
            result = await _with_db_retry(lambda: handler(event, data))
        except Exception:
            # It failed here: Telegram's next delivery is handled again, not refused as a
            # replay (a repeat of a partial effect is the price, as after a crash).
            with contextlib.suppress(Exception):
                await self._inbox.abandon(**key)
            raise
        # Unfinished (a crash above): the update is handled again when Telegram resends it.
        await _with_db_retry(lambda: self._inbox.finish(**key, at=datetime.now(UTC)))
        return result


async def _with_db_retry(call: Callable[[], Awaitable[Any]]) -> Any:
    """A restarting database costs the ASN a few seconds, not their message."""
    for delay in DB_RETRY_DELAYS:
        try:
            return await call()
        except (OperationalError, DBAPIError) as exc:
            # A conflict (two handlers raced to the same row) is retried too, but it is no outage.
            what = "conflict" if isinstance(exc, IntegrityError) else "unavailable"
            log.warning("database %s (%s); retrying in %.1f s", what, type(exc).__name__, delay)
            await asyncio.sleep(delay)
    return await call()


class FloodGuard(BaseMiddleware):
    """More than `limit` messages in `window` seconds: one friendly "no need to hurry" reply.

    Nothing is dropped: every message is still handled and kept.
    """

    def __init__(
        self,
        notify: Callable[[TelegramObject, dict[str, Any]], Awaitable[None]],
        *,
        limit: int = 8,
        window: float = 10.0,
    ) -> None:
        self._notify, self._limit, self._window = notify, limit, window
        self._seen: dict[int, list[float]] = {}
        self._warned: dict[int, float] = {}

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        user = data.get("event_from_user")
        if user is not None:
            now = asyncio.get_running_loop().time()
            recent = [t for t in self._seen.get(user.id, []) if t > now - self._window]
            self._seen[user.id] = [*recent, now]
            if len(recent) >= self._limit and self._warned.get(user.id, -1e9) < now - self._window:
                self._warned[user.id] = now
                await self._notify(event, data)
        return await handler(event, data)
