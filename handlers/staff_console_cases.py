"""The case pages of the staff console: claim, audited reading, reply, note, transfer, resolve.

Reading a transcript always asks for a purpose first (a code from a fixed list, never free
text): no log, no read. After a reply or a note the page reads the transcript again with the
same purpose, and that read is logged too.
"""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response

from core.errors import DomainError
from core.usecases import casework, staffing
from handlers import staff_console_html as view
from handlers.staff_console_session import (
    STATUS,
    Signed,
    attempt,
    case_code,
    case_url,
    domain_text,
    flash,
    no_admin,
    posted,
    signed_in,
)
from handlers.staff_console_web import Stop, html

router = APIRouter(prefix="/staff/cases", include_in_schema=False)
DEFAULT_PURPOSE = "respond"  # after a reply or a note the counsellor is responding


@router.post("/{code}/claim")
async def claim(code: str, request: Request) -> Response:
    who, _ = await posted(request)
    code = case_code(code)
    call = casework.claim_case(
        uow=who.rt.uow(), staff_id=no_admin(who).staff.id, case_code=code, clock=who.rt.clock
    )
    return await attempt(who, call, case_url(code, done="claimed", code=code))


@router.get("/{code}")
async def case(code: str, request: Request) -> Response:
    who = no_admin(await signed_in(request))
    code = case_code(code)
    items = await casework.list_queue(uow=who.rt.uow(), staff_id=who.staff.id)
    item = next((i for i in items if i.code == code), None)
    head = view.case_summary(code, item, who.rt.clock.now())
    purpose = (request.query_params.get("purpose") or "").strip()
    if purpose:
        body = await _read(who, code, item, purpose)
    else:
        body = view.purpose_form(code, item, who.staff, who.csrf)
    return html(view.page(head + body, staff=who.staff, csrf=who.csrf, flash=flash(request)))


async def _read(who: Signed, code: str, item: casework.QueueItem | None, purpose: str) -> str:
    """The audited read, then what may be done with the case."""
    try:
        lines = await casework.read_transcript(
            uow=who.rt.uow(),
            staff_id=who.staff.id,
            case_code=code,
            purpose=purpose,
            clock=who.rt.clock,
        )
    except DomainError as error:
        raise Stop(who.page(domain_text(error), STATUS.get(type(error), 400))) from None
    mine = item is not None and item.assignee_id == who.staff.id
    here = item.queue_id if item is not None else None
    queues = [q for q in await staffing.list_queues(uow=who.rt.uow()) if q.id != here]
    return view.transcript(code, purpose, lines) + view.case_actions(
        code, purpose, queues, mine, who.csrf
    )


@router.post("/{code}/reply")
async def reply(code: str, request: Request) -> Response:
    who, form = await posted(request)
    code = case_code(code)
    call = casework.reply_to_client(
        uow=who.rt.uow(),
        staff_id=no_admin(who).staff.id,
        case_code=code,
        text=form.get("text"),
        clock=who.rt.clock,
    )
    purpose = form.get("purpose") or DEFAULT_PURPOSE
    return await attempt(who, call, case_url(code, purpose=purpose, done="sent", code=code))


@router.post("/{code}/note")
async def note(code: str, request: Request) -> Response:
    who, form = await posted(request)
    code = case_code(code)
    call = casework.add_note(
        uow=who.rt.uow(),
        staff_id=no_admin(who).staff.id,
        case_code=code,
        text=form.get("text"),
        clock=who.rt.clock,
    )
    purpose = form.get("purpose") or DEFAULT_PURPOSE
    return await attempt(who, call, case_url(code, purpose=purpose, done="noted", code=code))


@router.post("/{code}/transfer")
async def transfer(code: str, request: Request) -> Response:
    who, form = await posted(request)
    code = case_code(code)
    target = form.get("queue", "").strip()[:40]
    call = casework.transfer_case(
        uow=who.rt.uow(),
        staff_id=no_admin(who).staff.id,
        case_code=code,
        queue_code=target,
        reason=form.get("reason"),
        clock=who.rt.clock,
    )
    return await attempt(
        who, call, "/staff?" + urlencode({"done": "transferred", "code": code, "queue": target})
    )


@router.post("/{code}/resolve")
async def resolve(code: str, request: Request) -> Response:
    who, _ = await posted(request)
    code = case_code(code)
    call = casework.resolve_case(
        uow=who.rt.uow(), staff_id=no_admin(who).staff.id, case_code=code, clock=who.rt.clock
    )
    return await attempt(who, call, "/staff?" + urlencode({"done": "resolved", "code": code}))
