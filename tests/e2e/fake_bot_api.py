"""A local fake Telegram Bot API server, for driving the real aiogram client over HTTP.

Serves `/bot{token}/{method}` for any number of bots (keyed by token), accepts JSON,
form-urlencoded and multipart bodies, long-polls `getUpdates`, records every call, and can be
told to fail the next calls of a method the way Telegram does (429 with retry_after, 403, ...).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import random
import time
import zlib
from typing import Any

from aiohttp import web

_ERRORS = {
    400: "Bad Request: chat not found",
    403: "Forbidden: bot was blocked by the user",
    404: "Not Found",
    500: "Internal Server Error",
}
# Form values are JSON-decoded (numbers, booleans, markup) except these, which stay strings.
_STRING_FIELDS = frozenset(
    {"text", "caption", "url", "secret_token", "callback_query_id", "parse_mode", "data"}
)
_SENDS = ("sendMessage", "sendDocument")
_METHODS = (
    *("getMe", "getUpdates", "sendMessage", "sendDocument", "editMessageText"),
    *("editMessageReplyMarkup", "deleteMessage", "deleteWebhook", "setWebhook", "getWebhookInfo"),
)
_JUST_TRUE = ("answerCallbackQuery", "setMyCommands", "close", "logOut")


class _Refused(Exception):
    """Answered as a Telegram error: (status, description)."""


class FakeBotApi:
    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []
        self.base_url = ""
        self._updates: dict[str, list[dict[str, Any]]] = {}
        self._messages: dict[tuple[Any, ...], dict[str, Any]] = {}
        self._message_ids: dict[tuple[str, int], itertools.count[int]] = {}
        self._update_ids = itertools.count(1000)
        self._callback_ids = itertools.count(1)
        self._failures: list[dict[str, Any]] = []
        self._chaos: tuple[float, random.Random, int] | None = None
        self._webhooks: dict[str, dict[str, Any]] = {}
        self._changed = asyncio.Event()
        self._closing = False
        self._runner: web.AppRunner | None = None
        self._pollers: dict[str, int] = {}  # token -> generation of the current getUpdates
        self._methods = {name.lower(): (name, getattr(self, f"_m_{name}")) for name in _METHODS}
        self._methods.update({name.lower(): (name, self._just_true) for name in _JUST_TRUE})

    # -- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        self._closing = False
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        self._runner = web.AppRunner(app, shutdown_timeout=1.0, handler_cancellation=True)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.base_url = f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        self._closing = True
        self._notify()  # long polls return at once
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeBotApi:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # -- test-side API ---------------------------------------------------------------------

    def push_update(self, token: str, update: dict[str, Any]) -> int:
        update = dict(update)
        update.setdefault("update_id", next(self._update_ids))
        self._updates.setdefault(token, []).append(update)
        self._notify()
        return int(update["update_id"])

    def push_message(
        self,
        token: str,
        *,
        user_id: int,
        text: str | None = None,
        chat_id: int | None = None,
        first_name: str = "Ani",
        username: str | None = None,
        extra: dict[str, Any] | None = None,
    ) -> int:
        user = _drop_none(
            {"id": user_id, "is_bot": False, "first_name": first_name, "username": username}
        )
        chat_id = user_id if chat_id is None else chat_id
        message = self._new_message(token, chat_id, sender=user, chat_extra=user)
        if text is not None:
            message["text"] = text
            if text.startswith("/"):
                command = text.split()[0]
                message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
        message.update(extra or {})
        return self.push_update(token, {"message": message})

    def push_callback(
        self,
        token: str,
        *,
        user_id: int,
        data: str,
        message_id: int | None = None,
        chat_id: int | None = None,
    ) -> int:
        chat_id = user_id if chat_id is None else chat_id
        if message_id is None:  # the bot's latest message in that chat, as a user would tap
            mine = [m for (t, c, _), m in self._messages.items() if (t, c) == (token, chat_id)]
            message_id = mine[-1]["message_id"] if mine else 1
        message = self._messages.get((token, chat_id, message_id)) or {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": _chat(chat_id),
            "from": _bot_user(token),
        }
        query = {
            "id": str(next(self._callback_ids)),
            "from": {"id": user_id, "is_bot": False, "first_name": "Ani"},
            "chat_instance": f"ci{chat_id}",
            "data": data,
            "message": message,
        }
        return self.push_update(token, {"callback_query": query})

    def sent(
        self, token: str | None = None, *, chat_id: int | None = None, method: str | None = None
    ) -> list[dict[str, Any]]:
        """Successful outgoing calls (everything but getUpdates/getMe/getWebhookInfo)."""
        return [
            c
            for c in self.calls
            if c["status"] == 200
            and c["method"] not in ("getUpdates", "getMe", "getWebhookInfo")
            and (token is None or c["token"] == token)
            and (method is None or c["method"] == method)
            and (chat_id is None or c["params"].get("chat_id") == chat_id)
        ]

    async def wait_for_sent(
        self,
        token: str | None,
        *,
        chat_id: int | None = None,
        count: int = 1,
        contains: str | None = None,
        timeout: float = 15.0,  # noqa: ASYNC109
    ) -> list[dict[str, Any]]:
        def matching() -> list[dict[str, Any]]:
            return [
                c
                for c in self.sent(token, chat_id=chat_id)
                if c["method"] in _SENDS
                and (contains is None or contains in _shown_text(c["params"]))
            ]

        try:
            async with asyncio.timeout(timeout):
                while len(found := matching()) < count:
                    await self._changed.wait()
        except TimeoutError:
            shown = [(c["method"], _shown_text(c["params"])[:200]) for c in self.sent(token)]
            raise AssertionError(
                f"expected {count} send(s) (chat_id={chat_id}, contains={contains!r}) "
                f"within {timeout}s; sent: {shown}"
            ) from None
        return found

    def fail_next(
        self,
        method: str,
        *,
        status: int = 429,
        retry_after: int | None = 1,
        times: int = 1,
        description: str | None = None,
        token: str | None = None,
    ) -> None:
        if description is None:
            description = (
                f"Too Many Requests: retry after {retry_after}"
                if status == 429
                else _ERRORS.get(status, "Error")
            )
        body = _error(status, description)
        if status == 429 and retry_after is not None:
            body["parameters"] = {"retry_after": retry_after}
        self._failures.append(
            {
                "method": method.lower(),
                "token": token,
                "times": times,
                "status": status,
                "body": body,
            }
        )

    def fail_randomly(self, rate: float, *, seed: int = 8, retry_after: int = 1) -> None:
        """From now on a share `rate` of sends fails: half 429 with retry_after, half 500/502.

        `rate=0` stops it. Each refused call is recorded with its status, like any other call.
        """
        self._chaos = (rate, random.Random(seed), retry_after) if rate > 0 else None

    def take_updates(self, token: str) -> list[dict[str, Any]]:
        """Remove and return the queued updates, for a test that delivers them by webhook."""
        return self._updates.pop(token, [])

    def webhook(self, token: str) -> dict[str, Any] | None:
        return self._webhooks.get(token)

    # -- HTTP ------------------------------------------------------------------------------

    async def webhook_answered(self, token: str, body: bytes) -> None:
        """What Telegram does with a webhook's HTTP answer: a method named in it is run as if
        the bot had called it (recorded with `"via": "webhook"`); its result goes nowhere."""
        params = json.loads(body) if body else {}
        if isinstance(params, dict) and isinstance(params.get("method"), str):
            name, at = params.pop("method"), time.monotonic()
            await self._run(
                {"token": token, "method": name, "params": params, "at": at, "via": "webhook"}
            )

    async def _handle(self, request: web.Request) -> web.Response:
        token, name = request.match_info["token"], request.match_info["method"]
        params = await _read_params(request)
        call = {"token": token, "method": name, "params": params, "at": time.monotonic()}
        status, body = await self._run(call)
        return web.json_response(body, status=status)

    async def _run(self, call: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        token, name, params = call["token"], call["method"], call["params"]
        known = self._methods.get(name.lower())
        if known is None:
            return self._answer(call, 404, _error(404, "Not Found: method not found"))
        call["method"], handler = known
        failure = self._take_failure(token, name) or self._random_failure(call["method"])
        if failure is not None:
            return self._answer(call, failure["status"], failure["body"])
        try:
            result = await handler(token, params)
        except _Refused as refused:
            status, description = refused.args
            return self._answer(call, status, _error(status, description))
        except (KeyError, TypeError, ValueError) as e:  # a missing or malformed parameter
            return self._answer(call, 400, _error(400, f"Bad Request: {e!r}"))
        return self._answer(call, 200, {"ok": True, "result": result})

    def _answer(
        self, call: dict[str, Any], status: int, body: dict[str, Any]
    ) -> tuple[int, dict[str, Any]]:
        call["status"] = status
        self.calls.append(call)
        self._notify()
        return status, body

    def _take_failure(self, token: str, method: str) -> dict[str, Any] | None:
        for failure in self._failures:
            if failure["method"] == method.lower() and failure["token"] in (None, token):
                failure["times"] -= 1
                if failure["times"] <= 0:
                    self._failures.remove(failure)
                return failure
        return None

    def _random_failure(self, method: str) -> dict[str, Any] | None:
        if self._chaos is None or method not in _SENDS:
            return None
        rate, rng, retry_after = self._chaos
        if rng.random() >= rate:
            return None
        if rng.random() < 0.5:
            body = _error(429, f"Too Many Requests: retry after {retry_after}")
            body["parameters"] = {"retry_after": retry_after}
            return {"status": 429, "body": body}
        status = rng.choice((500, 502))
        return {"status": status, "body": _error(status, "Internal Server Error")}

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    def _new_message(
        self,
        token: str,
        chat_id: int,
        *,
        sender: dict[str, Any],
        chat_extra: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        ids = self._message_ids.setdefault((token, chat_id), itertools.count(1))
        return {
            "message_id": next(ids),
            "date": int(time.time()),
            "chat": _chat(chat_id, chat_extra),
            "from": sender,
        }

    def _bot_message(self, token: str, params: dict[str, Any], **fields: Any) -> dict[str, Any]:
        message = self._new_message(token, params["chat_id"], sender=_bot_user(token))
        message.update(_drop_none({**fields, "reply_markup": params.get("reply_markup")}))
        self._messages[(token, params["chat_id"], message["message_id"])] = message
        return message

    def _edit(self, token: str, params: dict[str, Any], **fields: Any) -> dict[str, Any] | bool:
        key = (token, params.get("chat_id"), params.get("message_id"))
        message = self._messages.get(key)
        if message is None:
            return True  # inline messages (or unknown ones) answer True
        message.update(fields)
        message["edit_date"] = int(time.time())
        return message

    # -- methods ---------------------------------------------------------------------------

    async def _just_true(self, token: str, params: dict[str, Any]) -> Any:
        return True

    async def _m_getMe(self, token: str, params: dict[str, Any]) -> Any:
        return {**_bot_user(token), "can_join_groups": True, "supports_inline_queries": False}

    async def _m_getUpdates(self, token: str, params: dict[str, Any]) -> Any:
        queue = self._updates.setdefault(token, [])
        offset = int(params.get("offset") or 0)
        queue[:] = [u for u in queue if u["update_id"] >= offset]  # confirmed ones are gone
        generation = self._pollers[token] = self._pollers.get(token, 0) + 1
        self._notify()  # a poller already waiting for this bot is terminated, as Telegram does
        loop = asyncio.get_running_loop()
        deadline = loop.time() + float(params.get("timeout") or 0)
        while not queue and not self._closing and loop.time() < deadline:
            changed = self._changed
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout_at(deadline):
                    await changed.wait()
            if self._pollers[token] != generation:
                raise _Refused(409, "Conflict: terminated by other getUpdates request")
        return queue[: int(params.get("limit") or 100)]

    async def _m_sendMessage(self, token: str, params: dict[str, Any]) -> Any:
        if not params.get("text"):
            raise _Refused(400, "Bad Request: message text is empty")
        return self._bot_message(token, params, text=params.get("text"))

    async def _m_sendDocument(self, token: str, params: dict[str, Any]) -> Any:
        doc = params.get("document")
        if isinstance(doc, dict):  # an upload
            document = {
                "file_id": f"doc{len(self.calls)}",
                "file_unique_id": f"u{len(self.calls)}",
                "file_name": doc["filename"],
                "file_size": len(doc["content"]),
            }
        else:  # a file_id or URL
            document = {"file_id": str(doc), "file_unique_id": f"u{len(self.calls)}"}
        return self._bot_message(token, params, document=document, caption=params.get("caption"))

    async def _m_editMessageText(self, token: str, params: dict[str, Any]) -> Any:
        fields = {"text": params.get("text"), "reply_markup": params.get("reply_markup")}
        return self._edit(token, params, **_drop_none(fields))

    async def _m_editMessageReplyMarkup(self, token: str, params: dict[str, Any]) -> Any:
        return self._edit(token, params, reply_markup=params.get("reply_markup"))

    async def _m_deleteMessage(self, token: str, params: dict[str, Any]) -> Any:
        self._messages.pop((token, params.get("chat_id"), params.get("message_id")), None)
        return True

    async def _m_setWebhook(self, token: str, params: dict[str, Any]) -> Any:
        self._webhooks[token] = _drop_none(
            {"url": params.get("url"), "secret_token": params.get("secret_token")}
        )
        return True

    async def _m_deleteWebhook(self, token: str, params: dict[str, Any]) -> Any:
        self._webhooks.pop(token, None)
        if params.get("drop_pending_updates"):
            self._updates.pop(token, None)
        return True

    async def _m_getWebhookInfo(self, token: str, params: dict[str, Any]) -> Any:
        url = (self._webhooks.get(token) or {}).get("url", "")
        pending = len(self._updates.get(token, []))
        return {"url": url, "has_custom_certificate": False, "pending_update_count": pending}


async def _read_params(request: web.Request) -> dict[str, Any]:
    if request.content_type == "application/json":
        return dict(await request.json())
    fields: dict[str, Any] = dict(request.query)
    if request.method == "POST":
        fields.update(await request.post())
    files = {k: v for k, v in fields.items() if isinstance(v, web.FileField)}
    params: dict[str, Any] = {}
    for key, value in fields.items():
        if isinstance(value, web.FileField):
            continue
        if isinstance(value, str) and value.startswith("attach://") and value[9:] in files:
            value = _upload(files.pop(value[9:]))
        elif key not in _STRING_FIELDS and isinstance(value, str):
            with contextlib.suppress(ValueError):
                value = json.loads(value)
        params[key] = value
    params.update({key: _upload(upload) for key, upload in files.items()})  # posted by name
    return params


def _error(status: int, description: str) -> dict[str, Any]:
    return {"ok": False, "error_code": status, "description": description}


def _upload(upload: web.FileField) -> dict[str, Any]:
    return {"filename": upload.filename, "content": upload.file.read()}


def _shown_text(params: dict[str, Any]) -> str:
    return str(params.get("text") or params.get("caption") or "")


def _bot_user(token: str) -> dict[str, Any]:
    prefix = token.partition(":")[0]
    bot_id = int(prefix) if prefix.isdigit() else zlib.crc32(token.encode())
    return {
        "id": bot_id,
        "is_bot": True,
        "first_name": f"Fake {bot_id}",
        "username": f"fake{bot_id}_bot",
    }


def _chat(chat_id: int, user: dict[str, Any] | None = None) -> dict[str, Any]:
    if chat_id < 0:
        return {"id": chat_id, "type": "group", "title": f"group {chat_id}"}
    chat = {"id": chat_id, "type": "private", "first_name": "Ani"}
    if user:
        chat.update({k: user[k] for k in ("first_name", "username") if k in user})
    return chat


def _drop_none(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}
