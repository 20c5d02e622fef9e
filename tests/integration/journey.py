"""A whole conversation through the use cases, with canaries planted in every free-text field."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.outbox_worker import OutboxWorker, RateLimiter
from core.model import Role
from core.policy import ServicePolicy
from core.triage import Category, Classification, CrisisHit
from core.usecases import casework, client_rights, intake, staffing
from core.usecases.common import Sender
from storage.outbox import OutboxStore

CANARIES = {
    "client_text": "KANARI-TEKS-7731 rahasia sekali",
    "client_tg": "987650001234",
    "client_chat": "555000111222",
    "staff_tg": "424242000111",
    "staff_chat": "313131000222",
    "reply": "KANARI-BALASAN-5512",
    "note": "KANARI-CATATAN-9034",
    "comment": "KANARI-ULASAN-2288",
    "followup": "KANARI-LANJUTAN-6601",
}


@dataclass
class Clock:
    at: datetime = field(default_factory=lambda: datetime(2026, 3, 2, 2, 0, tzinfo=UTC))

    def now(self) -> datetime:
        return self.at

    def advance(self, **kwargs: float) -> None:
        self.at += timedelta(**kwargs)


class FixedClassifier:
    def __init__(self, category: Category = Category.KESEHATAN_JIWA) -> None:
        self.category = category

    async def classify(self, text: str) -> Classification:
        return Classification(
            self.category, False, 0.93, "kesehatan_jiwa", (("kesehatan_jiwa", 0.93),)
        )


class WordScreener:
    def screen(self, text: str) -> CrisisHit | None:
        return CrisisHit(("suicide",)) if "bunuh diri" in text.lower() else None


@dataclass
class RecordingSender:
    sent: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    async def send(self, *, address: str, payload: dict[str, Any]) -> None:
        self.sent.append((address, payload))


@dataclass
class Journey:
    case_code: str
    staff_id: str
    client: Sender
    delivered: dict[str, RecordingSender]


_runs = itertools.count()


async def told_their_story(
    db: Any,
    clock: Clock,
    external_id: str,
    text: str = "Saya sering cemas dan tidak bisa tidur.",
    channel: str = "telegram",
) -> tuple[Sender, intake.Reception]:
    """An ASN who consented and wrote their first message: a case in intake."""
    sender = Sender(channel, external_id)
    await intake.give_consent(
        uow=db.uow(),
        sender=sender,
        reply_address=external_id,
        locale="id",
        version="v1",
        clock=clock,
    )
    received = await intake.receive_client_message(
        uow=db.uow(),
        sender=sender,
        text=text,
        screener=WordScreener(),
        classifier=FixedClassifier(),
        clock=clock,
        policy=ServicePolicy(),
    )
    return sender, received


async def whole_conversation(db: Any, clock: Clock | None = None) -> Journey:
    """One ASN, one counsellor (new ones on every call, so calls can be repeated)."""
    clock = clock or Clock()
    policy = ServicePolicy()
    run = next(_runs)
    client = Sender("telegram", f"{CANARIES['client_tg']}{run}")
    await intake.give_consent(
        uow=db.uow(),
        sender=client,
        reply_address=CANARIES["client_chat"],
        locale="id",
        version="v1",
        clock=clock,
    )
    invite = await staffing.create_invite(
        uow=db.uow(), role=Role.COUNSELLOR, queue_codes=["psikologi"], clock=clock
    )
    member = await staffing.redeem_invite(
        uow=db.uow(),
        code=invite.code,
        telegram_id=f"{CANARIES['staff_tg']}{run}",
        telegram_chat=CANARIES["staff_chat"],
        display_name="Bu Rina",
        clock=clock,
    )
    await staffing.set_on_duty(uow=db.uow(), staff_id=member.id, on_duty=True)
    common = {
        "screener": WordScreener(),
        "classifier": FixedClassifier(),
        "clock": clock,
        "policy": policy,
    }
    received = await intake.receive_client_message(
        uow=db.uow(), sender=client, text=f"Saya stres berat. {CANARIES['client_text']}", **common
    )
    await intake.confirm_category(
        uow=db.uow(), sender=client, category="kesehatan_jiwa", clock=clock, policy=policy
    )
    clock.advance(minutes=12)
    code = received.case_code
    await casework.claim_case(uow=db.uow(), staff_id=member.id, case_code=code, clock=clock)
    await casework.read_transcript(
        uow=db.uow(), staff_id=member.id, case_code=code, purpose="respond", clock=clock
    )
    await casework.reply_to_client(
        uow=db.uow(),
        staff_id=member.id,
        case_code=code,
        text=f"Halo. {CANARIES['reply']}",
        clock=clock,
    )
    await casework.add_note(
        uow=db.uow(), staff_id=member.id, case_code=code, text=CANARIES["note"], clock=clock
    )
    await intake.receive_client_message(
        uow=db.uow(), sender=client, text=CANARIES["followup"], **common
    )
    clock.advance(hours=2)
    await casework.resolve_case(uow=db.uow(), staff_id=member.id, case_code=code, clock=clock)
    await client_rights.record_feedback(
        uow=db.uow(), sender=client, rating=5, comment=CANARIES["comment"], clock=clock
    )
    senders = {"telegram": RecordingSender(), "staff": RecordingSender()}
    worker = OutboxWorker(
        store=OutboxStore(db.sessions, db.keyring),
        senders=senders,
        clock=clock,
        limiter=RateLimiter(per_chat_interval=0.0),
    )
    while await worker.run_once():
        pass
    return Journey(code, member.id, client, senders)


async def add_supervisor(db: Any, queue_code: str = "psikologi") -> str:
    clock = Clock()
    invite = await staffing.create_invite(
        uow=db.uow(), role=Role.SUPERVISOR, queue_codes=[queue_code], clock=clock
    )
    member = await staffing.redeem_invite(
        uow=db.uow(),
        code=invite.code,
        telegram_id=f"sup{next(_runs)}",
        telegram_chat="100",
        display_name="Pak Budi",
        clock=clock,
    )
    return member.id
