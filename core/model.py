"""Entities of the domain. Plaintext lives here; storage encrypts it on the way down."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from core import catalogue
from core.errors import IllegalTransition
from core.triage import Category

# No 0/O, 1/I/L, 2/Z, 5/S, 8/B: a code read out over the phone stays unambiguous.
CODE_ALPHABET = "ACDEFGHJKMNPQRTUVWXY3467"
CRISIS_PRIORITY = 100


def new_id() -> str:
    return str(uuid.uuid4())


def new_case_code() -> str:
    return "K-" + "".join(secrets.choice(CODE_ALPHABET) for _ in range(4))


def new_pseudonym() -> str:
    return "Sahabat-" + "".join(secrets.choice(CODE_ALPHABET) for _ in range(5))


class CaseStatus(StrEnum):
    INTAKE = "intake"
    QUEUED = "queued"
    ASSIGNED = "assigned"
    RESOLVED = "resolved"
    CLOSED = "closed"
    ABANDONED = "abandoned"
    DELETED = "deleted"


OPEN_STATUSES = frozenset({CaseStatus.INTAKE, CaseStatus.QUEUED, CaseStatus.ASSIGNED})
# A client's next message continues a case in these statuses; a resolved one reopens.
CONTINUED_STATUSES = OPEN_STATUSES | {CaseStatus.RESOLVED}


def check_transition(previous: CaseStatus, current: CaseStatus) -> None:
    """Raise IllegalTransition unless previous -> current is a move of the case life."""
    match (previous, current):
        case (CaseStatus.INTAKE, CaseStatus.QUEUED):
            return
        case (CaseStatus.QUEUED, CaseStatus.ASSIGNED):
            return
        case (CaseStatus.QUEUED | CaseStatus.ASSIGNED, CaseStatus.QUEUED):
            return  # transfer: back to queued, in another queue
        case (CaseStatus.ASSIGNED, CaseStatus.RESOLVED):
            return
        case (CaseStatus.RESOLVED, CaseStatus.CLOSED):
            return
        case (CaseStatus.RESOLVED, CaseStatus.ASSIGNED):
            return  # the client wrote again before closing
        case (CaseStatus.INTAKE | CaseStatus.QUEUED | CaseStatus.ASSIGNED, CaseStatus.CLOSED):
            return  # the client closes the case
        case (CaseStatus.INTAKE | CaseStatus.QUEUED, CaseStatus.ABANDONED):
            return
        case (_, CaseStatus.DELETED) if previous is not CaseStatus.DELETED:
            return
    # Said to staff (a transfer of a resolved case, say): where the case is, in their words.
    status = catalogue.text(f"status.label_{previous.value}")
    raise IllegalTransition("error.illegal_transition", status=status, to=current.value)


class Role(StrEnum):
    COUNSELLOR = "counsellor"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"


class Direction(StrEnum):
    CLIENT = "client"
    STAFF = "staff"
    NOTE = "note"
    SYSTEM = "system"


@dataclass
class Client:
    id: str
    channel: str
    pseudonym: str
    locale: str
    consent_version: str
    consented_at: datetime
    reply_address: str  # plaintext in memory only; encrypted at rest
    created_at: datetime


@dataclass
class Demographics:
    gender: str | None = None
    age_band: str | None = None
    employment: str | None = None


@dataclass
class Case:
    id: str
    code: str
    client_id: str
    status: CaseStatus
    category: Category
    crisis: bool
    priority: int
    queue_id: str | None
    assignee_id: str | None
    opened_at: datetime
    first_response_at: datetime | None = None
    resolved_at: datetime | None = None
    closed_at: datetime | None = None
    demographics: Demographics = field(default_factory=Demographics)
    triage_confidence: float | None = None
    paged_at: datetime | None = None  # last crisis page, for paging again when unclaimed
    claimed_at: datetime | None = None
    reminded_at: datetime | None = None  # last SLA reminder to staff

    def move_to(self, status: CaseStatus) -> None:
        check_transition(self.status, status)
        self.status = status

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def mark_crisis(self) -> bool:
        """Flag the case as crisis; True when this is news."""
        if self.crisis:
            return False
        self.crisis = True
        self.priority = CRISIS_PRIORITY
        return True


@dataclass
class Message:
    id: str
    case_id: str
    direction: Direction
    author_id: str | None  # staff id, or None for the client / system
    body: str
    created_at: datetime


@dataclass
class Partner:
    id: str
    code: str
    name: str


@dataclass
class Queue:
    id: str
    code: str
    name: str
    partner_id: str
    categories: tuple[Category, ...]
    general_desk: bool = False


@dataclass
class Staff:
    id: str
    display_name: str
    role: Role
    queue_ids: tuple[str, ...]
    on_duty: bool
    active: bool
    created_at: datetime
    telegram_chat: str | None = None  # reply address, encrypted at rest
    last_active_at: datetime | None = None


@dataclass
class Invite:
    id: str
    role: Role
    queue_ids: tuple[str, ...]
    expires_at: datetime
    created_at: datetime
    used_at: datetime | None = None


@dataclass
class Feedback:
    id: str
    case_id: str
    rating: int
    comment: str | None
    created_at: datetime


@dataclass(frozen=True)
class Button:
    label: str
    data: str


@dataclass(frozen=True)
class Recipient:
    kind: str  # "client" or "staff"
    id: str


@dataclass
class Notice:
    """One outgoing message, written to the outbox in the transaction that caused it."""

    recipient: Recipient
    text: str
    case_id: str | None = None
    buttons: tuple[Button, ...] = ()
    urgent: bool = False
    # What the writer already knows, so the outbox need not look it up: the client the
    # notice concerns (the recipient, or the case's client for staff) and their channel.
    client_id: str | None = None
    channel: str | None = None


@dataclass(frozen=True)
class AuditEvent:
    actor_id: str
    action: str
    case_code: str | None
    purpose: str | None
    at: datetime
