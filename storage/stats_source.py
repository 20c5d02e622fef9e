"""Case facts for the statistics: categories, times and bands only; no text, codes or ids."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.stats import CaseFact
from storage.tables import cases, feedback, queues

OPEN_NOW = ("queued", "assigned")


def _minutes(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return max((end - start).total_seconds() / 60.0, 0.0)


async def load_case_facts(
    sessions: async_sessionmaker[AsyncSession],
    *,
    start: datetime,
    end: datetime,
    partner_ids: Collection[str] | None = None,
) -> list[CaseFact]:
    """Facts of the cases opened in [start, end); of some partners' queues when given."""
    query = (
        select(cases, queues.c.code.label("queue_code"))
        .outerjoin(queues, queues.c.id == cases.c.queue_id)
        .where(cases.c.opened_at >= start)
        .where(cases.c.opened_at < end)
        .where(cases.c.status != "intake")
    )
    if partner_ids is not None:
        query = query.where(queues.c.partner_id.in_(partner_ids))
    async with sessions() as session:
        rows = list(await session.execute(query))
        ratings: dict[str, int] = {}
        for case_id, rating in await session.execute(
            select(feedback.c.case_id, feedback.c.rating).order_by(feedback.c.created_at)
        ):
            ratings[case_id] = int(rating)  # the latest rating counts
    return [
        CaseFact(
            month=f"{row.opened_at:%Y-%m}",
            category=row.category,
            crisis=bool(row.crisis),
            queue=row.queue_code,
            first_response_minutes=_minutes(row.opened_at, row.first_response_at),
            resolution_minutes=_minutes(row.opened_at, row.resolved_at),
            rating=ratings.get(row.id),
            gender=row.gender,
            age_band=row.age_band,
            employment=row.employment,
        )
        for row in rows
    ]


async def load_open_load(
    sessions: async_sessionmaker[AsyncSession], *, partner_ids: Collection[str] | None = None
) -> dict[str, int]:
    """Cases waiting or being handled now, per queue code (every queue in scope, zeros too)."""
    open_count = func.count(cases.c.id).filter(cases.c.status.in_(OPEN_NOW))
    query = (
        select(queues.c.code, open_count)
        .select_from(queues)
        .outerjoin(cases, cases.c.queue_id == queues.c.id)
        .group_by(queues.c.code)
    )
    if partner_ids is not None:
        query = query.where(queues.c.partner_id.in_(partner_ids))
    async with sessions() as session:
        return {code: int(count) for code, count in await session.execute(query)}
