"""Partners and queues on `/admin/setup`: add, rename, remove an idle queue (all audited).

The forms are rendered into the setup page; the routes are included in its router.
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from core.model import Partner, Queue
from core.triage import CASE_CATEGORIES
from core.usecases import setup_partners
from handlers.admin_kit import admin_posted, run, t, table
from handlers.staff_console_html import button, form, h

router = APIRouter()
DONE = "/admin/setup?done=1"
PARTNER_HEADS = ("oversight.col_code", "oversight.col_partner", "oversight.col_action_staff")


def _name_field(value: str = "") -> str:
    return (
        f'<label>{t("oversight.col_entity_name")}<input name="name" required maxlength="200" '
        f'value="{h(value)}"></label>'
    )


def _code_field() -> str:
    return (
        f'<label>{t("oversight.col_code")}<input name="code" required maxlength="40" '
        f'pattern="[a-z][a-z0-9_\\-]{{1,39}}"></label>'
        f'<p class="hint">{t("oversight.hint_code")}</p>'
    )


def partners_section(partners: Sequence[Partner], csrf: str) -> str:
    rows = [
        (
            h(p.code),
            h(p.name),
            form(
                f"/admin/setup/partners/{quote(p.code)}/rename",
                csrf,
                _name_field(p.name) + button(t("oversight.rename_button")),
            ),
        )
        for p in partners
    ]
    add = form(
        "/admin/setup/partners",
        csrf,
        f"<h3>{t('oversight.add_partner_heading')}</h3>"
        + _code_field()
        + _name_field()
        + button(t("oversight.add_partner_button")),
        css="stack",
    )
    return f"<h2>{t('oversight.partners_heading')}</h2>" + table(PARTNER_HEADS, rows) + add


def queue_actions(queue: Queue, csrf: str) -> str:
    base = f"/admin/setup/queues/{quote(queue.code)}"
    rename = form(
        f"{base}/rename", csrf, _name_field(queue.name) + button(t("oversight.rename_button"))
    )
    if queue.general_desk:
        return rename
    return rename + form(f"{base}/remove", csrf, button(t("oversight.remove_queue_button")))


def add_queue_form(partners: Sequence[Partner], csrf: str) -> str:
    owners = "".join(f'<option value="{h(p.code)}">{h(p.name)}</option>' for p in partners)
    topics = "".join(
        f'<label class="check"><input type="checkbox" name="cat_{c.value}"> '
        f"{t('category.' + c.value)}</label>"
        for c in CASE_CATEGORIES
    )
    return form(
        "/admin/setup/queues",
        csrf,
        f"<h3>{t('oversight.add_queue_heading')}</h3>"
        + _code_field()
        + _name_field()
        + f'<label>{t("oversight.col_partner")}<select name="partner">{owners}</select></label>'
        + f"<fieldset><legend>{t('oversight.col_categories')}</legend>{topics}</fieldset>"
        + f'<p class="hint">{t("oversight.hint_queue_categories")}</p>'
        + button(t("oversight.add_queue_button")),
        css="stack",
    )


def _categories(data: dict[str, str]) -> list[str]:
    return sorted(k.removeprefix("cat_") for k in data if k.startswith("cat_"))


@router.post("/partners")
async def add_partner(request: Request) -> Response:
    who, data = await admin_posted(request)
    call = setup_partners.add_partner(
        uow=who.rt.uow(),
        admin_id=who.staff.id,
        code=data.get("code", "")[:40],
        name=data.get("name", ""),
        clock=who.rt.clock,
    )
    await run(who, call)
    return RedirectResponse(DONE, status_code=303)


@router.post("/partners/{code}/rename")
async def rename_partner(code: str, request: Request) -> Response:
    who, data = await admin_posted(request)
    call = setup_partners.rename_partner(
        uow=who.rt.uow(),
        admin_id=who.staff.id,
        code=code[:40],
        name=data.get("name", ""),
        clock=who.rt.clock,
    )
    await run(who, call)
    return RedirectResponse(DONE, status_code=303)


@router.post("/queues")
async def add_queue(request: Request) -> Response:
    who, data = await admin_posted(request)
    call = setup_partners.add_queue(
        uow=who.rt.uow(),
        admin_id=who.staff.id,
        code=data.get("code", "")[:40],
        name=data.get("name", ""),
        partner_code=data.get("partner", "")[:40],
        categories=_categories(data),
        clock=who.rt.clock,
    )
    await run(who, call)
    return RedirectResponse(DONE, status_code=303)


@router.post("/queues/{code}/rename")
async def rename_queue(code: str, request: Request) -> Response:
    who, data = await admin_posted(request)
    call = setup_partners.rename_queue(
        uow=who.rt.uow(),
        admin_id=who.staff.id,
        code=code[:40],
        name=data.get("name", ""),
        clock=who.rt.clock,
    )
    await run(who, call)
    return RedirectResponse(DONE, status_code=303)


@router.post("/queues/{code}/remove")
async def remove_queue(code: str, request: Request) -> Response:
    who, _ = await admin_posted(request)
    call = setup_partners.remove_queue(
        uow=who.rt.uow(), admin_id=who.staff.id, code=code[:40], clock=who.rt.clock
    )
    await run(who, call)
    return RedirectResponse(DONE, status_code=303)
