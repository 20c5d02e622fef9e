"""Retention: transcripts of cases finished longer ago than the limit are crypto-shredded.

The case row stays (without text) so the anonymised statistics keep their counts.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.model import CaseStatus
from storage.crypto import KekSource
from storage.sealing import Sealer
from storage.setup_store import LAST_PURGE, SqlSetupStore
from storage.tables import cases, feedback, messages, outbox, web_mailbox

FINISHED = (CaseStatus.CLOSED.value, CaseStatus.RESOLVED.value, CaseStatus.ABANDONED.value)


async def purge(
    sessions: async_sessionmaker[AsyncSession],
    keyring: KekSource,
    *,
    now: datetime,
    retention_days: int,
) -> int:
    cutoff = now - timedelta(days=retention_days)
    finished_at = func.coalesce(cases.c.closed_at, cases.c.resolved_at, cases.c.opened_at)
    async with sessions() as session, session.begin():
        # Web-chat mailboxes hold copies of what was said: the same limit applies.
        await session.execute(delete(web_mailbox).where(web_mailbox.c.created_at < cutoff))
        await SqlSetupStore(session).put(LAST_PURGE, now.isoformat(), at=now)  # for /admin/ops
        ids = list(
            (
                await session.execute(
                    select(cases.c.id)
                    .where(cases.c.status.in_(FINISHED))
                    .where(cases.c.purged_at.is_(None))
                    .where(finished_at < cutoff)
                )
            )
            .scalars()
            .all()
        )
        if not ids:
            return 0
        await Sealer(session, keyring).destroy_keys(ids)
        await session.execute(delete(messages).where(messages.c.case_id.in_(ids)))
        await session.execute(
            update(feedback).where(feedback.c.case_id.in_(ids)).values(comment_enc=None)
        )
        await session.execute(delete(outbox).where(outbox.c.case_id.in_(ids)))
        await session.execute(update(cases).where(cases.c.id.in_(ids)).values(purged_at=now))
    return len(ids)
