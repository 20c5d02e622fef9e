"""Shared bits of the admin pages (setup, staff, audit, operations): who may enter, layout.

Sign-in, session, CSRF and rate limits are the staff console's (staff_console_session);
these pages only add the role checks and a navigation bar.
"""

from __future__ import annotations

from collections.abc import Awaitable, Sequence
from datetime import datetime
from typing import TypeVar

from fastapi import Request
from fastapi.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.errors import DomainError
from core.model import Role
from core.policy import WIB
from handlers import staff_console_html as view
from handlers.staff_console_session import STATUS, Signed, domain_text, posted, signed_in
from handlers.staff_console_web import HEADERS, Stop, html

T = TypeVar("T")
PREFIXES = ("/admin/setup", "/admin/staff", "/admin/audit", "/admin/ops", "/metrics")
NAV = (
    ("/admin", "oversight.nav_stats"),
    ("/admin/setup", "oversight.nav_setup"),
    ("/admin/staff", "oversight.nav_staff"),
    ("/admin/audit", "oversight.nav_audit"),
    ("/admin/ops", "oversight.nav_ops"),
)


def t(key: str, **values: object) -> str:
    return view.t(key, **values)


def forbidden(who: Signed) -> Stop:
    return Stop(who.page(t("oversight.forbidden"), 403))


async def admin(request: Request) -> Signed:
    """A signed-in BKPSDM admin; anyone else gets 403 (and no one sees case content here)."""
    who = await signed_in(request)
    if who.staff.role is not Role.ADMIN:
        raise forbidden(who)
    return who


async def admin_posted(request: Request) -> tuple[Signed, dict[str, str]]:
    """A CSRF-checked POST of an admin (the console's check), else 403 with nothing done."""
    who, form = await posted(request)
    if who.staff.role is not Role.ADMIN:
        raise forbidden(who)
    return who, form


async def overseer(request: Request) -> Signed:
    """An admin or a supervisor (the audit trail); counsellors get 403."""
    who = await signed_in(request)
    if who.staff.role is Role.COUNSELLOR:
        raise forbidden(who)
    return who


async def run(who: Signed, call: Awaitable[T]) -> T:
    """One use case; a domain error becomes a kind page with the right status."""
    try:
        return await call
    except DomainError as error:
        raise Stop(who.page(domain_text(error), STATUS.get(type(error), 400))) from None


def layout(who: Signed, here: str, body: str, flash: str = "") -> Response:
    current = ' aria-current="page"'
    links = "".join(
        f'<a href="{path}"{current if path == here else ""}>{t(key)}</a> '
        for path, key in NAV
        if who.staff.role is Role.ADMIN or path in ("/admin", "/admin/audit")
    )
    nav = f'<nav class="admin-nav" aria-label="{t("oversight.nav_label")}">{links}</nav>'
    return html(view.page(nav + body, staff=who.staff, csrf=who.csrf, flash=flash))


def when(at: datetime | None) -> str:
    return at.astimezone(WIB).strftime("%Y-%m-%d %H:%M WIB") if at else "-"


def table(heads: Sequence[str], rows: Sequence[Sequence[str]], css: str = "queue") -> str:
    """Cells must already be escaped."""
    head = "".join(f'<th scope="col">{t(key)}</th>' for key in heads)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    if not rows:
        body = f'<tr><td colspan="{len(heads)}">{t("oversight.none")}</td></tr>'
    return f'<table class="{css}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


class AdminHeaders:
    """The console's security headers on every admin page and on /metrics."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if not path.startswith(PREFIXES):
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = message.get("headers", [])
                kept = [(k, v) for k, v in headers if k.decode().lower() not in HEADERS]
                message["headers"] = kept + [(k.encode(), v.encode()) for k, v in HEADERS.items()]
            await send(message)

        await self.app(scope, receive, with_headers)
