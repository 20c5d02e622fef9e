"""WhatsApp delivery reports: the outbox row's delivery status, and a late 131047.

A sent WhatsApp message keeps its sealed payload until its report is final: delivered or read
(or failed for good) shreds it; a "failed" report with 131047 (outside the 24-hour window,
reported after the send was accepted) puts the row back in the queue and marks the ASN's
window closed, so the sender invites them with the template and holds the reply until they
write. Payloads whose report never came are shredded once a day has passed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.crypto import CryptoError, KekSource
from storage.db import dialect_insert
from storage.outbox import DIRECT, PENDING, SENDING, SENT, address_of
from storage.sealing import Sealer
from storage.tables import outbox, whatsapp_window
from storage.whatsapp import CHANNEL, READY, message_key, window_index

RANK = {"sent": 1, "delivered": 2, "read": 3, "failed": 4}
OUTSIDE_WINDOW = 131047
UNKNOWN, RECORDED, RESEND = "unknown", "recorded", "resend"


async def record_status(
    sessions: async_sessionmaker[AsyncSession],
    keyring: KekSource,
    index_key: bytes,
    *,
    message_id: str,
    status: str,
    error_code: int | None,
) -> str:
    """UNKNOWN (no such sent message yet), RECORDED, or RESEND (a late 131047 re-queued it)."""
    key = message_key(index_key, message_id)
    where = (outbox.c.channel == CHANNEL) & (outbox.c.external_id == key)
    async with sessions() as session, session.begin():
        row = (await session.execute(select(outbox).where(where))).first()
        if row is None:
            return UNKNOWN
        stale = RANK.get(status, 0) <= RANK.get(row.delivery_status or "", 0)
        if stale or row.status != SENT:  # out of order, or already queued again
            return RECORDED
        if status == "failed" and error_code == OUTSIDE_WINDOW and row.payload_enc is not None:
            await _send_again(session, keyring, index_key, row)
            return RESEND
        values: dict[str, Any] = {"delivery_status": status}
        if error_code is not None:
            values["last_error"] = f"wa_{error_code}"
        await session.execute(update(outbox).where(outbox.c.id == row.id).values(**values))
        if status != "sent":
            await _shred(session, keyring, row)
    return RECORDED


async def _send_again(
    session: AsyncSession, keyring: KekSource, index_key: bytes, row: Any
) -> None:
    sealer = Sealer(session, keyring)
    try:
        address = await address_of(session, sealer, row)
    except CryptoError:  # shredded meanwhile (the ASN erased their data): nothing to send
        address = None
    if address is None:
        await _shred(session, keyring, row)
        return
    await _close_window(session, index_key, address, sent_at=row.sent_at)
    await session.execute(
        update(outbox)
        .where(outbox.c.id == row.id)
        .values(
            status=PENDING,
            next_attempt_at=READY,
            lease_owner=None,
            lease_until=None,
            delivery_status=None,
            last_error=f"wa_{OUTSIDE_WINDOW}",
        )
    )


async def _close_window(
    session: AsyncSession, index_key: bytes, address: str, *, sent_at: datetime | None
) -> None:
    """Meta says the window was closed: unless the ASN wrote since, invite them again."""
    index = window_index(index_key, address)
    last = await session.scalar(
        select(whatsapp_window.c.last_inbound_at).where(whatsapp_window.c.address_index == index)
    )
    if last is not None and sent_at is not None and last > sent_at:
        return
    values = {"last_inbound_at": READY, "invited_at": None}
    insert_ = dialect_insert(session)
    statement = insert_(whatsapp_window).values(address_index=index, **values)
    await session.execute(
        statement.on_conflict_do_update(index_elements=["address_index"], set_=values)
    )


async def _shred(session: AsyncSession, keyring: KekSource, row: Any) -> None:
    values: dict[str, Any] = {"payload_enc": None}
    if row.recipient_kind == DIRECT:
        await Sealer(session, keyring).destroy_keys([row.id])
        values["address_enc"] = None
    await session.execute(update(outbox).where(outbox.c.id == row.id).values(**values))


async def shred_unreported(
    sessions: async_sessionmaker[AsyncSession], keyring: KekSource, *, sent_before: datetime
) -> int:
    """Payloads still kept for a report that never came, once no resend can be due."""
    query = select(outbox).where(
        (outbox.c.channel == CHANNEL)
        & (outbox.c.status == SENT)
        & outbox.c.payload_enc.is_not(None)
        & (outbox.c.sent_at < sent_before)
    )
    async with sessions() as session, session.begin():
        rows = list(await session.execute(query))
        for row in rows:
            await _shred(session, keyring, row)
    return len(rows)


async def shred_kept_for(
    sessions: async_sessionmaker[AsyncSession], keyring: KekSource, *, address: str
) -> int:
    """The ASN erased their data: replies kept for a resend to them go now (e.g. an export).

    Rows still in flight count too: the sender holds their text already, and a row marked
    sent after this shred would otherwise keep its payload (mark_sent keeps, never restores).
    """
    query = select(outbox).where(
        (outbox.c.channel == CHANNEL)
        & outbox.c.status.in_((SENT, SENDING))
        & outbox.c.payload_enc.is_not(None)
    )
    shredded = 0
    async with sessions() as session, session.begin():
        sealer = Sealer(session, keyring)
        for row in list(await session.execute(query)):
            try:
                theirs = await address_of(session, sealer, row) in (address, None)
            except CryptoError:  # the client's key is gone already
                theirs = True
            if theirs:
                await _shred(session, keyring, row)
                shredded += 1
    return shredded
