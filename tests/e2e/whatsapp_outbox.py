"""What the outbox holds for WhatsApp: sealed payloads kept after sending, rows still to send."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from storage.tables import outbox
from tests.e2e.whatsapp_conftest import WA


async def kept_payloads(wa: WA) -> int:
    """Sent WhatsApp messages whose sealed payload is still kept (for a late 131047)."""
    async with wa.rt.svc.sessions() as session:
        query = select(outbox.c.id).where(
            outbox.c.payload_enc.is_not(None)
            & (outbox.c.channel == "whatsapp")
            & (outbox.c.status == "sent")
        )
        return len(list(await session.execute(query)))


async def all_sent(wa: WA) -> None:
    """Every WhatsApp row sent (marked after Meta accepted it, a moment after the send)."""
    query = select(outbox.c.status).where(outbox.c.channel == "whatsapp")
    for _ in range(200):
        async with wa.rt.svc.sessions() as session:
            if set(await session.scalars(query)) == {"sent"}:
                return
        await asyncio.sleep(0.05)
    raise AssertionError("WhatsApp outbox rows still waiting")
