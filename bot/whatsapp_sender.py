"""The outbox Sender for WhatsApp: a thin httpx client of the Cloud API's /messages endpoint.

Text, reply buttons (at most 3, titles up to 20 characters), a list for anything longer, a
document (uploaded to /media first), and the approved template that invites the ASN back when
a reply is due outside the 24-hour customer-service window; the reply itself is held until they
write. Only error codes are logged, never text, names or numbers.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import logging
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx

from bot.senders import DeliveryFailed, RetryLater
from bot.telegram_sender import split_text
from storage.whatsapp import HELD, WhatsAppWindow, message_key

log = logging.getLogger("sapa.whatsapp")
TEXT_LIMIT, BODY_LIMIT, CAPTION_LIMIT = 4096, 1024, 1024
BUTTON_TITLE, MAX_BUTTONS, ROW_TITLE, MAX_ROWS = 20, 3, 24, 10
WINDOW = timedelta(hours=24) - timedelta(minutes=5)  # a margin for clocks and queues
RATE_LIMITED = frozenset({4, 80007, 130429, 131048, 131056})
OUTSIDE_WINDOW, UNDELIVERABLE = 131047, 131026
LIST_BUTTON = "Pilih · Choose"


@dataclass
class GraphConfig:
    api_base: str
    version: str
    phone_number_id: str
    token: str
    template: str
    template_language: str


class GraphError(Exception):
    def __init__(self, status: int, code: int | None) -> None:
        super().__init__(f"graph {status} {code}")
        self.status, self.code = status, code


class WhatsAppSender:
    """Delivers one outbox payload to one ASN; returns the sent message's id, blind-indexed."""

    def __init__(
        self,
        config: GraphConfig,
        *,
        window: WhatsAppWindow,
        index_key: bytes,
        now: Callable[[], datetime],
        timeout: float = 20.0,
    ) -> None:
        self._config, self._window, self._key, self._now = config, window, index_key, now
        version = config.version if config.version.startswith("v") else f"v{config.version}"
        self._http = httpx.AsyncClient(
            base_url=f"{config.api_base.rstrip('/')}/{version}/{config.phone_number_id}",
            headers={"Authorization": f"Bearer {config.token}"},
            timeout=timeout,
        )
        # Parts of a split payload already delivered, keyed by a hash (no text or number kept).
        self._progress: OrderedDict[str, int] = OrderedDict()
        self.rate_limit_seconds = 30.0
        self.hold_seconds = 3 * 24 * 3600.0  # invited again after this if still silent

    async def aclose(self) -> None:
        await self._http.aclose()

    async def send(self, *, address: str, payload: dict[str, Any]) -> str | None:
        to = recipient(address)
        if not await self._window_open(address):
            await self._hold(address, to)
        key = _fingerprint(address, payload)
        done, last = self._progress.get(key, 0), None
        try:
            for index, message in enumerate(await self._plan(payload)):
                if index >= done:  # a retry continues after the parts already delivered
                    last = await self._post("/messages", {**to, **message})
                    self._remember(key, index + 1)
        except GraphError as error:
            if error.code == OUTSIDE_WINDOW:
                await self._hold(address, to)
            raise self._mapped(error) from None
        self._progress.pop(key, None)
        return message_key(self._key, last) if last else None

    def _remember(self, key: str, done: int) -> None:
        self._progress[key] = done
        self._progress.move_to_end(key)
        while len(self._progress) > 1024:
            self._progress.popitem(last=False)

    async def _window_open(self, address: str) -> bool:
        last = (await self._window.get(address)).last_inbound_at
        return last is None or self._now() - last < WINDOW

    async def _hold(self, address: str, to: dict[str, str]) -> None:
        """Invite the ASN with the template (once until they write) and keep the reply."""
        window = await self._window.get(address)
        last = window.last_inbound_at
        if window.invited_at is None or (last is not None and window.invited_at < last):
            try:
                await self._post("/messages", {**to, **self._template()})
            except GraphError as error:
                raise self._mapped(error, prefix="wa_template") from None
            await self._window.invited(address, at=self._now())
        raise RetryLater(self.hold_seconds, HELD)

    def _template(self) -> dict[str, Any]:
        language = {"code": self._config.template_language}
        return {
            "type": "template",
            "template": {"name": self._config.template, "language": language},
        }

    def _mapped(self, error: GraphError, prefix: str = "wa") -> Exception:
        code = error.code
        log.warning("whatsapp delivery failed: http %s code %s", error.status, code)
        if code in RATE_LIMITED:
            return RetryLater(self.rate_limit_seconds, f"{prefix}_{code}")
        if code == UNDELIVERABLE:
            return DeliveryFailed(f"{prefix}_{code}", permanent=True)
        if error.status >= 500 or error.status == 0 or code in (None, 1, 2, 190):
            return DeliveryFailed(f"{prefix}_unavailable")
        return DeliveryFailed(f"{prefix}_{code}", permanent=True)

    async def _post(self, path: str, body: dict[str, Any], **files: Any) -> str:
        try:
            if files:
                response = await self._http.post(path, data=body, files=files)
            else:
                response = await self._http.post(
                    path, json={"messaging_product": "whatsapp", **body}
                )
        except httpx.HTTPError:
            raise GraphError(0, None) from None
        data = _json(response)
        if response.status_code >= 400:
            error = data.get("error") if isinstance(data.get("error"), dict) else {}
            code = error.get("code")
            raise GraphError(response.status_code, code if isinstance(code, int) else None)
        found = data.get("id") or (data.get("messages") or [{}])[0].get("id")
        if not isinstance(found, str):
            raise GraphError(502, None)
        return found

    async def _plan(self, payload: dict[str, Any]) -> list[dict[str, Any]]:
        """Every message the payload needs, in order (a document is uploaded first)."""
        text = str(payload.get("text") or "")
        buttons = [(str(label), str(data)) for label, data in payload.get("buttons") or []]
        document = payload.get("document")
        if document is not None:
            return [
                *(_text(t) for t in split_text(text, TEXT_LIMIT)),
                await self._document(document),
            ]
        if not buttons:
            pieces = split_text(text, TEXT_LIMIT)
            if not pieces:
                raise DeliveryFailed("wa_empty_text", permanent=True)
            return [_text(p) for p in pieces]
        pieces = split_text(text, BODY_LIMIT) or [LIST_BUTTON]
        return [*(_text(p) for p in pieces[:-1]), interactive(pieces[-1], buttons)]

    async def _document(self, document: dict[str, Any]) -> dict[str, Any]:
        try:
            content = base64.b64decode(document["content_b64"], validate=True)
        except (KeyError, TypeError, binascii.Error):
            raise DeliveryFailed("wa_bad_document", permanent=True) from None
        name = str(document.get("filename") or "sapa-asn-data.json")
        upload = {"messaging_product": "whatsapp", "type": "text/plain"}
        try:
            media = await self._post("/media", upload, file=(name, content, "text/plain"))
        except GraphError as error:
            raise self._mapped(error) from None
        caption = str(document.get("caption") or "")[:CAPTION_LIMIT]
        return {"type": "document", "document": {"id": media, "filename": name, "caption": caption}}


def recipient(address: str) -> dict[str, str]:
    kind, _, value = address.partition(":")
    if not value or kind not in ("to", "recipient"):
        raise DeliveryFailed("wa_bad_address", permanent=True)
    return {"recipient_type": "individual", kind: value}


def _text(body: str) -> dict[str, Any]:
    return {"type": "text", "text": {"body": body, "preview_url": False}}


def interactive(body: str, buttons: list[tuple[str, str]]) -> dict[str, Any]:
    """Reply buttons when they fit (3, short titles), else a list (10 rows of 24 characters)."""
    if len(buttons) <= MAX_BUTTONS and all(len(label) <= BUTTON_TITLE for label, _ in buttons):
        replies = [{"type": "reply", "reply": {"id": d, "title": t}} for t, d in buttons]
        action: dict[str, Any] = {"buttons": replies}
        return {
            "type": "interactive",
            "interactive": {"type": "button", "body": {"text": body}, "action": action},
        }
    rows = [_row(label, data) for label, data in buttons[:MAX_ROWS]]
    action = {"button": LIST_BUTTON, "sections": [{"title": "Sapa ASN", "rows": rows}]}
    return {
        "type": "interactive",
        "interactive": {"type": "list", "body": {"text": body}, "action": action},
    }


def _row(label: str, data: str) -> dict[str, str]:
    if len(label) <= ROW_TITLE:
        return {"id": data, "title": label}
    return {"id": data, "title": label[: ROW_TITLE - 1] + "…", "description": label[:72]}


def _fingerprint(address: str, payload: dict[str, Any]) -> str:
    blob = json.dumps([address, payload], sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}
