"""SLA reminders count working hours only, and remind once per lapse."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from core.model import Role
from core.policy import WIB, ServicePolicy
from core.usecases.casework import claim_case, reply_to_client
from core.usecases.reminders import remind_sla
from tests.unit.fakes import Desk, add_staff


def test_working_minutes_skip_nights_weekends_and_holidays() -> None:
    policy = ServicePolicy(holidays=frozenset({"2026-03-04"}))
    monday_9 = datetime(2026, 3, 2, 9, 0, tzinfo=WIB)
    assert policy.working_minutes(monday_9, monday_9 + timedelta(hours=2)) == 120
    assert policy.working_minutes(monday_9, monday_9 + timedelta(days=1)) == 8 * 60
    # Tuesday 9:00 -> Thursday 9:00 crosses the Wednesday holiday: one working day only.
    tuesday_9 = monday_9 + timedelta(days=1)
    assert policy.working_minutes(tuesday_9, tuesday_9 + timedelta(days=2)) == 7 * 60 + 60
    friday_15 = datetime(2026, 3, 6, 15, 0, tzinfo=WIB)
    assert policy.working_minutes(friday_15, friday_15 + timedelta(days=3)) == 60 + 7 * 60


async def test_unclaimed_and_unanswered_cases_are_reminded_once() -> None:
    desk = Desk()
    queue = desk.world.queue("psikologi")
    ani = add_staff(desk.uow, "Ani", role=Role.COUNSELLOR, queues=[queue], on_duty=True)
    sender = await desk.consent()
    code = (await desk.say(sender, "Saya susah tidur dan cemas terus")).case_code
    await desk.choose(sender, "kesehatan_jiwa")
    policy = ServicePolicy()

    def reminders() -> list[str]:
        return [n.text for n in desk.outbox.notices if "Pengingat" in n.text]

    desk.clock.advance(hours=3)
    assert await remind_sla(uow=desk.uow, clock=desk.clock, policy=policy) == 0
    desk.clock.advance(hours=24 * 3)  # well past 4 working hours
    assert await remind_sla(uow=desk.uow, clock=desk.clock, policy=policy) == 1
    assert await remind_sla(uow=desk.uow, clock=desk.clock, policy=policy) == 0
    assert "belum diambil" in reminders()[0]

    await claim_case(uow=desk.uow, staff_id=ani.id, case_code=code, clock=desk.clock)
    desk.clock.advance(hours=24 * 3)
    assert await remind_sla(uow=desk.uow, clock=desk.clock, policy=policy) == 1
    assert "belum mendapat jawaban pertama" in reminders()[-1]
    await reply_to_client(
        uow=desk.uow, staff_id=ani.id, case_code=code, text="Halo", clock=desk.clock
    )
    desk.clock.advance(hours=24 * 3)
    assert await remind_sla(uow=desk.uow, clock=desk.clock, policy=policy) == 0
    assert desk.clock.now().tzinfo is UTC or desk.clock.now().utcoffset() == timedelta(0)
