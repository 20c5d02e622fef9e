"""The ASN's own rights: close the case, rate it, see everything held, erase everything."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from core import catalogue
from core.errors import InvalidInput, NotFound
from core.model import CaseStatus, Direction, Feedback, new_id
from core.policy import ServicePolicy
from core.ports import Clock, UnitOfWork
from core.purposes import READ_ACTION, purpose_label_key, shown_purpose
from core.usecases.common import Sender, rating_buttons, require_client, to_client

MAX_COMMENT_CHARS = 1000


async def close_own_case(*, uow: UnitOfWork, sender: Sender, clock: Clock) -> str:
    """The ASN is done: the case closes and a rating is asked for. Returns the case code."""
    async with uow:
        client = await require_client(uow, sender)
        cases = [
            c
            for c in await uow.cases.for_client(client.id)
            if c.is_open or c.status is CaseStatus.RESOLVED
        ]
        if not cases:
            raise NotFound("error.not_found")
        case = cases[-1]
        case.move_to(CaseStatus.CLOSED)
        case.closed_at = clock.now()
        await uow.cases.update(case)
        await uow.outbox.add(to_client(client, "case.closed", case=case, code=case.code))
        if not await uow.feedback.for_case(case.id):  # rated when it was resolved
            ask = to_client(client, "case.feedback_ask", case=case)
            ask.buttons = rating_buttons()
            await uow.outbox.add(ask)
        await uow.commit()
    return case.code


async def record_feedback(
    *, uow: UnitOfWork, sender: Sender, rating: int, comment: str | None, clock: Clock
) -> None:
    """A 1-5 rating and optional comment (kept encrypted) for the latest finished case, once."""
    if not 1 <= rating <= 5:
        raise InvalidInput("case.feedback_ask")
    note = (comment or "").strip()[:MAX_COMMENT_CHARS] or None
    async with uow:
        client = await require_client(uow, sender)
        finished = [
            c
            for c in await uow.cases.for_client(client.id)
            if c.status in (CaseStatus.RESOLVED, CaseStatus.CLOSED)
        ]
        if not finished:
            raise NotFound("error.not_found")
        case = finished[-1]
        # One rating per case: asked on resolve and on close, it must count once in the stats.
        if not await uow.feedback.for_case(case.id):
            await uow.feedback.add(
                Feedback(
                    id=new_id(),
                    case_id=case.id,
                    rating=rating,
                    comment=note,
                    created_at=clock.now(),
                )
            )
        await uow.outbox.add(to_client(client, "case.feedback_thanks", case=case))
        await uow.commit()


@dataclass(frozen=True)
class ExportedMessage:
    direction: str
    at: str
    text: str


@dataclass(frozen=True)
class ExportedCase:
    code: str
    status: str
    category: str
    opened_at: str
    messages: list[ExportedMessage]
    reads: list[dict[str, str | None]]
    ratings: list[int] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)
    demographics: dict[str, str | None] = field(default_factory=dict)


@dataclass(frozen=True)
class ClientExport:
    pseudonym: str
    consent_version: str
    consented_at: str
    locale: str
    cases: list[ExportedCase]


async def export_client_data(*, uow: UnitOfWork, sender: Sender) -> ClientExport:
    """Everything held about the ASN (internal notes excepted), and who read their cases."""
    async with uow:
        client = await require_client(uow, sender)
        cases = []
        for case in await uow.cases.for_client(client.id):
            messages = await uow.messages.for_case(case.id)
            reads = await uow.audit.for_case(case.code)
            feedback = await uow.feedback.for_case(case.id)
            cases.append(
                ExportedCase(
                    code=case.code,
                    status=case.status.value,
                    category=case.category.value,
                    opened_at=case.opened_at.isoformat(),
                    messages=[
                        ExportedMessage(m.direction.value, m.created_at.isoformat(), m.body)
                        for m in messages
                        if m.direction is not Direction.NOTE
                    ],
                    reads=[
                        {
                            "at": e.at.isoformat(),
                            "action": e.action,
                            "purpose": _purpose(e.action, e.purpose, client.locale),
                            "by": await _reader(uow, e.actor_id),
                        }
                        for e in reads
                    ],
                    ratings=[f.rating for f in feedback],
                    comments=[f.comment for f in feedback if f.comment],
                    demographics=asdict(case.demographics),
                )
            )
    return ClientExport(
        client.pseudonym,
        client.consent_version,
        client.consented_at.isoformat(),
        client.locale,
        cases,
    )


def _purpose(action: str, purpose: str | None, locale: str) -> str | None:
    """A read's purpose as a sentence in the ASN's language (other events as recorded)."""
    shown = shown_purpose(action, purpose)
    if action != READ_ACTION or shown is None:
        return shown
    return catalogue.text(purpose_label_key(shown), locale)


async def _reader(uow: UnitOfWork, staff_id: str) -> str:
    """Who read the case, as the counsellor introduced themself (their display name)."""
    member = await uow.staff.get(staff_id)
    return member.display_name if member is not None else "-"


async def delete_client_data(*, uow: UnitOfWork, sender: Sender) -> str:
    """Crypto-shred every case key and remove every row; returns the confirmation to show."""
    async with uow:
        client = await require_client(uow, sender)
        await uow.outbox.drop_for(client_id=client.id)
        for case in await uow.cases.for_client(client.id):
            case.move_to(CaseStatus.DELETED)
            await uow.cases.delete(case.id)
        await uow.clients.delete(client.id)
        await uow.commit()
    return catalogue.text("case.deleted", client.locale)


async def own_case_status(
    *, uow: UnitOfWork, sender: Sender, clock: Clock, policy: ServicePolicy
) -> str:
    """What the ASN sees for /status: case code, state, team, queue position and wait."""
    async with uow:
        client = await require_client(uow, sender)
        case = await uow.cases.open_for_client(client.id)
        if case is None:
            return catalogue.text("status.none", client.locale)
        queue = await uow.partners.queue(case.queue_id) if case.queue_id else None
        detail = ""
        if case.status is CaseStatus.QUEUED:
            position = await uow.cases.position(case)
            wait = policy.expected_wait(position=position, at=clock.now(), locale=client.locale)
            detail = catalogue.text("status.waiting", client.locale, position=position, wait=wait)
        elif case.status is CaseStatus.ASSIGNED:
            detail = catalogue.text("status.with_counsellor", client.locale)
    return catalogue.text(
        "status.case",
        client.locale,
        code=case.code,
        status=catalogue.text(f"status.label_{case.status.value}", client.locale),
        team=queue.name if queue else "-",
        detail=detail,
    ).strip()


async def set_locale(*, uow: UnitOfWork, sender: Sender, locale: str) -> str:
    """Switch the ASN's language; returns the confirmation in the new language."""
    chosen = locale if locale in catalogue.LOCALES else catalogue.DEFAULT_LOCALE
    async with uow:
        client = await require_client(uow, sender)
        client.locale = chosen
        await uow.clients.update(client)
        await uow.commit()
    return catalogue.text("client.language_set", chosen)


async def locale_of(*, uow: UnitOfWork, sender: Sender) -> str | None:
    """The ASN's language, or None before consent (nothing is stored then)."""
    async with uow:
        return await uow.clients.locale(channel=sender.channel, external_id=sender.external_id)
