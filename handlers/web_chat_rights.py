"""The ASN web chat: close, export, erase and language of their own case and data; live updates."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import asdict
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse

from core import catalogue
from core.errors import ConsentRequired
from core.usecases import client_rights
from handlers.web_chat_api import after_of, mailbox, say, shown, states
from handlers.web_chat_guard import (
    CHANNEL,
    NO_STORE,
    ApiError,
    Session,
    WebRoute,
    WebSession,
    config_of,
    find_client,
    read_json,
)

router = APIRouter(prefix="/api/chat", route_class=WebRoute)


@router.post("/close")
async def close(s: Session) -> Any:
    """The ASN is done: the case closes and the rating buttons arrive in the mailbox."""
    try:
        code = await client_rights.close_own_case(uow=s.rt.uow(), sender=s.sender, clock=s.rt.clock)
    finally:
        s.rt.kick()
    return {"ok": True, "case_code": code}


@router.get("/export")
async def export(s: Session) -> Response:
    held = await client_rights.export_client_data(uow=s.rt.uow(), sender=s.sender)
    content = json.dumps(asdict(held), ensure_ascii=False, indent=2).encode("utf-8")
    return Response(
        content,
        media_type="application/json; charset=utf-8",
        headers={**NO_STORE, "Content-Disposition": 'attachment; filename="sapa-asn-data.json"'},
    )


@router.post("/delete")
async def delete(request: Request, s: Session) -> Any:
    """Erase everything (cases, keys, mailbox); the code then opens nothing any more."""
    data = await read_json(request)
    if data.get("confirm") is not True:
        raise ApiError(400, "confirm_required", "client.delete_confirm")
    lang = s.lang
    try:
        text = await client_rights.delete_client_data(uow=s.rt.uow(), sender=s.sender)
    except ConsentRequired:
        text = catalogue.text("case.deleted", lang)  # nothing was held: nothing left to erase
    store = states(s.rt)
    key = store.key(CHANNEL, s.code)
    await store.set_state(key, None)
    await store.set_data(key, {})
    return {"ok": True, "message": text}


@router.post("/locale")
async def locale(request: Request, s: Session) -> Any:
    data = await read_json(request)
    chosen = data.get("locale")
    if chosen not in catalogue.LOCALES:
        raise ApiError(400, "bad_request", "web.bad_request")
    s.consented()
    text = await client_rights.set_locale(uow=s.rt.uow(), sender=s.sender, locale=str(chosen))
    if s.client is not None:
        s.client.locale = str(chosen)
    await say(s, text)
    return {"ok": True, "locale": chosen}


@router.get("/events")
async def events(request: Request, s: Session) -> StreamingResponse:
    """Server-sent events over a fetch stream (the code rides in the Authorization header).

    Each worker polls the mailbox in the database, so any number of `sapa serve` workers can
    hold streams. The stream ends after a while; the page reconnects from its last seq.
    """
    s.consented()
    return StreamingResponse(
        stream(request, s, after_of(request)),
        media_type="text/event-stream",
        headers={**NO_STORE, "X-Accel-Buffering": "no"},
    )


async def stream(request: Request, s: WebSession, after: int) -> AsyncIterator[str]:
    config = config_of(request)
    loop = asyncio.get_running_loop()
    ends, quiet_since = loop.time() + config.stream_seconds, loop.time()
    yield f"retry: 3000\n: {' ' * 16}\n\n"
    while loop.time() < ends and not await request.is_disconnected():
        # Shielded: a browser leaving mid-query must not cut a database call in half.
        found = await asyncio.shield(poll(s, after))
        if found is None:
            yield "event: gone\ndata: {}\n\n"
            return
        for seq, item in found:
            after = seq
            quiet_since = loop.time()
            yield f"id: {seq}\ndata: {json.dumps(shown(seq, item), ensure_ascii=False)}\n\n"
        if loop.time() - quiet_since >= config.keepalive_seconds:
            quiet_since = loop.time()
            yield ": keep-alive\n\n"
        await asyncio.sleep(config.poll_seconds)


async def poll(s: WebSession, after: int) -> list[tuple[int, dict[str, Any]]] | None:
    """New mailbox messages, or None once the ASN's data was erased."""
    client = await find_client(s.rt, s.code)
    if client is None:
        return None
    return await mailbox(s.rt).read(client.reply_address, after)
