"""Envelope encryption in the database: bound ciphertexts, crypto-shredding, rotation under load."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import event, select, update

from core.errors import DomainError
from core.policy import ServicePolicy
from core.usecases import casework, client_rights, intake
from storage.crypto import CryptoError
from storage.keys import ReloadingKeyRing, save_keyring
from storage.repos_cases import SqlCaseRepository
from storage.rotation import key_status, rotate
from storage.sealing import MissingKey, Sealer
from storage.tables import cases, data_keys, messages
from storage.uow import SqlUnitOfWork
from tests.integration.journey import (
    CANARIES,
    Clock,
    FixedClassifier,
    Journey,
    WordScreener,
    add_supervisor,
    told_their_story,
    whole_conversation,
)


async def _read(db, journey: Journey, reader: str, uow: SqlUnitOfWork | None = None) -> list[str]:
    lines = await casework.read_transcript(
        uow=uow or db.uow(),
        staff_id=reader,
        case_code=journey.case_code,
        purpose="supervision",
        clock=Clock(),
    )
    return [line.body for line in lines]


async def _message_rows(db, case_code: str) -> list:
    async with db.sessions() as session:
        case_id = await session.scalar(select(cases.c.id).where(cases.c.code == case_code))
        rows = await session.execute(
            select(messages.c.id, messages.c.body_enc)
            .where(messages.c.case_id == case_id)
            .order_by(messages.c.seq)
        )
        return [(case_id, *row) for row in rows]


async def test_a_ciphertext_moved_to_another_row_or_case_fails_to_decrypt(db) -> None:
    first = await whole_conversation(db)
    supervisor = await add_supervisor(db)
    assert CANARIES["client_text"] in " ".join(await _read(db, first, supervisor))
    rows = await _message_rows(db, first.case_code)
    (_, id_a, token_a), (_, id_b, _) = rows[0], rows[1]
    async with db.sessions() as session, session.begin():
        await session.execute(
            update(messages).where(messages.c.id == id_b).values(body_enc=token_a)
        )
    with pytest.raises(CryptoError):
        await _read(db, first, supervisor)
    # Same row id, another case's key: also refused.
    async with db.sessions() as session:
        sealer = Sealer(session, db.keyring)
        other_case = (await session.execute(select(data_keys.c.owner_id))).scalars().all()
        other = next(o for o in other_case if o != rows[0][0])
        with pytest.raises(CryptoError):
            await sealer.open(token_a, table="messages", column="body", row_id=id_a, owner_id=other)
        assert CANARIES["client_text"] in await sealer.open(
            token_a, table="messages", column="body", row_id=id_a, owner_id=rows[0][0]
        )


async def test_after_deletion_the_transcript_cannot_be_decrypted(db) -> None:
    journey = await whole_conversation(db)
    rows = await _message_rows(db, journey.case_code)
    case_id, message_id, token = rows[0]
    async with db.sessions() as session:
        wrapped = await session.scalar(
            select(data_keys.c.wrapped).where(data_keys.c.owner_id == case_id)
        )
    assert wrapped is not None

    text = await client_rights.delete_client_data(uow=db.uow(), sender=journey.client)
    assert "hapus" in text

    async with db.sessions() as session:
        assert (
            await session.scalar(
                select(data_keys.c.owner_id).where(data_keys.c.owner_id == case_id)
            )
            is None
        )
        assert (await session.execute(select(messages.c.id))).first() is None
        with pytest.raises(MissingKey):
            await Sealer(session, db.keyring).open(
                token, table="messages", column="body", row_id=message_id, owner_id=case_id
            )
    with pytest.raises(DomainError):  # the ASN is unknown now: consent is asked again
        await client_rights.export_client_data(uow=db.uow(), sender=journey.client)


async def test_a_message_reads_the_client_and_case_keys_with_their_rows(db) -> None:
    """An ASN's message seals the text under the case's key and reads the client: both data
    keys come with the client's and the case's rows, not by reads of their own."""
    clock = Clock()
    sender, received = await told_their_story(db, clock, "key-reads")
    key_reads: list[str] = []

    def seen(conn, cursor, statement, *_):
        if statement.lstrip().startswith("SELECT") and "FROM data_keys" in statement:
            key_reads.append(statement)

    event.listen(db.engine.sync_engine, "before_cursor_execute", seen)
    try:
        await intake.receive_client_message(
            uow=db.uow(), sender=sender, text=CANARIES["followup"], screener=WordScreener(),
            classifier=FixedClassifier(), clock=clock, policy=ServicePolicy(),
        )  # fmt: skip
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", seen)
    assert key_reads == []
    case_id, message_id, token = (await _message_rows(db, received.case_code))[-1]
    async with db.sessions() as session:  # sealed under the case's key, as before
        opened = await Sealer(session, db.keyring).open(
            token, table="messages", column="body", row_id=message_id, owner_id=case_id
        )
    assert opened == CANARIES["followup"]


async def test_a_cases_messages_are_numbered_in_the_order_written(db) -> None:
    """Each message takes the next number of its case as it is inserted."""
    journey = await whole_conversation(db)
    async with db.sessions() as session:
        case_id = await session.scalar(select(cases.c.id).where(cases.c.code == journey.case_code))
        rows = (
            await session.execute(
                select(messages.c.seq)
                .where(messages.c.case_id == case_id)
                .order_by(messages.c.created_at, messages.c.seq)
            )
        ).all()
    assert [r.seq for r in rows] == list(range(1, len(rows) + 1))
    supervisor = await add_supervisor(db)
    lines = await _read(db, journey, supervisor)
    assert CANARIES["client_text"] in lines[0] and lines[-1] == CANARIES["followup"]


async def test_a_destroyed_key_read_with_its_row_is_missing(db) -> None:
    """Read alongside its row, a destroyed (shredded) key is NULL: opening fails as before."""
    journey = await whole_conversation(db)
    rows = await _message_rows(db, journey.case_code)
    case_id, message_id, token = rows[0]
    async with db.sessions() as session, session.begin():
        await Sealer(session, db.keyring).destroy_keys([case_id])
    async with db.sessions() as session:
        sealer = Sealer(session, db.keyring)
        found = await SqlCaseRepository(session, sealer).get(case_id)
        assert found is not None
        with pytest.raises(MissingKey):
            await sealer.open(
                token, table="messages", column="body", row_id=message_id, owner_id=case_id
            )


async def test_kek_rotation_while_reads_continue_loses_nothing(db, tmp_path: Path) -> None:
    key_file = tmp_path / "keys.json"
    save_keyring(db.keyring, key_file)
    journeys = [await whole_conversation(db) for _ in range(3)]
    supervisor = await add_supervisor(db)
    expected = {j.case_code: await _read(db, j, supervisor) for j in journeys}
    before = await key_status(db.sessions)
    assert set(before) == {1}

    reader_ring = ReloadingKeyRing(key_file, db.keyring)  # what a running service holds
    stop = asyncio.Event()
    reads: list[bool] = []

    async def keep_reading() -> None:
        while not stop.is_set():
            for journey in journeys:
                uow = SqlUnitOfWork(db.sessions, reader_ring)
                reads.append(
                    await _read(db, journey, supervisor, uow) == expected[journey.case_code]
                )
            await asyncio.sleep(0)

    readers = [asyncio.create_task(keep_reading()) for _ in range(3)]
    await asyncio.sleep(0.05)
    new_ring = db.keyring.with_new_version()
    save_keyring(new_ring, key_file)  # the CLI saves first, then rewraps
    rewrapped = await rotate(db.sessions, new_ring)
    await asyncio.sleep(0.1)
    stop.set()
    await asyncio.gather(*readers)

    assert rewrapped == sum(before.values())
    assert await key_status(db.sessions) == {2: sum(before.values())}
    assert reads and all(reads), "a read failed or changed during rotation"
    for journey in journeys:  # readable with the new keyring alone... of v1 only v2 is needed
        only_new = type(new_ring)(
            {2: new_ring.kek(2)}, 2, new_ring.blind_index_key, new_ring.audit_key
        )
        assert (
            await _read(db, journey, supervisor, SqlUnitOfWork(db.sessions, only_new))
            == (expected[journey.case_code])
        )
