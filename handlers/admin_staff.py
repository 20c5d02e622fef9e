"""`/admin/staff`: list, create, invite (code, t.me link, QR), queues, disable, new password.

A one-time password or invite code is shown once, on the response to the POST, and never
stored in plaintext. Last activity is the last sign-in time, never anything about cases.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from urllib.parse import quote

import segno
from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from core.model import Queue, Role
from core.usecases import staff_admin, staffing
from handlers.admin_kit import admin, admin_posted, layout, run, t, table, when
from handlers.staff_console_html import button, form, h
from handlers.staff_console_session import Signed, auth_of
from handlers.staff_console_web import Stop
from storage.staff_auth import LoginError

router = APIRouter(prefix="/admin/staff", include_in_schema=False)
HEADS = ("oversight.col_name", "oversight.col_role", "oversight.col_queues")
HEADS += ("oversight.col_state", "oversight.col_seen", "oversight.col_action_staff")
ROLES = {r.value: r for r in Role}


@router.get("")
async def staff_page(request: Request) -> Response:
    who = await admin(request)
    return await _render(who, "", request.query_params.get("done", ""))


async def _render(who: Signed, shown: str, done: str = "") -> Response:
    members = await run(who, staff_admin.list_members(uow=who.rt.uow(), admin_id=who.staff.id))
    queues = await staffing.list_queues(uow=who.rt.uow())
    rows = [_row(m, queues, who.csrf) for m in members]
    flash = t("oversight.saved") if done == "1" else ""
    body = (
        f"<h1>{t('oversight.staff_heading')}</h1>{shown}"
        + table(HEADS, rows)
        + _invite_form(queues, who.csrf)
        + _create_form(queues, who.csrf)
    )
    return layout(who, "/admin/staff", body, flash)


def _checks(queues: Sequence[Queue], chosen: tuple[str, ...] = ()) -> str:
    return "".join(
        f'<label class="check"><input type="checkbox" name="queue_{h(q.code)}"'
        f"{' checked' if q.code in chosen else ''}> {h(q.name)}</label>"
        for q in queues
    )


def _roles(allowed: tuple[Role, ...]) -> str:
    options = "".join(
        f'<option value="{r.value}">{t("console.role_" + r.value)}</option>' for r in allowed
    )
    return f'<label>{t("oversight.col_role")}<select name="role">{options}</select></label>'


def _row(m: staff_admin.Member, queues: Sequence[Queue], csrf: str) -> tuple[str, ...]:
    base = f"/admin/staff/{quote(m.id)}"
    state = t("oversight.active" if m.active else "oversight.disabled")
    if m.active:
        state += " · " + t("console.duty_on" if m.on_duty else "console.duty_off")
    actions = ""
    if m.active:
        actions = (
            form(
                f"{base}/queues",
                csrf,
                _checks(queues, m.queue_codes) + button(t("oversight.save_queues")),
            )
            + form(f"{base}/reset", csrf, button(t("oversight.reset_password")))
            + form(f"{base}/disable", csrf, button(t("oversight.disable")))
        )
    return (
        h(m.display_name),
        t("console.role_" + m.role.value),
        h(", ".join(m.queue_codes) or "-"),
        state,
        when(m.last_active_at),
        actions,
    )


def _invite_form(queues: Sequence[Queue], csrf: str) -> str:
    return form(
        "/admin/staff/invite",
        csrf,
        f"<h2>{t('oversight.invite_heading')}</h2>"
        + _roles((Role.COUNSELLOR, Role.SUPERVISOR))
        + f"<fieldset><legend>{t('oversight.col_queues')}</legend>{_checks(queues)}</fieldset>"
        + button(t("oversight.invite_button")),
        css="stack",
    )


def _create_form(queues: Sequence[Queue], csrf: str) -> str:
    return form(
        "/admin/staff/create",
        csrf,
        f"<h2>{t('oversight.create_heading')}</h2>"
        f"<label>{t('oversight.col_name')}"
        '<input name="display_name" required maxlength="60"></label>'
        f'<label>{t("console.username")}<input name="username" required maxlength="100" '
        'autocomplete="off"></label>'
        + _roles((Role.COUNSELLOR, Role.SUPERVISOR, Role.ADMIN))
        + f"<fieldset><legend>{t('oversight.col_queues')}</legend>{_checks(queues)}</fieldset>"
        + button(t("oversight.create_button")),
        css="stack",
    )


def _queue_codes(form_data: dict[str, str]) -> list[str]:
    return sorted(k.removeprefix("queue_") for k in form_data if k.startswith("queue_"))


def _role(form_data: dict[str, str], who: Signed) -> Role:
    role = ROLES.get(form_data.get("role", ""))
    if role is None:
        raise Stop(who.page(t("oversight.bad_value"), 400))
    return role


def _once(title: str, secret: str, extra: str = "") -> str:
    return (
        f'<section class="flash" id="shown-once"><h2>{title}</h2>'
        f'<p><code id="secret">{h(secret)}</code></p>{extra}'
        f'<p class="hint">{t("oversight.shown_once")}</p></section>'
    )


@router.post("/invite")
async def invite(request: Request) -> Response:
    who, data = await admin_posted(request)
    issued = await run(
        who,
        staff_admin.invite_member(
            uow=who.rt.uow(),
            admin_id=who.staff.id,
            role=_role(data, who),
            queue_codes=_queue_codes(data),
            clock=who.rt.clock,
        ),
    )
    return await _render(
        who, _once(t("oversight.invite_code"), issued.code, _link(who, issued.code))
    )


def _link(who: Signed, code: str) -> str:
    bot = who.rt.svc.settings.telegram_staff_bot_username
    if not bot:
        return f'<p class="hint">{t("oversight.no_bot_username")}</p>'
    link = f"https://t.me/{quote(bot.lstrip('@'))}?start={quote(code)}"
    svg = segno.make(link, error="m").svg_inline(scale=4)
    return (
        f'<p><a id="invite-link" href="{h(link)}">{h(link)}</a></p>'
        f'<figure class="qr" aria-label="{t("oversight.qr_label")}">{svg}</figure>'
    )


@router.post("/create")
async def create(request: Request) -> Response:
    who, data = await admin_posted(request)
    username = data.get("username", "").strip()[:100]
    auth = auth_of(who.rt)
    if not username or await auth.staff_id_for(username) is not None:
        raise Stop(who.page(t("oversight.username_taken"), 409))
    member = await run(
        who,
        staff_admin.create_member(
            uow=who.rt.uow(),
            admin_id=who.staff.id,
            display_name=data.get("display_name", ""),
            role=_role(data, who),
            queue_codes=_queue_codes(data),
            clock=who.rt.clock,
        ),
    )
    password = secrets.token_urlsafe(12)
    try:
        await auth.add_login(member.id, username, password, who.rt.clock.now())
    except LoginError:
        raise Stop(who.page(t("oversight.username_taken"), 409)) from None
    return await _render(
        who, _once(t("oversight.first_password", name=member.display_name), password)
    )


@router.post("/{staff_id}/queues")
async def queues(staff_id: str, request: Request) -> Response:
    who, data = await admin_posted(request)
    await run(
        who,
        staff_admin.assign_queues(
            uow=who.rt.uow(),
            admin_id=who.staff.id,
            staff_id=staff_id[:36],
            queue_codes=_queue_codes(data),
            clock=who.rt.clock,
        ),
    )
    return RedirectResponse("/admin/staff?done=1", status_code=303)


@router.post("/{staff_id}/disable")
async def disable(staff_id: str, request: Request) -> Response:
    who, _ = await admin_posted(request)
    call = staff_admin.disable_member(
        uow=who.rt.uow(), admin_id=who.staff.id, staff_id=staff_id[:36], clock=who.rt.clock
    )
    await run(who, call)
    return RedirectResponse("/admin/staff?done=1", status_code=303)


@router.post("/{staff_id}/reset")
async def reset(staff_id: str, request: Request) -> Response:
    who, _ = await admin_posted(request)
    auth = auth_of(who.rt)
    if not await auth.has_login(staff_id[:36]):  # a Telegram-only member: nothing to reset
        raise Stop(who.page(t("oversight.no_login"), 409))
    call = staff_admin.password_reset(
        uow=who.rt.uow(), admin_id=who.staff.id, staff_id=staff_id[:36], clock=who.rt.clock
    )
    member = await run(who, call)
    password = secrets.token_urlsafe(12)
    try:
        await auth.reset_password(member.id, password, who.rt.clock.now())
    except LoginError:
        raise Stop(who.page(t("oversight.no_login"), 409)) from None
    return await _render(
        who, _once(t("oversight.new_password", name=member.display_name), password)
    )
