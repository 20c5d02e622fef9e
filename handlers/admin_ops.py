"""`/admin/ops`: outbox backlog and dead letters, NLU status, key versions, last purge.

Metadata only: ids, channels, attempts, ages, error classes; never a payload or an address,
never key material.
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request
from fastapi.responses import Response

from bot.health import nlu_up
from handlers.admin_kit import admin, layout, t, table, when
from handlers.staff_console_html import h
from handlers.staff_console_session import Signed
from storage import ops

router = APIRouter(prefix="/admin/ops", include_in_schema=False)
DEAD_HEADS = ("oversight.col_id", "oversight.col_channel", "oversight.col_attempts")
DEAD_HEADS += ("oversight.col_age", "oversight.col_error")
KEY_HEADS = ("oversight.col_version", "oversight.col_keys", "oversight.col_first")
KEY_HEADS += ("oversight.col_last",)


@router.get("")
async def ops_page(request: Request) -> Response:
    who = await admin(request)
    body = (
        f"<h1>{t('oversight.ops_heading')}</h1>"
        + await _outbox(who)
        + await _nlu(who)
        + await _keys(who)
        + await _purge(who)
    )
    return layout(who, "/admin/ops", body)


async def _outbox(who: Signed) -> str:
    now = who.rt.clock.now()
    counts = await who.rt.outbox.counts(now=now)
    dead = await ops.dead_letters(who.rt.svc.sessions)
    rows = [
        (h(d.id[:8]), h(d.channel), str(d.attempts), _age(now, d.created_at), h(d.error))
        for d in dead
    ]
    summary = t(
        "oversight.outbox_summary",
        pending=counts.pending,
        oldest=round(counts.oldest_pending_seconds),
        dead=counts.dead,
    )
    return (
        f'<h2>{t("oversight.outbox_heading")}</h2><p id="outbox">{summary}</p>'
        f"<h3>{t('oversight.dead_heading')}</h3>" + table(DEAD_HEADS, rows)
    )


def _age(now: datetime, at: datetime) -> str:
    return t("console.minutes", minutes=max(0, int((now - at).total_seconds() // 60)))


async def _nlu(who: Signed) -> str:
    up = await nlu_up(who.rt.svc.settings)
    state = {None: "oversight.nlu_off", True: "oversight.nlu_up", False: "oversight.nlu_down"}[up]
    breaker = getattr(getattr(who.rt.classifier, "breaker", None), "state", "-")
    return (
        f"<h2>{t('oversight.nlu_heading')}</h2>"
        f'<p id="nlu-status">{t(state)} · {t("oversight.breaker", state=h(breaker))}</p>'
    )


async def _keys(who: Signed) -> str:
    ring = who.rt.svc.keyring
    versions = await ops.key_versions(
        who.rt.svc.sessions, loaded=sorted(ring.keks), current=ring.current_version
    )
    rows = [
        (
            f"v{v.version}" + (f" ({t('oversight.current')})" if v.current else ""),
            str(v.data_keys),
            when(v.first_used),
            when(v.last_used),
        )
        for v in versions
    ]
    return f"<h2>{t('oversight.keys_heading')}</h2>" + table(KEY_HEADS, rows)


async def _purge(who: Signed) -> str:
    ran = when(await ops.last_purge(who.rt.svc.sessions))
    return (
        f"<h2>{t('oversight.purge_heading')}</h2>"
        f'<p id="last-purge">{t("oversight.last_purge", at=ran)}</p>'
    )
