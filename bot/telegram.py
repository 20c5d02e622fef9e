"""The two Telegram bots in the `sapa serve` process: dispatchers, polling or webhooks, senders."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import logging
import re
import time
from dataclasses import dataclass, field
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.fsm.storage.base import BaseEventIsolation, BaseStorage
from aiogram.fsm.storage.memory import SimpleEventIsolation
from aiogram.methods import TelegramMethod
from aiogram.types import Update
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from bot.fsm_storage import BlindKeyBuilder, SqlFsmStorage
from bot.runtime import Runtime
from bot.settings import Settings
from bot.shared_limits import redis_client
from bot.telegram_sender import TelegramSender, telegram_bot
from handlers import telegram_client, telegram_client_rights, telegram_staff
from handlers.telegram_common import FloodGuard, ReplayGuard
from storage.bot_state import StateStore
from storage.db import is_sqlite
from storage.inbox import InboxStore

log = logging.getLogger("sapa.telegram")
WEBHOOK_PATH = "/telegram/{kind}/webhook"
_WEBHOOK = re.compile(WEBHOOK_PATH.format(kind="(client|staff)"))
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 (a header name)
FSM_CACHE_SIZE = 10_000  # conversations whose state is kept in memory (a few MB at most)


@dataclass
class TelegramBot:
    kind: str  # "client" (the ASN bot) or "staff"
    channel: str  # the outbox channel its messages go out on
    bot: Bot
    dispatcher: Dispatcher
    secret: str
    tasks: list[asyncio.Task[None]] = field(default_factory=list)


def fsm_storage(settings: Settings, rt: Runtime) -> BaseStorage:
    index_key = rt.svc.keyring.blind_index_key
    if settings.redis_url:
        from aiogram.fsm.storage.redis import RedisStorage

        client = redis_client(settings.redis_url)
        return RedisStorage(redis=client, key_builder=BlindKeyBuilder(index_key))
    # SQLite serves one worker: this process alone writes the state and may remember it.
    cache = FSM_CACHE_SIZE if is_sqlite(settings.database_url) else 0
    return SqlFsmStorage(StateStore(rt.svc.sessions, index_key), cache_size=cache)


def event_isolation(settings: Settings, rt: Runtime) -> BaseEventIsolation:
    """One chat's updates are handled in order: in this process, or across workers (Redis)."""
    if not settings.redis_url:
        return SimpleEventIsolation()
    from aiogram.fsm.storage.redis import RedisEventIsolation

    keys = BlindKeyBuilder(rt.svc.keyring.blind_index_key, prefix="sapa:chat")
    return RedisEventIsolation(redis=redis_client(settings.redis_url), key_builder=keys)


def webhook_secret(rt: Runtime, kind: str) -> str:
    """The same on every worker (derived from the key ring), unguessable without it."""
    message = f"telegram-webhook:{kind}".encode()
    return hmac.new(rt.svc.keyring.blind_index_key, message, hashlib.sha256).hexdigest()[:48]


def build_bots(settings: Settings, rt: Runtime, storage: BaseStorage) -> list[TelegramBot]:
    bots, isolation = [], event_isolation(settings, rt)
    for kind, channel, token, routes in (
        ("client", "telegram", settings.telegram_client_token,
         (telegram_client.router, telegram_client_rights.router)),
        ("staff", "staff", settings.telegram_staff_token, (telegram_staff.router,)),
    ):  # fmt: skip
        if token is None:
            log.info("SAPA_TELEGRAM_%s_TOKEN is not set: the %s bot is off", kind.upper(), kind)
            continue
        # One chat's updates are handled in order; different chats run concurrently.
        dispatcher = Dispatcher(storage=storage, events_isolation=isolation, rt=rt)
        dispatcher.update.outer_middleware(ReplayGuard(InboxStore(rt.svc.sessions), f"tg-{kind}"))
        if kind == "staff":
            dispatcher.message.middleware(telegram_staff.StaffLookup())
            dispatcher.callback_query.middleware(telegram_staff.StaffLookup())
        else:
            dispatcher.message.middleware(FloodGuard(telegram_client.slow_down))
        dispatcher.include_routers(*(r.build() for r in routes))
        bot = telegram_bot(token.get_secret_value(), settings.telegram_api_base)
        bots.append(TelegramBot(kind, channel, bot, dispatcher, webhook_secret(rt, kind)))
    return bots


def senders_for(bots: list[TelegramBot]) -> dict[str, TelegramSender]:
    """Staff messages are protected: no forwarding or saving of case content from the staff bot."""
    return {b.channel: TelegramSender(b.bot, protect_content=b.kind == "staff") for b in bots}


async def start(bots: list[TelegramBot], settings: Settings) -> None:
    for tg in bots:
        if settings.public_url:
            url = settings.public_url.rstrip("/") + WEBHOOK_PATH.format(kind=tg.kind)
            await tg.bot.set_webhook(url, secret_token=tg.secret, drop_pending_updates=False)
            log.info("%s bot: webhook registered", tg.kind)
            continue
        await tg.bot.delete_webhook(drop_pending_updates=False)
        tg.tasks.append(
            asyncio.create_task(
                tg.dispatcher.start_polling(tg.bot, handle_signals=False, close_bot_session=False),
                name=f"telegram-{tg.kind}",
            )
        )
        log.info("%s bot: long polling", tg.kind)


async def stop(bots: list[TelegramBot]) -> None:
    for tg in bots:
        if tg.tasks:
            with contextlib.suppress(RuntimeError):  # polling had not started yet
                await tg.dispatcher.stop_polling()
            for task in tg.tasks:
                task.cancel()
            await asyncio.gather(*tg.tasks, return_exceptions=True)
        await tg.dispatcher.storage.close()
        await tg.bot.session.close()
    for redis in {id(r): r for tg in bots if (r := _isolation_redis(tg))}.values():
        await redis.aclose()


def _isolation_redis(tg: TelegramBot) -> Any:
    return getattr(tg.dispatcher.fsm.events_isolation, "redis", None)


async def feed_webhook(tg: TelegramBot, body: bytes) -> dict[str, Any]:
    """Handle one update; the webhook's answer carries the method the handler returned (a
    button press's answerCallbackQuery), which Telegram then runs: no call of our own."""
    update = Update.model_validate_json(body, context={"bot": tg.bot})
    result = await tg.dispatcher.feed_update(tg.bot, update)
    if not isinstance(result, TelegramMethod):
        return {"ok": True}
    files: dict[str, Any] = {}
    values = result.model_dump(warnings=False)
    params = tg.bot.session.prepare_value(values, bot=tg.bot, files=files, _dumps_json=False)
    if files:  # an upload cannot ride in the answer: sent as a call of its own
        await tg.bot(result)
        return {"ok": True}
    return {"method": result.__api_method__, **params}


class Webhooks:
    """`POST /telegram/{kind}/webhook`, answered before FastAPI's router and the middlewares
    of the other surfaces (their security headers, the request timing), which took a tenth
    of the app's CPU for each update (py-spy, issue 8). The rest goes on to the app.

    `owner` is the FastAPI app: its state holds the bots (set at start-up) and the metrics.
    """

    def __init__(self, app: ASGIApp, *, owner: Any, enabled: bool) -> None:
        self.app, self.owner, self.enabled = app, owner, enabled

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        found = _WEBHOOK.fullmatch(scope.get("path", "")) if scope["type"] == "http" else None
        if found is None or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        try:
            answer = await self._answer(found[1], Request(scope, receive))
            await answer(scope, receive, send)
        finally:
            latency = self.owner.state.metrics.latency  # the "telegram" surface's histogram
            latency.labels("telegram").observe(time.perf_counter() - started)

    async def _answer(self, kind: str, request: Request) -> JSONResponse:
        bot = getattr(self.owner.state, "bots", {}).get(kind) if self.enabled else None
        if bot is None:
            return JSONResponse({"detail": "not found"}, status_code=404)
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), bot.secret.encode()):
            return JSONResponse({"detail": "unauthorized"}, status_code=401)
        return JSONResponse(await feed_webhook(bot, await request.body()))
