"""Who is asking: the console's session, its CSRF check, and one use case per request."""

from __future__ import annotations

import hmac
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import RedirectResponse, Response

from bot.runtime import Runtime
from bot.settings import Settings
from core.errors import AlreadyClaimed, DomainError, IllegalTransition, NotAllowed, NotFound
from core.model import Role, Staff
from core.usecases import casework, staffing
from handlers import staff_console_html as view
from handlers.staff_console_web import Buckets, Stop, client_ip, html, read_form, same_origin
from storage.staff_auth import SESSION_LIFETIME, StaffAuth

COOKIE = "sapa_staff"
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


async def rows_for(who: Signed) -> tuple[str, list[casework.QueueItem]]:
    items = list(await casework.list_queue(uow=who.rt.uow(), staff_id=who.staff.id))
    queues = {q.id: q.name for q in await staffing.list_queues(uow=who.rt.uow())}
    now = who.rt.clock.now()
    return view.queue_rows(items, queues, who.staff, who.csrf, now), items


async def open_session(
    request: Request,
    *,
    page: Callable[..., str],
    text: Callable[[str], str],
    landing: Callable[[Runtime, str], Awaitable[str]],
) -> Response:
    """Username and password sign-in, shared by /staff/login and /admin/login: rate-limited
    per IP, same-origin only, then the one session cookie on path "/" that every staff page
    (the console and the admin pages) reads."""
    settings = console(request).settings
    if not console(request).logins.take(client_ip(request)):
        return html(page(text("console.rate_limited")), 429)
    form = await read_form(request)
    if not same_origin(request, settings.public_url):
        return html(page(text("console.csrf_failed")), 403)
    rt: Runtime = request.app.state.runtime
    username = form.get("username", "")[:100]
    opened = await auth_of(rt).login(username, form.get("password", ""), rt.clock.now())
    if opened is None:
        return html(page(text("console.login_failed"), username), 401)
    response = RedirectResponse(await landing(rt, opened.session_token), status_code=303)
    secure = request.url.scheme == "https" or (settings.public_url or "").startswith("https")
    response.set_cookie(
        COOKIE,
        opened.session_token,
        max_age=int(SESSION_LIFETIME.total_seconds()),
        path="/",
        httponly=True,
        samesite="strict",
        secure=secure,
    )
    return response


def signed_out(location: str) -> Response:
    """Back to a sign-in page, with the session cookie removed."""
    response = RedirectResponse(location, status_code=303)
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict")
    return response
