"""WhatsApp's storage: webhook items waiting to be processed, the 24-hour window, delivery reports.

A webhook item holds a phone number, a profile name and the message text, so it is sealed under
a data key of its own and the key is destroyed once it is handled. Message ids embed the phone
number (base64), so they are stored only as blind indexes, in the inbox and in the outbox alike.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.model import new_id
from storage.crypto import KekSource, blind_index
from storage.db import dialect_insert
from storage.repos_people import client_index
from storage.sealing import Sealer
from storage.tables import (
    client_aliases,
    clients,
    inbox,
    outbox,
    whatsapp_pending,
    whatsapp_window,
)

CHANNEL = "whatsapp"
HELD = "wa_held"  # the outbox error code of a reply waiting for the ASN to write again
READY = datetime(1970, 1, 1, tzinfo=UTC)
RANK = {"sent": 1, "delivered": 2, "read": 3, "failed": 4}
MAX_ATTEMPTS = 5


def message_key(index_key: bytes, message_id: str) -> str:
    return blind_index(message_id, key=index_key, namespace="whatsapp:message")


def window_index(index_key: bytes, address: str) -> str:
    return blind_index(address, key=index_key, namespace="whatsapp:window")


@dataclass(frozen=True)
class Pending:
    seq: int
    owner_id: str
    item: dict[str, Any]


class WhatsAppInbox:
    """Deduplicates on the message id (delivery is at least once) and keeps items to process."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], keyring: KekSource, index_key: bytes
    ) -> None:
        self._sessions, self._keyring, self._index_key = sessions, keyring, index_key

    async def accept(self, dedup_id: str, item: dict[str, Any], *, at: datetime) -> bool:
        """Keep the item once; False when this id was seen before."""
        owner = new_id()
        try:
            async with self._sessions() as session, session.begin():
                key = message_key(self._index_key, dedup_id)
                await session.execute(
                    insert(inbox).values(channel=CHANNEL, external_id=key, received_at=at)
                )
                sealer = Sealer(session, self._keyring)
                await sealer.create_key(owner)
                sealed = await sealer.seal(
                    json.dumps(item, ensure_ascii=False),
                    **_aad(owner),
                )
                await session.execute(
                    insert(whatsapp_pending).values(
                        owner_id=owner, payload_enc=sealed, attempts=0, received_at=at
                    )
                )
        except IntegrityError:
            return False
        return True

    async def claim(self, *, now: datetime, limit: int = 20, lease: float = 300.0) -> list[Pending]:
        """The oldest waiting items, leased to this worker (another worker skips them)."""
        free = whatsapp_pending.c.claimed_until.is_(None) | (whatsapp_pending.c.claimed_until < now)
        query = select(whatsapp_pending).where(free).order_by(whatsapp_pending.c.seq).limit(limit)
        claimed = []
        async with self._sessions() as session, session.begin():
            for row in list(await session.execute(query)):
                took = await session.execute(
                    update(whatsapp_pending)
                    .where((whatsapp_pending.c.seq == row.seq) & free)
                    .values(claimed_until=now + timedelta(seconds=lease))
                )
                if getattr(took, "rowcount", 0) == 1:
                    claimed.append(row)
            sealer = Sealer(session, self._keyring)
            return [
                Pending(
                    r.seq,
                    r.owner_id,
                    json.loads(await sealer.open(r.payload_enc, **_aad(r.owner_id))),
                )
                for r in claimed
            ]

    async def done(self, item: Pending) -> None:
        async with self._sessions() as session, session.begin():
            await Sealer(session, self._keyring).destroy_keys([item.owner_id])
            await session.execute(
                delete(whatsapp_pending).where(whatsapp_pending.c.seq == item.seq)
            )

    async def failed(self, item: Pending, *, retry_at: datetime) -> None:
        """Try again soon; an item that keeps failing is dropped (and its key destroyed)."""
        async with self._sessions() as session, session.begin():
            attempts = await session.scalar(
                select(whatsapp_pending.c.attempts).where(whatsapp_pending.c.seq == item.seq)
            )
            if attempts is None or attempts + 1 >= MAX_ATTEMPTS:
                await Sealer(session, self._keyring).destroy_keys([item.owner_id])
                await session.execute(
                    delete(whatsapp_pending).where(whatsapp_pending.c.seq == item.seq)
                )
                return
            await session.execute(
                update(whatsapp_pending)
                .where(whatsapp_pending.c.seq == item.seq)
                .values(attempts=attempts + 1, claimed_until=retry_at)
            )

    async def waiting(self) -> int:
        async with self._sessions() as session:
            return len(list(await session.execute(select(whatsapp_pending.c.seq))))


def _aad(owner: str) -> dict[str, str]:
    return {"table": "whatsapp_pending", "column": "payload", "row_id": owner, "owner_id": owner}


@dataclass(frozen=True)
class Window:
    last_inbound_at: datetime | None
    invited_at: datetime | None


class WhatsAppWindow:
    """When each ASN last wrote (the 24-hour rule), keyed by a blind index of the address."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], index_key: bytes) -> None:
        self._sessions, self._key = sessions, index_key

    def _index(self, address: str) -> str:
        return window_index(self._key, address)

    async def get(self, address: str) -> Window:
        async with self._sessions() as session:
            row = (
                await session.execute(
                    select(whatsapp_window).where(
                        whatsapp_window.c.address_index == self._index(address)
                    )
                )
            ).first()
        return Window(None, None) if row is None else Window(row.last_inbound_at, row.invited_at)

    async def wrote(self, address: str, *, at: datetime) -> None:
        await self._upsert(address, last_inbound_at=at)

    async def invited(self, address: str, *, at: datetime) -> None:
        await self._upsert(address, invited_at=at)

    async def forget(self, address: str) -> None:
        async with self._sessions() as session, session.begin():
            await session.execute(
                delete(whatsapp_window).where(
                    whatsapp_window.c.address_index == self._index(address)
                )
            )

    async def _upsert(self, address: str, **values: Any) -> None:
        async with self._sessions() as session, session.begin():
            insert_ = dialect_insert(session)
            statement = insert_(whatsapp_window).values(
                address_index=self._index(address), **values
            )
            await session.execute(
                statement.on_conflict_do_update(index_elements=["address_index"], set_=values)
            )


async def release_held(sessions: async_sessionmaker[AsyncSession], *, client_id: str) -> int:
    """The ASN wrote again: replies held outside the 24-hour window go out now."""
    async with sessions() as session, session.begin():
        result = await session.execute(
            update(outbox)
            .where(
                (outbox.c.channel == CHANNEL)
                & (outbox.c.client_id == client_id)
                & (outbox.c.status == "pending")
                & (outbox.c.last_error == HELD)
            )
            .values(next_attempt_at=READY)
        )
    return int(getattr(result, "rowcount", 0) or 0)


async def link_identity(
    sessions: async_sessionmaker[AsyncSession], index_key: bytes, *, known: str, alias: str
) -> bool:
    """A payload carried both ids: the BSUID (alias) joins the client known by the wa_id.

    Only blind indexes are compared and stored. False when there is nothing to link: no client
    by the known id, or the alias already names a client.
    """
    known_index = client_index(index_key, CHANNEL, known)
    alias_index = client_index(index_key, CHANNEL, alias)
    async with sessions() as session, session.begin():
        if await _client_of(session, alias_index) is not None:
            return False
        client_id = await _client_of(session, known_index)
        if client_id is None:
            return False
        await session.execute(
            insert(client_aliases).values(
                channel=CHANNEL, identity_index=alias_index, client_id=client_id
            )
        )
    return True


async def _client_of(session: AsyncSession, index: str) -> str | None:
    direct = select(clients.c.id).where(
        (clients.c.channel == CHANNEL) & (clients.c.identity_index == index)
    )
    aliased = select(client_aliases.c.client_id).where(
        (client_aliases.c.channel == CHANNEL) & (client_aliases.c.identity_index == index)
    )
    found: str | None = await session.scalar(direct) or await session.scalar(aliased)
    return found
