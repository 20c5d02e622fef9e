"""The staff console at `/staff`: server-rendered pages that work without JavaScript.

Each handler parses the form, calls one use case (the same ones the staff bot calls) and
renders or redirects. Reading a transcript always asks for a purpose first: no log, no read.
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Awaitable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import RedirectResponse, Response

from bot.runtime import Runtime
from bot.settings import Settings
from core import catalogue
from core.errors import AlreadyClaimed, DomainError, IllegalTransition, NotAllowed, NotFound
from core.model import Role, Staff
from core.usecases import casework, staffing
from handlers import staff_console_html as view
from handlers.staff_console_web import (
    Buckets,
    ConsoleHeaders,
    Stop,
    client_ip,
    html,
    read_form,
    same_origin,
)
from storage.staff_auth import SESSION_LIFETIME, StaffAuth

COOKIE = "sapa_staff"
STATIC = Path(__file__).parent / "static"
CASE_CODE = re.compile(r"^[A-Za-z0-9-]{1,16}$")
STATUS = {NotAllowed: 403, NotFound: 404, AlreadyClaimed: 409, IllegalTransition: 409}
FLASH = {
    "claimed": "console.claimed",
    "sent": "staffbot.sent",
    "noted": "staffbot.noted",
    "transferred": "staffbot.transferred",
    "resolved": "staffbot.resolved",
    "on_duty": "staffbot.on_duty",
    "off_duty": "staffbot.off_duty",
}
router = APIRouter(prefix="/staff", include_in_schema=False)


@dataclass
class Console:
    settings: Settings
    logins: Buckets = field(default_factory=lambda: Buckets(10, 10 / 300))  # per IP
    writes: Buckets = field(default_factory=lambda: Buckets(30, 1.0))  # per session
    refresh_seconds: float = 15.0  # how often staff.js refreshes the queue table


@dataclass
class Signed:
    rt: Runtime
    staff: Staff
    csrf: str
    token: str

    def page(self, message: str, status: int) -> Response:
        return html(view.error_page(message, staff=self.staff, csrf=self.csrf), status)


def console(request: Request) -> Console:
    found: Console = request.app.state.staff_console
    return found


def auth_of(rt: Runtime) -> StaffAuth:
    return StaffAuth(rt.svc.sessions, rt.svc.keyring)


async def signed_in(request: Request) -> Signed:
    rt: Runtime = request.app.state.runtime
    token = request.cookies.get(COOKIE, "")
    found = await auth_of(rt).session(token, rt.clock.now()) if token else None
    staff = await staffing.staff_member(uow=rt.uow(), staff_id=found.staff_id) if found else None
    if found is None or staff is None:
        raise Stop(RedirectResponse("/staff/login", status_code=303))
    return Signed(rt, staff, found.csrf_token, token)


def no_admin(who: Signed) -> Signed:
    """BKPSDM admins get no case content at all, not even the queue."""
    if who.staff.role is Role.ADMIN:
        raise Stop(who.page(view.t("console.admin_forbidden"), 403))
    return who


async def posted(request: Request) -> tuple[Signed, dict[str, str]]:
    """A signed-in POST whose CSRF token matches the session's; otherwise 403, nothing done."""
    who = await signed_in(request)
    form = await read_form(request)
    given = form.get("csrf", "").encode()
    origin_ok = same_origin(request, console(request).settings.public_url)
    if not origin_ok or not hmac.compare_digest(given, who.csrf.encode()):
        raise Stop(who.page(view.t("console.csrf_failed"), 403))
    if not console(request).writes.take(who.token):
        raise Stop(who.page(view.t("console.rate_limited"), 429))
    return who, form


def domain_text(error: DomainError) -> str:
    try:
        return view.t(str(error), **error.values)
    except (KeyError, IndexError):
        return view.h(error)


async def attempt(who: Signed, call: Awaitable[Any], then: str) -> Response:
    """Run one use case; on success wake the outbox and go on (post/redirect/get)."""
    try:
        await call
    except DomainError as error:
        return who.page(domain_text(error), STATUS.get(type(error), 400))
    who.rt.kick()
    return RedirectResponse(then, status_code=303)


def case_code(code: str) -> str:
    if not CASE_CODE.match(code):
        raise Stop(Response(status_code=404))
    return code.upper()


def case_url(code: str, /, **query: str) -> str:
    return f"/staff/cases/{code}" + (f"?{urlencode(query)}" if query else "")


def flash(request: Request) -> str:
    key = FLASH.get(request.query_params.get("done", ""))
    if key is None:
        return ""
    code = request.query_params.get("code", "")
    queue = request.query_params.get("queue", "")
    code = code if re.fullmatch(r"K-[A-Z0-9]{4}", code) else "-"
    queue = queue if re.fullmatch(r"[a-z0-9_-]{1,40}", queue) else "-"
    return view.t(key, code=code, queue=queue)


@router.get("/login")
async def login_form(request: Request) -> Response:
    try:
        await signed_in(request)
    except Stop:
        return html(view.login_page())
    return RedirectResponse("/staff", status_code=303)


@router.post("/login")
async def login(request: Request) -> Response:
    settings = console(request).settings
    if not console(request).logins.take(client_ip(request)):
        return html(view.login_page(view.t("console.rate_limited")), 429)
    form = await read_form(request)
    if not same_origin(request, settings.public_url):
        return html(view.login_page(view.t("console.csrf_failed")), 403)
    rt: Runtime = request.app.state.runtime
    username = form.get("username", "")[:100]
    opened = await auth_of(rt).login(username, form.get("password", ""), rt.clock.now())
    if opened is None:
        return html(view.login_page(view.t("console.login_failed"), username), 401)
    response = RedirectResponse("/staff", status_code=303)
    secure = request.url.scheme == "https" or (settings.public_url or "").startswith("https")
    response.set_cookie(
        COOKIE,
        opened.session_token,
        max_age=int(SESSION_LIFETIME.total_seconds()),
        path="/staff",
        httponly=True,
        samesite="strict",
        secure=secure,
    )
    return response


@router.post("/logout")
async def logout(request: Request) -> Response:
    who, _ = await posted(request)
    await auth_of(who.rt).logout(who.token)
    response = RedirectResponse("/staff/login", status_code=303)
    response.delete_cookie(COOKIE, path="/staff", httponly=True, samesite="strict")
    return response


async def rows_for(who: Signed) -> tuple[str, list[casework.QueueItem]]:
    items = list(await casework.list_queue(uow=who.rt.uow(), staff_id=who.staff.id))
    queues = {q.id: q.name for q in await staffing.list_queues(uow=who.rt.uow())}
    now = who.rt.clock.now()
    return view.queue_rows(items, queues, who.staff, who.csrf, now), items


@router.get("")
async def queue(request: Request) -> Response:
    who = no_admin(await signed_in(request))
    rows, _ = await rows_for(who)
    refresh = console(request).refresh_seconds
    body = view.queue_page(
        rows, staff=who.staff, csrf=who.csrf, flash=flash(request), refresh=refresh
    )
    return html(body)


@router.get("/queue/rows")
async def queue_rows(request: Request) -> Response:
    """The queue table's rows alone, for staff.js to refresh the page without a reload."""
    who = no_admin(await signed_in(request))
    rows, _ = await rows_for(who)
    return html(rows)


@router.post("/cases/{code}/claim")
async def claim(code: str, request: Request) -> Response:
    who, _ = await posted(request)
    code = case_code(code)
    call = casework.claim_case(
        uow=who.rt.uow(), staff_id=no_admin(who).staff.id, case_code=code, clock=who.rt.clock
    )
    return await attempt(who, call, case_url(code, done="claimed", code=code))


@router.get("/cases/{code}")
async def case(code: str, request: Request) -> Response:
    who = no_admin(await signed_in(request))
    code = case_code(code)
    _, items = await rows_for(who)
    item = next((i for i in items if i.code == code), None)
    now = who.rt.clock.now()
    head = view.case_summary(code, item, now)
    purpose = (request.query_params.get("purpose") or "").strip()
    if not purpose:
        body = head + view.purpose_form(code, item, who.staff, who.csrf)
        return html(view.page(body, staff=who.staff, csrf=who.csrf, flash=flash(request)))
    try:
        lines = await casework.read_transcript(
            uow=who.rt.uow(),
            staff_id=who.staff.id,
            case_code=code,
            purpose=purpose,
            clock=who.rt.clock,
        )
    except DomainError as error:
        return who.page(domain_text(error), STATUS.get(type(error), 400))
    mine = item is not None and item.assignee_id == who.staff.id
    queues = [
        q for q in await staffing.list_queues(uow=who.rt.uow()) if q.id != (item and item.queue_id)
    ]
    body = (
        head
        + view.transcript(code, purpose, lines)
        + view.case_actions(code, purpose, queues, mine, who.csrf)
    )
    return html(view.page(body, staff=who.staff, csrf=who.csrf, flash=flash(request)))


@router.post("/cases/{code}/reply")
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
    purpose = form.get("purpose") or catalogue.text("console.purpose_default", "id")
    return await attempt(who, call, case_url(code, purpose=purpose, done="sent", code=code))


@router.post("/cases/{code}/note")
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
    purpose = form.get("purpose") or catalogue.text("console.purpose_default", "id")
    return await attempt(who, call, case_url(code, purpose=purpose, done="noted", code=code))


@router.post("/cases/{code}/transfer")
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


@router.post("/cases/{code}/resolve")
async def resolve(code: str, request: Request) -> Response:
    who, _ = await posted(request)
    code = case_code(code)
    call = casework.resolve_case(
        uow=who.rt.uow(), staff_id=no_admin(who).staff.id, case_code=code, clock=who.rt.clock
    )
    return await attempt(who, call, "/staff?" + urlencode({"done": "resolved", "code": code}))


@router.post("/duty")
async def duty(request: Request) -> Response:
    who, form = await posted(request)
    on = form.get("on_duty") == "True"
    call = staffing.set_on_duty(uow=who.rt.uow(), staff_id=who.staff.id, on_duty=on)
    return await attempt(who, call, "/staff?done=" + ("on_duty" if on else "off_duty"))


ASSETS = {"css": "text/css; charset=utf-8", "js": "text/javascript; charset=utf-8"}


@router.get("/static/staff.{kind}")
async def asset(kind: str) -> Response:
    if kind not in ASSETS:
        return Response(status_code=404)
    return Response((STATIC / f"staff.{kind}").read_bytes(), media_type=ASSETS[kind])


async def _stopped(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Stop)
    return exc.response


def mount(app: FastAPI, settings: Settings) -> None:
    """Add the staff console's routes to the app."""
    app.state.staff_console = Console(settings)
    app.add_middleware(ConsoleHeaders)
    app.add_exception_handler(Stop, _stopped)
    app.include_router(router)
