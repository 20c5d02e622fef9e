"""WhatsApp Cloud API webhooks: the signature check and the parsing of Meta's JSON shapes.

Standard library only, so it is easy to test on every documented payload. Nothing here logs:
a payload holds phone numbers, profile names and message text.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

TEXT, CHOICE, OTHER = "text", "choice", "other"


@dataclass(frozen=True)
class Inbound:
    """One message of an ASN: text, a tapped button or list row, or something we cannot take."""

    message_id: str
    identity: str  # "u:<business-scoped user id>" or "p:<wa_id>": only ever blind-indexed
    address: str  # "to:<wa_id>" or "recipient:<bsuid>": only ever stored sealed
    kind: str
    text: str | None = None
    choice: str | None = None


@dataclass(frozen=True)
class Status:
    """A delivery report for a message we sent (sent, delivered, read, failed)."""

    message_id: str
    status: str
    error_code: int | None = None


Event = Inbound | Status


def signature_ok(body: bytes, header: str | None, app_secret: bytes) -> bool:
    """X-Hub-Signature-256: "sha256=" + HMAC-SHA256 of the raw body with the app secret."""
    if not header or not header.startswith("sha256="):
        return False
    expected = hmac.new(app_secret, body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), header[7:].strip().lower().encode())


def parse(data: Any) -> list[Event]:
    """Every message and status in a POST: several entries and changes may come together."""
    return list(_events(data)) if isinstance(data, dict) else []


def _events(data: dict[str, Any]) -> Iterator[Event]:
    for entry in _dicts(data.get("entry")):
        for change in _dicts(entry.get("changes")):
            value = change.get("value")
            if change.get("field", "messages") != "messages" or not isinstance(value, dict):
                continue
            contacts = list(_dicts(value.get("contacts")))
            for message in _dicts(value.get("messages")):
                found = _inbound(message, contacts)
                if found is not None:
                    yield found
            for status in _dicts(value.get("statuses")):
                reported = _status(status)
                if reported is not None:
                    yield reported


def _dicts(value: Any) -> Iterator[dict[str, Any]]:
    if isinstance(value, list):
        yield from (item for item in value if isinstance(item, dict))


def _contact(message: dict[str, Any], contacts: list[dict[str, Any]]) -> dict[str, Any]:
    sender = message.get("from")
    for contact in contacts:
        if sender and contact.get("wa_id") == sender:
            return contact
    return contacts[0] if len(contacts) == 1 else {}


def _inbound(message: dict[str, Any], contacts: list[dict[str, Any]]) -> Inbound | None:
    message_id = _str(message.get("id"))
    contact = _contact(message, contacts)
    user_id = _str(message.get("from_user_id")) or _str(contact.get("user_id"))
    wa_id = _str(message.get("from")) or _str(contact.get("wa_id"))
    if not message_id or not (user_id or wa_id):
        return None
    identity = f"u:{user_id}" if user_id else f"p:{wa_id}"
    address = f"to:{wa_id}" if wa_id else f"recipient:{user_id}"
    kind, text, choice = _content(message)
    return Inbound(message_id, identity, address, kind, text, choice)


def _content(message: dict[str, Any]) -> tuple[str, str | None, str | None]:
    kind = message.get("type")
    if kind == "text" and isinstance(message.get("text"), dict):
        return TEXT, _str(message["text"].get("body")), None
    if kind == "interactive" and isinstance(message.get("interactive"), dict):
        reply = message["interactive"]
        picked = reply.get(str(reply.get("type")))
        if reply.get("type") in ("button_reply", "list_reply") and isinstance(picked, dict):
            return CHOICE, None, _str(picked.get("id"))
    if kind == "button" and isinstance(message.get("button"), dict):  # a template's quick reply
        return CHOICE, None, _str(message["button"].get("payload"))
    media = message.get(str(kind))  # an image, video or document may carry a caption
    caption = _str(media.get("caption")) if isinstance(media, dict) else None
    return OTHER, caption, None  # not kept; the caption is only screened for crisis words


def _status(status: dict[str, Any]) -> Status | None:
    message_id, state = _str(status.get("id")), _str(status.get("status"))
    if not message_id or state not in ("sent", "delivered", "read", "failed"):
        return None
    codes = [e.get("code") for e in _dicts(status.get("errors"))]
    code = next((c for c in codes if isinstance(c, int)), None)
    return Status(message_id, state, code)


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
