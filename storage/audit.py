"""The audit trail: an HMAC hash chain of staff reads, with a MACed head for the tail.

Each event's MAC covers the previous event's MAC and the event itself, so an edited
or inserted event breaks the chain; sequence numbers are contiguous, so a deleted
event leaves a gap; the head row (length and last MAC, MACed) catches a deleted tail.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.model import AuditEvent
from storage.crypto import chain_mac
from storage.tables import audit_events, audit_head

GENESIS = "0" * 64
HEAD_ID = 1


def event_mac(previous: str, seq: int, event: AuditEvent, *, key: bytes) -> str:
    payload: dict[str, str | int | None] = {
        "seq": seq,
        "actor_id": event.actor_id,
        "action": event.action,
        "case_code": event.case_code,
        "purpose": event.purpose,
        "at": _stamp(event.at),
    }
    return chain_mac(previous, payload, key=key)


def head_mac(seq: int, mac: str, *, key: bytes) -> str:
    return chain_mac(mac, {"head": seq}, key=key)


def _stamp(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%S.%f")


class SqlAuditLog:
    def __init__(self, session: AsyncSession, key: bytes) -> None:
        self._s, self._key = session, key

    async def append(self, event: AuditEvent) -> None:
        # Bumping the head first takes its row lock: concurrent appends queue up in order.
        bumped = await self._s.execute(
            update(audit_head).where(audit_head.c.id == HEAD_ID).values(seq=audit_head.c.seq + 1)
        )
        if getattr(bumped, "rowcount", 0) != 1:
            raise RuntimeError("the audit head is missing; run `sapa db upgrade`")
        head = (await self._s.execute(select(audit_head).where(audit_head.c.id == HEAD_ID))).one()
        seq, mac = int(head.seq), event_mac(head.mac, int(head.seq), event, key=self._key)
        await self._s.execute(
            insert(audit_events).values(
                seq=seq,
                actor_id=event.actor_id,
                action=event.action,
                case_code=event.case_code,
                purpose=event.purpose,
                at=event.at,
                mac=mac,
            )
        )
        await self._s.execute(
            update(audit_head)
            .where(audit_head.c.id == HEAD_ID)
            .values(mac=mac, head_mac=head_mac(seq, mac, key=self._key))
        )

    async def for_case(self, case_code: str) -> Sequence[AuditEvent]:
        rows = await self._s.execute(
            select(audit_events)
            .where(audit_events.c.case_code == case_code)
            .order_by(audit_events.c.seq)
        )
        return [_event(row) for row in rows]

    async def recent(
        self, *, limit: int = 200, actor_id: str | None = None
    ) -> Sequence[AuditEvent]:
        query = select(audit_events).order_by(audit_events.c.seq.desc()).limit(limit)
        if actor_id is not None:
            query = query.where(audit_events.c.actor_id == actor_id)
        return [_event(row) for row in await self._s.execute(query)]


def _event(row: Any) -> AuditEvent:
    return AuditEvent(row.actor_id, row.action, row.case_code, row.purpose, row.at)


@dataclass(frozen=True)
class ChainCheck:
    ok: bool
    events: int
    first_bad_seq: int | None = None
    reason: str | None = None


async def verify_chain(sessions: async_sessionmaker[AsyncSession], key: bytes) -> ChainCheck:
    async with sessions() as session:
        head = (await session.execute(select(audit_head).where(audit_head.c.id == HEAD_ID))).first()
        rows = list(await session.execute(select(audit_events).order_by(audit_events.c.seq)))
    if head is None:
        return ChainCheck(False, len(rows), 1, "the chain head is missing")
    previous, expected = GENESIS, 1
    for row in rows:
        if row.seq != expected:
            return ChainCheck(False, len(rows), expected, "event missing (deleted)")
        if row.mac != event_mac(previous, row.seq, _event(row), key=key):
            return ChainCheck(False, len(rows), row.seq, "event edited or inserted")
        previous, expected = row.mac, expected + 1
    return _check_head(head, previous, len(rows), key)


def _check_head(head: Any, last_mac: str, count: int, key: bytes) -> ChainCheck:
    if head.seq == 0 and count == 0 and head.mac == GENESIS:
        return ChainCheck(True, 0)
    if head.seq > count:
        return ChainCheck(False, count, count + 1, "events missing at the end (deleted)")
    if head.seq < count:
        return ChainCheck(False, count, head.seq + 1, "event appended outside the service")
    if head.mac != last_mac or head.head_mac != head_mac(head.seq, head.mac, key=key):
        return ChainCheck(False, count, count, "chain head does not match the last event")
    return ChainCheck(True, count)
