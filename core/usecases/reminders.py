"""SLA reminders: unclaimed for 4 working hours; no first response a working day after claim.

Crisis cases are paged again after 5 minutes by intake.repage_unclaimed_crisis.
"""

from __future__ import annotations

from datetime import datetime

from core.model import Case, CaseStatus
from core.policy import ServicePolicy
from core.ports import Clock, UnitOfWork
from core.usecases.common import to_staff

UNCLAIMED_AFTER_MINUTES = 4 * 60
NO_RESPONSE_AFTER_MINUTES = 8 * 60  # one working day


async def remind_sla(*, uow: UnitOfWork, clock: Clock, policy: ServicePolicy) -> int:
    """Remind staff once per lapse; returns how many reminders were written."""
    now, sent = clock.now(), 0
    async with uow:
        for case in await uow.cases.waiting_for_staff():
            if case.crisis or not _lapsed(case, now, policy):
                continue
            sent += await _remind(uow, case)
            case.reminded_at = now
            await uow.cases.update(case)
        await uow.commit()
    return sent


def _lapsed(case: Case, now: datetime, policy: ServicePolicy) -> bool:
    if case.status is CaseStatus.QUEUED:
        since, limit = case.reminded_at or case.opened_at, UNCLAIMED_AFTER_MINUTES
    else:
        since = max(case.reminded_at or case.opened_at, case.claimed_at or case.opened_at)
        limit = NO_RESPONSE_AFTER_MINUTES
    return policy.working_minutes(since, now) >= limit


async def _remind(uow: UnitOfWork, case: Case) -> int:
    queue = await uow.partners.queue(case.queue_id) if case.queue_id else None
    if queue is None:
        return 0
    if case.status is CaseStatus.ASSIGNED and case.assignee_id:
        assignee = await uow.staff.get(case.assignee_id)
        people = [assignee] if assignee is not None and assignee.active else []
        key = "staff.sla_no_response"
    else:
        people = list(await uow.staff.on_duty(queue_id=queue.id))
        people += await uow.staff.supervisors(partner_id=queue.partner_id)
        key = "staff.sla_unclaimed"
    unique = {p.id: p for p in people}.values()
    for person in unique:
        await uow.outbox.add(
            to_staff(
                person,
                key,
                case=case,
                claimable=key == "staff.sla_unclaimed",
                code=case.code,
                queue=queue.name,
            )
        )
    return len(unique)
