"""Races and replays: one claim wins, a replayed update counts once, no worker loses a message."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from bot.outbox_worker import OutboxWorker, RateLimiter
from core.errors import AlreadyClaimed
from core.model import Role
from core.policy import ServicePolicy
from core.usecases import casework, intake, staffing
from storage.inbox import InboxStore
from storage.outbox import OutboxStore
from storage.tables import cases, inbox, outbox
from tests.integration.journey import (
    Clock,
    RecordingSender,
    told_their_story,
)


async def _queued_case(db, clock: Clock) -> str:
    sender, received = await told_their_story(db, clock, "70001")
    await intake.confirm_category(
        uow=db.uow(), sender=sender, category="kesehatan_jiwa", clock=clock, policy=ServicePolicy()
    )
    return received.case_code


async def _counsellors(db, clock: Clock, n: int) -> list[str]:
    ids = []
    for i in range(n):
        invite = await staffing.create_invite(
            uow=db.uow(), role=Role.COUNSELLOR, queue_codes=["psikologi"], clock=clock
        )
        member = await staffing.redeem_invite(
            uow=db.uow(),
            code=invite.code,
            telegram_id=f"9{i:04d}",
            telegram_chat=f"9{i:04d}",
            display_name=f"Konselor {i}",
            clock=clock,
        )
        ids.append(member.id)
    return ids


async def test_twenty_concurrent_claims_produce_exactly_one_assignee(db) -> None:
    clock = Clock()
    code = await _queued_case(db, clock)
    staff_ids = await _counsellors(db, clock, 20)

    async def claim(staff_id: str) -> str:
        try:
            await casework.claim_case(uow=db.uow(), staff_id=staff_id, case_code=code, clock=clock)
        except AlreadyClaimed:
            return "lost"
        return staff_id

    results = await asyncio.gather(*(claim(s) for s in staff_ids))
    winners = [r for r in results if r != "lost"]
    assert len(winners) == 1
    assert results.count("lost") == 19
    async with db.sessions() as session:
        row = (await session.execute(select(cases).where(cases.c.code == code))).one()
        claimed_notices = await session.scalar(
            select(func.count()).select_from(outbox).where(outbox.c.recipient_kind == "client")
        )
    assert (row.status, row.assignee_id) == ("assigned", winners[0])
    assert claimed_notices == 3  # triage prompt, "case opened", ONE "counsellor X is with you"


async def test_a_replayed_inbound_update_is_stored_once(db) -> None:
    store = InboxStore(db.sessions)
    at = Clock().now()
    first = await store.record(channel="telegram", external_id="update:1001", at=at)
    replays = await asyncio.gather(
        *(store.record(channel="telegram", external_id="update:1001", at=at) for _ in range(5))
    )
    other_channel = await store.record(channel="whatsapp", external_id="update:1001", at=at)
    assert (first, replays, other_channel) == (True, [False] * 5, True)
    async with db.sessions() as session:
        count = await session.scalar(select(func.count()).select_from(inbox))
    assert count == 2


async def test_the_outbox_survives_a_worker_killed_between_claim_and_send(db) -> None:
    clock = Clock()
    await _queued_case(db, clock)
    store = OutboxStore(db.sessions, db.keyring)
    claimed = await store.claim_channels(
        worker_id="doomed", now=clock.now(), limits={"telegram": 10}, lease_seconds=60
    )
    assert len(claimed) == 2  # the triage prompt and "case opened"
    # The doomed worker dies here, before sending anything.

    sender = RecordingSender()
    survivor = OutboxWorker(
        store=store,
        senders={"telegram": sender},
        clock=clock,
        lease_seconds=60,
        limiter=RateLimiter(per_chat_interval=0.0),
    )
    assert await survivor.run_once() == 0  # the lease still holds
    clock.advance(seconds=61)
    assert await survivor.run_once() == 2
    assert await survivor.run_once() == 0
    clock.advance(seconds=3600)
    assert await survivor.run_once() == 0
    assert [address for address, _ in sender.sent] == ["70001", "70001"]
    assert sorted(p["text"][:20] for _, p in sender.sent) == sorted(
        i.payload["text"][:20] for i in claimed
    )


async def test_two_workers_never_send_the_same_row(db) -> None:
    clock = Clock()
    for i in range(15):
        await told_their_story(db, clock, f"8{i:03d}", "Halo, saya ingin konsultasi gizi.")
    store = OutboxStore(db.sessions, db.keyring)
    sent = RecordingSender()
    workers = [
        OutboxWorker(
            store=store,
            senders={"telegram": sent},
            clock=clock,
            batch=4,
            limiter=RateLimiter(per_chat_interval=0.0),
        )
        for _ in range(2)
    ]

    async def drain(worker: OutboxWorker) -> None:
        while await worker.run_once():
            pass

    await asyncio.gather(*(drain(w) for w in workers))
    assert len(sent.sent) == 15
    assert len({address for address, _ in sent.sent}) == 15
    async with db.sessions() as session:
        statuses = (await session.execute(select(outbox.c.status))).scalars().all()
        assert set(statuses) == {"sent"}
        assert (
            await session.execute(
                select(outbox.c.payload_enc).where(outbox.c.payload_enc.is_not(None))
            )
        ).first() is None  # a delivered payload is not kept


async def test_a_case_code_already_taken_gives_the_new_case_another(db, monkeypatch) -> None:
    """Case codes are short (24^4 = 331,776): among a few hundred cases two may draw the same
    one. The second case gets another code instead of failing on the unique code."""
    monkeypatch.setattr(intake, "new_case_code", lambda: "K-AAAA")
    clock = Clock()
    _, first = await told_their_story(db, clock, "code-one")
    _, second = await told_their_story(db, clock, "code-two")
    assert first.case_code == "K-AAAA" and second.case_code not in ("K-AAAA", None)
    async with db.sessions() as session:
        codes = set((await session.execute(select(cases.c.code))).scalars())
    assert codes == {"K-AAAA", second.case_code}


async def test_a_disabled_member_rejoins_on_the_same_telegram_account(db) -> None:
    """The account's blind index is unique: the new member takes it from the disabled one.

    Before, the second redemption hit the unique constraint and the staff bot never answered."""
    clock = Clock()
    (old,) = await _counsellors(db, clock, 1)
    await staffing.revoke_staff(uow=db.uow(), staff_id=old)

    (new,) = await _counsellors(db, clock, 1)

    found = await staffing.staff_by_telegram(uow=db.uow(), telegram_id="90000")
    assert found is not None and found.id == new != old
    async with db.uow() as uow:
        members = {m.id: m for m in await uow.staff.all()}
    assert not members[old].active and members[new].active
