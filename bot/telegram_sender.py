"""The outbox Sender for Telegram: plain text, inline buttons, documents, and error mapping.

Text is always sent as plain text (no parse mode), so nothing a client typed is ever read as
HTML or Markdown. Messages are sent fresh to the chat, never forwarded. Only error codes are
logged, never text or chat ids.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any, ClassVar

from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    ClientDecodeError,
    TelegramAPIError,
    TelegramBadRequest,
    TelegramEntityTooLarge,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.methods import TelegramMethod
from aiogram.methods.base import Response, TelegramType
from aiogram.types import BufferedInputFile, InlineKeyboardButton, InlineKeyboardMarkup

from bot.senders import DeliveryFailed, RetryLater

log = logging.getLogger("sapa.telegram")
Step = Callable[[], Awaitable[None]]

PRODUCTION_API = "https://api.telegram.org"
TEXT_LIMIT = 4096  # UTF-16 code units, as Telegram counts them
CAPTION_LIMIT = 1024
CALLBACK_DATA_LIMIT = 64  # bytes
SHORT_LABEL = 20  # labels up to this long share a row, three to a row
ROW_SIZE = 3


def telegram_bot(token: str, api_base: str | None = None, *, timeout: float = 20.0) -> Bot:
    """A Bot for `api_base` (default the real Bot API), sending plain text only.

    The request timeout stays well below the outbox lease so a hung request cannot let another
    worker claim and resend the same row.
    """
    server = TelegramAPIServer.from_base(api_base or PRODUCTION_API)
    session = KeepingSession(api=server, timeout=timeout)
    return Bot(token, session=session, default=DefaultBotProperties(parse_mode=None))


class KeepingSession(AiohttpSession):
    """aiogram's session, keeping the response models it parses with.

    aiogram parses every answer as `Response[<the method's return type>]`, a pydantic generic
    that pydantic caches only weakly: after each garbage collection the next call built the
    model and its validator again (a few milliseconds of CPU; py-spy, issue 8)."""

    _kept: ClassVar[dict[Any, Any]] = {}

    def check_response(
        self, bot: Bot, method: TelegramMethod[TelegramType], status_code: int, content: str
    ) -> Response[TelegramType]:
        returning = method.__returning__
        if returning not in self._kept:
            self._kept[returning] = Response[returning]  # type: ignore[valid-type]
        return super().check_response(bot, method, status_code, content)


class TelegramSender:
    """Delivers one outbox payload to one Telegram chat."""

    def __init__(self, bot: Bot, *, protect_content: bool = False) -> None:
        self._bot = bot
        self._protect = protect_content
        # Parts of a split payload already delivered, so a retry continues where it stopped
        # instead of repeating them. Keyed by a hash: no text or chat id is kept.
        self._progress: OrderedDict[str, int] = OrderedDict()

    async def send(self, *, address: str, payload: dict[str, Any]) -> None:
        steps = self._plan(address, payload)
        key = _fingerprint(address, payload)
        done = self._progress.get(key, 0)
        try:
            for index, step in enumerate(steps):
                if index >= done:
                    await step()
                    self._remember(key, index + 1)
        except (TelegramAPIError, ClientDecodeError, TimeoutError) as e:
            error = _mapped(e)
            if isinstance(error, DeliveryFailed) and error.permanent:
                self._progress.pop(key, None)
            log.warning("telegram delivery failed: %s", error.code)  # the code only
            raise error from None
        self._progress.pop(key, None)

    def _plan(self, address: str, payload: dict[str, Any]) -> list[Step]:
        """Everything the payload needs, checked before anything is sent."""
        chat_id = _chat_id(address)
        markup = keyboard(payload.get("buttons") or [])
        texts = split_text(str(payload.get("text") or ""))
        document = payload.get("document")
        if document is None:
            if not texts:
                raise DeliveryFailed("telegram_empty_text", permanent=True)
            return [
                self._text_step(chat_id, text, markup if i == len(texts) - 1 else None)
                for i, text in enumerate(texts)
            ]
        content = _document_bytes(document)
        caption = str(document.get("caption") or "")
        if utf16_len(caption) > CAPTION_LIMIT:  # too long for a caption: goes as text first
            texts, caption = [*texts, *split_text(caption)], ""
        file = BufferedInputFile(content, filename=str(document.get("filename") or "document"))

        async def send_document() -> None:
            await self._bot.send_document(
                chat_id,
                file,
                caption=caption or None,
                parse_mode=None,
                reply_markup=markup,
                protect_content=self._protect or None,
            )

        return [*(self._text_step(chat_id, t, None) for t in texts), send_document]

    def _text_step(
        self, chat_id: int | str, text: str, markup: InlineKeyboardMarkup | None
    ) -> Step:
        async def send_text() -> None:
            await self._bot.send_message(
                chat_id,
                text,
                parse_mode=None,
                reply_markup=markup,
                protect_content=self._protect or None,
            )

        return send_text

    def _remember(self, key: str, done: int) -> None:
        self._progress[key] = done
        self._progress.move_to_end(key)
        while len(self._progress) > 1024:
            self._progress.popitem(last=False)


def _mapped(error: Exception) -> RetryLater | DeliveryFailed:
    match error:
        case TelegramRetryAfter():
            return RetryLater(error.retry_after, "telegram_429")
        case TelegramForbiddenError():  # blocked by the user, or the chat is gone
            return DeliveryFailed("telegram_forbidden", permanent=True)
        case TelegramBadRequest():
            return DeliveryFailed("telegram_bad_request", permanent=True)
        case TelegramEntityTooLarge():
            return DeliveryFailed("telegram_too_large", permanent=True)
        case TelegramServerError() | TelegramNetworkError() | ClientDecodeError() | TimeoutError():
            return DeliveryFailed("telegram_unavailable")
        case _:  # 401, 404, 409, ...: retried, and dead after the worker's max attempts
            return DeliveryFailed("telegram_api_error")


def keyboard(buttons: list[list[str]]) -> InlineKeyboardMarkup | None:
    """[[label, data], ...] as inline buttons: one a row if any label is long, else three."""
    if not buttons:
        return None
    items = []
    for label, data in buttons:
        if len(data.encode()) > CALLBACK_DATA_LIMIT:
            raise DeliveryFailed("telegram_callback_data_too_long", permanent=True)
        items.append(InlineKeyboardButton(text=label, callback_data=data))
    size = 1 if any(len(b.text) > SHORT_LABEL for b in items) else ROW_SIZE
    rows = [items[i : i + size] for i in range(0, len(items), size)]
    return InlineKeyboardMarkup(inline_keyboard=rows)


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def split_text(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """Pieces of at most `limit` UTF-16 units, cut at a paragraph, line or word where possible."""
    pieces: list[str] = []
    text = text.strip()
    while text:
        if utf16_len(text) <= limit:
            pieces.append(text)
            break
        end = limit
        while utf16_len(text[:end]) > limit:  # astral characters count twice
            end -= 1
        head = text[:end]
        for sep in ("\n\n", "\n", " "):
            at = head.rfind(sep)
            if at > end // 2:
                cut = at
                break
        else:
            cut = end
        pieces.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    return pieces


def _chat_id(address: str) -> int | str:
    try:
        return int(address)
    except ValueError:
        if address.startswith("@"):
            return address
        raise DeliveryFailed("telegram_bad_address", permanent=True) from None


def _document_bytes(document: dict[str, Any]) -> bytes:
    try:
        return base64.b64decode(document["content_b64"], validate=True)
    except (KeyError, TypeError, binascii.Error):
        raise DeliveryFailed("telegram_bad_document", permanent=True) from None


def _fingerprint(address: str, payload: dict[str, Any]) -> str:
    blob = json.dumps([address, payload], sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()
