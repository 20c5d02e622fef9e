"""The outbox: notices written with the state change that caused them, delivered by a worker.

Claiming is safe with several workers: PostgreSQL skips rows another worker has locked
(SKIP LOCKED); every backend also takes a lease, so a worker killed between claim and
send only delays the message until the lease runs out.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, delete, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.model import Notice, new_id
from storage.batching import GroupCommit
from storage.crypto import CryptoError, KekSource
from storage.sealing import Sealer, with_key
from storage.tables import clients, outbox, staff

STAFF_CHANNEL = "staff"
PENDING, SENDING, SENT, DEAD = "pending", "sending", "sent", "dead"
DIRECT = "direct"  # a reply to a chat address, sealed under a key of its own
READY = datetime(1970, 1, 1, tzinfo=UTC)  # a new row is due at once, whatever the worker's clock
KEPT_UNTIL_REPORTED = frozenset({"whatsapp"})

# Built once at import (see storage/sealing.py): run for every notice and every claim.
_HAS_CHAT = select(staff.c.telegram_chat_enc.is_not(None)).where(staff.c.id == bindparam("id"))
_ADDRESS = {  # recipient kind -> the read of its sealed address (with the recipient's key)
    kind: (
        with_key(select(table.c[f"{column}_enc"].label("sealed")), table.c.id).where(
            table.c.id == bindparam("id")
        ),
        table,
        column,
    )
    for kind, table, column in (
        ("client", clients, "reply_address"),
        ("staff", staff, "telegram_chat"),
    )
}
_ADD = insert(outbox)  # values bound per row: no statement built per call
_DUE = (
    with_key(select(outbox), outbox.c.key_owner)  # the key its payload is sealed under
    .where(outbox.c.channel == bindparam("channel"))
    .where(
        or_(
            (outbox.c.status == PENDING) & (outbox.c.next_attempt_at <= bindparam("now")),
            (outbox.c.status == SENDING) & (outbox.c.lease_until < bindparam("now")),
        )
    )
    .order_by(outbox.c.urgent.desc(), outbox.c.created_at, outbox.c.id)
    .limit(bindparam("limit"))
    .with_for_update(skip_locked=True, of=outbox)
)


class SqlOutbox:
    """The Outbox port: called inside a use case's unit of work."""

    def __init__(self, session: AsyncSession, sealer: Sealer) -> None:
        self._s, self._sealer = session, sealer

    async def add(self, notice: Notice) -> None:
        if notice.recipient.kind == "staff" and not await self._has_chat(notice.recipient.id):
            return  # a console-only staff member sees it in the staff console instead
        row_id = new_id()
        channel, client_id = self._route(notice)
        key_owner = notice.case_id or notice.recipient.id
        payload = {
            "text": notice.text,
            "buttons": [[b.label, b.data] for b in notice.buttons],
            "urgent": notice.urgent,
        }
        sealed = await self._sealer.seal(
            json.dumps(payload, ensure_ascii=False),
            table="outbox",
            column="payload",
            row_id=row_id,
            owner_id=key_owner,
        )
        now = datetime.now(UTC)
        await self._s.execute(
            _ADD,
            {
                "id": row_id,
                "channel": channel,
                "recipient_kind": notice.recipient.kind,
                "recipient_id": notice.recipient.id,
                "client_id": client_id,
                "case_id": notice.case_id,
                "key_owner": key_owner,
                "payload_enc": sealed,
                "urgent": notice.urgent,
                "status": PENDING,
                "attempts": 0,
                "next_attempt_at": READY,
                "created_at": now,
            },
        )

    async def _has_chat(self, staff_id: str) -> bool:
        return bool(await self._s.scalar(_HAS_CHAT, {"id": staff_id}))

    @staticmethod
    def _route(notice: Notice) -> tuple[str, str | None]:
        """The channel of the row and the client it concerns (erasure drops their rows):
        the use case holds both and puts them on the notice (to_client, to_staff)."""
        if notice.recipient.kind != "client":
            return STAFF_CHANNEL, notice.client_id
        if notice.channel is None:
            raise ValueError("a notice to a client names the client's channel")
        return notice.channel, notice.recipient.id

    async def drop_for(self, *, client_id: str) -> None:
        await self._s.execute(delete(outbox).where(outbox.c.client_id == client_id))


@dataclass
class OutboxItem:
    id: str
    channel: str
    address: str | None
    payload: dict[str, Any]
    attempts: int
    direct: bool = False  # sealed under a key of its own, destroyed once it is done


@dataclass(frozen=True)
class OutboxCounts:
    pending: int
    dead: int
    oldest_pending_seconds: float


# channel, address, payload, urgent, asked for at
DirectReply = tuple[str, str, dict[str, Any], bool, datetime]


class OutboxStore:
    """What the delivery worker needs; each call is its own short transaction."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], keyring: KekSource) -> None:
        self._sessions, self._keyring = sessions, keyring
        self._sent: GroupCommit[tuple[OutboxItem, str | None], None] = GroupCommit(
            self._mark_sent_many
        )
        self._direct: GroupCommit[DirectReply, None] = GroupCommit(self._enqueue_direct_many)

    async def claim_channels(
        self,
        *,
        worker_id: str,
        now: datetime,
        limits: Mapping[str, int],
        lease_seconds: int,
    ) -> list[OutboxItem]:
        """Up to `limits[channel]` due rows of each channel, in one transaction."""
        async with self._sessions() as session, session.begin():
            rows = []
            for channel, limit in limits.items():
                params = {"channel": channel, "now": now, "limit": limit}
                rows += list(await session.execute(_DUE, params))
            if not rows:
                return []
            await session.execute(
                update(outbox)
                .where(outbox.c.id.in_([r.id for r in rows]))
                .values(
                    status=SENDING,
                    lease_owner=worker_id,
                    lease_until=now + timedelta(seconds=lease_seconds),
                )
            )
            sealer = Sealer(session, self._keyring)
            for row in rows:
                sealer.read_with(row.key_owner, row)
            items = [await self._item(session, sealer, row) for row in rows]
        return [item for item in items if item is not None]

    async def _item(self, session: AsyncSession, sealer: Sealer, row: Any) -> OutboxItem | None:
        try:
            text = await sealer.open(
                row.payload_enc,
                table="outbox",
                column="payload",
                row_id=row.id,
                owner_id=row.key_owner,
            )
            address = await self._address(session, sealer, row)
        except CryptoError:  # the data was shredded meanwhile: nothing left to send
            await session.execute(
                update(outbox)
                .where(outbox.c.id == row.id)
                .values(status=DEAD, last_error="shredded")
            )
            return None
        return OutboxItem(
            row.id,
            row.channel,
            address,
            json.loads(text),
            row.attempts,
            row.recipient_kind == DIRECT,
        )

    async def _address(self, session: AsyncSession, sealer: Sealer, row: Any) -> str | None:
        return await address_of(session, sealer, row)

    async def enqueue_direct(
        self, *, channel: str, address: str, payload: dict[str, Any], urgent: bool = False
    ) -> None:
        """A reply to someone who is not (or no longer) a client: before consent, after erasure,
        or a staff chat. Its key is destroyed once it is delivered or given up.

        Replies queued at about the same time are written together (group commit)."""
        at = datetime.now(UTC)  # the order of a chat's replies: when each was asked for
        await self._direct.submit((channel, address, payload, urgent, at))

    async def _enqueue_direct_many(self, replies: Sequence[DirectReply]) -> list[None]:
        async with self._sessions() as session, session.begin():
            sealer = Sealer(session, self._keyring)
            for channel, address, payload, urgent, at in replies:
                row_id = new_id()
                await sealer.create_key(row_id)
                seal = sealer.seal
                text = json.dumps(payload, ensure_ascii=False)
                await session.execute(
                    _ADD,
                    {
                        "id": row_id,
                        "channel": channel,
                        "recipient_kind": DIRECT,
                        "recipient_id": row_id,
                        "key_owner": row_id,
                        "payload_enc": await seal(
                            text, table="outbox", column="payload", row_id=row_id, owner_id=row_id
                        ),
                        "address_enc": await seal(
                            address,
                            table="outbox",
                            column="address",
                            row_id=row_id,
                            owner_id=row_id,
                        ),
                        "urgent": urgent,
                        "status": PENDING,
                        "attempts": 0,
                        "next_attempt_at": READY,
                        "created_at": at,
                    },
                )
        return [None] * len(replies)

    async def mark_sent(
        self, item: OutboxItem, worker_id: str, external_id: str | None = None
    ) -> None:
        """Sent: the text is dropped (and a direct row's key shredded) in the same transaction.

        Rows sent at about the same time are marked together (group commit)."""
        await self._sent.submit((item, external_id))

    async def _mark_sent_many(self, marks: Sequence[tuple[OutboxItem, str | None]]) -> list[None]:
        """The claimed item says what the row is: no read of it before the update."""
        now = datetime.now(UTC)
        async with self._sessions() as session, session.begin():
            direct = []
            for item, external_id in marks:
                # A WhatsApp report may still ask for a resend (131047): kept sealed until final.
                keep = external_id is not None and item.channel in KEPT_UNTIL_REPORTED
                dropped: dict[str, Any] = {} if keep else {"payload_enc": None}
                if not keep and item.direct:
                    direct.append(item.id)
                    dropped["address_enc"] = None
                await self._update(
                    session,
                    item.id,
                    status=SENT,
                    sent_at=now,
                    **dropped,
                    lease_owner=None,
                    external_id=external_id,
                )
            await Sealer(session, self._keyring).destroy_keys(direct)
        return [None] * len(marks)

    async def mark_retry(self, item_id: str, *, at: datetime, error_code: str) -> None:
        await self._set(
            item_id,
            status=PENDING,
            attempts=outbox.c.attempts + 1,
            next_attempt_at=at,
            lease_owner=None,
            lease_until=None,
            last_error=error_code[:60],
        )

    async def mark_dead(self, item_id: str, error_code: str) -> None:
        async with self._sessions() as session, session.begin():
            kind = await session.scalar(
                select(outbox.c.recipient_kind).where(outbox.c.id == item_id)
            )
            direct = kind == DIRECT  # its address, under a key of its own, goes with the key
            await Sealer(session, self._keyring).destroy_keys([item_id] if direct else [])
            await self._update(
                session,
                item_id,
                status=DEAD,
                attempts=outbox.c.attempts + 1,
                last_error=error_code[:60],
                **({"address_enc": None} if direct else {}),
            )

    async def _set(self, item_id: str, **values: Any) -> None:
        async with self._sessions() as session, session.begin():
            await self._update(session, item_id, **values)

    @staticmethod
    async def _update(session: AsyncSession, item_id: str, **values: Any) -> None:
        await session.execute(update(outbox).where(outbox.c.id == item_id).values(**values))

    async def counts(self, *, now: datetime) -> OutboxCounts:
        async with self._sessions() as session:
            pending = await session.scalar(
                select(func.count())
                .select_from(outbox)
                .where(outbox.c.status.in_([PENDING, SENDING]))
            )
            dead = await session.scalar(
                select(func.count()).select_from(outbox).where(outbox.c.status == DEAD)
            )
            oldest = await session.scalar(
                select(func.min(outbox.c.created_at)).where(outbox.c.status.in_([PENDING, SENDING]))
            )
        age = (now - oldest).total_seconds() if oldest else 0.0
        return OutboxCounts(int(pending or 0), int(dead or 0), max(age, 0.0))


async def address_of(session: AsyncSession, sealer: Sealer, row: Any) -> str | None:
    """A row's reply address: sealed on the row itself, or the recipient's own."""
    if row.recipient_kind == DIRECT:
        return await sealer.open(
            row.address_enc, table="outbox", column="address", row_id=row.id, owner_id=row.id
        )
    read, table, column = _ADDRESS["client" if row.recipient_kind == "client" else "staff"]
    found = (await session.execute(read, {"id": row.recipient_id})).first()
    if found is None or found.sealed is None:
        return None
    sealer.read_with(row.recipient_id, found)
    return await sealer.open(
        found.sealed,
        table=table.name,
        column=column,
        row_id=row.recipient_id,
        owner_id=row.recipient_id,
    )
