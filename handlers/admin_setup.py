"""`/admin/setup`: partners and queues, the category -> queue mapping, retention and k,
emergency contacts, service hours and holidays. Every change is audited (setup.changed).
"""

from __future__ import annotations

from collections.abc import Mapping

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from bot.settings import Settings
from bot.setup_overrides import apply_saved
from core.policy import ServicePolicy
from core.triage import CASE_CATEGORIES
from core.usecases import setup
from handlers import admin_partners
from handlers.admin_kit import admin, admin_posted, layout, run, t, table
from handlers.staff_console_html import button, form, h, hidden

router = APIRouter(prefix="/admin/setup", include_in_schema=False)
HEADS = ("oversight.col_queue", "oversight.col_partner", "oversight.col_categories")
HEADS += ("oversight.col_action_staff",)
FIELDS = ("retention_days", "stats_k", "opens", "closes", "holidays", "emergency_contacts")


@router.get("")
async def setup_page(request: Request) -> Response:
    who = await admin(request)
    view = await run(who, setup.setup_view(uow=who.rt.uow(), admin_id=who.staff.id))
    partners = {p.id: p.name for p in view.partners}
    rows = [
        (
            h(f"{q.name} ({q.code})")
            + (f" · {t('oversight.general_desk')}" if q.general_desk else ""),
            h(partners.get(q.partner_id, "-")),
            ", ".join(t(f"category.{c.value}") for c in q.categories) or "-",
            admin_partners.queue_actions(q, who.csrf),
        )
        for q in view.queues
    ]
    flash = t("oversight.saved") if request.query_params.get("done") == "1" else ""
    body = (
        f"<h1>{t('oversight.setup_heading')}</h1>"
        f"<h2>{t('oversight.mapping_heading')}</h2>"
        + table(HEADS, rows)
        + admin_partners.add_queue_form(view.partners, who.csrf)
        + _mapping_form(view, who.csrf)
        + admin_partners.partners_section(view.partners, who.csrf)
        + "".join(
            _value_form(key, _current(key, view.values, who.rt.svc.settings), who.csrf)
            for key in FIELDS
        )
    )
    return layout(who, "/admin/setup", body, flash)


def _mapping_form(view: setup.SetupView, csrf: str) -> str:
    cats = "".join(
        f'<option value="{c.value}">{t("category." + c.value)}</option>' for c in CASE_CATEGORIES
    )
    queues = "".join(f'<option value="{h(q.code)}">{h(q.name)}</option>' for q in view.queues)
    return form(
        "/admin/setup/mapping",
        csrf,
        f'<label>{t("oversight.col_category")}<select name="category">{cats}</select></label>'
        f'<label>{t("oversight.col_queue")}<select name="queue">{queues}</select></label>'
        + button(t("oversight.map_button")),
        css="stack",
    )


def _current(key: str, values: Mapping[str, object], settings: Settings) -> str:
    """What the form shows: the saved value, else the default in force."""
    policy = setup.policy_from(values, ServicePolicy())
    shown: dict[str, object] = {
        "retention_days": setup.effective_int(values, key, settings.retention_days),
        "stats_k": setup.effective_int(values, key, settings.stats_k),
        "opens": f"{policy.opens:%H:%M}",
        "closes": f"{policy.closes:%H:%M}",
        "holidays": " ".join(sorted(policy.holidays)),
        "emergency_contacts": "\n".join(policy.emergency_contacts),
    }
    return str(shown[key])


def _value_form(key: str, current: str, csrf: str) -> str:
    if key == "emergency_contacts":
        field = f'<textarea name="value" rows="6" maxlength="2400">{h(current)}</textarea>'
    else:
        field = f'<input name="value" value="{h(current)}" maxlength="800">'
    return form(
        "/admin/setup/value",
        csrf,
        f"<label>{t('oversight.field_' + key)}{field}</label>"
        f'<p class="hint">{t("oversight.hint_" + key)}</p>' + button(t("oversight.save")),
        extra=hidden("key", key),
        css="stack",
    )


@router.post("/mapping")
async def mapping(request: Request) -> Response:
    who, data = await admin_posted(request)
    call = setup.map_category(
        uow=who.rt.uow(),
        admin_id=who.staff.id,
        category=data.get("category", ""),
        queue_code=data.get("queue", ""),
        clock=who.rt.clock,
    )
    await run(who, call)
    return RedirectResponse("/admin/setup?done=1", status_code=303)


@router.post("/value")
async def value(request: Request) -> Response:
    who, data = await admin_posted(request)
    key = data.get("key", "")
    call = setup.change_value(
        uow=who.rt.uow(),
        admin_id=who.staff.id,
        key=key,
        raw=data.get("value", ""),
        clock=who.rt.clock,
    )
    await run(who, call)
    await apply_saved(who.rt.svc)  # this worker at once; others within setup_refresh_seconds
    return RedirectResponse("/admin/setup?done=1", status_code=303)


router.include_router(admin_partners.router)  # partners and queues
