"""Staff accounts: a single-use invite that expires after 72 hours, and revocation."""

from datetime import timedelta

import pytest

from core import catalogue
from core.errors import InviteInvalid, NotAllowed, NotFound
from core.model import CaseStatus, Role, Staff
from core.usecases.casework import claim_case, list_queue, resolve_case
from core.usecases.staffing import (
    IssuedInvite,
    create_invite,
    redeem_invite,
    revoke_staff,
    set_on_duty,
)
from tests.unit.fakes import Desk


async def invite(desk: Desk, *queues: str, role: Role = Role.COUNSELLOR) -> IssuedInvite:
    return await create_invite(uow=desk.uow, role=role, queue_codes=queues, clock=desk.clock)


async def redeem(
    desk: Desk, code: str, telegram_id: str = "tg-staff-1", name: str = "Dewi"
) -> Staff:
    return await redeem_invite(
        uow=desk.uow,
        code=code,
        telegram_id=telegram_id,
        telegram_chat=f"chat-{telegram_id}",
        display_name=name,
        clock=desk.clock,
    )


async def test_an_invite_makes_a_staff_member_bound_to_the_telegram_account() -> None:
    desk = Desk()
    issued = await invite(desk, "psikologi", "gizi")

    staff = await redeem(desk, f"  {issued.code.lower()} ")

    assert (staff.display_name, staff.role, staff.active, staff.on_duty) == (
        "Dewi",
        Role.COUNSELLOR,
        True,
        False,
    )
    q = desk.world.queues
    assert staff.queue_ids == (q["psikologi"].id, q["gizi"].id)
    found = await desk.uow.staff.find_by_telegram("tg-staff-1")
    assert found is not None and found.id == staff.id
    assert issued.expires_at == (desk.clock.now() + timedelta(hours=72)).isoformat()


async def test_an_invite_works_once() -> None:
    desk = Desk()
    issued = await invite(desk, "psikologi")
    await redeem(desk, issued.code)
    with pytest.raises(InviteInvalid):
        await redeem(desk, issued.code, telegram_id="tg-staff-2", name="Penyusup")
    assert [s.display_name for s in desk.uow.store.staff.values()] == ["Dewi"]


async def test_an_active_member_keeps_one_membership_and_the_invite_stays_free() -> None:
    desk = Desk()
    dewi = await redeem(desk, (await invite(desk, "psikologi")).code)
    second = await invite(desk, "gizi", role=Role.SUPERVISOR)

    with pytest.raises(InviteInvalid) as refused:
        await redeem(desk, second.code, name="Dewi lagi")

    told = catalogue.text(str(refused.value), "id", **refused.value.values)
    assert told.startswith("Akun Telegram ini sudah terdaftar sebagai petugas atas nama Dewi.")
    assert [s.id for s in desk.uow.store.staff.values()] == [dewi.id]
    eko = await redeem(desk, second.code, telegram_id="tg-staff-2", name="Eko")  # still valid
    assert eko.role is Role.SUPERVISOR


async def test_a_disabled_member_may_join_again_with_a_new_invite() -> None:
    desk = Desk()
    old = await redeem(desk, (await invite(desk, "psikologi")).code)
    await revoke_staff(uow=desk.uow, staff_id=old.id)

    again = await redeem(desk, (await invite(desk, "gizi")).code, name="Dewi")

    found = await desk.uow.staff.find_by_telegram("tg-staff-1")
    assert found is not None and (found.id, found.active) == (again.id, True)
    assert again.queue_ids == (desk.world.queue("gizi").id,)


async def test_an_invite_expires_after_72_hours() -> None:
    desk = Desk()
    early, late = await invite(desk, "psikologi"), await invite(desk, "psikologi")
    desk.clock.advance(hours=71, minutes=59)
    await redeem(desk, early.code)
    desk.clock.advance(minutes=1)
    with pytest.raises(InviteInvalid) as refused:
        await redeem(desk, late.code, telegram_id="tg-staff-2")
    assert str(refused.value) == "error.invite_invalid"
    assert len(desk.uow.store.staff) == 1


async def test_an_unknown_code_is_refused() -> None:
    desk = Desk()
    with pytest.raises(InviteInvalid):
        await redeem(desk, "AAAAAAAAAAAA")
    assert desk.uow.store.staff == {}


async def test_an_invite_for_an_unknown_queue_is_not_made() -> None:
    desk = Desk()
    with pytest.raises(NotFound):
        await invite(desk, "psikologi", "astrologi")
    assert desk.uow.store.invites == {}


async def test_invite_codes_are_unguessable_and_unambiguous() -> None:
    desk = Desk()
    codes = {(await invite(desk, "gizi")).code for _ in range(20)}
    assert len(codes) == 20
    assert all(len(c) == 12 and not set(c) & set("0O1IL2Z5S8B") for c in codes)


async def test_a_name_is_trimmed_and_never_empty() -> None:
    desk = Desk()
    first = await redeem(desk, (await invite(desk, "gizi")).code, name="  " + "N" * 80)
    second = await redeem(desk, (await invite(desk, "gizi")).code, "tg-staff-2", name="   ")
    assert (len(first.display_name), second.display_name) == (60, "Konselor")


async def test_a_supervisor_invite_gives_the_supervisor_role() -> None:
    desk = Desk()
    issued = await invite(desk, "hukum", role=Role.SUPERVISOR)
    staff = await redeem(desk, issued.code)
    assert staff.role is Role.SUPERVISOR


async def test_a_revoked_member_loses_every_access_at_once() -> None:
    desk = Desk()
    staff = await redeem(desk, (await invite(desk, "psikologi")).code)
    await set_on_duty(uow=desk.uow, staff_id=staff.id, on_duty=True)
    _, case = await desk.open_case()

    revoked = await revoke_staff(uow=desk.uow, staff_id=staff.id)

    assert (revoked.active, revoked.on_duty) == (False, False)
    with pytest.raises(NotAllowed):
        await list_queue(uow=desk.uow, staff_id=staff.id)
    with pytest.raises(NotAllowed):
        await claim_case(uow=desk.uow, staff_id=staff.id, case_code=case.code, clock=desk.clock)
    assert await desk.uow.staff.on_duty(queue_id=desk.world.queue("psikologi").id) == []
    with pytest.raises(NotFound):
        await set_on_duty(uow=desk.uow, staff_id=staff.id, on_duty=True)


async def test_revoking_an_unknown_member_says_so() -> None:
    desk = Desk()
    with pytest.raises(NotFound):
        await revoke_staff(uow=desk.uow, staff_id="nobody")


async def test_going_on_duty_brings_new_case_notices() -> None:
    desk = Desk()
    staff = await redeem(desk, (await invite(desk, "gizi")).code)
    await desk.open_case("tg-1", "gizi")
    assert desk.outbox.to(staff.id) == []

    await set_on_duty(uow=desk.uow, staff_id=staff.id, on_duty=True)
    _, case = await desk.open_case("tg-2", "gizi")

    [news] = desk.outbox.to(staff.id)
    assert case.code in news.text


async def test_the_cases_of_a_revoked_counsellor_go_back_to_the_queue() -> None:
    desk = Desk()
    dewi = await redeem(desk, (await invite(desk, "psikologi")).code)
    eko = await redeem(desk, (await invite(desk, "psikologi")).code, "tg-staff-2", "Eko")
    _, case = await desk.open_case()
    await claim_case(uow=desk.uow, staff_id=dewi.id, case_code=case.code, clock=desk.clock)

    await revoke_staff(uow=desk.uow, staff_id=dewi.id)

    waiting = desk.case(case.code)
    assert (waiting.status, waiting.assignee_id) == (CaseStatus.QUEUED, None)
    await claim_case(uow=desk.uow, staff_id=eko.id, case_code=case.code, clock=desk.clock)
    assert desk.case(case.code).assignee_id == eko.id


async def test_a_revoked_counsellor_never_receives_the_asn_again() -> None:
    desk = Desk()
    dewi = await redeem(desk, (await invite(desk, "psikologi")).code)
    sender, case = await desk.open_case()
    await claim_case(uow=desk.uow, staff_id=dewi.id, case_code=case.code, clock=desk.clock)
    await resolve_case(uow=desk.uow, staff_id=dewi.id, case_code=case.code, clock=desk.clock)
    await revoke_staff(uow=desk.uow, staff_id=dewi.id)

    await desk.say(sender, "Konselor, saya ingin cerita lagi.")

    assert all("cerita lagi" not in n.text for n in desk.outbox.to(dewi.id))
    reopened = desk.case(case.code)
    assert (reopened.status, reopened.assignee_id) == (CaseStatus.QUEUED, None)
    assert desk.outbox.notices[-1].text == catalogue.text("case.received", "id", code=case.code)
