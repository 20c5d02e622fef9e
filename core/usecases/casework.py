"""What staff do with a case: list, claim, read (audited), reply, note, transfer, resolve."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from core import catalogue
from core.errors import AlreadyClaimed, NotAllowed, NotFound
from core.model import (
    AuditEvent,
    Case,
    CaseStatus,
    Direction,
    Role,
    Staff,
)
from core.policy import WIB
from core.ports import Clock, UnitOfWork
from core.purposes import read_purpose
from core.triage import Category
from core.usecases.common import (
    append_message,
    clean_text,
    rating_buttons,
    require_case,
    require_queue,
    require_staff,
    require_visible,
    to_client,
    to_staff,
    visible_queue_ids,
)


@dataclass(frozen=True)
class QueueItem:
    code: str
    queue_id: str | None
    category: Category
    crisis: bool
    status: CaseStatus
    opened_at: datetime
    assignee_id: str | None
    channel: str | None  # the client's: telegram, whatsapp or web (None: the client is gone)


@dataclass(frozen=True)
class Claimed:
    case: Case
    channel: str | None  # the client's, named to the counsellor (None: the client is gone)


@dataclass(frozen=True)
class TranscriptLine:
    direction: Direction
    author: str
    body: str
    at: datetime

    def who(self, locale: str = "id") -> str:
        """The author as staff read it: the client, the system, or the counsellor by name; an
        internal note is marked, so that it is never taken for a reply the client saw."""
        named = {
            Direction.CLIENT: "console.author_client",
            Direction.SYSTEM: "console.author_system",
        }
        key = named.get(self.direction)
        author = catalogue.text(key, locale) if key else self.author
        if self.direction is Direction.NOTE:
            author += f" ({catalogue.text('console.note_mark', locale)})"
        return author

    def when(self) -> str:
        """Day, month and time in Purworejo's time zone (WIB), as the counsellor lives it."""
        return self.at.astimezone(WIB).strftime("%d/%m %H:%M WIB")


async def list_queue(*, uow: UnitOfWork, staff_id: str) -> Sequence[QueueItem]:
    """Cases waiting or in work in the staff member's queues: crisis first, then oldest."""
    async with uow:
        staff = await require_staff(uow, staff_id)
        if staff.role is Role.ADMIN:
            raise NotAllowed("error.not_allowed")
        queue_ids = sorted(await visible_queue_ids(uow, staff))
        cases = await uow.cases.list_queue(
            queue_ids=queue_ids, statuses=(CaseStatus.QUEUED, CaseStatus.ASSIGNED)
        )
        channels = await uow.clients.channels(sorted({c.client_id for c in cases}))
    return [
        QueueItem(
            c.code,
            c.queue_id,
            c.category,
            c.crisis,
            c.status,
            c.opened_at,
            c.assignee_id,
            channels.get(c.client_id),
        )
        for c in cases
    ]


async def claim_case(*, uow: UnitOfWork, staff_id: str, case_code: str, clock: Clock) -> Claimed:
    """Exactly one of several racing counsellors wins; the others get AlreadyClaimed."""
    async with uow:
        staff = await require_staff(uow, staff_id)
        case = await require_case(uow, case_code)
        await require_visible(uow, staff, case)
        if staff.role is Role.ADMIN:
            raise NotAllowed("error.not_allowed")
        if not await uow.cases.claim(case_id=case.id, staff_id=staff.id, at=clock.now()):
            raise AlreadyClaimed("error.already_claimed", code=case.code)
        claimed = await uow.cases.get(case.id)
        assert claimed is not None
        queue = await require_queue(uow, claimed.queue_id)
        client = await uow.clients.get(claimed.client_id)
        if client is not None:
            await uow.outbox.add(
                to_client(
                    client,
                    "case.claimed",
                    case=claimed,
                    name=staff.display_name,
                    team=queue.name,
                    code=claimed.code,
                )
            )
        await uow.commit()
    return Claimed(claimed, client.channel if client is not None else None)


async def read_transcript(
    *, uow: UnitOfWork, staff_id: str, case_code: str, purpose: str, clock: Clock
) -> Sequence[TranscriptLine]:
    """No log, no read: the audit event is written in the same transaction as the read.

    The purpose is a code from READ_PURPOSES; anything else is refused before the read.
    """
    code = read_purpose(purpose)
    async with uow:
        staff = await require_staff(uow, staff_id)
        case = await require_case(uow, case_code)
        _may_read(staff, case)
        await require_visible(uow, staff, case)
        await uow.audit.append(
            AuditEvent(
                actor_id=staff.id,
                action="transcript.read",
                case_code=case.code,
                purpose=code,
                at=clock.now(),
            )
        )
        messages = await uow.messages.for_case(case.id)
        names = {s.id: s.display_name for s in await uow.staff.all()}
        await uow.commit()
    return [
        TranscriptLine(
            m.direction, names.get(m.author_id or "", m.direction.value), m.body, m.created_at
        )
        for m in messages
    ]


def _may_read(staff: Staff, case: Case) -> None:
    if staff.role is Role.SUPERVISOR:
        return
    if staff.role is Role.COUNSELLOR and case.assignee_id == staff.id:
        return
    raise NotAllowed("error.not_allowed")


async def reply_to_client(
    *, uow: UnitOfWork, staff_id: str, case_code: str, text: str | None, clock: Clock
) -> None:
    body = clean_text(text)
    async with uow:
        staff, case = await _assigned(uow, staff_id, case_code)
        await append_message(uow, case, Direction.STAFF, staff.id, body, clock)
        if case.first_response_at is None:
            case.first_response_at = clock.now()
        await uow.cases.update(case)
        queue = await require_queue(uow, case.queue_id)
        client = await uow.clients.get(case.client_id)
        if client is not None:
            await uow.outbox.add(
                to_client(
                    client,
                    "case.reply",
                    case=case,
                    name=staff.display_name,
                    team=queue.name,
                    text=body,
                )
            )
        await uow.commit()


async def add_note(
    *, uow: UnitOfWork, staff_id: str, case_code: str, text: str | None, clock: Clock
) -> None:
    """An internal note: stored encrypted, never sent to the client."""
    body = clean_text(text)
    async with uow:
        staff = await require_staff(uow, staff_id)
        case = await require_case(uow, case_code)
        _may_read(staff, case)
        await require_visible(uow, staff, case)
        await append_message(uow, case, Direction.NOTE, staff.id, body, clock)
        await uow.commit()


async def transfer_case(
    *,
    uow: UnitOfWork,
    staff_id: str,
    case_code: str,
    queue_code: str,
    reason: str | None,
    clock: Clock,
) -> Case:
    """Back to queued, in another queue, with the reason kept as an internal note."""
    why = clean_text(reason)
    async with uow:
        staff = await require_staff(uow, staff_id)
        case = await require_case(uow, case_code)
        await require_visible(uow, staff, case)
        if staff.role is Role.COUNSELLOR and case.assignee_id != staff.id:
            raise NotAllowed("error.not_allowed")
        target = await uow.partners.queue_by_code(queue_code)
        if target is None:  # say which queues there are: the counsellor typed the code
            codes = ", ".join(sorted(q.code for q in await uow.partners.queues()))
            raise NotFound("error.unknown_queue", queue=queue_code, choices=codes)
        case.move_to(CaseStatus.QUEUED)
        case.queue_id, case.assignee_id = target.id, None
        await uow.cases.update(case)
        await append_message(uow, case, Direction.NOTE, staff.id, why, clock)
        client = await uow.clients.get(case.client_id)
        if client is not None:
            await uow.outbox.add(
                to_client(client, "case.transferred", case=case, code=case.code, team=target.name)
            )
        for other in await uow.staff.on_duty(queue_id=target.id):
            await uow.outbox.add(
                to_staff(
                    other,
                    "staff.case_transferred",
                    case=case,
                    urgent=case.crisis,
                    code=case.code,
                    queue=target.name,
                    reason=why,
                )
            )
        await uow.commit()
    return case


async def resolve_case(*, uow: UnitOfWork, staff_id: str, case_code: str, clock: Clock) -> None:
    async with uow:
        _, case = await _assigned(uow, staff_id, case_code)
        case.move_to(CaseStatus.RESOLVED)
        case.resolved_at = clock.now()
        await uow.cases.update(case)
        client = await uow.clients.get(case.client_id)
        if client is not None:
            await uow.outbox.add(to_client(client, "case.resolved", case=case, code=case.code))
            ask = to_client(client, "case.feedback_ask", case=case)
            ask.buttons = rating_buttons()
            await uow.outbox.add(ask)
        await uow.commit()


async def _assigned(uow: UnitOfWork, staff_id: str, case_code: str) -> tuple[Staff, Case]:
    staff = await require_staff(uow, staff_id)
    case = await require_case(uow, case_code)
    if case.status is not CaseStatus.ASSIGNED or case.assignee_id != staff.id:
        raise NotAllowed("error.not_allowed")
    return staff, case


async def my_cases(*, uow: UnitOfWork, staff_id: str) -> Sequence[QueueItem]:
    """The cases this counsellor is handling now."""
    items = await list_queue(uow=uow, staff_id=staff_id)
    return [i for i in items if i.assignee_id == staff_id and i.status is CaseStatus.ASSIGNED]
