"""Webhook bodies in the shapes Meta documents for the WhatsApp Cloud API (messages field)."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
from typing import Any

WABA_ID = "102290129340398"
PHONE_NUMBER_ID = "10987654321"
_ids = itertools.count(1)


def envelope(*values: dict[str, Any], entries: int = 1) -> dict[str, Any]:
    """values spread over `entries` entries, one change each (Meta may batch both ways)."""
    changes = [{"field": "messages", "value": v} for v in values]
    per = max(1, -(-len(changes) // entries))
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {"id": WABA_ID, "changes": changes[i : i + per]} for i in range(0, len(changes), per)
        ],
    }


def _value(**extra: Any) -> dict[str, Any]:
    return {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550783881", "phone_number_id": PHONE_NUMBER_ID},
        **extra,
    }


def contact(wa_id: str | None, name: str, user_id: str | None = None) -> dict[str, Any]:
    found: dict[str, Any] = {"profile": {"name": name}}
    if wa_id is not None:
        found["wa_id"] = wa_id
    if user_id is not None:
        found["user_id"] = user_id
    return found


def message_value(
    wa_id: str | None,
    content: dict[str, Any],
    *,
    name: str = "Ani",
    user_id: str | None = None,
    message_id: str | None = None,
) -> dict[str, Any]:
    message: dict[str, Any] = {
        "id": message_id or f"wamid.HBgNNjI4MTIzNDU2Nzg5FQIAEhgg{next(_ids):06d}",
        "timestamp": "1767225600",
        **content,
    }
    if wa_id is not None:
        message["from"] = wa_id
    if user_id is not None:
        message["from_user_id"] = user_id
    return _value(contacts=[contact(wa_id, name, user_id)], messages=[message])


def text(body: str) -> dict[str, Any]:
    return {"type": "text", "text": {"body": body}}


def button_reply(reply_id: str, title: str = "Pilihan") -> dict[str, Any]:
    return {
        "type": "interactive",
        "context": {"from": "15550783881", "id": "wamid.gBGGSFcCNEOPAgkO_KJ55r4w_ww"},
        "interactive": {"type": "button_reply", "button_reply": {"id": reply_id, "title": title}},
    }


def list_reply(reply_id: str, title: str = "Pilihan") -> dict[str, Any]:
    return {
        "type": "interactive",
        "context": {"from": "15550783881", "id": "wamid.gBGGSFcCNEOPAgkO_KJ55r4w_ww"},
        "interactive": {
            "type": "list_reply",
            "list_reply": {"id": reply_id, "title": title, "description": "Keterangan"},
        },
    }


def image() -> dict[str, Any]:
    return {
        "type": "image",
        "image": {
            "caption": "foto",
            "mime_type": "image/jpeg",
            "sha256": "bGlvbnM=",
            "id": "1003383421387256",
        },
    }


MEDIA_KINDS: dict[str, dict[str, Any]] = {
    "image": image(),
    "audio": {"type": "audio", "audio": {"mime_type": "audio/ogg; codecs=opus", "id": "1"}},
    "video": {"type": "video", "video": {"mime_type": "video/mp4", "id": "2"}},
    "document": {"type": "document", "document": {"filename": "a.pdf", "id": "3"}},
    "sticker": {"type": "sticker", "sticker": {"mime_type": "image/webp", "id": "4"}},
    "location": {"type": "location", "location": {"latitude": -7.7, "longitude": 110.0}},
    "contacts": {"type": "contacts", "contacts": [{"name": {"formatted_name": "Budi"}}]},
    "reaction": {"type": "reaction", "reaction": {"message_id": "wamid.x", "emoji": "👍"}},
    "unsupported": {
        "type": "unsupported",
        "errors": [{"code": 131051, "title": "Message type unknown"}],
    },
}


def status_value(
    message_id: str, status: str, *, recipient: str, error_code: int | None = None
) -> dict[str, Any]:
    report: dict[str, Any] = {
        "id": message_id,
        "status": status,
        "timestamp": "1767225660",
        "recipient_id": recipient,
    }
    if status != "failed":
        report["conversation"] = {"id": "CONVERSATION_ID", "origin": {"type": "service"}}
        report["pricing"] = {"billable": True, "pricing_model": "PMP", "category": "service"}
    if error_code is not None:
        report["errors"] = [
            {
                "code": error_code,
                "title": "Message failed",
                "message": "Message failed",
                "error_data": {"details": "Message failed"},
            }
        ]
    return _value(statuses=[report])


def signed(payload: dict[str, Any], secret: str) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(payload).encode()
    signature = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return body, {"X-Hub-Signature-256": f"sha256={signature}", "Content-Type": "application/json"}
