"""The WhatsApp Cloud API webhook at /whatsapp/webhook, and the worker that processes its items.

GET answers Meta's verification handshake. POST checks X-Hub-Signature-256 on the raw body
before anything is parsed (401 and nothing written when it is wrong or missing), keeps each
message and status once in the inbox (sealed), answers 200 at once, and a background task
processes the items in order. Nothing here logs a number, a name, an id or any text.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from bot.runtime import Runtime
from bot.settings import Settings
from bot.whatsapp_sender import GraphConfig, WhatsAppSender
from core.usecases.common import Sender
from handlers import whatsapp_client
from handlers.whatsapp_payload import Event, Inbound, Status, parse, signature_ok
from storage.whatsapp import (
    CHANNEL,
    WhatsAppInbox,
    WhatsAppWindow,
    link_identity,
    release_held,
)
from storage.whatsapp_reports import RESEND, UNKNOWN, record_status, shred_unreported

log = logging.getLogger("sapa.whatsapp")
router = APIRouter()
RETRY_AFTER = timedelta(seconds=5)
KEPT_FOR, SHRED_EVERY = timedelta(hours=24), timedelta(minutes=10)


class NotSentYet(Exception):
    """A delivery report for a message whose outbox row is not (yet) known: tried again later."""


@dataclass
class WhatsAppChannel:
    rt: Runtime
    app_secret: bytes
    verify_token: str
    inbox: WhatsAppInbox
    window: WhatsAppWindow
    sender: WhatsAppSender
    poll_seconds: float = 1.0
    _wake: asyncio.Event = field(default_factory=asyncio.Event)
    _task: asyncio.Task[None] | None = None
    _shredded_at: datetime | None = None

    async def accept(self, events: list[Event]) -> int:
        """Keep each event once (a replayed delivery is recognised); returns how many are new."""
        now, kept = self.rt.clock.now(), 0
        for event in events:
            dedup = event.message_id if isinstance(event, Inbound) else _status_key(event)
            item = {"event": type(event).__name__, **asdict(event)}
            kept += await self.inbox.accept(dedup, item, at=now)
        if kept:
            self._wake.set()
        return kept

    async def run_forever(self) -> None:
        while True:
            try:
                handled = await self.run_once()
            except Exception as exc:  # a database restart must not stop the channel for good
                log.error("whatsapp batch failed (%s); retrying", type(exc).__name__)
                handled = 0
            if not handled:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.poll_seconds)
                self._wake.clear()

    async def run_once(self) -> int:
        await self._shred_unreported()
        items = await self.inbox.claim(now=self.rt.clock.now())
        for item in items:
            try:
                await self.process(item.item)
            except Exception as exc:
                if not isinstance(exc, NotSentYet):
                    log.error("whatsapp item failed (%s); will retry", type(exc).__name__)
                await self.inbox.failed(item, retry_at=self.rt.clock.now() + RETRY_AFTER)
            else:
                await self.inbox.done(item)
        return len(items)

    async def process(self, item: dict[str, Any]) -> None:
        if item.pop("event", "") == "Status":
            status = Status(**item)
            svc = self.rt.svc
            outcome = await record_status(
                svc.sessions,
                svc.keyring,
                svc.keyring.blind_index_key,
                message_id=status.message_id,
                status=status.status,
                error_code=status.error_code,
            )
            if outcome == UNKNOWN:  # the report can overtake our own bookkeeping of the send
                raise NotSentYet
            if outcome == RESEND:  # a late 131047: the template invites, the reply is held
                self.rt.kick()
            return
        event = Inbound(**item)
        await self._opened(event)
        await whatsapp_client.handle(self.rt, event)

    async def _shred_unreported(self) -> None:
        """Sent payloads kept for a report that never came go once no resend can be due."""
        now = self.rt.clock.now()
        if self._shredded_at is not None and now - self._shredded_at < SHRED_EVERY:
            return
        self._shredded_at = now
        svc = self.rt.svc
        await shred_unreported(svc.sessions, svc.keyring, sent_before=now - KEPT_FOR)

    async def _link(self, bsuid: str, wa_id: str) -> None:
        """Both ids came: each joins the client already known by the other (blind indexes)."""
        sessions, key = self.rt.svc.sessions, self.rt.svc.keyring.blind_index_key
        await link_identity(sessions, key, known=wa_id, alias=bsuid)
        await link_identity(sessions, key, known=bsuid, alias=wa_id)

    async def _opened(self, event: Inbound) -> None:
        """The ASN wrote: the 24-hour window opens and replies held for them go out."""
        now, sender = self.rt.clock.now(), Sender(CHANNEL, event.identity)
        await self.window.wrote(event.address, at=now)
        if event.identity.startswith("u:") and event.address.startswith("to:"):
            await self._link(event.identity, "p:" + event.address.removeprefix("to:"))
        async with self.rt.uow() as uow:
            client = await uow.clients.find(channel=sender.channel, external_id=sender.external_id)
        if client is None:
            return
        if client.reply_address != event.address:  # e.g. a BSUID first, the number later
            await self.window.wrote(client.reply_address, at=now)
        if await release_held(self.rt.svc.sessions, client_id=client.id):
            self.rt.kick()

    def start(self) -> None:
        self._task = asyncio.create_task(self.run_forever(), name="whatsapp")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.sender.aclose()


def _status_key(status: Status) -> str:
    return f"status:{status.message_id}:{status.status}"


def build(settings: Settings, rt: Runtime) -> WhatsAppChannel | None:
    """The channel, or None (with one log line) when its configuration is incomplete."""
    token, secret = settings.whatsapp_token, settings.whatsapp_app_secret
    verify, phone = settings.whatsapp_verify_token, settings.whatsapp_phone_number_id
    if token is None or secret is None or verify is None or not phone:
        log.info("SAPA_WHATSAPP_* settings are incomplete: the WhatsApp channel is off")
        return None
    svc = rt.svc
    window = WhatsAppWindow(svc.sessions, svc.keyring.blind_index_key)
    config = GraphConfig(
        settings.whatsapp_api_base,
        settings.whatsapp_api_version,
        phone,
        token.get_secret_value(),
        settings.whatsapp_template,
        settings.whatsapp_template_language,
    )
    sender = WhatsAppSender(
        config, window=window, index_key=svc.keyring.blind_index_key, now=lambda: svc.clock.now()
    )
    inbox = WhatsAppInbox(svc.sessions, svc.keyring, svc.keyring.blind_index_key)
    secret_bytes = secret.get_secret_value().encode()
    return WhatsAppChannel(rt, secret_bytes, verify.get_secret_value(), inbox, window, sender)


def senders(channel: WhatsAppChannel | None) -> dict[str, Any]:
    return {} if channel is None else {CHANNEL: channel.sender}


def channel_of(request: Request) -> WhatsAppChannel | None:
    found: WhatsAppChannel | None = getattr(request.app.state, "whatsapp", None)
    return found


@router.get("/whatsapp/webhook", include_in_schema=False)
async def verify(request: Request) -> Response:
    """Meta's handshake: echo hub.challenge when hub.verify_token is ours."""
    channel = channel_of(request)
    if channel is None:
        return JSONResponse({"detail": "not found"}, status_code=404)
    query = request.query_params
    given = query.get("hub.verify_token", "").encode()
    if query.get("hub.mode") != "subscribe" or not hmac.compare_digest(
        given, channel.verify_token.encode()
    ):
        return JSONResponse({"detail": "forbidden"}, status_code=403)
    return PlainTextResponse(query.get("hub.challenge", ""))


@router.post("/whatsapp/webhook", include_in_schema=False)
async def receive(request: Request) -> Response:
    channel = channel_of(request)
    if channel is None:
        return JSONResponse({"detail": "not found"}, status_code=404)
    body = await request.body()
    if not signature_ok(body, request.headers.get("X-Hub-Signature-256"), channel.app_secret):
        return JSONResponse({"detail": "unauthorized"}, status_code=401)
    try:
        data = json.loads(body)
    except ValueError:
        return JSONResponse({"detail": "bad request"}, status_code=400)
    await channel.accept(parse(data))
    return JSONResponse({"ok": True})


def mount(app: FastAPI) -> None:
    app.state.whatsapp = None
    app.include_router(router)
