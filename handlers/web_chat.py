"""The ASN web chat at `/`: the page, its API, and the outbox sender of the "web" channel.

The page is plain HTML, CSS and JS served from handlers/static/ (no framework, no third-party
asset, no cookie); every text is rendered as text, never as HTML. A strict CSP forbids inline
script and style, so nothing an ASN or counsellor types can run.
"""

from __future__ import annotations

import contextlib
import html
import re
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.runtime import Runtime
from bot.senders import DeliveryFailed
from bot.settings import Settings
from core import catalogue
from handlers import web_chat_api, web_chat_rights
from handlers.web_chat_guard import WebChatConfig, WebRoute, lang_of, limit_ip, runtime_of
from storage.sealing import MissingKey
from storage.web_mailbox import WebMailbox

STATIC = Path(__file__).parent / "static"
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
SECURITY_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
]
ASSETS = {"chat.js": "text/javascript; charset=utf-8", "chat.css": "text/css; charset=utf-8"}
# Sentences the page shows besides the web.* ones (the same as the bot's buttons).
PAGE_KEYS = (
    "client.button_agree",
    "client.button_refuse",
    "client.delete_confirm",
    "client.button_delete_yes",
    "client.button_cancel",
)
PLACEHOLDER = re.compile(r"\{\{([a-z_.]+)\}\}")


class SecurityHeaders:
    """CSP and friends on the page, its assets and its API; the API's answers are never cached."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else None
        if path is None or not (path == "/" or path.startswith(("/api/chat/", "/static/chat."))):
            await self.app(scope, receive, send)
            return
        extra = [*SECURITY_HEADERS]
        if path != "/static/chat.js" and path != "/static/chat.css":
            extra.append((b"cache-control", b"no-store"))

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {name.lower() for name, _ in message.get("headers", [])}
                message["headers"] = [
                    *message.get("headers", []),
                    *((n, v) for n, v in extra if n not in names),
                ]
            await send(message)

        await self.app(scope, receive, with_headers)


def texts(lang: str) -> dict[str, str]:
    """The page's fixed sentences (those without placeholders) in one language."""
    keys = sorted(k for k in catalogue.keys(lang) if k.startswith("web.")) + list(PAGE_KEYS)
    shown = {}
    for key in keys:
        with contextlib.suppress(KeyError, IndexError):
            shown[key] = catalogue.text(key, lang)
    return shown


def render_page(template: str, lang: str) -> str:
    shown = texts(lang)
    return PLACEHOLDER.sub(
        lambda m: lang if m[1] == "lang" else html.escape(shown.get(m[1], m[1])), template
    )


page_router = APIRouter(route_class=WebRoute)


@page_router.get("/", response_class=HTMLResponse, include_in_schema=False)
async def page(request: Request) -> HTMLResponse:
    template: str = request.app.state.web_chat_page
    return HTMLResponse(render_page(template, lang_of(request)))


@page_router.get("/static/chat.{kind}", include_in_schema=False)
async def asset(kind: str, request: Request) -> Response:
    name = f"chat.{kind}"
    if name not in ASSETS:
        return Response(status_code=404)
    content: bytes = request.app.state.web_chat_assets[name]
    return Response(content, media_type=ASSETS[name], headers={"Cache-Control": "no-cache"})


@page_router.get("/api/chat/texts")
async def page_texts(request: Request) -> Any:
    """The page's sentences in one language (for the language switch) and the privacy notice."""
    limit_ip(request)
    lang = lang_of(request)
    return {
        "locale": lang,
        "texts": texts(lang),
        "notice": await runtime_of(request).privacy_notice(lang, key="web.privacy"),
    }


def mount(app: FastAPI, settings: Settings) -> None:
    """Add the web chat's routes to the app."""
    app.state.web_chat = WebChatConfig()
    app.state.web_chat_page = (STATIC / "chat.html").read_text(encoding="utf-8")
    app.state.web_chat_assets = {name: (STATIC / name).read_bytes() for name in ASSETS}
    app.add_middleware(SecurityHeaders)
    app.include_router(page_router)
    app.include_router(web_chat_api.router)
    app.include_router(web_chat_rights.router)


class WebSender:
    """Delivers an outbox payload into the ASN's mailbox, where the page picks it up."""

    def __init__(self, mailbox: WebMailbox) -> None:
        self._mailbox = mailbox

    async def send(self, *, address: str, payload: dict[str, Any]) -> None:
        kept = {
            "text": str(payload.get("text", "")),
            "buttons": payload.get("buttons", []),
            "urgent": bool(payload.get("urgent")),
        }
        try:
            await self._mailbox.deliver(address, kept)
        except MissingKey:
            raise DeliveryFailed("mailbox_erased", permanent=True) from None


def senders(rt: Runtime) -> dict[str, Any]:
    """The outbox senders of the web channel (channel name -> Sender)."""
    return {"web": WebSender(WebMailbox(rt.svc.sessions, rt.svc.keyring))}
