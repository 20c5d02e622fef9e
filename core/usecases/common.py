"""Small pieces the use cases share: input checks, lookups and notices."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime

from core import catalogue
from core.errors import ConsentRequired, InvalidInput, NotAllowed, NotFound
from core.model import (
    Button,
    Case,
    Client,
    Direction,
    Message,
    Notice,
    Queue,
    Recipient,
    Role,
    Staff,
    new_id,
)
from core.ports import Clock, UnitOfWork
from core.triage import CASE_CATEGORIES, Category

MAX_TEXT_CHARS = 4096  # Telegram's and WhatsApp's own limit: a full-size message is kept


@dataclass(frozen=True)
class Sender:
    """Who wrote: a channel and the channel's own id for the person (never stored raw)."""

    channel: str
    external_id: str


def clean_text(text: str | None) -> str:
    """Strip control characters; refuse empty or huge text with a kind, clear error."""
    if text is None:
        raise InvalidInput("input.empty")
    kept = "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch) != "Cc")
    kept = kept.strip()
    if not kept:
        raise InvalidInput("input.empty")
    if len(kept) > MAX_TEXT_CHARS:
        raise InvalidInput("input.too_long", limit=MAX_TEXT_CHARS)
    return kept


async def require_client(uow: UnitOfWork, sender: Sender) -> Client:
    client = await uow.clients.find(channel=sender.channel, external_id=sender.external_id)
    if client is None:
        raise ConsentRequired("error.consent_required")
    return client


async def require_case(uow: UnitOfWork, code: str) -> Case:
    case = await uow.cases.get_by_code(code.strip().upper())
    if case is None:
        raise NotFound("error.not_found")
    return case


async def require_staff(uow: UnitOfWork, staff_id: str) -> Staff:
    staff = await uow.staff.get(staff_id)
    if staff is None or not staff.active:
        raise NotAllowed("error.not_allowed")
    return staff


async def require_queue(uow: UnitOfWork, queue_id: str | None) -> Queue:
    queue = await uow.partners.queue(queue_id) if queue_id else None
    if queue is None:
        raise NotFound("error.not_found")
    return queue


async def visible_queue_ids(uow: UnitOfWork, staff: Staff) -> frozenset[str]:
    """Counsellors see their queues; supervisors every queue of their partners; admins none."""
    if staff.role is Role.COUNSELLOR:
        return frozenset(staff.queue_ids)
    if staff.role is Role.ADMIN:
        return frozenset()
    queues = await uow.partners.queues()
    partners = {q.partner_id for q in queues if q.id in staff.queue_ids}
    return frozenset(q.id for q in queues if q.partner_id in partners)


async def require_visible(uow: UnitOfWork, staff: Staff, case: Case) -> None:
    if case.queue_id not in await visible_queue_ids(uow, staff):
        raise NotAllowed("error.not_allowed")


def to_client(client: Client, key: str, *, case: Case | None = None, **values: object) -> Notice:
    return Notice(
        recipient=Recipient("client", client.id),
        text=catalogue.text(key, client.locale, **values),
        case_id=case.id if case else None,
        client_id=client.id,
        channel=client.channel,
    )


def category_name(category: Category, locale: str = "id") -> str:
    """The case's topic as staff read it (Kesehatan jiwa, ...); "-" while it is undecided."""
    if category is Category.UNKNOWN:
        return "-"
    return catalogue.text(f"category.{category.value}", locale)


def waited(since: datetime, now: datetime, locale: str = "id") -> str:
    """How long a case has waited, as staff read it: "12 menit", "2 jam 5 menit"."""
    minutes = max(0, int((now - since).total_seconds() // 60))
    if minutes >= 60:
        return catalogue.text("console.hours", locale, hours=minutes // 60, minutes=minutes % 60)
    return catalogue.text("console.minutes", locale, minutes=minutes)


def channel_name(channel: str | None, locale: str = "id") -> str:
    """The client's channel as staff read it (Telegram, WhatsApp, obrolan web); "-" unknown."""
    if channel is None:
        return "-"
    try:
        return catalogue.text(f"channel.{channel}", locale)
    except KeyError:
        return channel


def to_staff(
    staff: Staff,
    key: str,
    *,
    case: Case,
    urgent: bool = False,
    claimable: bool = False,
    **values: object,
) -> Notice:
    notice = Notice(
        recipient=Recipient("staff", staff.id),
        text=catalogue.text(key, "id", **values),
        case_id=case.id,
        urgent=urgent,
        client_id=case.client_id,
    )
    if claimable:
        notice.buttons = (
            Button(
                catalogue.text("staff.button_claim", "id", code=case.code), f"claim:{case.code}"
            ),
        )
    return notice


def category_buttons(locale: str) -> tuple[Button, ...]:
    return tuple(
        Button(catalogue.text(f"category.{c.value}", locale), f"cat:{c.value}")
        for c in CASE_CATEGORIES
    )


def rating_buttons() -> tuple[Button, ...]:
    return tuple(Button(str(n), f"rate:{n}") for n in range(1, 6))


async def append_message(
    uow: UnitOfWork, case: Case, direction: Direction, author: str | None, body: str, clock: Clock
) -> None:
    await uow.messages.add(
        Message(
            id=new_id(),
            case_id=case.id,
            direction=direction,
            author_id=author,
            body=body,
            created_at=clock.now(),
        )
    )
