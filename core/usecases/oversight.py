"""What admins and supervisors may see of staff activity: the audit trail, never content."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from core.errors import NotAllowed
from core.model import AuditEvent, Role, Staff
from core.ports import UnitOfWork
from core.purposes import shown_purpose
from core.usecases.common import require_staff, visible_queue_ids

TRAIL_LIMIT = 500


@dataclass(frozen=True)
class TrailRow:
    who: str
    action: str
    case_code: str | None
    purpose: str | None
    at: datetime


@dataclass(frozen=True)
class Trail:
    rows: Sequence[TrailRow]
    staff: Sequence[tuple[str, str]]  # (id, display name) for the filter


async def require_overseer(uow: UnitOfWork, staff_id: str) -> Staff:
    """Admins see the whole trail; supervisors their partner's cases; counsellors nothing."""
    viewer = await require_staff(uow, staff_id)
    if viewer.role is Role.COUNSELLOR:
        raise NotAllowed("error.not_allowed")
    return viewer


async def audit_trail(
    *, uow: UnitOfWork, viewer_id: str, actor_id: str | None = None, limit: int = TRAIL_LIMIT
) -> Trail:
    async with uow:
        viewer = await require_overseer(uow, viewer_id)
        members = list(await uow.staff.all())
        events = await uow.audit.recent(limit=limit, actor_id=actor_id or None)
        if viewer.role is Role.SUPERVISOR:
            events = await _of_own_partner(uow, viewer, events)
            seen = await visible_queue_ids(uow, viewer)
            members = [m for m in members if set(m.queue_ids) & seen]
    names = {m.id: m.display_name for m in members}
    rows = [_row(e, names) for e in events]
    return Trail(rows, sorted(names.items(), key=lambda item: item[1].casefold()))


async def _of_own_partner(
    uow: UnitOfWork, viewer: Staff, events: Sequence[AuditEvent]
) -> list[AuditEvent]:
    seen = await visible_queue_ids(uow, viewer)
    kept = []
    for event in events:
        case = await uow.cases.get_by_code(event.case_code) if event.case_code else None
        if case is not None and case.queue_id in seen:
            kept.append(event)
    return kept


def _row(event: AuditEvent, names: dict[str, str]) -> TrailRow:
    who = names.get(event.actor_id, "-")
    purpose = shown_purpose(event.action, event.purpose)
    return TrailRow(who, event.action, event.case_code, purpose, event.at)
