"""Admin setup with fakes: the values an admin may save, the policy they make, the mapping."""

from __future__ import annotations

from datetime import time

import pytest

from core.errors import InvalidInput, NotAllowed
from core.model import Role
from core.policy import DEFAULT_EMERGENCY_CONTACTS, ServicePolicy
from core.triage import Category
from core.usecases import oversight, setup
from tests.unit.fakes import Desk, add_staff


@pytest.mark.parametrize(
    ("key", "raw", "value"),
    [
        ("retention_days", " 90 ", 90),
        ("stats_k", "5", 5),
        ("opens", "07.30", "07:30"),
        ("holidays", "2026-12-25,2026-12-24 2026-12-25", ["2026-12-24", "2026-12-25"]),
        ("emergency_contacts", "112\n\n  119   ext 8 \n", ["112", "119 ext 8"]),
    ],
)
def test_good_values_are_normalised(key: str, raw: str, value: object) -> None:
    assert setup.parse_value(key, raw) == value


@pytest.mark.parametrize(
    ("key", "raw"),
    [
        ("retention_days", "29"),
        ("retention_days", "-5"),
        ("stats_k", "3"),  # the floor of the design is 5 here, stricter than SAPA_STATS_K
        ("opens", "24:00"),
        ("holidays", "25-12-2026"),
        ("emergency_contacts", "   "),
        ("database_url", "sqlite://"),
    ],
)
def test_bad_values_are_refused(key: str, raw: str) -> None:
    with pytest.raises(InvalidInput):
        setup.parse_value(key, raw)


def test_the_policy_takes_the_saved_values_and_keeps_the_rest() -> None:
    saved = {"closes": "15:30", "holidays": ["2026-12-25"], "emergency_contacts": ["112"]}
    policy = setup.policy_from(saved, ServicePolicy())
    assert (policy.opens, policy.closes) == (time(8, 0), time(15, 30))
    assert policy.holidays == frozenset({"2026-12-25"}) and policy.emergency_contacts == ("112",)
    assert setup.policy_from({}, ServicePolicy()).emergency_contacts == DEFAULT_EMERGENCY_CONTACTS
    assert setup.effective_int({"stats_k": 7}, "stats_k", 5) == 7
    assert setup.effective_int({"stats_k": True}, "stats_k", 5) == 5


async def test_opening_after_closing_is_refused_and_nothing_is_saved() -> None:
    desk = Desk()
    admin = add_staff(desk.uow, "Admin", role=Role.ADMIN)
    with pytest.raises(InvalidInput):
        await setup.change_value(
            uow=desk.uow, admin_id=admin.id, key="opens", raw="16:30", clock=desk.clock
        )
    assert desk.uow.store.setup == {} and desk.uow.store.audit == []


async def test_a_category_moves_to_one_queue_and_new_cases_follow() -> None:
    desk = Desk()
    admin = add_staff(desk.uow, "Admin", role=Role.ADMIN)
    await setup.map_category(
        uow=desk.uow, admin_id=admin.id, category="keluarga", queue_code="hukum", clock=desk.clock
    )
    serving = [q.code for q in desk.uow.store.queues.values() if Category.KELUARGA in q.categories]
    assert serving == ["hukum"]
    _, case = await desk.open_case("tg-9", "keluarga")
    assert case.queue_id == desk.world.queue("hukum").id
    [event] = desk.uow.store.audit
    assert (event.action, event.purpose) == ("setup.changed", "mapping keluarga -> hukum")


async def test_counsellors_and_supervisors_change_no_setup() -> None:
    desk = Desk()
    for role in (Role.COUNSELLOR, Role.SUPERVISOR):
        member = add_staff(desk.uow, "X", role=role, queues=[desk.world.queue("psikologi")])
        with pytest.raises(NotAllowed):
            await setup.map_category(
                uow=desk.uow,
                admin_id=member.id,
                category="gizi",
                queue_code="hukum",
                clock=desk.clock,
            )
    counsellor = add_staff(desk.uow, "Dewi", queues=[desk.world.queue("psikologi")])
    with pytest.raises(NotAllowed):
        await oversight.audit_trail(uow=desk.uow, viewer_id=counsellor.id)
    assert desk.uow.store.audit == []
