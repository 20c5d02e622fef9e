"""What staff do with a case, as the counsellor, the ASN and the audit log see it."""

from datetime import datetime

import pytest

from core import catalogue
from core.errors import AlreadyClaimed, InvalidInput, NotAllowed, NotFound
from core.model import CaseStatus, Direction, Queue, Role, Staff, new_id
from core.triage import Category
from core.usecases.casework import (
    add_note,
    claim_case,
    list_queue,
    read_transcript,
    reply_to_client,
    resolve_case,
    transfer_case,
)
from core.usecases.common import category_name, channel_name
from tests.unit.fakes import AuditUnavailable, Desk, FakeCaseRepository, add_staff

STORY = "Suami saya dan saya terus bertengkar soal utang."
DANGER = "Saya ingin bunuh diri."


def counsellor(desk: Desk, name: str = "Dewi", queue: str = "psikologi") -> Staff:
    return add_staff(desk.uow, name, queues=[desk.world.queue(queue)])


async def claim(desk: Desk, staff: Staff, code: str) -> None:
    await claim_case(uow=desk.uow, staff_id=staff.id, case_code=code, clock=desk.clock)


async def read(desk: Desk, staff: Staff, code: str, purpose: str = "respond") -> list:
    return list(
        await read_transcript(
            uow=desk.uow, staff_id=staff.id, case_code=code, purpose=purpose, clock=desk.clock
        )
    )


async def reply(desk: Desk, staff: Staff, code: str, text: str) -> None:
    await reply_to_client(
        uow=desk.uow, staff_id=staff.id, case_code=code, text=text, clock=desk.clock
    )


async def transfer(desk: Desk, staff: Staff, code: str, queue: str, reason: str | None) -> None:
    await transfer_case(
        uow=desk.uow,
        staff_id=staff.id,
        case_code=code,
        queue_code=queue,
        reason=reason,
        clock=desk.clock,
    )


# --- the queue ---------------------------------------------------------------------------


async def test_the_queue_shows_crisis_first_then_the_oldest() -> None:
    desk = Desk()
    dewi = counsellor(desk)
    _, old = await desk.open_case("tg-1")
    desk.clock.advance(minutes=10)
    _, newer = await desk.open_case("tg-2")
    desk.clock.advance(minutes=10)
    urgent = await desk.say(await desk.consent("tg-3"), DANGER)
    await desk.open_case("tg-4", "hukum")  # another queue
    await desk.say(await desk.consent("tg-5"), STORY)  # still in intake

    items = await list_queue(uow=desk.uow, staff_id=dewi.id)

    assert [i.code for i in items] == [urgent.case_code, old.code, newer.code]
    assert [i.crisis for i in items] == [True, False, False]


async def test_the_queue_keeps_cases_in_work_but_not_finished_ones() -> None:
    desk = Desk()
    dewi = counsellor(desk)
    _, mine = await desk.open_case("tg-1")
    _, done = await desk.open_case("tg-2")
    await claim(desk, dewi, mine.code)
    desk.case(done.code).status = CaseStatus.CLOSED

    items = await list_queue(uow=desk.uow, staff_id=dewi.id)

    assert [(i.code, i.status, i.assignee_id) for i in items] == [
        (mine.code, CaseStatus.ASSIGNED, dewi.id)
    ]


async def test_a_supervisor_sees_every_queue_of_the_partner() -> None:
    desk = Desk()
    psikologi = desk.world.queue("psikologi")
    anak = Queue(new_id(), "anak", "Psikologi Anak", psikologi.partner_id, ())
    desk.uow.store.queues[anak.id] = anak
    sari = add_staff(desk.uow, "Sari", role=Role.SUPERVISOR, queues=[psikologi])
    _, family = await desk.open_case("tg-1")
    _, legal = await desk.open_case("tg-2", "hukum")
    desk.case(legal.code).queue_id = anak.id  # moved in by another supervisor

    items = await list_queue(uow=desk.uow, staff_id=sari.id)

    assert {i.code for i in items} == {family.code, legal.code}


async def test_an_admin_never_sees_the_queue_claims_or_reads() -> None:
    desk = Desk()
    admin = add_staff(
        desk.uow, "Admin BKPSDM", role=Role.ADMIN, queues=[desk.world.queue("psikologi")]
    )
    _, case = await desk.open_case()
    with pytest.raises(NotAllowed):
        await list_queue(uow=desk.uow, staff_id=admin.id)
    with pytest.raises(NotAllowed):
        await claim(desk, admin, case.code)
    with pytest.raises(NotAllowed):
        await read(desk, admin, case.code)
    assert desk.case(case.code).status is CaseStatus.QUEUED
    assert desk.uow.store.audit == []


# --- claiming ----------------------------------------------------------------------------


async def test_a_claim_assigns_the_case_and_introduces_the_counsellor() -> None:
    desk = Desk()
    dewi = counsellor(desk)
    sender, case = await desk.open_case()

    won = await claim_case(
        uow=desk.uow, staff_id=dewi.id, case_code=case.code.lower(), clock=desk.clock
    )

    claimed = desk.case(case.code)
    assert (claimed.status, claimed.assignee_id) == (CaseStatus.ASSIGNED, dewi.id)
    assert (won.case.code, won.channel) == (case.code, "telegram")  # named to the counsellor
    told = desk.outbox.to(desk.client_of(sender).id)[-1]
    assert told.text == (
        f"Konselor Dewi (Psikologi) sekarang menemani Bapak/Ibu untuk kasus {case.code}."
    )


async def test_a_claim_of_an_erased_client_has_no_channel_to_name() -> None:
    desk = Desk()
    dewi = counsellor(desk)
    sender, case = await desk.open_case()
    gone = desk.client_of(sender).id
    del desk.uow.store.clients[gone]

    won = await claim_case(uow=desk.uow, staff_id=dewi.id, case_code=case.code, clock=desk.clock)

    assert won.channel is None and channel_name(won.channel) == "-"
    assert desk.case(case.code).assignee_id == dewi.id
    assert not [n for n in desk.outbox.to(gone) if "sekarang menemani" in n.text]


def test_staff_read_the_topic_and_channel_in_their_language() -> None:
    assert category_name(Category.KESEHATAN_JIWA) == "Kesehatan jiwa"
    assert category_name(Category.GIZI, "en") == "Nutrition and eating"
    assert category_name(Category.UNKNOWN) == "-"  # the ASN has not chosen yet
    assert channel_name("web") == "obrolan web" and channel_name("web", "en") == "web chat"
    assert channel_name("sms") == "sms"  # a channel added later shows as it is


async def test_only_the_first_of_two_claims_wins() -> None:
    desk = Desk()
    dewi, eko = counsellor(desk, "Dewi"), counsellor(desk, "Eko")
    _, case = await desk.open_case()
    await claim(desk, dewi, case.code)

    with pytest.raises(AlreadyClaimed) as lost:
        await claim(desk, eko, case.code)

    assert desk.case(case.code).assignee_id == dewi.id
    assert catalogue.text(str(lost.value), "id", **lost.value.values) == (
        f"Kasus {case.code} sudah diambil konselor lain."
    )


async def test_a_claim_racing_inside_the_repository_is_lost_cleanly() -> None:
    """Eko won between Dewi's read and Dewi's claim: the atomic claim says no."""
    desk = Desk()
    dewi, eko = counsellor(desk, "Dewi"), counsellor(desk, "Eko")
    sender, case = await desk.open_case()

    class EkoIsFaster(FakeCaseRepository):
        async def claim(self, *, case_id: str, staff_id: str, at: datetime) -> bool:
            await super().claim(case_id=case_id, staff_id=eko.id, at=at)
            return await super().claim(case_id=case_id, staff_id=staff_id, at=at)

    desk.uow.cases = EkoIsFaster(desk.uow.store)
    with pytest.raises(AlreadyClaimed):
        await claim(desk, dewi, case.code)
    assert desk.case(case.code).assignee_id != dewi.id
    assert "Dewi" not in desk.outbox.to(desk.client_of(sender).id)[-1].text


async def test_a_counsellor_of_another_queue_cannot_claim() -> None:
    desk = Desk()
    hadi = counsellor(desk, "Hadi", "hukum")
    _, case = await desk.open_case()
    with pytest.raises(NotAllowed):
        await claim(desk, hadi, case.code)
    assert desk.case(case.code).status is CaseStatus.QUEUED


async def test_a_revoked_counsellor_cannot_claim() -> None:
    desk = Desk()
    dewi = counsellor(desk)
    desk.uow.store.staff[dewi.id].active = False
    _, case = await desk.open_case()
    with pytest.raises(NotAllowed):
        await claim(desk, dewi, case.code)


async def test_an_unknown_case_code_is_not_found() -> None:
    desk = Desk()
    with pytest.raises(NotFound):
        await claim(desk, counsellor(desk), "K-AAAA")


# --- reading the transcript --------------------------------------------------------------


async def test_reading_the_transcript_is_audited() -> None:
    desk = Desk()
    dewi = counsellor(desk)
    _, case = await desk.open_case()
    await claim(desk, dewi, case.code)
    await reply(desk, dewi, case.code, "Selamat pagi, saya Dewi.")

    lines = await read(desk, dewi, case.code, purpose="  Review ")

    assert [(line.direction, line.author, line.body) for line in lines] == [
        (Direction.CLIENT, "client", STORY),
        (Direction.STAFF, "Dewi", "Selamat pagi, saya Dewi."),
    ]
    [event] = desk.uow.store.audit
    assert (event.actor_id, event.action, event.case_code, event.purpose, event.at) == (
        dewi.id,
        "transcript.read",
        case.code,
        "review",
        desk.clock.now(),
    )


async def test_no_audit_no_read() -> None:
    desk = Desk()
    dewi = counsellor(desk)
    _, case = await desk.open_case()
    await claim(desk, dewi, case.code)
    desk.uow.audit.broken = True

    lines = None
    with pytest.raises(AuditUnavailable):
        lines = await read(desk, dewi, case.code)

    assert lines is None
    assert desk.uow.store.audit == []


async def test_a_counsellor_reads_only_after_claiming() -> None:
    desk = Desk()
    dewi = counsellor(desk)
    _, case = await desk.open_case()
    with pytest.raises(NotAllowed):
        await read(desk, dewi, case.code)
    assert desk.uow.store.audit == []


async def test_a_supervisor_of_the_partner_may_read_and_is_audited() -> None:
    desk = Desk()
    sari = add_staff(desk.uow, "Sari", role=Role.SUPERVISOR, queues=[desk.world.queue("psikologi")])
    wati = add_staff(desk.uow, "Wati", role=Role.SUPERVISOR, queues=[desk.world.queue("hukum")])
    _, case = await desk.open_case()

    assert [line.body for line in await read(desk, sari, case.code)] == [STORY]
    with pytest.raises(NotAllowed):
        await read(desk, wati, case.code)
    assert [e.actor_id for e in desk.uow.store.audit] == [sari.id]


async def test_reading_needs_a_purpose() -> None:
    desk = Desk()
    dewi = counsellor(desk)
    _, case = await desk.open_case()
    await claim(desk, dewi, case.code)
    with pytest.raises(InvalidInput):
        await read(desk, dewi, case.code, purpose="  ")
    assert desk.uow.store.audit == []


@pytest.mark.parametrize(
    "typed", ["klien bercerai, suaminya KANARI-7731", "penanganan kasus", "respond x", "RESPONDX"]
)
async def test_a_typed_purpose_is_refused_and_nothing_is_read_or_logged(typed: str) -> None:
    desk = Desk()
    dewi = counsellor(desk)
    _, case = await desk.open_case()
    await claim(desk, dewi, case.code)
    lines = None
    with pytest.raises(InvalidInput) as refused:
        lines = await read(desk, dewi, case.code, purpose=typed)
    assert str(refused.value) == "error.bad_purpose"
    assert lines is None
    assert desk.uow.store.audit == []


# --- replying, notes ---------------------------------------------------------------------


async def test_a_reply_reaches_the_asn_signed_by_the_counsellor_and_team() -> None:
    desk = Desk()
    dewi = counsellor(desk)
    sender, case = await desk.open_case()
    await claim(desk, dewi, case.code)
    desk.clock.advance(minutes=12)
    first = desk.clock.now()

    await reply(desk, dewi, case.code, "Selamat pagi, Bapak/Ibu. Saya siap mendengarkan.")
    desk.clock.advance(minutes=5)
    await reply(desk, dewi, case.code, "Boleh diceritakan lebih lanjut?")

    to_asn = desk.outbox.to(desk.client_of(sender).id)
    assert [n.text for n in to_asn[-2:]] == [
        "Konselor Dewi (Psikologi):\nSelamat pagi, Bapak/Ibu. Saya siap mendengarkan.",
        "Konselor Dewi (Psikologi):\nBoleh diceritakan lebih lanjut?",
    ]
    assert desk.case(case.code).first_response_at == first
    staff_lines = [m for m in desk.uow.store.messages if m.direction is Direction.STAFF]
    assert [m.author_id for m in staff_lines] == [dewi.id, dewi.id]


async def test_only_the_assigned_counsellor_replies() -> None:
    desk = Desk()
    dewi, eko = counsellor(desk, "Dewi"), counsellor(desk, "Eko")
    _, case = await desk.open_case()
    with pytest.raises(NotAllowed):
        await reply(desk, dewi, case.code, "Halo")  # not claimed yet
    await claim(desk, dewi, case.code)
    with pytest.raises(NotAllowed):
        await reply(desk, eko, case.code, "Halo")
    assert desk.case(case.code).first_response_at is None


async def test_an_empty_reply_is_refused_and_nothing_is_sent() -> None:
    desk = Desk()
    dewi = counsellor(desk)
    _, case = await desk.open_case()
    await claim(desk, dewi, case.code)
    before = list(desk.outbox.notices)
    with pytest.raises(InvalidInput):
        await reply(desk, dewi, case.code, " \x00 ")
    assert desk.outbox.notices == before


async def test_a_note_is_kept_but_never_reaches_the_asn() -> None:
    desk = Desk()
    dewi = counsellor(desk)
    _, case = await desk.open_case()
    await claim(desk, dewi, case.code)
    before = list(desk.outbox.notices)

    await add_note(
        uow=desk.uow,
        staff_id=dewi.id,
        case_code=case.code,
        text="Kemungkinan KDRT, tawarkan rujukan.",
        clock=desk.clock,
    )

    assert desk.outbox.notices == before
    [note] = [m for m in desk.uow.store.messages if m.direction is Direction.NOTE]
    assert (note.body, note.author_id) == ("Kemungkinan KDRT, tawarkan rujukan.", dewi.id)


async def test_a_counsellor_cannot_note_a_case_of_someone_else() -> None:
    desk = Desk()
    dewi, eko = counsellor(desk, "Dewi"), counsellor(desk, "Eko")
    _, case = await desk.open_case()
    await claim(desk, dewi, case.code)
    with pytest.raises(NotAllowed):
        await add_note(
            uow=desk.uow, staff_id=eko.id, case_code=case.code, text="Catatan", clock=desk.clock
        )


# --- transfer ----------------------------------------------------------------------------


async def test_a_transfer_moves_the_case_to_another_queue_with_the_reason() -> None:
    desk = Desk()
    dewi = counsellor(desk)
    hadi = counsellor(desk, "Hadi", "hukum")
    sender, case = await desk.open_case()
    await claim(desk, dewi, case.code)

    await transfer(desk, dewi, case.code, "hukum", "Masalah utang perlu konsultan hukum.")

    moved = desk.case(case.code)
    assert (moved.status, moved.queue_id, moved.assignee_id) == (
        CaseStatus.QUEUED,
        desk.world.queue("hukum").id,
        None,
    )
    assert desk.outbox.to(desk.client_of(sender).id)[-1].text == (
        f"Kasus {case.code} kami teruskan ke tim Hukum agar Bapak/Ibu mendapat bantuan "
        "yang paling tepat."
    )
    [told] = desk.outbox.to(hadi.id)
    assert told.text == (
        f"Kasus {case.code} dipindahkan ke antrean Hukum. "
        "Alasan: Masalah utang perlu konsultan hukum."
    )
    notes = [m.body for m in desk.uow.store.messages if m.direction is Direction.NOTE]
    assert notes == ["Masalah utang perlu konsultan hukum."]


async def test_after_a_transfer_the_old_counsellor_no_longer_reads() -> None:
    desk = Desk()
    dewi = counsellor(desk)
    hadi = counsellor(desk, "Hadi", "hukum")
    _, case = await desk.open_case()
    await claim(desk, dewi, case.code)
    await transfer(desk, dewi, case.code, "hukum", "Perlu konsultan hukum.")

    with pytest.raises(NotAllowed):
        await read(desk, dewi, case.code)
    await claim(desk, hadi, case.code)
    bodies = [line.body for line in await read(desk, hadi, case.code)]
    assert bodies == [STORY, "Perlu konsultan hukum."]


async def test_a_transfer_needs_a_reason_and_a_known_queue() -> None:
    desk = Desk()
    dewi = counsellor(desk)
    _, case = await desk.open_case()
    await claim(desk, dewi, case.code)
    with pytest.raises(InvalidInput):
        await transfer(desk, dewi, case.code, "hukum", None)
    with pytest.raises(NotFound) as unknown:
        await transfer(desk, dewi, case.code, "astrologi", "Salah antrean.")
    told = catalogue.text(str(unknown.value), "id", **unknown.value.values)
    assert told.startswith("Antrean astrologi tidak ditemukan. Antrean yang ada: ")
    assert "hukum" in told and "psikologi" in told  # the codes the counsellor can type
    assert desk.case(case.code).status is CaseStatus.ASSIGNED


async def test_a_counsellor_cannot_transfer_a_case_of_someone_else() -> None:
    desk = Desk()
    dewi, eko = counsellor(desk, "Dewi"), counsellor(desk, "Eko")
    _, case = await desk.open_case()
    await claim(desk, dewi, case.code)
    with pytest.raises(NotAllowed):
        await transfer(desk, eko, case.code, "hukum", "Bukan bidang saya.")


async def test_a_supervisor_reassigns_a_waiting_case() -> None:
    desk = Desk()
    sari = add_staff(desk.uow, "Sari", role=Role.SUPERVISOR, queues=[desk.world.queue("psikologi")])
    _, case = await desk.open_case()
    await transfer(desk, sari, case.code, "gizi", "Pola makan ekstrem, ke ahli gizi.")
    assert desk.case(case.code).queue_id == desk.world.queue("gizi").id


async def test_a_crisis_transfer_is_urgent_for_the_new_queue() -> None:
    desk = Desk()
    dewi = counsellor(desk)
    hadi = counsellor(desk, "Hadi", "hukum")
    reception = await desk.say(await desk.consent(), DANGER)
    await claim(desk, dewi, reception.case_code)
    await transfer(desk, dewi, reception.case_code, "hukum", "Ancaman dari penagih.")
    assert [n.urgent for n in desk.outbox.to(hadi.id)][-1] is True


# --- resolving ---------------------------------------------------------------------------


async def test_resolving_tells_the_asn_and_asks_for_a_rating() -> None:
    desk = Desk()
    dewi = counsellor(desk)
    sender, case = await desk.open_case()
    await claim(desk, dewi, case.code)
    desk.clock.advance(hours=2)

    await resolve_case(uow=desk.uow, staff_id=dewi.id, case_code=case.code, clock=desk.clock)

    resolved = desk.case(case.code)
    assert (resolved.status, resolved.resolved_at) == (CaseStatus.RESOLVED, desk.clock.now())
    done, ask = desk.outbox.to(desk.client_of(sender).id)[-2:]
    assert done.text.startswith(f"Konselor menandai kasus {case.code} selesai.")
    assert ask.text == catalogue.text("case.feedback_ask", "id")
    assert [(b.label, b.data) for b in ask.buttons] == [(str(n), f"rate:{n}") for n in range(1, 6)]


async def test_only_the_assigned_counsellor_resolves() -> None:
    desk = Desk()
    dewi, eko = counsellor(desk, "Dewi"), counsellor(desk, "Eko")
    _, case = await desk.open_case()
    with pytest.raises(NotAllowed):
        await resolve_case(uow=desk.uow, staff_id=dewi.id, case_code=case.code, clock=desk.clock)
    await claim(desk, dewi, case.code)
    with pytest.raises(NotAllowed):
        await resolve_case(uow=desk.uow, staff_id=eko.id, case_code=case.code, clock=desk.clock)
    assert desk.case(case.code).status is CaseStatus.ASSIGNED
