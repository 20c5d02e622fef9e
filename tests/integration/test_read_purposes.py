"""A transcript read's purpose is a code from a fixed list: typed text never reaches the audit
table, the admin's trail or the ASN's export (real SQLite and PostgreSQL)."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from core.errors import InvalidInput
from core.model import AuditEvent
from core.usecases import casework, client_rights, oversight
from storage.audit import verify_chain
from storage.tables import audit_events
from tests.integration.journey import Clock, whole_conversation
from tests.integration.test_admin_oversight import an_admin

TYPED = "ibu KANARI-TUJUAN-4410 bercerai dan mau bunuh diri"


async def _audit_rows(db) -> list[str]:
    async with db.sessions() as session:
        rows = (await session.execute(select(audit_events))).all()
    return [repr(tuple(row)) for row in rows]


async def test_a_typed_purpose_is_refused_and_never_stored(db) -> None:
    journey = await whole_conversation(db)  # one read with the code "respond"
    before = await _audit_rows(db)
    for typed in (TYPED, f"respond {TYPED}", "Respond\n" + TYPED):
        with pytest.raises(InvalidInput):
            await casework.read_transcript(
                uow=db.uow(),
                staff_id=journey.staff_id,
                case_code=journey.case_code,
                purpose=typed,
                clock=Clock(),
            )
    after = await _audit_rows(db)
    assert after == before and len(after) == 1
    assert "KANARI-TUJUAN" not in "".join(after)
    assert "'respond'" in after[0]


async def test_every_listed_purpose_is_stored_as_its_code(db) -> None:
    journey = await whole_conversation(db)
    for code in ("review", "supervision", "transfer", "client_request", "safety"):
        await casework.read_transcript(
            uow=db.uow(),
            staff_id=journey.staff_id,
            case_code=journey.case_code,
            purpose=code,
            clock=Clock(),
        )
    async with db.sessions() as session:
        stored = (await session.scalars(select(audit_events.c.purpose))).all()
    assert stored == ["respond", "review", "supervision", "transfer", "client_request", "safety"]


async def test_an_old_free_text_purpose_is_shown_as_unspecified(db) -> None:
    """Reads logged before the list keep their row (the hash chain covers it) but not
    their words: the trail and the export show `unspecified` instead."""
    clock = Clock()
    journey = await whole_conversation(db, clock)
    admin = await an_admin(db, clock)
    async with db.uow() as uow:
        old = AuditEvent(journey.staff_id, "transcript.read", journey.case_code, TYPED, clock.now())
        await uow.audit.append(old)
        await uow.commit()

    trail = await oversight.audit_trail(uow=db.uow(), viewer_id=admin)
    export = await client_rights.export_client_data(uow=db.uow(), sender=journey.client)

    assert [r.purpose for r in trail.rows] == ["unspecified", "respond"]
    reads = export.cases[0].reads
    assert [r["purpose"] for r in reads] == [
        "menanggapi klien",
        "tidak tercatat (sebelum daftar tujuan)",
    ]
    assert "KANARI-TUJUAN" not in repr(trail) + json.dumps(reads)
    assert (await verify_chain(db.sessions, db.keyring.audit_key)).ok
