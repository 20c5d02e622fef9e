"""Replies queued and rows marked at about the same time share transactions, and lose nothing."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import event, func, select

from core.model import Role
from core.policy import ServicePolicy
from core.usecases import intake, staffing
from storage.outbox import OutboxStore
from storage.tables import data_keys, outbox
from tests.integration.conftest import Db
from tests.integration.journey import Clock, told_their_story

CANARY = "KANARI-BALASAN-5120"


def counting_commits(db: Db) -> list[int]:
    commits: list[int] = []
    event.listen(db.engine.sync_engine, "commit", lambda _conn: commits.append(1))
    return commits


def recording_statements(db: Db) -> list[str]:
    statements: list[str] = []
    event.listen(
        db.engine.sync_engine,
        "before_cursor_execute",
        lambda _conn, _cursor, statement, *_args: statements.append(statement),
    )
    return statements


async def test_concurrent_replies_and_marks_share_transactions(db: Db) -> None:
    store = OutboxStore(db.sessions, db.keyring)
    commits = counting_commits(db)
    statements = recording_statements(db)
    chats = [f"9000{n}" for n in range(30)]
    await asyncio.gather(
        *(
            store.enqueue_direct(
                channel="telegram", address=chat, payload={"text": f"{CANARY} {chat}"}
            )
            for chat in chats
        ),
        store.enqueue_direct(channel="whatsapp", address="6281200", payload={"text": CANARY}),
    )
    queued = len(commits)
    assert queued < 31  # one transaction each would be 31
    now = datetime.now(UTC) + timedelta(seconds=1)
    claimed = await store.claim_channels(
        worker_id="w1", now=now, limits={"telegram": 50, "whatsapp": 50}, lease_seconds=60
    )
    assert sorted(i.address for i in claimed if i.channel == "telegram") == sorted(chats)
    assert {i.payload["text"] for i in claimed} == {CANARY} | {f"{CANARY} {c}" for c in chats}
    commits.clear()
    statements.clear()
    await asyncio.gather(
        *(store.mark_sent(i, "w1", "wamid.1" if i.channel == "whatsapp" else None) for i in claimed)
    )
    assert len(commits) < len(claimed)
    # The claimed items say what each row is (its channel, a direct reply): nothing is read.
    verbs = {s.lstrip().split()[0].upper() for s in statements}
    assert "UPDATE" in verbs and "SELECT" not in verbs
    async with db.sessions() as session:
        rows = (await session.execute(select(outbox))).all()
        keys = await session.scalar(select(func.count()).select_from(data_keys))
    assert {r.status for r in rows} == {"sent"}
    telegram = [r for r in rows if r.channel == "telegram"]
    assert all(r.payload_enc is None and r.address_enc is None for r in telegram)
    # WhatsApp keeps the sealed row until its delivery report is final (a resend may be asked).
    (whatsapp,) = [r for r in rows if r.channel == "whatsapp"]
    assert whatsapp.payload_enc is not None and whatsapp.external_id == "wamid.1"
    assert keys == 1  # only the WhatsApp row's key is left: the others were shredded


async def test_a_chats_replies_keep_their_order(db: Db) -> None:
    store = OutboxStore(db.sessions, db.keyring)
    for n in range(5):
        await store.enqueue_direct(channel="telegram", address="7001", payload={"text": str(n)})
    claimed = await store.claim_channels(
        worker_id="w1",
        now=datetime.now(UTC) + timedelta(seconds=1),
        limits={"telegram": 10},
        lease_seconds=60,
    )
    assert [i.payload["text"] for i in claimed] == ["0", "1", "2", "3", "4"]


async def test_notices_are_routed_from_what_the_use_case_holds(db: Db) -> None:
    """A case's notices carry its client and their channel: nothing is looked up to route
    them, and erasing the client still drops the staff's rows about the case too."""
    clock, policy = Clock(), ServicePolicy()
    invite = await staffing.create_invite(
        uow=db.uow(), role=Role.COUNSELLOR, queue_codes=["psikologi"], clock=clock
    )
    member = await staffing.redeem_invite(
        uow=db.uow(),
        code=invite.code,
        telegram_id="4242000999",
        telegram_chat="3131000999",
        display_name="Bu Rina",
        clock=clock,
    )
    await staffing.set_on_duty(uow=db.uow(), staff_id=member.id, on_duty=True)
    asn, _ = await told_their_story(db, clock, "98765000999")
    statements = recording_statements(db)
    case = await intake.confirm_category(
        uow=db.uow(), sender=asn, category="kesehatan_jiwa", clock=clock, policy=policy
    )
    routing = ("SELECT cases.client_id FROM", "SELECT clients.channel FROM")
    lookups = [s for s in statements if " ".join(s.split()).startswith(routing)]
    assert lookups == []
    async with db.sessions() as session:
        rows = (await session.execute(select(outbox).where(outbox.c.case_id == case.id))).all()
    assert {(r.channel, r.recipient_kind) for r in rows} == {
        ("telegram", "client"),
        ("staff", "staff"),
    }
    assert {r.client_id for r in rows} == {case.client_id}
    async with db.uow() as uow:
        await uow.outbox.drop_for(client_id=case.client_id)
        await uow.commit()
    async with db.sessions() as session:
        left = await session.scalar(
            select(func.count()).select_from(outbox).where(outbox.c.case_id == case.id)
        )
    assert left == 0


async def test_a_direct_reply_given_up_keeps_neither_its_address_nor_its_key(db: Db) -> None:
    store = OutboxStore(db.sessions, db.keyring)
    await store.enqueue_direct(channel="telegram", address="7002", payload={"text": CANARY})
    [item] = await store.claim_channels(
        worker_id="w1",
        now=datetime.now(UTC) + timedelta(seconds=1),
        limits={"telegram": 10},
        lease_seconds=60,
    )
    assert item.direct
    await store.mark_dead(item.id, "TelegramForbiddenError")
    async with db.sessions() as session:
        [row] = (await session.execute(select(outbox))).all()
        keys = await session.scalar(select(func.count()).select_from(data_keys))
    assert (row.status, row.address_enc, keys) == ("dead", None, 0)


async def test_a_claim_reads_each_rows_key_and_address_with_the_row(db: Db) -> None:
    """Claimed rows come with the data keys their payloads are sealed under, and a client's
    or staff member's address with theirs: no data key is read on its own."""
    clock, policy = Clock(), ServicePolicy()
    invite = await staffing.create_invite(
        uow=db.uow(), role=Role.COUNSELLOR, queue_codes=["psikologi"], clock=clock
    )
    member = await staffing.redeem_invite(
        uow=db.uow(), code=invite.code, telegram_id="4242000777", telegram_chat="3131000777",
        display_name="Bu Rina", clock=clock,
    )  # fmt: skip
    await staffing.set_on_duty(uow=db.uow(), staff_id=member.id, on_duty=True)
    asn, _ = await told_their_story(db, clock, "98765000777")
    await intake.confirm_category(
        uow=db.uow(), sender=asn, category="kesehatan_jiwa", clock=clock, policy=policy
    )
    store = OutboxStore(db.sessions, db.keyring)
    await store.enqueue_direct(channel="telegram", address="7003", payload={"text": CANARY})
    statements = recording_statements(db)
    claimed = await store.claim_channels(
        worker_id="w1",
        now=datetime.now(UTC) + timedelta(seconds=1),
        limits={"telegram": 50, "staff": 50},
        lease_seconds=60,
    )
    key_reads = [s for s in statements if " ".join(s.split()).startswith("SELECT data_keys")]
    assert key_reads == []
    assert {(i.channel, i.address) for i in claimed} == {
        ("telegram", "98765000777"),
        ("staff", "3131000777"),
        ("telegram", "7003"),
    }
    assert all(i.payload["text"] for i in claimed)
