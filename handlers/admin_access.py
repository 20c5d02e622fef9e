"""Who may see the admin dashboard, for which partners, and loading what they may see.

The session is the staff console's (StaffAuth) and so is its cookie, on path "/" so that
/staff, /admin and /api/stats all receive it: one sign-in for every staff page. Admins see
every partner, supervisors their own partner, counsellors nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from fastapi import Request

from bot.runtime import Runtime
from bot.setup_overrides import stats_k
from core.dashboard import Dashboard, Period, Targets, build_dashboard, months_of, span_of
from core.model import Role, Staff
from core.usecases import staffing
from handlers.staff_console_session import COOKIE, auth_of
from storage.stats_source import load_case_facts, load_open_load


@dataclass(frozen=True)
class Viewer:
    rt: Runtime
    staff: Staff
    csrf: str
    token: str

    @property
    def allowed(self) -> bool:
        return self.staff.role in (Role.ADMIN, Role.SUPERVISOR)


async def viewer(request: Request) -> Viewer | None:
    """The signed-in staff member behind the dashboard cookie, or None."""
    rt: Runtime = request.app.state.runtime
    token = request.cookies.get(COOKIE, "")
    found = await auth_of(rt).session(token, rt.clock.now()) if token else None
    staff = await staffing.staff_member(uow=rt.uow(), staff_id=found.staff_id) if found else None
    if found is None or staff is None:
        return None
    return Viewer(rt, staff, found.csrf_token, token)


async def scope_of(rt: Runtime, staff: Staff) -> tuple[str | None, tuple[str, ...] | None]:
    """(partner code, partner ids) a supervisor is limited to; (None, None) for an admin."""
    if staff.role is Role.ADMIN:
        return None, None
    queues = [q for q in await staffing.list_queues(uow=rt.uow()) if q.id in staff.queue_ids]
    partner_ids = tuple(sorted({q.partner_id for q in queues}))
    codes = sorted({q.code for q in queues})
    return (",".join(codes) or "-"), partner_ids


async def load_dashboard(who: Viewer, period: Period) -> Dashboard:
    """The suppressed statistics of one fixed period, limited to what the viewer may see."""
    return await dashboard_for(who.rt, who.staff, period)


async def dashboard_for(rt: Runtime, staff: Staff, period: Period) -> Dashboard:
    """The same for any page or bot: an admin sees every partner, a supervisor their own.

    The caller has checked the role: a counsellor sees no statistics."""
    settings = rt.svc.settings
    now: datetime = rt.clock.now()
    months = months_of(period, now.date())
    first, after = span_of(months)
    scope, partner_ids = await scope_of(rt, staff)
    facts = await load_case_facts(
        rt.svc.sessions,
        start=datetime(first.year, first.month, 1, tzinfo=UTC),
        end=datetime(after.year, after.month, 1, tzinfo=UTC),
        partner_ids=partner_ids,
    )
    load = await load_open_load(rt.svc.sessions, partner_ids=partner_ids)
    targets = Targets(
        float(settings.stats_target_first_response_minutes),
        float(settings.stats_target_resolution_minutes),
    )
    return build_dashboard(
        facts,
        load,
        period=period,
        today=now.date(),
        k=await stats_k(rt.svc),  # the admin's k from /admin/setup, else SAPA_STATS_K
        targets=targets,
        scope=scope,
    )
