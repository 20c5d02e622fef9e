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


async def wait_drained(url: str, timeout: float, channel: str = "telegram") -> float:  # noqa: ASYNC109
    """Seconds until the outbox has nothing waiting for `channel` (or `timeout`).

    The ASN bot's channel by default: staff chats are paced at one message a second each
    by Telegram, and a benchmark that packs a year of cases into minutes floods them."""
    engine = create_engine(url)
    started = time.monotonic()
    try:
        while time.monotonic() - started < timeout:
            async with engine.connect() as conn:
                waiting = await conn.scalar(
                    select(func.count())
                    .select_from(outbox)
                    .where(outbox.c.status.in_(WAITING), outbox.c.channel == channel)
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
            counted = select(outbox.c.channel, outbox.c.status, func.count()).group_by(
                outbox.c.channel, outbox.c.status
            )
            by_status = (await conn.execute(counted)).tuples().all()
            sent = select(outbox.c.channel, outbox.c.created_at, outbox.c.sent_at).where(
                outbox.c.status == "sent"
            )
            times = (await conn.execute(sent)).tuples().all()
    finally:
        await engine.dispose()

    def lags(wanted: str) -> list[float]:
        return [(sent - created).total_seconds() for channel, created, sent in times
                if channel == wanted]  # fmt: skip

    return {
        "asn_messages_stored": int(stored or 0),
        "outbox": {f"{channel}_{status}": int(n) for channel, status, n in by_status},
        **latency_summary(lags("telegram"), "outbox_lag_asn"),
        **latency_summary(lags("staff"), "outbox_lag_staff"),
    }
