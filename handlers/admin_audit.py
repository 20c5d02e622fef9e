"""`/admin/audit`: who read which case code, when and why; chain status; CSV for the DPO.

Admins see every event, supervisors those on their partner's cases, counsellors nothing.
Only metadata is shown: a display name, an action, a case code, the purpose chosen from a
fixed list (never free text), a time.
"""

from __future__ import annotations

import csv
import io
import re

from fastapi import APIRouter, Request
from fastapi.responses import Response

from core import catalogue
from core.purposes import READ_ACTION, purpose_label_key
from core.usecases import oversight
from handlers.admin_kit import layout, overseer, run, t, table, when
from handlers.staff_console_html import h
from handlers.staff_console_session import Signed
from storage.audit import verify_chain

router = APIRouter(prefix="/admin/audit", include_in_schema=False)
STAFF_ID = re.compile(r"^[0-9a-f-]{1,36}$")
HEADS = ("oversight.col_when", "oversight.col_who", "oversight.col_action")
HEADS += ("oversight.col_case", "oversight.col_purpose")


def _actor(request: Request) -> str | None:
    chosen = request.query_params.get("staff", "")
    return chosen if STAFF_ID.match(chosen) else None


async def _trail(who: Signed, actor: str | None) -> oversight.Trail:
    call = oversight.audit_trail(uow=who.rt.uow(), viewer_id=who.staff.id, actor_id=actor)
    return await run(who, call)


@router.get("")
async def audit_page(request: Request) -> Response:
    who = await overseer(request)
    actor = _actor(request)
    trail = await _trail(who, actor)
    check = await verify_chain(who.rt.svc.sessions, who.rt.svc.keyring.audit_key)
    status = (
        t("oversight.chain_ok", events=check.events)
        if check.ok
        else t("oversight.chain_broken", seq=check.first_bad_seq, reason=check.reason)
    )
    rows = [
        (when(r.at), h(r.who), h(r.action), h(r.case_code or "-"), h(_purpose(r) or "-"))
        for r in trail.rows
    ]
    body = (
        f"<h1>{t('oversight.audit_heading')}</h1>"
        f'<p class="{"flash" if check.ok else "error"}" id="chain-status">{status}</p>'
        f"{_filter(trail, actor)}"
        f'<p><a href="/admin/audit/export.csv{"?staff=" + actor if actor else ""}" '
        f"download>{t('oversight.export_csv')}</a></p>"
        f'<p class="hint">{t("oversight.audit_hint", limit=oversight.TRAIL_LIMIT)}</p>'
        + table(HEADS, rows)
    )
    return layout(who, "/admin/audit", body)


def _purpose(row: oversight.TrailRow) -> str:
    """A read's purpose code as its label; other events' detail (setup, members) as is."""
    if row.action == READ_ACTION and row.purpose:
        return catalogue.text(purpose_label_key(row.purpose), "id")
    return row.purpose or ""


def _filter(trail: oversight.Trail, actor: str | None) -> str:
    options = f'<option value="">{t("oversight.all_staff")}</option>' + "".join(
        f'<option value="{h(i)}"{" selected" if i == actor else ""}>{h(name)}</option>'
        for i, name in trail.staff
    )
    return (
        '<form method="get" action="/admin/audit" class="stack">'
        f'<label>{t("oversight.filter_staff")}<select name="staff">{options}</select></label>'
        f'<button type="submit">{t("oversight.filter_button")}</button></form>'
    )


def _cell(value: str) -> str:
    """A spreadsheet must never run a purpose as a formula."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


@router.get("/export.csv")
async def audit_csv(request: Request) -> Response:
    who = await overseer(request)
    trail = await _trail(who, _actor(request))
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["at_utc", "staff", "action", "case_code", "purpose", "purpose_text"])
    for r in trail.rows:
        row = [r.at.isoformat(), r.who, r.action, r.case_code or "", r.purpose or ""]
        row.append(_purpose(r) if r.action == READ_ACTION else "")
        writer.writerow([_cell(v) for v in row])
    headers = {"content-disposition": 'attachment; filename="sapa-audit.csv"'}
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8", headers=headers)
