"""A local fake of the WhatsApp Cloud API (Graph API): records every send, fails on demand.

Serves POST /{version}/{phone_number_id}/messages and /media like Meta does, checks the bearer
token, answers message ids shaped like Meta's (`wamid.` + base64 naming the recipient), and can
be told to answer the next sends with a Graph error (131047, 130429, 131056, 131026, 500, ...).
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import time
from typing import Any

from aiohttp import web

TITLES = {
    131047: "Re-engagement message",
    130429: "Rate limit hit",
    131056: "(Business Account, Consumer Account) pair rate limit hit",
    131026: "Message Undeliverable",
    132001: "Template name does not exist in the translation",
    500: "Internal error",
}


TOKEN = "wa-test-token"
PHONE_NUMBER_ID = "10987654321"


class FakeGraphApi:
    def __init__(self, *, token: str = TOKEN, phone_number_id: str = PHONE_NUMBER_ID) -> None:
        self.token, self.phone_number_id = token, phone_number_id
        self.calls: list[dict[str, Any]] = []
        self.base_url = ""
        self._ids = itertools.count(1)
        self._failures: list[dict[str, Any]] = []
        self._changed = asyncio.Event()
        self._runner: web.AppRunner | None = None

    async def __aenter__(self) -> FakeGraphApi:
        app = web.Application(client_max_size=16 * 1024 * 1024)
        app.router.add_post("/{version}/{phone}/{method}", self._handle)
        self._runner = web.AppRunner(app, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.base_url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    # -- test side ---------------------------------------------------------------------

    def fail_next(
        self, code: int, *, times: int = 1, kind: str | None = None, skip: int = 0
    ) -> None:
        """After `skip` good sends (of type `kind`, or any), the next `times` get this error."""
        self._failures.append({"code": code, "times": times, "kind": kind, "skip": skip})

    def sent(self, to: str | None = None, *, kind: str | None = None) -> list[dict[str, Any]]:
        return [
            c
            for c in self.calls
            if c["status"] == 200
            and c["method"] == "messages"
            and (to is None or recipient_of(c["body"]) == to)
            and (kind is None or c["body"].get("type") == kind)
        ]

    async def wait_for_sent(
        self,
        to: str | None = None,
        *,
        contains: str | None = None,
        kind: str | None = None,
        count: int = 1,
        timeout: float = 15.0,  # noqa: ASYNC109
    ) -> list[dict[str, Any]]:
        def matching() -> list[dict[str, Any]]:
            return [
                c
                for c in self.sent(to, kind=kind)
                if contains is None or contains in text_of(c["body"])
            ]

        try:
            async with asyncio.timeout(timeout):
                while True:
                    self._changed.clear()
                    if len(found := matching()) >= count:
                        break
                    await self._changed.wait()
        except TimeoutError:
            shown = [(c["status"], text_of(c["body"])[:120]) for c in self.calls]
            raise AssertionError(
                f"expected {count} send(s) to {to} containing {contains!r}; calls: {shown}"
            ) from None
        return found

    # -- HTTP --------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        call: dict[str, Any] = {"method": method, "at": time.monotonic(), "path": request.path}
        if method == "media":
            form = await request.post()
            upload = form.get("file")
            content = upload.file.read() if isinstance(upload, web.FileField) else b""
            call["body"] = {"type": str(form.get("type")), "content": content}
        else:
            call["body"] = await request.json()
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return self._answer(call, 401, _error(190, "Invalid OAuth access token"))
        if request.match_info["phone"] != self.phone_number_id or method not in (
            "messages",
            "media",
        ):
            return self._answer(call, 404, _error(100, "Unsupported post request"))
        failure = self._take_failure(call["body"].get("type"))
        if failure is not None:
            status = failure if 500 <= failure < 600 else 400
            return self._answer(call, status, _error(failure, TITLES.get(failure, "Error")))
        if method == "media":
            return self._answer(call, 200, {"id": f"media-{next(self._ids)}"})
        to = recipient_of(call["body"])
        wamid = "wamid." + base64.b64encode(f"{to}:{next(self._ids)}".encode()).decode()
        answer = {
            "messaging_product": "whatsapp",
            "contacts": [{"input": to, "wa_id": to}],
            "messages": [{"id": wamid}],
        }
        call["wamid"] = wamid
        return self._answer(call, 200, answer)

    def _answer(self, call: dict[str, Any], status: int, body: dict[str, Any]) -> web.Response:
        call["status"] = status
        self.calls.append(call)
        self._changed.set()
        return web.json_response(body, status=status)

    def _take_failure(self, kind: str | None) -> int | None:
        for failure in self._failures:
            if failure["kind"] in (None, kind):
                if failure["skip"] > 0:
                    failure["skip"] -= 1
                    return None
                failure["times"] -= 1
                if failure["times"] <= 0:
                    self._failures.remove(failure)
                return int(failure["code"])
        return None


def _error(code: int, title: str) -> dict[str, Any]:
    return {
        "error": {
            "message": f"({code}) {title}",
            "type": "OAuthException",
            "code": code,
            "error_data": {"messaging_product": "whatsapp", "details": title},
            "fbtrace_id": "AbCdEf123",
        }
    }


def recipient_of(body: dict[str, Any]) -> str | None:
    found = body.get("to") or body.get("recipient")
    return str(found) if found is not None else None


def text_of(body: dict[str, Any]) -> str:
    """What the ASN reads: a text body, an interactive body with its choices, a caption."""
    kind = body.get("type")
    if kind == "text":
        return str(body["text"]["body"])
    if kind == "interactive":
        inter = body["interactive"]
        return str(inter["body"]["text"]) + "\n" + " | ".join(choices(body))
    if kind == "document":
        return str(body["document"].get("caption", ""))
    if kind == "template":
        return f"[template {body['template']['name']}]"
    return ""


def choices(body: dict[str, Any]) -> list[str]:
    """The ids behind an interactive message's buttons or list rows."""
    inter = body.get("interactive") or {}
    action = inter.get("action") or {}
    if inter.get("type") == "button":
        return [b["reply"]["id"] for b in action.get("buttons", [])]
    return [r["id"] for s in action.get("sections", []) for r in s.get("rows", [])]
