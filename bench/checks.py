"""What the database says after a run: nothing lost, outbox drained, how long rows waited.

Only counts and timestamps are read: no message body, no address, no identifier.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from sqlalchemy import func, select

from bench.stats import latency_summary
from storage.db import create_engine
from storage.tables import messages, outbox

WAITING = ("pending", "sending")


async def wait_drained(url: str, timeout: float) -> float:  # noqa: ASYNC109
    """Seconds until the outbox has nothing waiting (or `timeout`)."""
    engine = create_engine(url)
    started = time.monotonic()
    try:
        while time.monotonic() - started < timeout:
            async with engine.connect() as conn:
                waiting = await conn.scalar(
                    select(func.count()).select_from(outbox).where(outbox.c.status.in_(WAITING))
                )
            if not waiting:
                break
            await asyncio.sleep(0.25)
    finally:
        await engine.dispose()
    return time.monotonic() - started


async def figures(url: str) -> dict[str, Any]:
    """ASN messages stored, outbox rows by status, and the outbox lag (created -> sent)."""
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            stored = await conn.scalar(
                select(func.count()).select_from(messages).where(messages.c.direction == "client")
            )
            by_status = dict(
                (
                    await conn.execute(
                        select(outbox.c.status, func.count()).group_by(outbox.c.status)
                    )
                )
                .tuples()
                .all()
            )
            times = (
                await conn.execute(
                    select(outbox.c.created_at, outbox.c.sent_at).where(outbox.c.status == "sent")
                )
            ).all()
    finally:
        await engine.dispose()
    lags = [(sent - created).total_seconds() for created, sent in times]
    return {
        "asn_messages_stored": int(stored or 0),
        "outbox": {str(k): int(v) for k, v in by_status.items()},
        **latency_summary(lags, "outbox_lag"),
    }
