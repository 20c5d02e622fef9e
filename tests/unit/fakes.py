"""In-memory fakes of every port in core/ports.py: subclasses of the real interfaces, no mocks.

Repositories hand out copies, like a database does: a use case that changes an entity
and forgets `update` loses the change here too. A FakeUnitOfWork snapshots the store on
enter and restores it on exit unless `commit` was called.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import astuple, dataclass, field, fields
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Self

from core.model import (
    CONTINUED_STATUSES,
    CRISIS_PRIORITY,
    AuditEvent,
    Case,
    CaseStatus,
    Client,
    Feedback,
    Invite,
    Message,
    Notice,
    Partner,
    Queue,
    Role,
    Staff,
    new_case_code,
    new_id,
)
from core.policy import ServicePolicy
from core.ports import (
    AuditLog,
    CaseRepository,
    ClientRepository,
    Clock,
    FeedbackRepository,
    InviteRepository,
    KeyProvider,
    MessageRepository,
    Outbox,
    PartnerRepository,
    SetupStore,
    StaffRepository,
    UnitOfWork,
)
from core.triage import (
    Category,
    Classification,
    Classifier,
    ClassifierUnavailable,
    CrisisHit,
    CrisisScreener,
)
from core.usecases.common import Sender
from core.usecases.intake import Reception, confirm_category, give_consent, receive_client_message

# A Monday, 10:00 WIB: inside service hours.
MONDAY_10_WIB = datetime(2026, 1, 5, 3, 0, tzinfo=UTC)


class FakeClock(Clock):
    def __init__(self, at: datetime = MONDAY_10_WIB) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at

    def advance(self, **delta: float) -> datetime:
        self.at += timedelta(**delta)
        return self.at


class FakeKeyProvider(KeyProvider):
    def __init__(self, versions: int = 1) -> None:
        self._keks = {v: bytes([v]) * 32 for v in range(1, versions + 1)}

    @property
    def current_version(self) -> int:
        return max(self._keks)

    def kek(self, version: int) -> bytes:
        return self._keks[version]

    @property
    def blind_index_key(self) -> bytes:
        return b"b" * 32

    @property
    def audit_key(self) -> bytes:
        return b"a" * 32


class FakeClassifier(Classifier):
    """Answers with a fixed classification, or is down (ClassifierUnavailable)."""

    def __init__(self, result: Classification | None = None) -> None:
        self.result = result
        self.seen: list[str] = []

    @classmethod
    def saying(cls, category: Category, *, confidence: float = 0.9) -> FakeClassifier:
        return cls(Classification(category=category, crisis=False, confidence=confidence))

    @classmethod
    def down(cls) -> FakeClassifier:
        return cls(None)

    async def classify(self, text: str) -> Classification:
        self.seen.append(text)
        if self.result is None:
            raise ClassifierUnavailable("the NLU server is down")
        return self.result


class FakeScreener(CrisisScreener):
    """Keyword -> crisis class; a substring match, case-insensitive."""

    def __init__(self, lexicon: dict[str, str] | None = None) -> None:
        self.lexicon = lexicon if lexicon is not None else {"bunuh diri": "suicide"}

    def screen(self, text: str) -> CrisisHit | None:
        lowered = text.lower()
        classes = tuple(sorted({c for k, c in self.lexicon.items() if k in lowered}))
        return CrisisHit(classes) if classes else None


@dataclass
class Store:
    """Everything the fake database holds."""

    clients: dict[str, Client] = field(default_factory=dict)
    client_index: dict[tuple[str, str], str] = field(default_factory=dict)
    cases: dict[str, Case] = field(default_factory=dict)
    messages: list[Message] = field(default_factory=list)
    partners: dict[str, Partner] = field(default_factory=dict)
    queues: dict[str, Queue] = field(default_factory=dict)
    staff: dict[str, Staff] = field(default_factory=dict)
    telegram: dict[str, str] = field(default_factory=dict)
    invites: dict[str, Invite] = field(default_factory=dict)
    invite_codes: dict[str, str] = field(default_factory=dict)
    feedback: list[Feedback] = field(default_factory=list)
    outbox: list[Notice] = field(default_factory=list)
    audit: list[AuditEvent] = field(default_factory=list)
    setup: dict[str, object] = field(default_factory=dict)


class FakeClientRepository(ClientRepository):
    def __init__(self, store: Store) -> None:
        self.store = store

    async def add(self, client: Client, *, external_id: str) -> None:
        self.store.clients[client.id] = copy.deepcopy(client)
        self.store.client_index[(client.channel, external_id)] = client.id

    async def get(self, client_id: str) -> Client | None:
        return copy.deepcopy(self.store.clients.get(client_id))

    async def find(self, *, channel: str, external_id: str) -> Client | None:
        client_id = self.store.client_index.get((channel, external_id))
        return await self.get(client_id) if client_id else None

    async def locale(self, *, channel: str, external_id: str) -> str | None:
        client = await self.find(channel=channel, external_id=external_id)
        return client.locale if client else None

    async def update(self, client: Client) -> None:
        self.store.clients[client.id] = copy.deepcopy(client)

    async def channels(self, client_ids: Sequence[str]) -> dict[str, str]:
        found = (self.store.clients.get(i) for i in client_ids)
        return {c.id: c.channel for c in found if c is not None}

    async def delete(self, client_id: str) -> None:
        self.store.clients.pop(client_id, None)
        index = self.store.client_index
        for key in [k for k, v in index.items() if v == client_id]:
            del index[key]


def _queue_order(case: Case) -> tuple[bool, int, datetime]:
    return (not case.crisis, -case.priority, case.opened_at)


class FakeCaseRepository(CaseRepository):
    def __init__(self, store: Store) -> None:
        self.store = store

    async def add(self, case: Case) -> None:
        self.store.cases[case.id] = copy.deepcopy(case)

    async def get(self, case_id: str) -> Case | None:
        return copy.deepcopy(self.store.cases.get(case_id))

    async def get_by_code(self, code: str) -> Case | None:
        found = [c for c in self.store.cases.values() if c.code == code]
        return copy.deepcopy(found[0]) if found else None

    async def open_for_client(self, client_id: str) -> Case | None:
        found = [c for c in await self.for_client(client_id) if c.status in CONTINUED_STATUSES]
        return found[-1] if found else None

    async def for_client(self, client_id: str) -> Sequence[Case]:
        mine = [c for c in self.store.cases.values() if c.client_id == client_id]
        return [copy.deepcopy(c) for c in sorted(mine, key=lambda c: c.opened_at)]

    async def update(self, case: Case) -> None:
        assert case.id in self.store.cases, "update of a case that was never added"
        self.store.cases[case.id] = copy.deepcopy(case)

    async def claim(self, *, case_id: str, staff_id: str, at: datetime) -> bool:
        case = self.store.cases.get(case_id)
        if case is None or case.status is not CaseStatus.QUEUED:
            return False
        case.move_to(CaseStatus.ASSIGNED)
        case.assignee_id, case.claimed_at = staff_id, at
        return True

    async def list_queue(
        self, *, queue_ids: Sequence[str], statuses: Sequence[CaseStatus]
    ) -> Sequence[Case]:
        found = [
            c for c in self.store.cases.values() if c.queue_id in queue_ids and c.status in statuses
        ]
        return [copy.deepcopy(c) for c in sorted(found, key=_queue_order)]

    async def position(self, case: Case) -> int:
        waiting = [
            c
            for c in self.store.cases.values()
            if c.queue_id == case.queue_id and c.status is CaseStatus.QUEUED
        ]
        ordered = [c.id for c in sorted(waiting, key=lambda c: (-c.priority, c.opened_at))]
        return ordered.index(case.id) + 1 if case.id in ordered else 0

    async def waiting_for_staff(self) -> Sequence[Case]:
        found = [
            c
            for c in self.store.cases.values()
            if c.status is CaseStatus.QUEUED
            or (c.status is CaseStatus.ASSIGNED and c.first_response_at is None)
        ]
        return [copy.deepcopy(c) for c in sorted(found, key=lambda c: c.opened_at)]

    async def crisis_unclaimed(self, *, paged_before: datetime) -> Sequence[Case]:
        found = [
            c
            for c in self.store.cases.values()
            if c.crisis
            and c.status is CaseStatus.QUEUED
            and (c.paged_at is None or c.paged_at < paged_before)
        ]
        return [copy.deepcopy(c) for c in sorted(found, key=_queue_order)]

    async def delete(self, case_id: str) -> None:
        """Like the SQL cascade: the case's messages and feedback go with it (keys shredded)."""
        self.store.cases.pop(case_id, None)
        self.store.messages = [m for m in self.store.messages if m.case_id != case_id]
        self.store.feedback = [f for f in self.store.feedback if f.case_id != case_id]


class FakeMessageRepository(MessageRepository):
    def __init__(self, store: Store) -> None:
        self.store = store

    async def add(self, message: Message) -> None:
        self.store.messages.append(copy.deepcopy(message))

    async def for_case(self, case_id: str) -> Sequence[Message]:
        return [copy.deepcopy(m) for m in self.store.messages if m.case_id == case_id]


class FakePartnerRepository(PartnerRepository):
    def __init__(self, store: Store) -> None:
        self.store = store

    async def add_partner(self, partner: Partner) -> None:
        self.store.partners[partner.id] = copy.deepcopy(partner)

    async def add_queue(self, queue: Queue) -> None:
        self.store.queues[queue.id] = copy.deepcopy(queue)

    async def update_queue(self, queue: Queue) -> None:
        self.store.queues[queue.id] = copy.deepcopy(queue)

    async def partners(self) -> Sequence[Partner]:
        return [copy.deepcopy(p) for p in self.store.partners.values()]

    async def queues(self) -> Sequence[Queue]:
        return [copy.deepcopy(q) for q in self.store.queues.values()]

    async def queue(self, queue_id: str) -> Queue | None:
        return copy.deepcopy(self.store.queues.get(queue_id))

    async def queue_by_code(self, code: str) -> Queue | None:
        found = [q for q in self.store.queues.values() if q.code == code]
        return copy.deepcopy(found[0]) if found else None

    async def update_partner(self, partner: Partner) -> None:
        self.store.partners[partner.id] = copy.deepcopy(partner)

    async def count_cases(self, *, queue_id: str, statuses: Sequence[CaseStatus]) -> int:
        return sum(
            1 for c in self.store.cases.values() if c.queue_id == queue_id and c.status in statuses
        )

    async def remove_queue(self, queue_id: str) -> None:
        for case in self.store.cases.values():
            if case.queue_id == queue_id:
                case.queue_id = None
        del self.store.queues[queue_id]


class FakeStaffRepository(StaffRepository):
    def __init__(self, store: Store) -> None:
        self.store = store

    async def add(self, staff: Staff) -> None:
        self.store.staff[staff.id] = copy.deepcopy(staff)

    async def get(self, staff_id: str) -> Staff | None:
        return copy.deepcopy(self.store.staff.get(staff_id))

    async def find_by_telegram(self, telegram_id: str) -> Staff | None:
        staff_id = self.store.telegram.get(telegram_id)
        return await self.get(staff_id) if staff_id else None

    async def bind_telegram(self, staff: Staff, *, telegram_id: str) -> None:
        self.store.telegram[telegram_id] = staff.id

    async def update(self, staff: Staff) -> None:
        self.store.staff[staff.id] = copy.deepcopy(staff)

    async def all(self) -> Sequence[Staff]:
        return [copy.deepcopy(s) for s in self.store.staff.values()]

    async def on_duty(self, *, queue_id: str) -> Sequence[Staff]:
        return [
            copy.deepcopy(s)
            for s in self.store.staff.values()
            if s.active and s.on_duty and s.role is not Role.ADMIN and queue_id in s.queue_ids
        ]

    async def supervisors(self, *, partner_id: str) -> Sequence[Staff]:
        partner_queues = {q.id for q in self.store.queues.values() if q.partner_id == partner_id}
        return [
            copy.deepcopy(s)
            for s in self.store.staff.values()
            if s.active and s.role is Role.SUPERVISOR and partner_queues & set(s.queue_ids)
        ]


class FakeInviteRepository(InviteRepository):
    def __init__(self, store: Store) -> None:
        self.store = store

    async def add(self, invite: Invite, *, code: str) -> None:
        self.store.invites[invite.id] = copy.deepcopy(invite)
        self.store.invite_codes[code] = invite.id

    async def find(self, code: str) -> Invite | None:
        invite_id = self.store.invite_codes.get(code)
        return copy.deepcopy(self.store.invites.get(invite_id)) if invite_id else None

    async def use(self, invite_id: str, *, at: datetime) -> bool:
        invite = self.store.invites.get(invite_id)
        if invite is None or invite.used_at is not None:
            return False
        invite.used_at = at
        return True


class FakeFeedbackRepository(FeedbackRepository):
    def __init__(self, store: Store) -> None:
        self.store = store

    async def add(self, feedback: Feedback) -> None:
        self.store.feedback.append(copy.deepcopy(feedback))

    async def for_case(self, case_id: str) -> Sequence[Feedback]:
        return [copy.deepcopy(f) for f in self.store.feedback if f.case_id == case_id]


class FakeOutbox(Outbox):
    def __init__(self, store: Store) -> None:
        self.store = store

    async def add(self, notice: Notice) -> None:
        self.store.outbox.append(copy.deepcopy(notice))

    async def drop_for(self, *, client_id: str) -> None:
        """Pending notices to the client, and staff notices about its cases (they quote it)."""
        cases = {c.id for c in self.store.cases.values() if c.client_id == client_id}
        self.store.outbox = [
            n
            for n in self.store.outbox
            if n.recipient.id != client_id and (n.case_id is None or n.case_id not in cases)
        ]

    @property
    def notices(self) -> list[Notice]:
        return list(self.store.outbox)

    def to(self, recipient_id: str) -> list[Notice]:
        return [n for n in self.store.outbox if n.recipient.id == recipient_id]


class AuditUnavailable(Exception):
    pass


class FakeAuditLog(AuditLog):
    def __init__(self, store: Store) -> None:
        self.store = store
        self.broken = False

    async def append(self, event: AuditEvent) -> None:
        if self.broken:
            raise AuditUnavailable("the audit log cannot be written")
        self.store.audit.append(event)

    async def for_case(self, case_code: str) -> Sequence[AuditEvent]:
        return [e for e in self.store.audit if e.case_code == case_code]

    async def recent(
        self, *, limit: int = 200, actor_id: str | None = None
    ) -> Sequence[AuditEvent]:
        found = [e for e in self.store.audit if actor_id is None or e.actor_id == actor_id]
        return found[::-1][:limit]


class FakeSetupStore(SetupStore):
    def __init__(self, store: Store) -> None:
        self.store = store

    async def get(self, key: str) -> object:
        return copy.deepcopy(self.store.setup.get(key))

    async def put(self, key: str, value: object, *, at: datetime) -> None:
        self.store.setup[key] = copy.deepcopy(value)

    async def all(self) -> dict[str, object]:
        return copy.deepcopy(self.store.setup)


class FakeUnitOfWork(UnitOfWork):
    def __init__(self) -> None:
        self.store = Store()
        self.clients = FakeClientRepository(self.store)
        self.cases = FakeCaseRepository(self.store)
        self.messages = FakeMessageRepository(self.store)
        self.partners = FakePartnerRepository(self.store)
        self.staff = FakeStaffRepository(self.store)
        self.invites = FakeInviteRepository(self.store)
        self.feedback = FakeFeedbackRepository(self.store)
        self.outbox = FakeOutbox(self.store)
        self.audit = FakeAuditLog(self.store)
        self.setup = FakeSetupStore(self.store)
        self.commits = 0
        self._snapshot: Store | None = None

    async def __aenter__(self) -> Self:
        assert self._snapshot is None, "the use case nested two transactions"
        self._snapshot = copy.deepcopy(self.store)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._snapshot is not None:
            await self.rollback()
        self._snapshot = None

    @property
    def in_transaction(self) -> bool:
        return self._snapshot is not None

    async def commit(self) -> None:
        self.commits += 1
        self._snapshot = copy.deepcopy(self.store)

    async def rollback(self) -> None:
        assert self._snapshot is not None
        for f in fields(Store):
            setattr(self.store, f.name, getattr(self._snapshot, f.name))
        self._snapshot = copy.deepcopy(self.store)


@dataclass
class World:
    """What config/partners.yaml seeds: four queues, each under a partner."""

    partners: dict[str, Partner]
    queues: dict[str, Queue]

    def queue(self, code: str) -> Queue:
        return self.queues[code]


SEED = (
    # partner code, partner name, queue code, queue name, categories, general desk
    ("psikolog", "Psikolog Mitra", "psikologi", "Psikologi", ("kesehatan_jiwa", "keluarga"), False),
    ("gizi", "Ahli Gizi Dinas Kesehatan", "gizi", "Gizi", ("gizi",), False),
    ("hukum", "Konsultan Hukum", "hukum", "Hukum", ("hukum",), False),
    ("bkpsdm", "BKPSDM Purworejo", "umum", "Layanan Umum BKPSDM", ("lainnya",), True),
)


def seed(uow: FakeUnitOfWork) -> World:
    world = World(partners={}, queues={})
    for p_code, p_name, q_code, q_name, categories, desk in SEED:
        partner = Partner(id=new_id(), code=p_code, name=p_name)
        queue = Queue(
            id=new_id(),
            code=q_code,
            name=q_name,
            partner_id=partner.id,
            categories=tuple(Category(c) for c in categories),
            general_desk=desk,
        )
        uow.store.partners[partner.id] = partner
        uow.store.queues[queue.id] = queue
        world.partners[p_code], world.queues[q_code] = partner, queue
    return world


def add_staff(
    uow: FakeUnitOfWork,
    name: str,
    *,
    role: Role = Role.COUNSELLOR,
    queues: Sequence[Queue] = (),
    on_duty: bool = True,
    at: datetime = MONDAY_10_WIB,
) -> Staff:
    staff = Staff(
        id=new_id(),
        display_name=name,
        role=role,
        queue_ids=tuple(q.id for q in queues),
        on_duty=on_duty,
        active=True,
        created_at=at,
    )
    uow.store.staff[staff.id] = staff
    return copy.deepcopy(staff)


def make_case(
    *,
    client_id: str = "client-1",
    status: CaseStatus = CaseStatus.INTAKE,
    category: Category = Category.KESEHATAN_JIWA,
    queue: Queue | None = None,
    crisis: bool = False,
    opened_at: datetime = MONDAY_10_WIB,
    assignee_id: str | None = None,
) -> Case:
    return Case(
        id=new_id(),
        code=new_case_code(),
        client_id=client_id,
        status=status,
        category=category,
        crisis=crisis,
        priority=CRISIS_PRIORITY if crisis else 0,
        queue_id=queue.id if queue else None,
        assignee_id=assignee_id,
        opened_at=opened_at,
    )


@dataclass
class Desk:
    """A seeded service with every fake wired in, and the ASN's side of the conversation."""

    uow: FakeUnitOfWork = field(default_factory=FakeUnitOfWork)
    clock: FakeClock = field(default_factory=FakeClock)
    classifier: FakeClassifier = field(
        default_factory=lambda: FakeClassifier.saying(Category.KELUARGA)
    )
    screener: FakeScreener = field(default_factory=FakeScreener)
    policy: ServicePolicy = field(default_factory=ServicePolicy)
    world: World = field(init=False)

    def __post_init__(self) -> None:
        self.world = seed(self.uow)

    @property
    def outbox(self) -> FakeOutbox:
        return self.uow.outbox

    async def consent(self, external_id: str = "tg-1001", *, locale: str = "id") -> Sender:
        sender = Sender(channel="telegram", external_id=external_id)
        await give_consent(
            uow=self.uow,
            sender=sender,
            reply_address=f"chat-{external_id}",
            locale=locale,
            version="2025-12",
            clock=self.clock,
        )
        return sender

    async def say(self, sender: Sender, text: str | None) -> Reception:
        return await receive_client_message(
            uow=self.uow,
            sender=sender,
            text=text,
            screener=self.screener,
            classifier=self.classifier,
            clock=self.clock,
            policy=self.policy,
        )

    async def choose(self, sender: Sender, category: str) -> Case:
        return await confirm_category(
            uow=self.uow, sender=sender, category=category, clock=self.clock, policy=self.policy
        )

    async def open_case(
        self, external_id: str = "tg-1001", category: str = "keluarga", *, locale: str = "id"
    ) -> tuple[Sender, Case]:
        """An ASN who consented, told their story and confirmed the category: a queued case."""
        sender = await self.consent(external_id, locale=locale)
        await self.say(sender, "Suami saya dan saya terus bertengkar soal utang.")
        return sender, await self.choose(sender, category)

    def client_of(self, sender: Sender) -> Client:
        return self.uow.store.clients[self.uow.store.client_index[astuple(sender)]]

    def case(self, code: str) -> Case:
        return next(c for c in self.uow.store.cases.values() if c.code == code)
