"""The admin dashboard at `/admin`: suppressed statistics only, never a case or a name.

Sign-in is the staff console's (StaffAuth, argon2, the same sessions); the dashboard's
cookie is on path "/" so its JSON under /api/stats shares it. Pages are GET only, apart
from sign-in and sign-out; every response under /admin and /api/stats carries the
console's security headers (strict CSP: no inline script or style).
"""

from __future__ import annotations

import hmac
from datetime import date
from pathlib import Path

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.runtime import Runtime
from core.dashboard import Period, to_csv, to_document
from handlers import admin_api
from handlers import admin_html as view
from handlers.admin_access import Viewer, load_dashboard, viewer
from handlers.staff_console_session import auth_of, open_session, signed_out
from handlers.staff_console_web import HEADERS, Stop, html, read_form

STATIC = Path(__file__).parent / "static"
PREFIXES = ("/admin", "/api/stats")
router = APIRouter(prefix="/admin", include_in_schema=False)


async def allowed(request: Request) -> Viewer:
    """An admin or a supervisor; anyone else is sent to sign in, or kindly refused."""
    who = await viewer(request)
    if who is None:
        raise Stop(RedirectResponse("/admin/login", status_code=303))
    if not who.allowed:
        raise Stop(html(view.message_page("console.stats_forbidden", who.staff, who.csrf), 403))
    return who


def period_of(request: Request) -> Period:
    """The period asked for; anything unknown is the default, never an error or free dates."""
    try:
        return Period(request.query_params.get("period", Period.LAST_12_MONTHS.value))
    except ValueError:
        return Period.LAST_12_MONTHS


def today(who: Viewer) -> date:
    now = who.rt.clock.now()
    return date(now.year, now.month, now.day)


@router.get("")
async def dashboard(request: Request) -> Response:
    who = await allowed(request)
    period = period_of(request)
    doc = to_document(await load_dashboard(who, period))
    return html(view.dashboard(doc, period, today(who), who.staff, who.csrf))


@router.get("/print")
async def print_view(request: Request) -> Response:
    who = await allowed(request)
    period = period_of(request)
    return html(view.print_view(to_document(await load_dashboard(who, period)), period))


@router.get("/export.csv")
async def export_csv(request: Request) -> Response:
    who = await allowed(request)
    period = period_of(request)
    body = to_csv(await load_dashboard(who, period))
    name = f"sapa-statistik-{period.value}.csv"
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="{name}"'},
    )


@router.get("/login")
async def login_form(request: Request) -> Response:
    if await viewer(request) is not None:
        return RedirectResponse("/admin", status_code=303)
    return html(view.login_page())


@router.post("/login")
async def login(request: Request) -> Response:
    return await open_session(request, page=view.login_page, text=view.t, landing=_to_dashboard)


async def _to_dashboard(rt: Runtime, token: str) -> str:
    return "/admin"


@router.post("/logout")
async def logout(request: Request) -> Response:
    who = await viewer(request)
    form = await read_form(request)
    if who is not None and hmac.compare_digest(form.get("csrf", "").encode(), who.csrf.encode()):
        await auth_of(who.rt).logout(who.token)
    return signed_out("/admin/login")


@router.get("/static/admin.css")
async def stylesheet() -> Response:
    return Response((STATIC / "admin.css").read_bytes(), media_type="text/css; charset=utf-8")


class AdminHeaders:
    """The staff console's security headers on every response under /admin and /api/stats."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if not any(path == p or path.startswith(p + "/") for p in PREFIXES):
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                kept = [
                    (k, v)
                    for k, v in message.get("headers", [])
                    if k.decode("latin-1").lower() not in HEADERS
                ]
                message["headers"] = kept + [(k.encode(), v.encode()) for k, v in HEADERS.items()]
            await send(message)

        await self.app(scope, receive, with_headers)


def mount(app: FastAPI) -> None:
    """Add the dashboard's pages and JSON to the app (after the staff console's mount)."""
    app.add_middleware(AdminHeaders)
    app.include_router(router)
    app.include_router(admin_api.router)
