"""The ASN web chat's journey: code, consent, the concern, category and optional questions."""

from __future__ import annotations

import contextlib
import re
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request

from bot.runtime import Runtime
from core import catalogue
from core.errors import InvalidInput
from core.model import Button, Demographics, new_id
from core.triage import CASE_CATEGORIES
from core.usecases import client_rights, intake
from core.usecases.common import clean_text
from handlers.web_chat_guard import (
    CHANNEL,
    ApiError,
    Session,
    WebRoute,
    WebSession,
    find_client,
    lang_of,
    limit_ip,
    new_recovery_code,
    read_json,
    runtime_of,
)
from storage.bot_state import StateStore
from storage.inbox import InboxStore
from storage.web_mailbox import WebMailbox

router = APIRouter(prefix="/api/chat", route_class=WebRoute)
MESSAGE_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
CATEGORIES = frozenset(c.value for c in CASE_CATEGORIES)


def mailbox(rt: Runtime) -> WebMailbox:
    return WebMailbox(rt.svc.sessions, rt.svc.keyring)


def states(rt: Runtime) -> StateStore:
    return StateStore(rt.svc.sessions, rt.svc.keyring.blind_index_key)


def payload(text: str, buttons: tuple[Button, ...] = (), **extra: Any) -> dict[str, Any]:
    return {"text": text, "buttons": [[b.label, b.data] for b in buttons], "urgent": False, **extra}


async def say(s: WebSession, text: str, buttons: tuple[Button, ...] = ()) -> None:
    """A direct answer goes straight to the ASN's mailbox, like the bot's reply to the chat."""
    await mailbox(s.rt).deliver(s.consented().reply_address, payload(text, buttons))


@router.post("/start")
async def start(request: Request) -> Any:
    """A fresh recovery code; nothing is stored until the ASN consents with it."""
    limit_ip(request)
    lang = lang_of(request)
    return {
        "code": new_recovery_code(),
        "notice": await runtime_of(request).privacy_notice(lang, key="web.privacy"),
    }


@router.post("/consent")
async def consent(request: Request, s: Session) -> Any:
    data = await read_json(request)
    lang = data.get("locale") if data.get("locale") in catalogue.LOCALES else s.lang
    if data.get("agree") is not True:
        return {"consented": s.client is not None, "message": catalogue.text("web.refused", lang)}
    address = s.client.reply_address if s.client else new_id()
    s.client = await intake.give_consent(
        uow=s.rt.uow(),
        sender=s.sender,
        reply_address=address,
        locale=str(lang),
        version=s.rt.svc.settings.consent_version,
        clock=s.rt.clock,
    )
    await mailbox(s.rt).create(address)
    await say(s, catalogue.text("client.ask_concern", s.lang))
    return {"consented": True, "locale": s.lang}


@router.post("/message")
async def message(request: Request, s: Session) -> Any:
    data = await read_json(request)
    client = s.consented()
    text = data.get("text") if isinstance(data.get("text"), str) else None
    try:
        body = clean_text(text)
    except InvalidInput:  # not kept; crisis words in it still bring the contacts, at once
        if intake.unkept_crisis(text, s.rt.screener):
            await say(s, intake.unkept_safety(s.rt.policy, s.lang))
        raise
    msg_id = data.get("client_msg_id")
    inbox, seen = InboxStore(s.rt.svc.sessions), None
    if msg_id is not None:
        if not isinstance(msg_id, str) or not MESSAGE_ID.match(msg_id):
            raise ApiError(400, "bad_request", "web.bad_request")
        seen = {"channel": CHANNEL, "external_id": f"{s.key[:40]}:{msg_id}"}
        if not await inbox.begin(**seen, at=datetime.now(UTC)):
            return {"ok": True, "duplicate": True}
    try:
        # The ASN's own words go to the mailbox first: every device shows the conversation
        # in order.
        await mailbox(s.rt).deliver(client.reply_address, payload(body, mine=True, id=msg_id))
        await intake.receive_client_message(
            uow=s.rt.uow(),
            sender=s.sender,
            text=body,
            screener=s.rt.screener,
            classifier=s.rt.classifier,
            clock=s.rt.clock,
            policy=s.rt.policy,
        )
    except Exception:
        # Not kept: the page's retry with the same id is handled, not taken for a duplicate.
        if seen is not None:
            with contextlib.suppress(Exception):
                await inbox.abandon(**seen)
        raise
    finally:
        s.rt.kick()
    if seen is not None:
        await inbox.finish(**seen, at=datetime.now(UTC))
    return {"ok": True}


QUESTIONS = {
    "gender": ("client.ask_gender", ()),
    "age": ("client.ask_age", ("<30", "30-39", "40-49", "50+")),
    "employment": ("client.ask_employment", ("PNS", "PPPK")),
}
NEXT = {"gender": "age", "age": "employment"}
# Only enumerated answers reach the conversation state, never free text.
ANSWERS = {"gender": intake.GENDERS, "age": intake.AGE_BANDS, "employment": intake.EMPLOYMENT}


def question(field: str, lang: str) -> tuple[str, tuple[Button, ...]]:
    key, values = QUESTIONS[field]
    buttons = tuple(Button(v, f"q:{field}:{v}") for v in values)
    if field == "gender":
        buttons = (
            Button(catalogue.text("client.button_female", lang), "q:gender:perempuan"),
            Button(catalogue.text("client.button_male", lang), "q:gender:laki_laki"),
        )
    skip = Button(catalogue.text("client.button_skip", lang), f"q:{field}:-")
    return catalogue.text(key, lang), (*buttons, skip)


@router.post("/choose")
async def choose(request: Request, s: Session) -> Any:
    """A button of a message was pressed: its data says what was chosen."""
    data = await read_json(request)
    choice = data.get("data")
    if not isinstance(choice, str) or len(choice) > 64:
        raise ApiError(400, "bad_request", "web.bad_request")
    kind, _, rest = choice.partition(":")
    if kind == "cat" and rest in CATEGORIES:
        await category_chosen(s, rest)
    elif kind == "q" and rest.count(":") == 1:
        await question_answered(s, *rest.split(":"))
    elif kind == "rate" and rest in {"1", "2", "3", "4", "5"}:
        await client_rights.record_feedback(
            uow=s.rt.uow(), sender=s.sender, rating=int(rest), comment=None, clock=s.rt.clock
        )
        s.rt.kick()
    else:
        raise ApiError(400, "bad_request", "web.bad_request")
    return {"ok": True}


async def category_chosen(s: WebSession, category: str) -> None:
    s.consented()
    store = states(s.rt)
    key = store.key(CHANNEL, s.code)
    await store.set_state(key, "gender")
    await store.set_data(key, {"category": category, "answers": {}})
    await say(s, *question("gender", s.lang))


async def question_answered(s: WebSession, field: str, value: str) -> None:
    s.consented()
    if field not in ANSWERS or (value != "-" and value not in ANSWERS[field]):
        raise ApiError(400, "bad_request", "web.bad_request")
    store = states(s.rt)
    key = store.key(CHANNEL, s.code)
    state, data = await store.get(key)
    if "category" not in data or state != field:
        return  # a stale button from an earlier question or conversation
    answers = {**data.get("answers", {}), field: None if value == "-" else value}
    if field in NEXT:
        await store.set_state(key, NEXT[field])
        await store.set_data(key, {**data, "answers": answers})
        await say(s, *question(NEXT[field], s.lang))
        return
    await store.set_state(key, None)
    await store.set_data(key, {})
    await open_case(s, data["category"], answers)


async def open_case(s: WebSession, category: str, answers: dict[str, str | None]) -> None:
    try:
        await intake.confirm_category(
            uow=s.rt.uow(),
            sender=s.sender,
            category=category,
            clock=s.rt.clock,
            policy=s.rt.policy,
            demographics=Demographics(
                answers.get("gender"), answers.get("age"), answers.get("employment")
            ),
        )
    finally:
        s.rt.kick()


async def case_code(rt: Runtime, s: WebSession) -> str | None:
    client = s.consented()
    async with rt.uow() as uow:
        case = await uow.cases.open_for_client(client.id)
    return case.code if case else None


@router.get("/status")
async def status(s: Session) -> Any:
    text = await client_rights.own_case_status(
        uow=s.rt.uow(), sender=s.sender, clock=s.rt.clock, policy=s.rt.policy
    )
    return {
        "consented": True,
        "locale": s.lang,
        "case_code": await case_code(s.rt, s),
        "text": text,
    }


def after_of(request: Request) -> int:
    raw = request.query_params.get("after") or request.headers.get("Last-Event-ID") or "0"
    return int(raw) if raw.isdigit() and len(raw) < 19 else 0


def shown(seq: int, item: dict[str, Any]) -> dict[str, Any]:
    return {
        "seq": seq,
        "text": str(item.get("text", "")),
        "buttons": item.get("buttons", []),
        "urgent": bool(item.get("urgent")),
        "mine": bool(item.get("mine")),
        "id": item.get("id"),
    }


@router.get("/messages")
async def messages(request: Request, s: Session) -> Any:
    client = s.consented()
    items = await mailbox(s.rt).read(client.reply_address, after_of(request))
    return [shown(seq, item) for seq, item in items]


__all__ = ["find_client", "mailbox", "router", "say", "shown", "states"]
