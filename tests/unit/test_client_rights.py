"""The ASN's own rights: close, rate, see everything held, erase everything."""

import pytest

from core import catalogue
from core.errors import ConsentRequired, InvalidInput, NotFound
from core.model import CaseStatus, Demographics, Direction
from core.usecases.casework import (
    add_note,
    claim_case,
    read_transcript,
    reply_to_client,
    resolve_case,
)
from core.usecases.client_rights import (
    MAX_COMMENT_CHARS,
    close_own_case,
    delete_client_data,
    export_client_data,
    record_feedback,
)
from core.usecases.common import Sender
from core.usecases.intake import set_demographics
from tests.unit.fakes import Desk, add_staff

STORY = "Suami saya dan saya terus bertengkar soal utang."


async def close(desk: Desk, sender: Sender) -> str:
    return await close_own_case(uow=desk.uow, sender=sender, clock=desk.clock)


async def rate(desk: Desk, sender: Sender, rating: int, comment: str | None = None) -> None:
    await record_feedback(
        uow=desk.uow, sender=sender, rating=rating, comment=comment, clock=desk.clock
    )


async def worked_case(desk: Desk, external_id: str = "tg-1001") -> tuple[Sender, str, str]:
    """A case a counsellor claimed, read, answered and noted: (sender, code, staff id)."""
    dewi = add_staff(desk.uow, "Dewi", queues=[desk.world.queue("psikologi")])
    sender, case = await desk.open_case(external_id)
    uow, clock = desk.uow, desk.clock
    await claim_case(uow=uow, staff_id=dewi.id, case_code=case.code, clock=clock)
    await read_transcript(
        uow=uow, staff_id=dewi.id, case_code=case.code, purpose="respond", clock=clock
    )
    await reply_to_client(
        uow=uow,
        staff_id=dewi.id,
        case_code=case.code,
        text="Saya Dewi, siap membantu.",
        clock=clock,
    )
    await add_note(
        uow=uow, staff_id=dewi.id, case_code=case.code, text="Catatan internal.", clock=clock
    )
    return sender, case.code, dewi.id


# --- closing -----------------------------------------------------------------------------


async def test_the_asn_closes_their_own_case_and_is_asked_for_a_rating() -> None:
    desk = Desk()
    sender, case = await desk.open_case()
    desk.clock.advance(hours=1)

    assert await close(desk, sender) == case.code

    closed = desk.case(case.code)
    assert (closed.status, closed.closed_at) == (CaseStatus.CLOSED, desk.clock.now())
    done, ask = desk.outbox.to(desk.client_of(sender).id)[-2:]
    assert done.text == catalogue.text("case.closed", "id", code=case.code)
    assert [b.data for b in ask.buttons] == ["rate:1", "rate:2", "rate:3", "rate:4", "rate:5"]


async def test_a_case_in_intake_or_resolved_can_be_closed() -> None:
    desk = Desk()
    sender = await desk.consent()
    reception = await desk.say(sender, STORY)
    assert await close(desk, sender) == reception.case_code

    _, code, staff_id = await worked_case(desk, "tg-2")
    await resolve_case(uow=desk.uow, staff_id=staff_id, case_code=code, clock=desk.clock)
    assert await close(desk, Sender("telegram", "tg-2")) == code
    assert desk.case(code).status is CaseStatus.CLOSED


async def test_there_is_nothing_to_close_twice() -> None:
    desk = Desk()
    sender, _ = await desk.open_case()
    await close(desk, sender)
    with pytest.raises(NotFound):
        await close(desk, sender)


async def test_an_asn_closes_only_their_own_case() -> None:
    desk = Desk()
    _, theirs = await desk.open_case("tg-1")
    other = await desk.consent("tg-2")
    with pytest.raises(NotFound):
        await close(desk, other)
    assert desk.case(theirs.code).status is CaseStatus.QUEUED


# --- feedback ----------------------------------------------------------------------------


@pytest.mark.parametrize("rating", [1, 2, 3, 4, 5])
async def test_a_rating_of_one_to_five_is_kept(rating: int) -> None:
    desk = Desk()
    sender, case = await desk.open_case()
    await close(desk, sender)

    await rate(desk, sender, rating, "  Sangat membantu.  ")

    [feedback] = desk.uow.store.feedback
    assert (feedback.case_id, feedback.rating, feedback.comment) == (
        case.id,
        rating,
        "Sangat membantu.",
    )
    assert desk.outbox.notices[-1].text == catalogue.text("case.feedback_thanks", "id")


@pytest.mark.parametrize("rating", [0, 6, -1, 10])
async def test_any_other_rating_is_refused(rating: int) -> None:
    desk = Desk()
    sender, _ = await desk.open_case()
    await close(desk, sender)
    before = list(desk.outbox.notices)
    with pytest.raises(InvalidInput):
        await rate(desk, sender, rating)
    assert desk.uow.store.feedback == []
    assert desk.outbox.notices == before


async def test_a_long_comment_is_cut_and_an_empty_one_dropped() -> None:
    desk = Desk()
    first, _ = await desk.open_case("tg-1")
    second, _ = await desk.open_case("tg-2")
    await close(desk, first)
    await close(desk, second)
    await rate(desk, first, 4, "x" * (MAX_COMMENT_CHARS + 50))
    await rate(desk, second, 5, "   ")
    assert [f.comment for f in desk.uow.store.feedback] == ["x" * MAX_COMMENT_CHARS, None]


async def test_a_case_counts_one_rating_though_it_is_asked_twice() -> None:
    desk = Desk()
    sender, code, staff_id = await worked_case(desk)
    await resolve_case(uow=desk.uow, staff_id=staff_id, case_code=code, clock=desk.clock)
    await rate(desk, sender, 5)
    before = len(desk.outbox.notices)

    await close(desk, sender)
    await rate(desk, sender, 1)

    assert [f.rating for f in desk.uow.store.feedback] == [5]
    closing = desk.outbox.notices[before:]
    assert catalogue.text("case.feedback_ask", "id") not in [n.text for n in closing]
    assert closing[-1].text == catalogue.text("case.feedback_thanks", "id")


async def test_an_open_case_cannot_be_rated() -> None:
    desk = Desk()
    sender, _ = await desk.open_case()
    with pytest.raises(NotFound):
        await rate(desk, sender, 5)


# --- export ------------------------------------------------------------------------------


async def test_the_export_holds_the_conversation_but_not_internal_notes() -> None:
    desk = Desk()
    sender, code, _ = await worked_case(desk)
    await set_demographics(
        uow=desk.uow, sender=sender, demographics=Demographics(gender="perempuan")
    )
    await close(desk, sender)
    await rate(desk, sender, 5, "Terima kasih.")

    export = await export_client_data(uow=desk.uow, sender=sender)

    client = desk.client_of(sender)
    assert (export.pseudonym, export.consent_version, export.locale) == (
        client.pseudonym,
        "2025-12",
        "id",
    )
    [case] = export.cases
    assert (case.code, case.status, case.category) == (code, "closed", "keluarga")
    assert [(m.direction, m.text) for m in case.messages] == [
        ("client", STORY),
        ("staff", "Saya Dewi, siap membantu."),
    ]
    assert "Catatan internal." not in repr(export)
    assert (case.ratings, case.comments) == ([5], ["Terima kasih."])
    assert case.demographics == {"gender": "perempuan", "age_band": None, "employment": None}


async def test_the_export_lists_who_read_the_case_by_display_name_only() -> None:
    desk = Desk()
    sender, _, staff_id = await worked_case(desk)

    [case] = (await export_client_data(uow=desk.uow, sender=sender)).cases

    assert case.reads == [
        {
            "at": desk.clock.now().isoformat(),
            "action": "transcript.read",
            "purpose": "menanggapi klien",
            "by": "Dewi",  # the name the counsellor introduced themself with, no internal id
        }
    ]
    assert staff_id not in repr(case)


async def test_the_export_holds_only_the_asns_own_cases() -> None:
    desk = Desk()
    await worked_case(desk, "tg-1")
    sender, mine = await desk.open_case("tg-2", "gizi")
    export = await export_client_data(uow=desk.uow, sender=sender)
    assert [c.code for c in export.cases] == [mine.code]
    assert all(m.text == STORY for m in export.cases[0].messages)


async def test_no_export_without_consent() -> None:
    desk = Desk()
    with pytest.raises(ConsentRequired):
        await export_client_data(uow=desk.uow, sender=Sender("telegram", "tg-404"))


# --- erasure -----------------------------------------------------------------------------


async def test_deleting_removes_everything_held_about_the_asn() -> None:
    desk = Desk()
    sender, _, _ = await worked_case(desk)
    await close(desk, sender)
    await rate(desk, sender, 5, "Terima kasih.")
    _, kept = await desk.open_case("tg-other")
    client_id = desk.client_of(sender).id

    said = await delete_client_data(uow=desk.uow, sender=sender)

    assert said == catalogue.text("case.deleted", "id")
    store = desk.uow.store
    assert client_id not in store.clients
    assert [c.code for c in store.cases.values()] == [kept.code]
    assert {m.case_id for m in store.messages} == {kept.id}
    assert store.feedback == []


async def test_deleting_drops_every_pending_notice_about_the_asn() -> None:
    desk = Desk()
    sender, code, staff_id = await worked_case(desk)
    await desk.say(sender, "Pesan yang belum terkirim ke konselor.")
    case_id = desk.case(code).id
    client_id = desk.client_of(sender).id
    assert desk.outbox.to(staff_id)  # the relay still waits in the outbox
    _, other = await desk.open_case("tg-other")

    await delete_client_data(uow=desk.uow, sender=sender)

    assert desk.outbox.to(client_id) == []
    assert [n for n in desk.outbox.notices if n.case_id == case_id] == []
    assert all("belum terkirim" not in n.text for n in desk.outbox.notices)
    assert any(n.case_id == other.id for n in desk.outbox.notices)


async def test_after_deletion_the_asn_starts_from_consent_again() -> None:
    desk = Desk()
    sender, _ = await desk.open_case()
    await delete_client_data(uow=desk.uow, sender=sender)
    with pytest.raises(ConsentRequired):
        await desk.say(sender, STORY)
    with pytest.raises(ConsentRequired):
        await delete_client_data(uow=desk.uow, sender=sender)


async def test_the_note_stays_out_of_what_the_asn_receives() -> None:
    desk = Desk()
    sender, _, _ = await worked_case(desk)
    texts = [n.text for n in desk.outbox.to(desk.client_of(sender).id)]
    assert all("Catatan internal." not in t for t in texts)
    assert any(m.direction is Direction.NOTE for m in desk.uow.store.messages)
