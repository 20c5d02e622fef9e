"""Which team answers, and the honest wait and safety information the ASN is given."""

from dataclasses import replace
from datetime import UTC, datetime, time

import pytest

from core.errors import NotFound
from core.model import CaseStatus
from core.policy import DEFAULT_EMERGENCY_CONTACTS, WIB, ServicePolicy
from core.routing import route
from core.triage import Category
from tests.unit.fakes import Desk, FakeClassifier, FakeUnitOfWork, seed

QUEUES = list(seed(FakeUnitOfWork()).queues.values())
POLICY = ServicePolicy()


def wib(day: int, hour: int, minute: int = 0) -> datetime:
    """A moment in January 2026, WIB; the 5th is a Monday."""
    return datetime(2026, 1, day, hour, minute, tzinfo=WIB)


# --- routing -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("category", "queue"),
    [
        (Category.KESEHATAN_JIWA, "psikologi"),
        (Category.KELUARGA, "psikologi"),
        (Category.GIZI, "gizi"),
        (Category.HUKUM, "hukum"),
        (Category.LAINNYA, "umum"),
    ],
)
def test_each_category_goes_to_its_team(category: Category, queue: str) -> None:
    assert route(QUEUES, category).code == queue


def test_an_undecided_category_goes_to_the_general_desk() -> None:
    assert route(QUEUES, Category.UNKNOWN).code == "umum"


def test_a_category_nobody_serves_falls_back_to_the_general_desk() -> None:
    without_legal = [q for q in QUEUES if q.code != "hukum"]
    assert route(without_legal, Category.HUKUM).code == "umum"


def test_without_a_general_desk_an_unserved_category_is_an_error() -> None:
    only_psychology = [q for q in QUEUES if q.code == "psikologi"]
    with pytest.raises(NotFound):
        route(only_psychology, Category.GIZI)


def test_the_mapping_is_data_an_admin_can_change() -> None:
    gizi = next(q for q in QUEUES if q.code == "gizi")
    changed = [replace(q, categories=()) if q.code == "psikologi" else q for q in QUEUES]
    changed = [
        replace(q, categories=(*q.categories, Category.KELUARGA)) if q is gizi else q
        for q in changed
    ]
    assert route(changed, Category.KELUARGA).code == "gizi"
    assert route(changed, Category.KESEHATAN_JIWA).code == "umum"


# --- service hours -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("moment", "open_"),
    [
        (wib(5, 7, 59), False),
        (wib(5, 8, 0), True),
        (wib(5, 15, 59), True),
        (wib(5, 16, 0), False),
        (wib(9, 10), True),  # Friday
        (wib(10, 10), False),  # Saturday
        (wib(11, 10), False),  # Sunday
        (datetime(2026, 1, 5, 1, 0, tzinfo=UTC), True),  # 08:00 WIB
        (datetime(2026, 1, 5, 0, 59, tzinfo=UTC), False),  # 07:59 WIB
        (datetime(2026, 1, 4, 23, 30, tzinfo=UTC), False),  # Monday 06:30 WIB, Sunday in UTC
    ],
)
def test_service_hours_are_weekdays_eight_to_four_wib(moment: datetime, open_: bool) -> None:
    assert POLICY.is_open(moment) is open_


def test_a_holiday_is_closed() -> None:
    policy = ServicePolicy(holidays=frozenset({"2026-01-05"}))
    assert not policy.is_open(wib(5, 10))
    assert policy.is_open(wib(6, 10))


def test_the_hours_are_shown_in_wib() -> None:
    assert POLICY.hours_text() == "Senin-Jumat 08.00-16.00 WIB"
    assert ServicePolicy(opens=time(7, 30)).hours_text() == "Senin-Jumat 07.30-16.00 WIB"
    assert POLICY.hours_text("en") == "Monday to Friday 08.00-16.00 WIB"


# --- expected wait -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("position", "said"),
    [
        (1, "sekitar 30 menit"),
        (2, "sekitar 60 menit"),
        (3, "sekitar 2 jam"),
        (4, "sekitar 2 jam"),
        (5, "sekitar 3 jam"),  # 150 minutes: rounded up, never understated
        (0, "belum dapat diperkirakan"),
    ],
)
def test_during_hours_the_wait_grows_with_the_cases_ahead(position: int, said: str) -> None:
    assert POLICY.expected_wait(position=position, at=wib(5, 9), locale="id") == said


@pytest.mark.parametrize(
    "moment",
    [
        wib(5, 7, 0),  # before opening
        wib(5, 17, 0),  # after closing
        wib(10, 10, 0),  # Saturday
        wib(5, 15, 45),  # open now, but the answer would come after closing
    ],
)
def test_outside_hours_the_wait_is_the_next_service_hours(moment: datetime) -> None:
    said = POLICY.expected_wait(position=1, at=moment, locale="id")
    assert said == "pada jam layanan berikutnya"


def test_on_a_holiday_the_wait_is_the_next_service_hours() -> None:
    policy = ServicePolicy(holidays=frozenset({"2026-01-05"}))
    assert policy.expected_wait(position=1, at=wib(5, 9), locale="id") == (
        "pada jam layanan berikutnya"
    )


def test_the_wait_is_told_in_the_asns_language() -> None:
    assert POLICY.expected_wait(position=1, at=wib(5, 9), locale="en") == "about 30 minutes"
    assert POLICY.expected_wait(position=1, at=wib(5, 20), locale="en") == (
        "in the next service hours"
    )


# --- emergency contacts ------------------------------------------------------------------


def test_the_default_contacts_name_every_line_of_help() -> None:
    text = POLICY.contacts_text()
    for needle in ("119 ext 8", "112", "129", "08111-129-129", "Tjitrowardoyo", "Tjokronegoro"):
        assert needle in text
    assert text.count("\n") == len(DEFAULT_EMERGENCY_CONTACTS) - 1
    assert text == "\n".join(f"- {line}" for line in DEFAULT_EMERGENCY_CONTACTS)


def test_the_default_contacts_are_said_in_the_asns_language() -> None:
    english = POLICY.contacts_text("en")
    for needle in ("119 ext 8", "112 (emergency)", "08111-129-129", "Emergency room"):
        assert needle in english
    assert "darurat" not in english and "layanan" not in english
    assert english.count("\n") == len(DEFAULT_EMERGENCY_CONTACTS) - 1
    edited = ServicePolicy(emergency_contacts=("Puskesmas Purworejo 0275-321",))
    assert edited.contacts_text("en") == "- Puskesmas Purworejo 0275-321"  # as the admin wrote


async def test_contacts_an_admin_edited_reach_the_asn_in_crisis() -> None:
    policy = ServicePolicy(
        emergency_contacts=("119 ext 8 (SEJIWA)", "Puskesmas Purworejo 0275-321")
    )
    desk = Desk(classifier=FakeClassifier.down(), policy=policy)
    await desk.say(await desk.consent(), "Saya ingin bunuh diri.")
    safety = desk.outbox.notices[0].text
    assert safety.endswith("- 119 ext 8 (SEJIWA)\n- Puskesmas Purworejo 0275-321")
    assert "Tjitrowardoyo" not in safety


async def test_a_category_nobody_serves_leaves_the_case_untouched() -> None:
    desk = Desk()
    for queue in [q for q in desk.world.queues.values() if q.code != "psikologi"]:
        del desk.uow.store.queues[queue.id]
    sender = await desk.consent()
    reception = await desk.say(sender, "Saya diet ketat dan sering pingsan.")
    before = list(desk.outbox.notices)

    with pytest.raises(NotFound):
        await desk.choose(sender, "gizi")

    case = desk.case(reception.case_code)
    assert (case.status, case.category, case.queue_id) == (
        CaseStatus.INTAKE,
        Category.KELUARGA,
        None,
    )
    assert desk.outbox.notices == before
