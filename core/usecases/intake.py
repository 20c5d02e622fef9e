"""An ASN's way in: consent, the first message and triage, category confirmation, routing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from core import catalogue
from core.errors import DomainError, InvalidInput
from core.model import (
    CRISIS_PRIORITY,
    Button,
    Case,
    CaseStatus,
    Client,
    Demographics,
    Direction,
    Notice,
    Staff,
    new_case_code,
    new_id,
    new_pseudonym,
)
from core.policy import ServicePolicy
from core.ports import Clock, UnitOfWork
from core.routing import route
from core.triage import CASE_CATEGORIES, Category, Classifier, CrisisScreener, Triage, triage
from core.usecases.common import (
    Sender,
    append_message,
    category_buttons,
    channel_name,
    clean_text,
    require_case,
    require_client,
    to_client,
    to_staff,
)


@dataclass(frozen=True)
class Reception:
    case_code: str
    status: CaseStatus
    new_case: bool
    crisis: bool
    triage: Triage | None


async def give_consent(
    *, uow: UnitOfWork, sender: Sender, reply_address: str, locale: str, version: str, clock: Clock
) -> Client:
    """Create the pseudonymous client: nothing about the ASN is stored before this."""
    async with uow:
        client = await uow.clients.find(channel=sender.channel, external_id=sender.external_id)
        if client is None:
            client = Client(
                id=new_id(),
                channel=sender.channel,
                pseudonym=new_pseudonym(),
                locale=locale,
                consent_version=version,
                consented_at=clock.now(),
                reply_address=reply_address,
                created_at=clock.now(),
            )
            await uow.clients.add(client, external_id=sender.external_id)
        else:
            client.consent_version, client.consented_at = version, clock.now()
            client.reply_address, client.locale = reply_address, locale
            await uow.clients.update(client)
        await uow.commit()
    return client


async def receive_client_message(
    *,
    uow: UnitOfWork,
    sender: Sender,
    text: str | None,
    screener: CrisisScreener,
    classifier: Classifier,
    clock: Clock,
    policy: ServicePolicy,
) -> Reception:
    """Open a case or append to the open one; crisis is screened on every message."""
    body = clean_text(text)
    async with uow:
        client = await require_client(uow, sender)
        case = await uow.cases.open_for_client(client.id)
        if case is not None:  # an open case: screened here, no network, one transaction
            crisis_now = screener.screen(body) is not None
            return await _take_in(uow, client, case, None, body, crisis_now, clock, policy)
    # Classification talks to the network: no transaction is open meanwhile.
    result = await triage(body, screener=screener, classifier=classifier)
    async with uow:
        case = await uow.cases.open_for_client(client.id)  # one may have opened meanwhile
        return await _take_in(uow, client, case, result, body, result.crisis, clock, policy)


SCREEN_LIMIT = 20_000  # characters of an unkept message screened (web chat bodies are capped)


def unkept_crisis(text: str | None, screener: CrisisScreener) -> bool:
    """Crisis words in a message that is not kept: before consent, too long, or the caption
    of a photo. Nothing is stored and no one can be paged (there is no case), but the
    emergency contacts are never withheld (unkept_safety)."""
    if not text:
        return False
    return screener.screen(text[:SCREEN_LIMIT]) is not None


def unkept_safety(policy: ServicePolicy, locale: str) -> str:
    """The safety message for crisis words in a message that was not kept."""
    contacts = policy.contacts_text(locale)
    return catalogue.text("crisis.safety_unkept", locale, contacts=contacts)


async def _take_in(
    uow: UnitOfWork,
    client: Client,
    case: Case | None,
    result: Triage | None,
    body: str,
    crisis_now: bool,
    clock: Clock,
    policy: ServicePolicy,
) -> Reception:
    """Keep the message (opening a case if none is open), escalate a crisis, pass it on."""
    new_case = case is None
    if case is None:
        case = _new_case(client, result, clock)
        await uow.cases.add(case)
    await append_message(uow, case, Direction.CLIENT, None, body, clock)
    first_crisis = case.mark_crisis() if crisis_now else False
    # Not only the first time: an ASN still waiting alone, or back weeks after the case was
    # resolved, who says it again is in danger again. In a conversation with a counsellor,
    # the counsellor is told at once instead of the ASN getting the same automatic message.
    alone = case.assignee_id is None or case.status is CaseStatus.RESOLVED
    escalate = first_crisis or (crisis_now and alone)
    if escalate:
        await _escalate(uow, client, case, policy)
    if new_case:
        await uow.outbox.add(_triage_prompt(client, case, result))
    elif not crisis_now or case.assignee_id is not None:
        # In crisis the assigned counsellor must still see what the client wrote, at once.
        await _relay(uow, client, case, body, urgent=crisis_now)
    if escalate:
        await page_crisis(uow, case, clock)  # the team: on duty in the queue and supervisors
    await uow.cases.update(case)
    await uow.commit()
    return Reception(case.code, case.status, new_case, case.crisis, result)


def _new_case(client: Client, result: Triage | None, clock: Clock) -> Case:
    category = result.category if result else Category.UNKNOWN
    return Case(
        id=new_id(),
        code=new_case_code(),
        client_id=client.id,
        status=CaseStatus.INTAKE,
        category=category,
        crisis=False,
        priority=0,
        queue_id=None,
        assignee_id=None,
        opened_at=clock.now(),
        triage_confidence=result.confidence if result else None,
    )


def _triage_prompt(client: Client, case: Case, result: Triage | None) -> Notice:
    buttons = category_buttons(client.locale)
    if result is None or result.needs_confirmation or case.category is Category.UNKNOWN:
        notice = to_client(client, "intake.choose", case=case)
    else:
        label = catalogue.text(f"category.{case.category.value}", client.locale)
        notice = to_client(client, "intake.confirm", case=case, category=label)
        yes = Button(catalogue.text("intake.button_yes", client.locale), f"cat:{case.category}")
        buttons = (yes, *(b for b in buttons if b.data != yes.data))
    notice.buttons = buttons
    return notice


async def _escalate(uow: UnitOfWork, client: Client, case: Case, policy: ServicePolicy) -> None:
    """Safety message first, then jump the queue (the caller pages the team)."""
    contacts = policy.contacts_text(client.locale)
    safety = to_client(client, "crisis.safety", case=case, contacts=contacts)
    safety.urgent = True
    await uow.outbox.add(safety)
    case.priority = CRISIS_PRIORITY
    if case.status is CaseStatus.INTAKE:
        if case.category in (Category.UNKNOWN, Category.LAINNYA):
            # A crisis needs an expert team, not the general desk: the psychologists.
            case.category = Category.KESEHATAN_JIWA
        queues = await uow.partners.queues()
        case.queue_id = route(queues, case.category).id
        case.move_to(CaseStatus.QUEUED)


async def page_crisis(uow: UnitOfWork, case: Case, clock: Clock) -> None:
    if case.queue_id is None:
        return
    case.paged_at = clock.now()
    queue = await uow.partners.queue(case.queue_id)
    if queue is None:
        return
    paged = {s.id: s for s in await uow.staff.on_duty(queue_id=queue.id)}
    paged.update({s.id: s for s in await uow.staff.supervisors(partner_id=queue.partner_id)})
    for staff in paged.values():
        await uow.outbox.add(
            to_staff(
                staff,
                "staff.crisis_page",
                case=case,
                urgent=True,
                claimable=True,
                code=case.code,
                queue=queue.name,
            )
        )


async def _relay(
    uow: UnitOfWork, client: Client, case: Case, body: str, *, urgent: bool = False
) -> None:
    """Forward to the counsellor (as a new message, never a Telegram forward) or keep it."""
    if case.status is CaseStatus.RESOLVED:
        case.move_to(CaseStatus.ASSIGNED)
    staff = await _active_assignee(uow, case)
    if staff is not None:
        await uow.outbox.add(
            to_staff(
                staff,
                "staff.client_crisis" if urgent else "staff.client_message",
                case=case,
                urgent=urgent,
                code=case.code,
                pseudonym=client.pseudonym,
                text=body,
            )
        )
        return
    if case.status is not CaseStatus.INTAKE:
        await uow.outbox.add(to_client(client, "case.received", case=case, code=case.code))


async def _active_assignee(uow: UnitOfWork, case: Case) -> Staff | None:
    """The counsellor on the case; a revoked one never sees it again and it goes back to queue."""
    if case.status is not CaseStatus.ASSIGNED or case.assignee_id is None:
        return None
    staff = await uow.staff.get(case.assignee_id)
    if staff is not None and staff.active:
        return staff
    case.move_to(CaseStatus.QUEUED)
    case.assignee_id = None
    return None


async def confirm_category(
    *,
    uow: UnitOfWork,
    sender: Sender,
    category: str,
    clock: Clock,
    policy: ServicePolicy,
    demographics: Demographics | None = None,
) -> Case:
    """The ASN confirms or picks the category; the case is routed and the team told.

    The optional answers asked before it are kept in the same transaction."""
    chosen = _parse_category(category)
    async with uow:
        client = await require_client(uow, sender)
        case = await uow.cases.open_for_client(client.id)
        if case is None:
            raise DomainError("error.not_found")
        if demographics is not None:
            case.demographics = _checked(demographics)
        case.category = chosen
        if case.status is CaseStatus.INTAKE:
            await _enqueue(uow, client, case, clock, policy)
        else:  # e.g. a crisis opened the case at once: the ASN still hears that we listened
            await uow.outbox.add(to_client(client, "case.answers_saved", case=case, code=case.code))
        await uow.cases.update(case)
        await uow.commit()
    return case


def _parse_category(value: str) -> Category:
    try:
        chosen = Category(value)
    except ValueError:
        raise InvalidInput("error.not_found") from None
    if chosen not in CASE_CATEGORIES:
        raise InvalidInput("error.not_found")
    return chosen


async def _enqueue(
    uow: UnitOfWork, client: Client, case: Case, clock: Clock, policy: ServicePolicy
) -> None:
    queue = route(await uow.partners.queues(), case.category)
    case.queue_id = queue.id
    case.move_to(CaseStatus.QUEUED)
    await uow.cases.update(case)
    position = await uow.cases.position(case)
    wait = policy.expected_wait(position=position, at=clock.now(), locale=client.locale)
    await uow.outbox.add(
        to_client(
            client,
            "case.opened",
            case=case,
            code=case.code,
            team=queue.name,
            hours=policy.hours_text(client.locale),
            position=position,
            wait=wait,
        )
    )
    for staff in await uow.staff.on_duty(queue_id=queue.id):
        label = catalogue.text(f"category.{case.category.value}", "id")
        await uow.outbox.add(
            to_staff(
                staff,
                "staff.new_case",
                case=case,
                claimable=True,
                code=case.code,
                queue=queue.name,
                category=label,
                channel=channel_name(client.channel),
            )
        )


async def set_demographics(*, uow: UnitOfWork, sender: Sender, demographics: Demographics) -> None:
    """Optional, skippable answers; only the bands are kept."""
    async with uow:
        client = await require_client(uow, sender)
        case = await uow.cases.open_for_client(client.id)
        if case is None:
            raise DomainError("error.not_found")
        case.demographics = _checked(demographics)
        await uow.cases.update(case)
        await uow.commit()


GENDERS = frozenset({"perempuan", "laki_laki"})
AGE_BANDS = frozenset({"<30", "30-39", "40-49", "50+"})
EMPLOYMENT = frozenset({"PNS", "PPPK"})


def _checked(d: Demographics) -> Demographics:
    def keep(value: str | None, allowed: frozenset[str]) -> str | None:
        return value if value in allowed else None

    return Demographics(
        gender=keep(d.gender, GENDERS),
        age_band=keep(d.age_band, AGE_BANDS),
        employment=keep(d.employment, EMPLOYMENT),
    )


CRISIS_REPAGE_AFTER = timedelta(minutes=5)


async def repage_unclaimed_crisis(
    *, uow: UnitOfWork, clock: Clock, after: timedelta = CRISIS_REPAGE_AFTER
) -> int:
    """Page again every on-duty counsellor and supervisor for crisis cases still unclaimed."""
    async with uow:
        waiting = await uow.cases.crisis_unclaimed(paged_before=clock.now() - after)
        for case in waiting:
            await page_crisis(uow, case, clock)
            await uow.cases.update(case)
        await uow.commit()
    return len(waiting)


__all__ = [
    "CRISIS_REPAGE_AFTER",
    "Reception",
    "confirm_category",
    "give_consent",
    "page_crisis",
    "receive_client_message",
    "repage_unclaimed_crisis",
    "require_case",
    "set_demographics",
]
