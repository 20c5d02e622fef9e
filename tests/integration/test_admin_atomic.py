"""No log, no change: every admin change and its audit event commit together or not at all
(real SQLite and PostgreSQL). The audit write is broken by removing the chain head, so
`append` raises inside the unit of work."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from sqlalchemy import delete, insert, select

from core.model import Role
from core.usecases import setup, setup_partners, staff_admin
from storage.audit import verify_chain
from storage.tables import (
    admin_settings,
    audit_events,
    audit_head,
    cases,
    invites,
    partners,
    queues,
    staff,
)
from tests.integration.journey import Clock, whole_conversation
from tests.integration.test_admin_oversight import an_admin

TABLES = (staff, invites, partners, queues, cases, admin_settings, audit_events)
Change = Callable[..., Awaitable[object]]
NAMES = ["value", "mapping", "create", "invite", "queues", "disable"]
NAMES += ["partner", "queue", "rename", "remove"]


async def snapshot(db) -> list[list[tuple]]:
    async with db.sessions() as session:
        return [
            sorted((tuple(map(str, row)) for row in await session.execute(select(t))), key=str)
            for t in TABLES
        ]


def changes(admin: str, member: str, clock: Clock) -> dict[str, Change]:
    common = {"admin_id": admin, "clock": clock}
    return {
        "value": lambda uow: setup.change_value(uow=uow, key="stats_k", raw="9", **common),
        "mapping": lambda uow: setup.map_category(
            uow=uow, category="gizi", queue_code="psikologi", **common
        ),
        "create": lambda uow: staff_admin.create_member(
            uow=uow, display_name="Baru", role=Role.COUNSELLOR, queue_codes=["gizi"], **common
        ),
        "invite": lambda uow: staff_admin.invite_member(
            uow=uow, role=Role.COUNSELLOR, queue_codes=["gizi"], **common
        ),
        "queues": lambda uow: staff_admin.assign_queues(
            uow=uow, staff_id=member, queue_codes=["hukum"], **common
        ),
        "disable": lambda uow: staff_admin.disable_member(uow=uow, staff_id=member, **common),
        "partner": lambda uow: setup_partners.add_partner(uow=uow, code="ump", name="U", **common),
        "queue": lambda uow: setup_partners.add_queue(
            uow=uow, code="baru", name="Q", partner_code="hukum", categories=["hukum"], **common
        ),
        "rename": lambda uow: setup_partners.rename_queue(
            uow=uow, code="gizi", name="Gizi Sehat", **common
        ),
        "remove": lambda uow: setup_partners.remove_queue(uow=uow, code="hukum", **common),
    }


@pytest.mark.parametrize("name", NAMES)
async def test_a_failing_audit_write_rolls_the_change_back(db, name: str) -> None:
    clock = Clock()
    journey = await whole_conversation(db, clock)  # the member has a case in work
    admin = await an_admin(db, clock)
    async with db.sessions() as session, session.begin():
        head = (await session.execute(select(audit_head))).one()._asdict()
        await session.execute(delete(audit_head))
    before = await snapshot(db)

    with pytest.raises(RuntimeError, match="audit head"):
        await changes(admin, journey.staff_id, clock)[name](db.uow())

    assert await snapshot(db) == before
    async with db.sessions() as session, session.begin():
        await session.execute(insert(audit_head).values(**head))
    assert (await verify_chain(db.sessions, db.keyring.audit_key)).ok


@pytest.mark.parametrize("name", NAMES)
async def test_the_change_and_its_event_commit_together(db, name: str) -> None:
    clock = Clock()
    journey = await whole_conversation(db, clock)
    admin = await an_admin(db, clock)
    before = await snapshot(db)

    await changes(admin, journey.staff_id, clock)[name](db.uow())

    after = await snapshot(db)
    assert len(after[-1]) == len(before[-1]) + 1  # exactly one new audit event
    assert after[:-1] != before[:-1]  # and the change itself
    assert (await verify_chain(db.sessions, db.keyring.audit_key)).ok
