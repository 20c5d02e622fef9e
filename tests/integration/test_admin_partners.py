"""Partners and queues set up by an admin, on real SQLite and PostgreSQL: added, renamed,
removed only when idle, audited, and kept across a restart that reads the partners file."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from core.errors import InvalidInput, NotAllowed, NotFound
from core.model import Role
from core.usecases import client_rights, setup_partners, staff_admin
from storage.audit import verify_chain
from storage.seed import seed_partners
from storage.tables import audit_events, cases, partners, queues, staff
from tests.integration.conftest import PARTNERS
from tests.integration.journey import Clock, whole_conversation
from tests.integration.test_admin_oversight import an_admin


async def rows(db, table) -> list[tuple]:
    async with db.sessions() as session:
        return sorted(tuple(map(str, r)) for r in await session.execute(select(table)))


async def queue_map(db) -> dict[str, tuple[str, str]]:
    async with db.sessions() as session:
        found = await session.execute(select(queues.c.code, queues.c.name, queues.c.categories))
    return {code: (name, categories) for code, name, categories in found}


async def audited(db) -> list[str]:
    async with db.sessions() as session:
        query = select(audit_events.c.purpose).where(audit_events.c.action == "setup.changed")
        return list((await session.scalars(query.order_by(audit_events.c.seq))).all())


async def test_an_admin_adds_a_partner_and_a_queue_that_takes_its_topics(db) -> None:
    clock = Clock()
    admin = await an_admin(db, clock)
    common = {"uow": db.uow(), "admin_id": admin, "clock": clock}
    await setup_partners.add_partner(**common, code="ump", name="Universitas Muhammadiyah")
    await setup_partners.add_queue(
        uow=db.uow(),
        admin_id=admin,
        code="konseling-ump",
        name="Konseling UMP",
        partner_code="ump",
        categories=["keluarga"],
        clock=clock,
    )
    await seed_partners(db.sessions, PARTNERS)  # a restart reads the partners file again

    found = await queue_map(db)
    assert found["konseling-ump"] == ("Konseling UMP", "keluarga")
    assert found["psikologi"] == ("Psikologi", "kesehatan_jiwa")  # keluarga moved away
    assert await audited(db) == [
        "partner added ump",
        "queue added konseling-ump (ump) [keluarga]",
    ]
    assert (await verify_chain(db.sessions, db.keyring.audit_key)).ok


async def test_renames_are_audited_and_survive_a_restart(db) -> None:
    clock = Clock()
    admin = await an_admin(db, clock)
    await setup_partners.rename_partner(
        uow=db.uow(), admin_id=admin, code="hukum", name="  LBH   Purworejo ", clock=clock
    )
    await setup_partners.rename_queue(
        uow=db.uow(), admin_id=admin, code="psikologi", name="Konseling Psikologi", clock=clock
    )
    await seed_partners(db.sessions, PARTNERS)

    assert (await queue_map(db))["psikologi"][0] == "Konseling Psikologi"
    async with db.sessions() as session:
        name = await session.scalar(select(partners.c.name).where(partners.c.code == "hukum"))
    assert name == "LBH Purworejo"
    assert await audited(db) == ["partner renamed hukum", "queue renamed psikologi"]


async def test_a_queue_with_an_unfinished_case_is_never_removed(db) -> None:
    clock = Clock()
    journey = await whole_conversation(db, clock)  # resolved, not closed: it may reopen
    admin = await an_admin(db, clock)
    before = [await rows(db, t) for t in (queues, staff, cases, audit_events)]

    with pytest.raises(InvalidInput) as refused:
        await setup_partners.remove_queue(
            uow=db.uow(), admin_id=admin, code="psikologi", clock=clock
        )

    assert (str(refused.value), refused.value.values) == ("oversight.queue_has_cases", {"count": 1})
    assert [await rows(db, t) for t in (queues, staff, cases, audit_events)] == before

    await client_rights.close_own_case(uow=db.uow(), sender=journey.client, clock=clock)
    await setup_partners.remove_queue(uow=db.uow(), admin_id=admin, code="psikologi", clock=clock)
    await seed_partners(db.sessions, PARTNERS)  # the file does not bring it back

    assert "psikologi" not in await queue_map(db)
    async with db.sessions() as session:
        member = (await session.execute(select(staff).where(staff.c.id == journey.staff_id))).one()
        held = await session.scalar(
            select(cases.c.queue_id).where(cases.c.code == journey.case_code)
        )
    assert member.queue_ids == "" and held is None  # the closed case keeps its history
    assert await audited(db) == ["queue removed psikologi"]


async def test_bad_input_and_non_admins_change_nothing(db) -> None:
    clock = Clock()
    journey = await whole_conversation(db, clock)
    admin = await an_admin(db, clock)
    before = [await rows(db, t) for t in (partners, queues, audit_events)]
    attempts = [
        (InvalidInput, setup_partners.add_partner, {"code": "Bad Code!", "name": "X"}),
        (InvalidInput, setup_partners.add_partner, {"code": "hukum", "name": "Lagi"}),
        (InvalidInput, setup_partners.add_partner, {"code": "baru", "name": "   "}),
        (InvalidInput, setup_partners.remove_queue, {"code": "umum"}),  # the general desk
        (NotFound, setup_partners.rename_queue, {"code": "tidak-ada", "name": "X"}),
        (NotFound, setup_partners.add_queue, {**NEW_QUEUE, "partner_code": "tidak-ada"}),
        (InvalidInput, setup_partners.add_queue, {**NEW_QUEUE, "categories": ["rahasia"]}),
        (InvalidInput, setup_partners.add_queue, {**NEW_QUEUE, "code": "gizi"}),
    ]
    for error, call, values in attempts:
        with pytest.raises(error):
            await call(uow=db.uow(), admin_id=admin, clock=clock, **values)
    with pytest.raises(NotAllowed):
        await setup_partners.add_partner(
            uow=db.uow(), admin_id=journey.staff_id, code="baru", name="Baru", clock=clock
        )
    assert [await rows(db, t) for t in (partners, queues, audit_events)] == before


NEW_QUEUE = {"code": "baru", "name": "Baru", "partner_code": "hukum", "categories": []}


async def test_members_can_serve_an_admin_created_queue(db) -> None:
    clock = Clock()
    admin = await an_admin(db, clock)
    await setup_partners.add_queue(uow=db.uow(), admin_id=admin, clock=clock, **NEW_QUEUE)
    member = await staff_admin.create_member(
        uow=db.uow(),
        admin_id=admin,
        display_name="Pak Budi",
        role=Role.COUNSELLOR,
        queue_codes=["baru"],
        clock=clock,
    )
    listed = await staff_admin.list_members(uow=db.uow(), admin_id=admin)
    assert [m.queue_codes for m in listed if m.id == member.id] == [("baru",)]
