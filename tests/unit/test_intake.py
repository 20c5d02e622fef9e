"""An ASN's way in: consent, the first message, triage, crisis, category and routing."""

import pytest

from core import catalogue
from core.errors import ConsentRequired, InvalidInput
from core.model import CRISIS_PRIORITY, CaseStatus, Demographics, Direction, Role
from core.policy import DEFAULT_EMERGENCY_CONTACTS
from core.triage import Category, Classification
from core.usecases.common import MAX_TEXT_CHARS, Sender
from core.usecases.intake import confirm_category, set_demographics
from tests.unit.fakes import Desk, FakeClassifier, FakeUnitOfWork, add_staff

STORY = "Suami saya dan saya terus bertengkar soal utang."
DANGER = "Saya sudah tidak kuat, rasanya ingin bunuh diri saja."
SAFETY = catalogue.text("crisis.safety", "id", contacts="")


def stored_nothing(uow: FakeUnitOfWork) -> bool:
    store = uow.store
    return not (store.clients or store.cases or store.messages or store.outbox)


# --- consent -----------------------------------------------------------------------------


async def test_nothing_is_stored_before_consent() -> None:
    desk = Desk()
    stranger = Sender(channel="telegram", external_id="tg-555")
    with pytest.raises(ConsentRequired) as refused:
        await desk.say(stranger, STORY)
    assert str(refused.value) == "error.consent_required"
    assert stored_nothing(desk.uow)
    assert desk.classifier.seen == []  # the story did not even reach the NLU


async def test_consent_creates_a_pseudonym_and_keeps_the_version() -> None:
    desk = Desk()
    sender = await desk.consent("tg-1001")
    client = desk.client_of(sender)
    assert client.pseudonym.startswith("Sahabat-")
    assert "1001" not in client.pseudonym
    assert (client.consent_version, client.consented_at) == ("2025-12", desk.clock.now())


async def test_consenting_again_updates_the_same_client() -> None:
    desk = Desk()
    sender = await desk.consent("tg-1001")
    desk.clock.advance(days=1)
    await desk.consent("tg-1001", locale="en")
    assert len(desk.uow.store.clients) == 1
    assert desk.client_of(sender).locale == "en"
    assert desk.client_of(sender).consented_at == desk.clock.now()


# --- the first message -------------------------------------------------------------------


async def test_first_message_opens_a_case_in_intake_and_asks_to_confirm() -> None:
    desk = Desk(classifier=FakeClassifier.saying(Category.KELUARGA))
    sender = await desk.consent()
    reception = await desk.say(sender, STORY)

    assert reception.new_case and not reception.crisis
    case = desk.case(reception.case_code)
    assert (case.status, case.category, case.queue_id) == (
        CaseStatus.INTAKE,
        Category.KELUARGA,
        None,
    )
    [message] = desk.uow.store.messages
    assert (message.direction, message.body, message.case_id) == (Direction.CLIENT, STORY, case.id)

    [prompt] = desk.outbox.notices
    assert prompt.recipient.id == desk.client_of(sender).id
    assert "Sepertinya ini tentang: Keluarga dan rumah tangga. Benar?" in prompt.text
    assert prompt.buttons[0].label == "Ya, benar"
    assert [b.data for b in prompt.buttons] == [
        "cat:keluarga",
        "cat:hukum",
        "cat:gizi",
        "cat:kesehatan_jiwa",
        "cat:lainnya",
    ]


async def test_case_codes_are_short_and_unambiguous() -> None:
    desk = Desk()
    reception = await desk.say(await desk.consent(), STORY)
    code = reception.case_code
    assert code.startswith("K-") and len(code) == 6
    assert not set(code[2:]) & set("0O1IL2Z5S8B")


async def test_nlu_down_leaves_the_category_unknown_and_asks_to_choose() -> None:
    desk = Desk(classifier=FakeClassifier.down())
    reception = await desk.say(await desk.consent(), STORY)

    assert reception.triage is not None and reception.triage.source == "unavailable"
    assert desk.case(reception.case_code).category is Category.UNKNOWN
    [prompt] = desk.outbox.notices
    assert prompt.text == catalogue.text("intake.choose", "id")
    assert [b.label for b in prompt.buttons] == [
        "Keluarga dan rumah tangga",
        "Hukum",
        "Gizi dan pola makan",
        "Kesehatan jiwa",
        "Lainnya",
    ]


async def test_an_unsure_model_asks_to_choose_too() -> None:
    unsure = Classification(category=Category.GIZI, crisis=False, confidence=0.3, uncertain=True)
    desk = Desk(classifier=FakeClassifier(unsure))
    await desk.say(await desk.consent(), "Saya diet ketat, sering pusing.")
    [prompt] = desk.outbox.notices
    assert prompt.text == catalogue.text("intake.choose", "id")


async def test_an_english_speaking_asn_is_answered_in_english() -> None:
    desk = Desk(classifier=FakeClassifier.saying(Category.HUKUM))
    await desk.say(await desk.consent(locale="en"), "I received a disciplinary letter.")
    [prompt] = desk.outbox.notices
    assert "This seems to be about: Legal. Is that right?" in prompt.text
    assert prompt.buttons[0].label == "Yes, that's right"


async def test_control_characters_are_stripped_before_storing() -> None:
    desk = Desk()
    await desk.say(await desk.consent(), "  halo\x00\x07 dunia\u200b \n")
    [message] = desk.uow.store.messages
    assert message.body == "halo dunia\u200b"


# --- crisis ------------------------------------------------------------------------------


def staff_everywhere(desk: Desk) -> dict[str, str]:
    """Who works where, by name; the expected pages go to the first four."""
    q, p = desk.world.queues, desk.world.partners
    people = {
        "ani": add_staff(desk.uow, "Ani", queues=[q["psikologi"]]),
        "budi": add_staff(desk.uow, "Budi", queues=[q["psikologi"], q["gizi"]]),
        "sari": add_staff(desk.uow, "Sari", role=Role.SUPERVISOR, queues=[q["psikologi"]]),
        "tono": add_staff(
            desk.uow, "Tono", role=Role.SUPERVISOR, queues=[q["psikologi"]], on_duty=False
        ),
        "rina": add_staff(desk.uow, "Rina", queues=[q["psikologi"]], on_duty=False),
        "hadi": add_staff(desk.uow, "Hadi", queues=[q["hukum"]]),
        "wati": add_staff(desk.uow, "Wati", role=Role.SUPERVISOR, queues=[q["hukum"]]),
        "adm": add_staff(desk.uow, "Admin", role=Role.ADMIN, queues=[q["psikologi"]]),
    }
    assert p["psikolog"].id == q["psikologi"].partner_id
    return {name: s.id for name, s in people.items()}


async def test_crisis_sends_the_safety_message_first_and_pages_everyone_on_call() -> None:
    desk = Desk(classifier=FakeClassifier.down())
    ids = staff_everywhere(desk)
    sender = await desk.consent()
    reception = await desk.say(sender, DANGER)

    assert reception.crisis
    first = desk.outbox.notices[0]
    assert first.recipient.id == desk.client_of(sender).id
    assert first.urgent and first.text.startswith(SAFETY.split("\n")[0])
    for contact in DEFAULT_EMERGENCY_CONTACTS:
        assert contact in first.text

    case = desk.case(reception.case_code)
    assert (case.status, case.crisis, case.priority) == (CaseStatus.QUEUED, True, CRISIS_PRIORITY)
    assert case.queue_id == desk.world.queue("psikologi").id

    pages = [n for n in desk.outbox.notices if n.recipient.kind == "staff"]
    paged = {name for name, sid in ids.items() if any(n.recipient.id == sid for n in pages)}
    assert paged == {"ani", "budi", "sari", "tono"}
    assert all(n.urgent and f"KRISIS: kasus {case.code}" in n.text for n in pages)
    assert all(DANGER not in n.text for n in pages)


async def test_crisis_pages_the_queue_the_category_routes_to() -> None:
    desk = Desk(classifier=FakeClassifier.saying(Category.HUKUM))
    ids = staff_everywhere(desk)
    reception = await desk.say(await desk.consent(), "Saya diancam dibunuh oleh penagih utang.")
    assert not reception.crisis  # no lexicon entry: nothing happens yet

    desk.screener.lexicon["dibunuh"] = "threat"
    reception = await desk.say(await desk.consent("tg-2"), "Saya diancam dibunuh.")
    case = desk.case(reception.case_code)
    assert case.queue_id == desk.world.queue("hukum").id
    paged = {n.recipient.id for n in desk.outbox.notices if n.recipient.kind == "staff"}
    assert paged == {ids["hadi"], ids["wati"]}


async def test_the_model_alone_can_flag_a_crisis() -> None:
    says_crisis = Classification(category=Category.KESEHATAN_JIWA, crisis=True, confidence=0.8)
    desk = Desk(classifier=FakeClassifier(says_crisis))
    reception = await desk.say(await desk.consent(), "Saya merasa hidup ini tidak ada artinya.")
    assert reception.crisis
    assert desk.outbox.notices[0].text.startswith(SAFETY.split("\n")[0])


async def test_a_later_message_that_turns_dangerous_escalates_the_open_case() -> None:
    desk = Desk()
    ids = staff_everywhere(desk)
    sender, case = await desk.open_case()
    before = len(desk.outbox.notices)

    reception = await desk.say(sender, DANGER)

    assert not reception.new_case and reception.crisis
    escalated = desk.case(case.code)
    assert (escalated.crisis, escalated.priority) == (True, CRISIS_PRIORITY)
    news = desk.outbox.notices[before:]
    assert news[0].recipient.kind == "client" and news[0].urgent
    assert news[0].text.startswith(SAFETY.split("\n")[0])
    paged = {n.recipient.id for n in news if n.recipient.kind == "staff" and n.urgent}
    assert paged == {ids["ani"], ids["budi"], ids["sari"], ids["tono"]}


async def test_the_assigned_counsellor_sees_the_dangerous_message() -> None:
    desk = Desk()
    sender, case = await desk.open_case()
    counsellor = add_staff(desk.uow, "Dewi", queues=[desk.world.queue("psikologi")], on_duty=False)
    stored = desk.case(case.code)
    stored.status, stored.assignee_id = CaseStatus.ASSIGNED, counsellor.id

    await desk.say(sender, DANGER)

    to_dewi = desk.outbox.to(counsellor.id)
    assert any(DANGER in n.text for n in to_dewi)


def safety_and_pages(desk: Desk, before: int) -> tuple[int, set[str]]:
    news = desk.outbox.notices[before:]
    safety = [n for n in news if n.recipient.kind == "client" and n.text.startswith(SAFETY[:40])]
    pages = {n.recipient.id for n in news if "KRISIS: kasus" in n.text}
    return len(safety), pages


async def test_crisis_words_again_while_waiting_alone_bring_the_safety_message_again() -> None:
    desk = Desk()
    ids = staff_everywhere(desk)
    sender, _ = await desk.open_case()
    await desk.say(sender, DANGER)
    before = len(desk.outbox.notices)

    await desk.say(sender, DANGER)  # still queued: nobody is with the ASN yet

    assert safety_and_pages(desk, before) == (1, {ids[n] for n in ("ani", "budi", "sari", "tono")})


async def test_crisis_words_in_a_conversation_reach_the_counsellor_urgently_not_the_asn() -> None:
    desk = Desk()
    staff_everywhere(desk)
    sender, case = await desk.open_case()
    await desk.say(sender, DANGER)
    dewi = add_staff(desk.uow, "Dewi", queues=[desk.world.queue("psikologi")], on_duty=False)
    stored = desk.case(case.code)
    stored.status, stored.assignee_id = CaseStatus.ASSIGNED, dewi.id
    before = len(desk.outbox.notices)

    await desk.say(sender, DANGER)

    assert safety_and_pages(desk, before) == (0, set())
    [told] = desk.outbox.notices[before:]
    assert told.recipient.id == dewi.id and told.urgent
    assert (
        told.text.startswith(f"KRISIS: pesan baru pada kasus {case.code}") and DANGER in told.text
    )


async def test_crisis_words_weeks_after_the_case_was_resolved_escalate_it_again() -> None:
    """The case was flagged before; the ASN never closed it and comes back in danger."""
    desk = Desk()
    ids = staff_everywhere(desk)
    sender, case = await desk.open_case()
    await desk.say(sender, DANGER)
    dewi = add_staff(desk.uow, "Dewi", queues=[desk.world.queue("psikologi")], on_duty=False)
    stored = desk.case(case.code)
    stored.status, stored.assignee_id = CaseStatus.RESOLVED, dewi.id
    desk.clock.advance(days=21)
    before = len(desk.outbox.notices)

    await desk.say(sender, "Saya mau bunuh diri malam ini.")

    everyone = {ids[n] for n in ("ani", "budi", "sari", "tono")} | {dewi.id}
    assert safety_and_pages(desk, before) == (1, everyone - {dewi.id})
    assert desk.outbox.notices[before].recipient.kind == "client"  # the safety message first
    assert any(
        n.urgent and n.text.startswith("KRISIS: pesan baru") for n in desk.outbox.to(dewi.id)
    )
    assert desk.case(case.code).status is CaseStatus.ASSIGNED


# --- later messages ----------------------------------------------------------------------


async def test_a_later_message_in_a_queued_case_is_acknowledged_and_kept() -> None:
    desk = Desk()
    sender, case = await desk.open_case()
    reception = await desk.say(sender, "Tambahan: ini sudah berlangsung setahun.")
    assert not reception.new_case and reception.case_code == case.code
    assert desk.outbox.notices[-1].text == catalogue.text("case.received", "id", code=case.code)
    assert len(desk.uow.store.messages) == 2
    assert desk.classifier.seen == [STORY]  # triage runs once per case


async def test_a_later_message_reaches_the_counsellor_under_the_pseudonym() -> None:
    desk = Desk()
    sender, case = await desk.open_case("tg-98765")
    counsellor = add_staff(desk.uow, "Dewi", queues=[desk.world.queue("psikologi")])
    stored = desk.case(case.code)
    stored.status, stored.assignee_id = CaseStatus.ASSIGNED, counsellor.id

    await desk.say(sender, "Apakah saya boleh bercerita lagi?")

    [relayed] = desk.outbox.to(counsellor.id)
    pseudonym = desk.client_of(sender).pseudonym
    assert relayed.text.startswith(f"Pesan baru pada kasus {case.code} ({pseudonym})")
    assert "Apakah saya boleh bercerita lagi?" in relayed.text
    assert "98765" not in relayed.text


async def test_writing_after_resolution_reopens_the_same_case() -> None:
    desk = Desk()
    sender, case = await desk.open_case()
    counsellor = add_staff(desk.uow, "Dewi", queues=[desk.world.queue("psikologi")])
    stored = desk.case(case.code)
    stored.status, stored.assignee_id = CaseStatus.RESOLVED, counsellor.id

    reception = await desk.say(sender, "Maaf, satu hal lagi.")

    assert reception.case_code == case.code and not reception.new_case
    assert desk.case(case.code).status is CaseStatus.ASSIGNED
    assert any("satu hal lagi" in n.text for n in desk.outbox.to(counsellor.id))


async def test_the_nlu_is_never_called_inside_a_transaction() -> None:
    desk = Desk()

    class Watching(FakeClassifier):
        async def classify(self, text: str) -> Classification:
            assert not desk.uow.in_transaction
            return await super().classify(text)

    desk.classifier = Watching(Classification(Category.GIZI, crisis=False, confidence=0.9))
    await desk.say(await desk.consent(), "Saya diet ekstrem.")
    assert desk.classifier.seen == ["Saya diet ekstrem."]


# --- invalid input -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "key"),
    [
        (None, "input.empty"),
        ("", "input.empty"),
        ("   \n\t ", "input.empty"),
        ("\x00\x01\x1b\x7f", "input.empty"),
        ("a" * (MAX_TEXT_CHARS + 1), "input.too_long"),
    ],
)
async def test_unusable_text_is_refused_kindly_and_nothing_is_stored(
    text: str | None, key: str
) -> None:
    desk = Desk()
    sender = await desk.consent()
    with pytest.raises(InvalidInput) as refused:
        await desk.say(sender, text)
    assert str(refused.value) == key
    shown = catalogue.text(key, "id", **refused.value.values)
    assert "{" not in shown
    assert not (desk.uow.store.cases or desk.uow.store.messages or desk.uow.store.outbox)


async def test_the_too_long_message_says_the_limit() -> None:
    desk = Desk()
    with pytest.raises(InvalidInput) as refused:
        await desk.say(await desk.consent(), "a" * (MAX_TEXT_CHARS + 1))
    assert str(MAX_TEXT_CHARS) in catalogue.text("input.too_long", "id", **refused.value.values)


async def test_text_at_the_limit_is_accepted() -> None:
    desk = Desk()
    await desk.say(await desk.consent(), "a" * MAX_TEXT_CHARS)
    assert len(desk.uow.store.messages[0].body) == MAX_TEXT_CHARS


# --- category and routing ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("category", "queue", "team"),
    [
        ("keluarga", "psikologi", "Psikologi"),
        ("kesehatan_jiwa", "psikologi", "Psikologi"),
        ("gizi", "gizi", "Gizi"),
        ("hukum", "hukum", "Hukum"),
        ("lainnya", "umum", "Layanan Umum BKPSDM"),
    ],
)
async def test_confirming_a_category_routes_the_case_and_tells_the_asn(
    category: str, queue: str, team: str
) -> None:
    desk = Desk()
    sender = await desk.consent()
    await desk.say(sender, STORY)
    case = await desk.choose(sender, category)

    assert case.status is CaseStatus.QUEUED
    assert case.queue_id == desk.world.queue(queue).id
    told = desk.outbox.notices[-1]
    assert told.text == catalogue.text(
        "case.opened",
        "id",
        code=case.code,
        team=team,
        hours="Senin-Jumat 08.00-16.00 WIB",
        position=1,
        wait="sekitar 30 menit",
    )


async def test_an_english_speaking_asn_is_told_the_team_and_hours_in_english() -> None:
    desk = Desk()
    sender, case = await desk.open_case(category="gizi", locale="en")
    assert desk.outbox.to(desk.client_of(sender).id)[-1].text == (
        f"Your case is recorded as {case.code}. The Gizi team will answer. "
        "Service hours: Monday to Friday 08.00-16.00 WIB. Place in the queue: 1. "
        "Expected wait: about 30 minutes."
    )


async def test_the_position_counts_the_cases_waiting_ahead() -> None:
    desk = Desk()
    await desk.open_case("tg-1")
    desk.clock.advance(minutes=5)
    _, second = await desk.open_case("tg-2")
    desk.clock.advance(minutes=5)
    await desk.open_case("tg-3", "gizi")  # another queue: not ahead
    assert "Posisi antrean: 2. Perkiraan waktu tunggu: sekitar 60 menit" in (
        desk.outbox.to(desk.client_of(Sender("telegram", "tg-2")).id)[-1].text
    )
    assert second.code in desk.outbox.to(desk.client_of(Sender("telegram", "tg-2")).id)[-1].text


async def test_outside_service_hours_the_wait_is_the_next_service_hours() -> None:
    desk = Desk()
    desk.clock.advance(days=5)  # Saturday
    sender, _ = await desk.open_case()
    assert desk.outbox.to(desk.client_of(sender).id)[-1].text.endswith(
        "Perkiraan waktu tunggu: pada jam layanan berikutnya."
    )


async def test_on_duty_counsellors_of_the_queue_hear_of_a_new_case() -> None:
    desk = Desk()
    q = desk.world.queues
    ani = add_staff(desk.uow, "Ani", queues=[q["gizi"]])
    off = add_staff(desk.uow, "Rina", queues=[q["gizi"]], on_duty=False)
    other = add_staff(desk.uow, "Hadi", queues=[q["hukum"]])
    _, case = await desk.open_case(category="gizi")

    [news] = desk.outbox.to(ani.id)
    assert news.text.startswith(
        f"Kasus baru {case.code} di antrean Gizi (Gizi dan pola makan, lewat Telegram)"
    )
    assert STORY not in news.text
    assert desk.outbox.to(off.id) == desk.outbox.to(other.id) == []


@pytest.mark.parametrize("bad", ["unknown", "politik", "", "KELUARGA"])
async def test_a_category_that_is_not_offered_is_refused(bad: str) -> None:
    desk = Desk()
    sender = await desk.consent()
    await desk.say(sender, STORY)
    with pytest.raises(InvalidInput):
        await desk.choose(sender, bad)
    assert next(iter(desk.uow.store.cases.values())).status is CaseStatus.INTAKE


async def test_a_case_rerouted_later_keeps_its_queue() -> None:
    desk = Desk()
    sender, case = await desk.open_case(category="keluarga")
    changed = await desk.choose(sender, "hukum")
    assert changed.category is Category.HUKUM
    assert changed.queue_id == case.queue_id  # staff transfer it, the ASN cannot
    assert desk.case(case.code).category is Category.HUKUM


# --- demographics ------------------------------------------------------------------------


async def test_demographics_keep_only_the_allowed_bands() -> None:
    desk = Desk()
    sender, case = await desk.open_case()
    await set_demographics(
        uow=desk.uow,
        sender=sender,
        demographics=Demographics(gender="perempuan", age_band="30-39", employment="PPPK"),
    )
    assert desk.case(case.code).demographics == Demographics("perempuan", "30-39", "PPPK")

    await set_demographics(
        uow=desk.uow,
        sender=sender,
        demographics=Demographics(gender="Budi Santoso", age_band="34", employment="honorer"),
    )
    assert desk.case(case.code).demographics == Demographics(None, None, None)


async def test_demographics_can_be_skipped() -> None:
    desk = Desk()
    sender, case = await desk.open_case()
    await set_demographics(uow=desk.uow, sender=sender, demographics=Demographics())
    assert desk.case(case.code).demographics == Demographics()


async def test_answers_given_with_the_category_are_kept_in_its_one_transaction() -> None:
    desk = Desk()
    sender = await desk.consent()
    await desk.say(sender, "Suami saya dan saya terus bertengkar soal utang.")
    commits = desk.uow.commits
    case = await confirm_category(
        uow=desk.uow,
        sender=sender,
        category="keluarga",
        clock=desk.clock,
        policy=desk.policy,
        demographics=Demographics(gender="perempuan", age_band="34", employment="PNS"),
    )
    assert desk.uow.commits == commits + 1
    assert case.status is CaseStatus.QUEUED
    assert desk.case(case.code).demographics == Demographics("perempuan", None, "PNS")


async def test_an_unclaimed_crisis_is_paged_again_after_five_minutes() -> None:
    from core.usecases.casework import claim_case
    from core.usecases.intake import repage_unclaimed_crisis

    desk = Desk(classifier=FakeClassifier.down())
    ids = staff_everywhere(desk)
    reception = await desk.say(await desk.consent(), DANGER)

    def pages() -> int:
        return sum(1 for n in desk.outbox.notices if n.recipient.kind == "staff" and n.urgent)

    first = pages()
    assert first == 4
    desk.clock.advance(minutes=4)
    assert await repage_unclaimed_crisis(uow=desk.uow, clock=desk.clock) == 0
    desk.clock.advance(minutes=2)
    assert await repage_unclaimed_crisis(uow=desk.uow, clock=desk.clock) == 1
    assert pages() == 2 * first
    assert await repage_unclaimed_crisis(uow=desk.uow, clock=desk.clock) == 0  # not every tick

    await claim_case(
        uow=desk.uow, staff_id=ids["ani"], case_code=reception.case_code, clock=desk.clock
    )
    desk.clock.advance(minutes=10)
    assert await repage_unclaimed_crisis(uow=desk.uow, clock=desk.clock) == 0


async def test_answers_after_a_crisis_opened_the_case_are_acknowledged() -> None:
    desk = Desk(classifier=FakeClassifier.down())
    sender = await desk.consent()
    reception = await desk.say(sender, DANGER)
    before = len(desk.outbox.notices)

    case = await desk.choose(sender, "kesehatan_jiwa")  # the last optional question answered

    assert case.status is CaseStatus.QUEUED  # not queued twice, nobody paged again
    after = desk.outbox.notices[before:]
    saved = catalogue.text("case.answers_saved", "id", code=reception.case_code)
    assert [(n.recipient.id, n.text) for n in after] == [(desk.client_of(sender).id, saved)]


async def test_an_english_speaking_asn_gets_the_safety_message_and_contacts_in_english() -> None:
    desk = Desk()
    sender = await desk.consent("tg-7", locale="en")
    await desk.say(sender, DANGER)
    safety = desk.outbox.notices[0]
    assert safety.urgent and safety.text.startswith(
        catalogue.text("crisis.safety", "en", contacts="")[:30]
    )
    assert "112 (emergency)" in safety.text and "darurat" not in safety.text
