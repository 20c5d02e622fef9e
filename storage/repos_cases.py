"""Cases, their messages and feedback, and the partner/queue setup."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, bindparam, delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.model import (
    CONTINUED_STATUSES,
    Case,
    CaseStatus,
    Demographics,
    Direction,
    Feedback,
    Message,
    Partner,
    Queue,
    new_case_code,
)
from core.triage import Category
from storage.repos_people import ids_of
from storage.sealing import Sealer, with_key
from storage.tables import cases, feedback, messages, partners, queues


def _locked(query: Select[Any]) -> Select[Any]:
    """Cases are read to be changed: their rows are locked (PostgreSQL), so two workers never
    lose one another's update."""
    return query.with_for_update(of=cases)


# Built once at import (see storage/sealing.py): read on every message of an ASN, with the
# case's data key (its messages are sealed under it).
_OPEN_FOR_CLIENT = _locked(
    with_key(select(cases), cases.c.id)
    .where(cases.c.client_id == bindparam("client_id"))
    .where(cases.c.status.in_([s.value for s in CONTINUED_STATUSES]))
    .order_by(cases.c.opened_at.desc())
)
_CASE = _locked(with_key(select(cases), cases.c.id).where(cases.c.id == bindparam("id")))
_CODE_TAKEN = select(cases.c.id).where(cases.c.code == bindparam("code"))
# Writes with their values bound per call (the keys name the columns).
_ADD_CASE = insert(cases)
_UPDATE_CASE = update(cases).where(cases.c.id == bindparam("b_id"))
# A message takes the next number of its case in the insert itself (the case's row is locked).
_MESSAGE_COLUMNS = ("id", "case_id", "direction", "author_id", "body_enc", "created_at")
_ADD_MESSAGE = insert(messages).from_select(
    [*_MESSAGE_COLUMNS, "seq"],
    select(
        *(bindparam(name, type_=messages.c[name].type) for name in _MESSAGE_COLUMNS),
        func.coalesce(func.max(messages.c.seq), 0) + 1,
    ).where(messages.c.case_id == bindparam("case_id")),
)


def _case(row: Any) -> Case:
    return Case(
        id=row.id,
        code=row.code,
        client_id=row.client_id,
        status=CaseStatus(row.status),
        category=Category(row.category),
        crisis=row.crisis,
        priority=row.priority,
        queue_id=row.queue_id,
        assignee_id=row.assignee_id,
        opened_at=row.opened_at,
        first_response_at=row.first_response_at,
        resolved_at=row.resolved_at,
        closed_at=row.closed_at,
        demographics=Demographics(row.gender, row.age_band, row.employment),
        triage_confidence=row.triage_confidence,
        paged_at=row.paged_at,
        claimed_at=row.claimed_at,
        reminded_at=row.reminded_at,
    )


def _values(case: Case) -> dict[str, Any]:
    return {
        "status": case.status.value,
        "category": case.category.value,
        "crisis": case.crisis,
        "priority": case.priority,
        "queue_id": case.queue_id,
        "assignee_id": case.assignee_id,
        "first_response_at": case.first_response_at,
        "resolved_at": case.resolved_at,
        "closed_at": case.closed_at,
        "gender": case.demographics.gender,
        "age_band": case.demographics.age_band,
        "employment": case.demographics.employment,
        "triage_confidence": case.triage_confidence,
        "paged_at": case.paged_at,
        "claimed_at": case.claimed_at,
        "reminded_at": case.reminded_at,
    }


class SqlCaseRepository:
    def __init__(self, session: AsyncSession, sealer: Sealer) -> None:
        self._s, self._sealer = session, sealer

    async def add(self, case: Case) -> None:
        # Case codes are short, to be read out and typed (24^4): one may already be taken,
        # and then the new case gets another instead of failing on the unique code.
        while await self._s.scalar(_CODE_TAKEN, {"code": case.code}) is not None:
            case.code = new_case_code()
        await self._sealer.create_key(case.id)
        await self._s.execute(
            _ADD_CASE,
            {
                "id": case.id,
                "code": case.code,
                "client_id": case.client_id,
                "opened_at": case.opened_at,
                **_values(case),
            },
        )

    async def _many(self, query: Select[Any]) -> list[Case]:
        return await self._rows(_locked(query))

    async def _rows(self, locked: Select[Any], params: dict[str, Any] | None = None) -> list[Case]:
        rows = (await self._s.execute(locked, params)).all()
        for row in rows:
            if "key_wrapped" in row._fields:  # read through with_key
                self._sealer.read_with(row.id, row)
        return [_case(row) for row in rows]

    async def _first(
        self, locked: Select[Any], params: dict[str, Any] | None = None
    ) -> Case | None:
        found = await self._rows(locked, params)
        return found[0] if found else None

    async def get(self, case_id: str) -> Case | None:
        return await self._first(_CASE, {"id": case_id})

    async def get_by_code(self, code: str) -> Case | None:
        return await self._first(_locked(select(cases).where(cases.c.code == code)))

    async def open_for_client(self, client_id: str) -> Case | None:
        return await self._first(_OPEN_FOR_CLIENT, {"client_id": client_id})

    async def for_client(self, client_id: str) -> Sequence[Case]:
        return await self._many(
            select(cases).where(cases.c.client_id == client_id).order_by(cases.c.opened_at)
        )

    async def update(self, case: Case) -> None:
        await self._s.execute(_UPDATE_CASE, {"b_id": case.id, **_values(case)})

    async def claim(self, *, case_id: str, staff_id: str, at: datetime) -> bool:
        result = await self._s.execute(
            update(cases)
            .where((cases.c.id == case_id) & (cases.c.status == CaseStatus.QUEUED.value))
            .values(status=CaseStatus.ASSIGNED.value, assignee_id=staff_id, claimed_at=at)
        )
        return bool(getattr(result, "rowcount", 0) == 1)

    async def list_queue(
        self, *, queue_ids: Sequence[str], statuses: Sequence[CaseStatus]
    ) -> Sequence[Case]:
        query = (
            select(cases)
            .where(cases.c.queue_id.in_(list(queue_ids)))
            .where(cases.c.status.in_([s.value for s in statuses]))
            .order_by(cases.c.priority.desc(), cases.c.opened_at, cases.c.id)
        )
        return [_case(row) for row in await self._s.execute(query)]

    async def position(self, case: Case) -> int:
        """1-based place among the cases waiting in the same queue (crisis first, then oldest)."""
        ahead = (cases.c.priority > case.priority) | (
            (cases.c.priority == case.priority) & (cases.c.opened_at < case.opened_at)
        )
        count = await self._s.scalar(
            select(func.count())
            .select_from(cases)
            .where(cases.c.queue_id == case.queue_id)
            .where(cases.c.status == CaseStatus.QUEUED.value)
            .where(cases.c.id != case.id)
            .where(ahead)
        )
        return int(count or 0) + 1

    async def waiting_for_staff(self) -> Sequence[Case]:
        waiting = (cases.c.status == CaseStatus.QUEUED.value) | (
            (cases.c.status == CaseStatus.ASSIGNED.value) & cases.c.first_response_at.is_(None)
        )
        return await self._many(select(cases).where(waiting).order_by(cases.c.opened_at))

    async def crisis_unclaimed(self, *, paged_before: datetime) -> Sequence[Case]:
        return await self._many(
            select(cases)
            .where(cases.c.crisis.is_(True))
            .where(cases.c.status == CaseStatus.QUEUED.value)
            .where(cases.c.paged_at.is_(None) | (cases.c.paged_at < paged_before))
            .order_by(cases.c.priority.desc(), cases.c.opened_at)
        )

    async def delete(self, case_id: str) -> None:
        await self._sealer.destroy_keys([case_id])
        await self._s.execute(delete(feedback).where(feedback.c.case_id == case_id))
        await self._s.execute(delete(messages).where(messages.c.case_id == case_id))
        await self._s.execute(delete(cases).where(cases.c.id == case_id))


class SqlMessageRepository:
    def __init__(self, session: AsyncSession, sealer: Sealer) -> None:
        self._s, self._sealer = session, sealer

    async def add(self, message: Message) -> None:
        body = await self._sealer.seal(
            message.body,
            table="messages",
            column="body",
            row_id=message.id,
            owner_id=message.case_id,
        )
        await self._s.execute(
            _ADD_MESSAGE,
            {
                "id": message.id,
                "case_id": message.case_id,
                "direction": message.direction.value,
                "author_id": message.author_id,
                "body_enc": body,
                "created_at": message.created_at,
            },
        )

    async def for_case(self, case_id: str) -> Sequence[Message]:
        rows = await self._s.execute(
            select(messages).where(messages.c.case_id == case_id).order_by(messages.c.seq)
        )
        found = []
        for row in rows:
            body = await self._sealer.open(
                row.body_enc, table="messages", column="body", row_id=row.id, owner_id=row.case_id
            )
            found.append(
                Message(
                    row.id,
                    row.case_id,
                    Direction(row.direction),
                    row.author_id,
                    body,
                    row.created_at,
                )
            )
        return found


class SqlFeedbackRepository:
    def __init__(self, session: AsyncSession, sealer: Sealer) -> None:
        self._s, self._sealer = session, sealer

    async def add(self, item: Feedback) -> None:
        comment = None
        if item.comment is not None:
            comment = await self._sealer.seal(
                item.comment,
                table="feedback",
                column="comment",
                row_id=item.id,
                owner_id=item.case_id,
            )
        await self._s.execute(
            insert(feedback).values(
                id=item.id,
                case_id=item.case_id,
                rating=item.rating,
                comment_enc=comment,
                created_at=item.created_at,
            )
        )

    async def for_case(self, case_id: str) -> Sequence[Feedback]:
        rows = await self._s.execute(
            select(feedback).where(feedback.c.case_id == case_id).order_by(feedback.c.created_at)
        )
        found = []
        for row in rows:
            comment = None
            if row.comment_enc is not None:
                comment = await self._sealer.open(
                    row.comment_enc,
                    table="feedback",
                    column="comment",
                    row_id=row.id,
                    owner_id=row.case_id,
                )
            found.append(Feedback(row.id, row.case_id, row.rating, comment, row.created_at))
        return found


def _queue(row: Any) -> Queue:
    return Queue(
        id=row.id,
        code=row.code,
        name=row.name,
        partner_id=row.partner_id,
        categories=tuple(Category(c) for c in ids_of(row.categories)),
        general_desk=row.general_desk,
    )


class SqlPartnerRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def add_partner(self, partner: Partner) -> None:
        await self._s.execute(
            insert(partners).values(id=partner.id, code=partner.code, name=partner.name)
        )

    async def add_queue(self, queue: Queue) -> None:
        position = await self._s.scalar(select(func.count()).select_from(queues))
        await self._s.execute(
            insert(queues).values(id=queue.id, position=int(position or 0), **_queue_values(queue))
        )

    async def update_queue(self, queue: Queue) -> None:
        await self._s.execute(
            update(queues).where(queues.c.id == queue.id).values(**_queue_values(queue))
        )

    async def partners(self) -> Sequence[Partner]:
        rows = await self._s.execute(select(partners).order_by(partners.c.code))
        return [Partner(row.id, row.code, row.name) for row in rows]

    async def queues(self) -> Sequence[Queue]:
        rows = await self._s.execute(select(queues).order_by(queues.c.position, queues.c.code))
        return [_queue(row) for row in rows]

    async def queue(self, queue_id: str) -> Queue | None:
        row = (await self._s.execute(select(queues).where(queues.c.id == queue_id))).first()
        return None if row is None else _queue(row)

    async def queue_by_code(self, code: str) -> Queue | None:
        row = (await self._s.execute(select(queues).where(queues.c.code == code))).first()
        return None if row is None else _queue(row)

    async def update_partner(self, partner: Partner) -> None:
        await self._s.execute(
            update(partners)
            .where(partners.c.id == partner.id)
            .values(code=partner.code, name=partner.name)
        )

    async def count_cases(self, *, queue_id: str, statuses: Sequence[CaseStatus]) -> int:
        query = select(func.count()).where(
            cases.c.queue_id == queue_id, cases.c.status.in_([s.value for s in statuses])
        )
        return int(await self._s.scalar(query) or 0)

    async def remove_queue(self, queue_id: str) -> None:
        """Cases it held before keep their history without it (the foreign key)."""
        await self._s.execute(
            update(cases).where(cases.c.queue_id == queue_id).values(queue_id=None)
        )
        await self._s.execute(delete(queues).where(queues.c.id == queue_id))


def _queue_values(queue: Queue) -> dict[str, Any]:
    return {
        "code": queue.code,
        "name": queue.name,
        "partner_id": queue.partner_id,
        "categories": ",".join(c.value for c in queue.categories),
        "general_desk": queue.general_desk,
    }
