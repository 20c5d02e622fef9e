"""Admin setup, staff, audit trail and operations against real SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from core.errors import InvalidInput, NotAllowed
from core.model import CaseStatus, Role
from core.policy import ServicePolicy
from core.usecases import casework, client_rights, intake, oversight, setup, staff_admin
from storage import ops
from storage.audit import verify_chain
from storage.purge import purge
from storage.seed import seed_partners
from storage.setup_store import read_setting, write_setting
from storage.staff_auth import StaffAuth
from storage.tables import admin_settings, queues
from tests.integration.conftest import PARTNERS
from tests.integration.journey import (
    CANARIES,
    Clock,
    add_supervisor,
    told_their_story,
    whole_conversation,
)


async def an_admin(db, clock: Clock) -> str:
    admin = await staff_admin.staffing.add_staff(
        uow=db.uow(), display_name="Admin BKPSDM", role=Role.ADMIN, queue_codes=[], clock=clock
    )
    return admin.id


async def test_setup_values_round_trip_as_json(db) -> None:
    clock = Clock()
    await write_setting(db.sessions, "holidays", ["2026-12-25"], at=clock.now())
    await write_setting(db.sessions, "holidays", ["2026-12-24", "2026-12-25"], at=clock.now())
    assert await read_setting(db.sessions, "holidays") == ["2026-12-24", "2026-12-25"]
    assert await read_setting(db.sessions, "missing") is None
    async with db.uow() as uow:
        assert await uow.setup.all() == {"holidays": ["2026-12-24", "2026-12-25"]}


async def test_a_mapping_change_is_audited_kept_by_the_seed_and_chained(db) -> None:
    clock = Clock()
    admin = await an_admin(db, clock)
    await setup.map_category(
        uow=db.uow(), admin_id=admin, category="gizi", queue_code="psikologi", clock=clock
    )
    await seed_partners(db.sessions, PARTNERS)  # a restart reads the partners file again
    async with db.sessions() as session:
        mapped = dict((await session.execute(select(queues.c.code, queues.c.categories))).all())
    assert mapped["psikologi"] == "kesehatan_jiwa,keluarga,gizi" and mapped["gizi"] == ""
    check = await verify_chain(db.sessions, db.keyring.audit_key)
    assert check.ok and check.events == 1
    with pytest.raises(InvalidInput):
        await setup.map_category(
            uow=db.uow(), admin_id=admin, category="rahasia", queue_code="gizi", clock=clock
        )


async def test_only_an_admin_changes_setup_or_staff(db) -> None:
    clock = Clock()
    journey = await whole_conversation(db, clock)
    with pytest.raises(NotAllowed):
        await setup.change_value(
            uow=db.uow(), admin_id=journey.staff_id, key="stats_k", raw="9", clock=clock
        )
    with pytest.raises(NotAllowed):
        await staff_admin.list_members(uow=db.uow(), admin_id=journey.staff_id)
    with pytest.raises(NotAllowed):
        await oversight.audit_trail(uow=db.uow(), viewer_id=journey.staff_id)
    async with db.sessions() as session:
        assert (await session.execute(select(admin_settings))).all() == []


async def test_the_trail_shows_reads_to_admins_and_own_partner_supervisors(db) -> None:
    clock = Clock()
    journey = await whole_conversation(db, clock)
    admin = await an_admin(db, clock)
    own, other = await add_supervisor(db, "psikologi"), await add_supervisor(db, "hukum")
    seen = await oversight.audit_trail(uow=db.uow(), viewer_id=admin)
    [row] = seen.rows
    assert (row.who, row.action, row.case_code, row.purpose) == (
        "Bu Rina",
        "transcript.read",
        journey.case_code,
        "respond",
    )
    assert (await oversight.audit_trail(uow=db.uow(), viewer_id=own)).rows == [row]
    assert (await oversight.audit_trail(uow=db.uow(), viewer_id=other)).rows == []
    filtered = await oversight.audit_trail(uow=db.uow(), viewer_id=admin, actor_id=admin)
    assert filtered.rows == []
    assert CANARIES["client_text"] not in repr(seen)


async def test_the_asn_export_names_who_read_the_case(db) -> None:
    journey = await whole_conversation(db)
    export = await client_rights.export_client_data(uow=db.uow(), sender=journey.client)
    [case] = export.cases
    assert [(r["by"], r["purpose"]) for r in case.reads] == [("Bu Rina", "menanggapi klien")]
    assert journey.staff_id not in json.dumps(case.reads)


async def test_staff_management_changes_queues_disables_and_records_sign_ins(db) -> None:
    clock = Clock()
    admin = await an_admin(db, clock)
    member = await staff_admin.create_member(
        uow=db.uow(),
        admin_id=admin,
        display_name="  Rina   Wati ",
        role=Role.COUNSELLOR,
        queue_codes=["gizi"],
        clock=clock,
    )
    auth = StaffAuth(db.sessions, db.keyring)
    await auth.add_login(member.id, "rina", "kata-sandi-awal-1", clock.now())
    assert await auth.login("rina", "kata-sandi-awal-1", clock.now() + timedelta(hours=1))
    await staff_admin.assign_queues(
        uow=db.uow(), admin_id=admin, staff_id=member.id, queue_codes=["hukum"], clock=clock
    )
    [listed] = [
        m for m in await staff_admin.list_members(uow=db.uow(), admin_id=admin) if m.id == member.id
    ]
    assert (listed.display_name, listed.queue_codes) == ("Rina Wati", ("hukum",))
    assert listed.last_active_at == clock.now() + timedelta(hours=1)
    with pytest.raises(InvalidInput):
        await staff_admin.disable_member(uow=db.uow(), admin_id=admin, staff_id=admin, clock=clock)
    await staff_admin.disable_member(uow=db.uow(), admin_id=admin, staff_id=member.id, clock=clock)
    assert await auth.login("rina", "kata-sandi-awal-1", clock.now()) is None
    async with db.uow() as uow:
        actions = [e.action for e in await uow.audit.recent()]
    assert actions == ["member.disabled", "member.queues", "member.created"]
    assert (await verify_chain(db.sessions, db.keyring.audit_key)).ok


async def test_ops_figures_come_from_the_database_without_content(db) -> None:
    clock = Clock()
    journey = await whole_conversation(db, clock)
    counts = await ops.message_counts(db.sessions)
    assert counts[("telegram", "client")] == 2 and counts[("telegram", "staff")] == 1
    assert (await ops.queue_depth(db.sessions))["psikologi"] == 0
    [version] = await ops.key_versions(db.sessions, loaded=[1], current=1)
    assert version.current and version.data_keys >= 2 and version.first_used is not None
    assert await ops.last_purge(db.sessions) is None
    later = clock.now() + timedelta(days=400)
    assert await purge(db.sessions, db.keyring, now=later, retention_days=365) == 1
    assert await ops.last_purge(db.sessions) == later
    assert await ops.dead_letters(db.sessions) == []
    assert journey.case_code not in repr(counts)


async def test_the_running_service_takes_the_saved_setup(db, tmp_path) -> None:
    from bot.settings import Settings
    from bot.setup_overrides import apply_saved, retention_days, stats_k
    from bot.wiring import services

    settings = Settings(_env_file=None, database_url=db.url, key_file=tmp_path / "keys.json")
    async with services(settings) as svc:
        assert (await retention_days(svc), await stats_k(svc)) == (365, 5)
        admin = await an_admin(db, Clock())
        for key, raw in (("retention_days", "30"), ("closes", "15:00")):
            await setup.change_value(uow=db.uow(), admin_id=admin, key=key, raw=raw, clock=Clock())
        await apply_saved(svc)
        assert await retention_days(svc) == 30 and f"{svc.policy.closes:%H:%M}" == "15:00"


async def test_a_setup_saved_elsewhere_reaches_a_running_service_by_itself(db, tmp_path) -> None:
    """Another worker (here: another process's unit of work) saves the setup; this service,
    already running, takes it within `setup_refresh_seconds` without a restart."""
    import asyncio

    from bot.app import create_app
    from bot.settings import Settings

    settings = Settings(
        _env_file=None,
        database_url=db.url,
        key_file=tmp_path / "keys.json",
        setup_refresh_seconds=0.05,
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        svc = app.state.services
        assert f"{svc.policy.closes:%H:%M}" != "15:00"
        assert "Posko Purworejo 0275 123" not in svc.policy.emergency_contacts
        admin = await an_admin(db, Clock())
        for key, raw in (("closes", "15:00"), ("emergency_contacts", "Posko Purworejo 0275 123")):
            await setup.change_value(uow=db.uow(), admin_id=admin, key=key, raw=raw, clock=Clock())
        for _ in range(200):  # up to 10 s; the refresh runs every 0.05 s
            if "Posko Purworejo 0275 123" in svc.policy.emergency_contacts:
                break
            await asyncio.sleep(0.05)
        assert f"{svc.policy.closes:%H:%M}" == "15:00"
        assert "Posko Purworejo 0275 123" in svc.policy.emergency_contacts


async def test_moving_a_counsellor_to_other_queues_hands_back_their_cases_there(db) -> None:
    """They could no longer list or read those cases; the ASN's words must not reach them."""
    clock = Clock()
    admin = await an_admin(db, clock)
    sender, received = await told_their_story(db, clock, "70420")
    await intake.confirm_category(
        uow=db.uow(), sender=sender, category="kesehatan_jiwa", clock=clock, policy=ServicePolicy()
    )
    code = received.case_code
    member = await staff_admin.create_member(
        uow=db.uow(),
        admin_id=admin,
        display_name="Rina",
        role=Role.COUNSELLOR,
        queue_codes=["psikologi", "gizi"],
        clock=clock,
    )
    await casework.claim_case(uow=db.uow(), staff_id=member.id, case_code=code, clock=clock)

    await staff_admin.assign_queues(  # gizi stays: only psikologi's cases go back
        uow=db.uow(), admin_id=admin, staff_id=member.id, queue_codes=["gizi"], clock=clock
    )

    async with db.uow() as uow:
        case = await uow.cases.get_by_code(code)
    assert case is not None and (case.status, case.assignee_id) == (CaseStatus.QUEUED, None)
    assert await casework.my_cases(uow=db.uow(), staff_id=member.id) == []
    with pytest.raises(NotAllowed):
        await casework.reply_to_client(
            uow=db.uow(), staff_id=member.id, case_code=code, text="Halo", clock=clock
        )
