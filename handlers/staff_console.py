"""The staff console at `/staff`: server-rendered pages that work without JavaScript.

Each handler parses the form, calls one use case (the same ones the staff bot calls) and
renders or redirects. Sign-in, queue and duty live here; the case pages in
staff_console_cases.py; sessions and CSRF in staff_console_session.py.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import RedirectResponse, Response

from bot.runtime import Runtime
from bot.settings import Settings
from core.model import Role
from core.usecases import staffing
from handlers import staff_console_cases
from handlers import staff_console_html as view
from handlers.staff_console_session import (
    Console,
    attempt,
    auth_of,
    console,
    flash,
    no_admin,
    open_session,
    posted,
    rows_for,
    signed_in,
    signed_out,
)
from handlers.staff_console_web import ConsoleHeaders, Stop, html

STATIC = Path(__file__).parent / "static"
router = APIRouter(prefix="/staff", include_in_schema=False)


@router.get("/login")
async def login_form(request: Request) -> Response:
    try:
        who = await signed_in(request)
    except Stop:
        return html(view.login_page())
    return RedirectResponse(landing(who.staff.role), status_code=303)


def landing(role: Role) -> str:
    """Admins land on their statistics page (/staff has nothing for them); staff on the queue."""
    return "/admin" if role is Role.ADMIN else "/staff"


async def _landing_after(rt: Runtime, token: str) -> str:
    found = await auth_of(rt).session(token, rt.clock.now())
    staff = await staffing.staff_member(uow=rt.uow(), staff_id=found.staff_id) if found else None
    return landing(staff.role) if staff is not None else "/staff"


@router.post("/login")
async def login(request: Request) -> Response:
    return await open_session(request, page=view.login_page, text=view.t, landing=_landing_after)


@router.post("/logout")
async def logout(request: Request) -> Response:
    who, _ = await posted(request)
    await auth_of(who.rt).logout(who.token)
    return signed_out("/staff/login")


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
    app.include_router(staff_console_cases.router)
