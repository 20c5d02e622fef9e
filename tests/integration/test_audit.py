"""The audit chain: every transcript read is recorded; any edit, insertion or deletion is caught."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, insert, select, update

from core.usecases import casework
from storage.audit import verify_chain
from storage.tables import audit_events, audit_head
from tests.integration.journey import Clock, add_supervisor, whole_conversation


async def _chain_of(db, reads: int) -> None:
    journey = await whole_conversation(db)  # reads once
    supervisor = await add_supervisor(db)
    for _ in range(reads - 1):
        await casework.read_transcript(
            uow=db.uow(),
            staff_id=supervisor,
            case_code=journey.case_code,
            purpose="supervision",
            clock=Clock(),
        )


async def _events(db) -> list:
    async with db.sessions() as session:
        return list(await session.execute(select(audit_events).order_by(audit_events.c.seq)))


async def test_an_intact_chain_verifies(db) -> None:
    await _chain_of(db, 5)
    check = await verify_chain(db.sessions, db.keyring.audit_key)
    assert (check.ok, check.events) == (True, 5)
    assert [e.seq for e in await _events(db)] == [1, 2, 3, 4, 5]


async def test_an_empty_chain_verifies(db) -> None:
    assert (await verify_chain(db.sessions, db.keyring.audit_key)).ok


async def _tamper(db, *statements) -> None:
    async with db.sessions() as session, session.begin():
        for statement in statements:
            await session.execute(statement)


@pytest.mark.parametrize(
    ("kind", "first_bad"),
    [
        ("edit", 3),
        ("insert_middle", 3),
        ("append", 6),
        ("delete_middle", 2),
        ("delete_tail", 5),
        ("wrong_key_forgery", 4),
    ],
)
async def test_tampering_of_each_kind_is_detected(db, kind: str, first_bad: int) -> None:
    await _chain_of(db, 5)
    events = await _events(db)
    forged = {
        "actor_id": events[0].actor_id,
        "action": "transcript.read",
        "case_code": events[0].case_code,
        "purpose": "palsu",
        "at": events[0].at,
        "mac": "f" * 64,
    }
    if kind == "edit":
        await _tamper(
            db,
            update(audit_events)
            .where(audit_events.c.seq == 3)
            .values(purpose="tidak pernah dibaca"),
        )
    elif kind == "insert_middle":
        for seq in (5, 4, 3):
            await _tamper(
                db, update(audit_events).where(audit_events.c.seq == seq).values(seq=seq + 1)
            )
        await _tamper(
            db, insert(audit_events).values(seq=3, **forged), update(audit_head).values(seq=6)
        )
    elif kind == "append":
        await _tamper(db, insert(audit_events).values(seq=6, **forged))
    elif kind == "delete_middle":
        await _tamper(db, delete(audit_events).where(audit_events.c.seq == 2))
    elif kind == "delete_tail":
        await _tamper(db, delete(audit_events).where(audit_events.c.seq == 5))
    elif kind == "wrong_key_forgery":
        await _tamper(
            db, update(audit_events).where(audit_events.c.seq == 4).values(mac=events[3].mac[::-1])
        )
    check = await verify_chain(db.sessions, db.keyring.audit_key)
    assert not check.ok
    assert check.first_bad_seq == first_bad, check.reason


async def test_a_deleted_tail_with_a_rewound_head_is_detected(db) -> None:
    await _chain_of(db, 4)
    events = await _events(db)
    await _tamper(
        db,
        delete(audit_events).where(audit_events.c.seq == 4),
        update(audit_head).values(seq=3, mac=events[2].mac),  # head_mac cannot be forged
    )
    check = await verify_chain(db.sessions, db.keyring.audit_key)
    assert (check.ok, check.first_bad_seq) == (False, 3)


async def test_no_audit_no_read(db) -> None:
    journey = await whole_conversation(db)
    await _tamper(db, delete(audit_head))  # the audit write will fail
    with pytest.raises(RuntimeError):
        await casework.read_transcript(
            uow=db.uow(),
            staff_id=journey.staff_id,
            case_code=journey.case_code,
            purpose="review",
            clock=Clock(),
        )
