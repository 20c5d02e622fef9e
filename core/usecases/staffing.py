"""Staff accounts: single-use invites (72 h), redemption from the staff bot, revocation."""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta

from core.errors import InviteInvalid, NotFound
from core.model import CaseStatus, Invite, Queue, Role, Staff, new_id
from core.ports import Clock, UnitOfWork
from core.usecases.common import visible_queue_ids

INVITE_LIFETIME = timedelta(hours=72)
_INVITE_ALPHABET = "ACDEFGHJKMNPQRTUVWXY3467"


@dataclass(frozen=True)
class IssuedInvite:
    code: str  # shown once; only its blind index is stored
    role: Role
    queue_codes: tuple[str, ...]
    expires_at: str


async def create_invite(
    *, uow: UnitOfWork, role: Role, queue_codes: Sequence[str], clock: Clock
) -> IssuedInvite:
    async with uow:
        issued = await issue_invite_in(uow, role=role, queue_codes=queue_codes, clock=clock)
        await uow.commit()
    return issued


async def issue_invite_in(
    uow: UnitOfWork, *, role: Role, queue_codes: Sequence[str], clock: Clock
) -> IssuedInvite:
    """The invite, inside the caller's open transaction (the caller commits)."""
    code = "".join(secrets.choice(_INVITE_ALPHABET) for _ in range(12))
    invite = Invite(
        id=new_id(),
        role=role,
        queue_ids=await _queue_ids(uow, queue_codes),
        expires_at=clock.now() + INVITE_LIFETIME,
        created_at=clock.now(),
    )
    await uow.invites.add(invite, code=code)
    return IssuedInvite(code, role, tuple(queue_codes), invite.expires_at.isoformat())


async def _queue_ids(uow: UnitOfWork, queue_codes: Sequence[str]) -> tuple[str, ...]:
    queue_ids = []
    for queue_code in queue_codes:
        queue = await uow.partners.queue_by_code(queue_code)
        if queue is None:
            raise NotFound(f"Unknown queue '{queue_code}'.")
        queue_ids.append(queue.id)
    return tuple(queue_ids)


async def redeem_invite(
    *,
    uow: UnitOfWork,
    code: str,
    telegram_id: str,
    telegram_chat: str,
    display_name: str,
    clock: Clock,
) -> Staff:
    """Bind a Telegram account to a new staff member; an invite works once, within 72 h.

    An account of an active member keeps its one membership (the invite stays unused); an
    account whose member was disabled may join again, and the new member takes it over."""
    async with uow:
        invite = await uow.invites.find(code.strip().upper())
        if invite is None or invite.used_at is not None or invite.expires_at <= clock.now():
            raise InviteInvalid("error.invite_invalid")
        bound = await uow.staff.find_by_telegram(telegram_id)
        if bound is not None and bound.active:
            raise InviteInvalid("error.already_registered", name=bound.display_name)
        if not await uow.invites.use(invite.id, at=clock.now()):
            raise InviteInvalid("error.invite_invalid")
        staff = Staff(
            id=new_id(),
            display_name=display_name.strip()[:60] or "Konselor",
            role=invite.role,
            queue_ids=invite.queue_ids,
            on_duty=False,
            active=True,
            created_at=clock.now(),
            telegram_chat=telegram_chat,
        )
        await uow.staff.add(staff)
        await uow.staff.bind_telegram(staff, telegram_id=telegram_id)
        await uow.commit()
    return staff


async def revoke_staff(*, uow: UnitOfWork, staff_id: str) -> Staff:
    async with uow:
        staff = await revoke_in(uow, staff_id=staff_id)
        await uow.commit()
    return staff


async def revoke_in(uow: UnitOfWork, *, staff_id: str) -> Staff:
    """The revocation, inside the caller's open transaction (the caller commits)."""
    staff = await uow.staff.get(staff_id)
    if staff is None:
        raise NotFound(f"No staff member '{staff_id}'.")
    staff.active, staff.on_duty = False, False
    await uow.staff.update(staff)
    await _requeue_cases_of(uow, staff)
    return staff


async def _requeue_cases_of(uow: UnitOfWork, staff: Staff) -> None:
    """A revoked member's cases in work go back to their queue for someone else to claim."""
    await requeue_cases_in(uow, staff, await visible_queue_ids(uow, staff))


async def requeue_cases_in(uow: UnitOfWork, staff: Staff, queue_ids: Iterable[str]) -> None:
    """The member's cases in work in these queues go back to them, unclaimed."""
    wanted = sorted(queue_ids)
    if not wanted:
        return
    for case in await uow.cases.list_queue(queue_ids=wanted, statuses=(CaseStatus.ASSIGNED,)):
        if case.assignee_id == staff.id:
            case.move_to(CaseStatus.QUEUED)
            case.assignee_id = None
            await uow.cases.update(case)


async def set_on_duty(*, uow: UnitOfWork, staff_id: str, on_duty: bool) -> None:
    async with uow:
        staff = await uow.staff.get(staff_id)
        if staff is None or not staff.active:
            raise NotFound(f"No active staff member '{staff_id}'.")
        staff.on_duty = on_duty
        await uow.staff.update(staff)
        await uow.commit()


async def staff_by_telegram(*, uow: UnitOfWork, telegram_id: str) -> Staff | None:
    """The active staff member bound to this Telegram account, if any."""
    async with uow:
        staff = await uow.staff.find_by_telegram(telegram_id)
    return staff if staff is not None and staff.active else None


async def add_staff(
    *,
    uow: UnitOfWork,
    display_name: str,
    role: Role,
    queue_codes: Sequence[str],
    clock: Clock,
) -> Staff:
    """A staff member of the web console, created directly by an operator (no invite)."""
    async with uow:
        staff = await add_staff_in(
            uow, display_name=display_name, role=role, queue_codes=queue_codes, clock=clock
        )
        await uow.commit()
    return staff


async def add_staff_in(
    uow: UnitOfWork, *, display_name: str, role: Role, queue_codes: Sequence[str], clock: Clock
) -> Staff:
    """The new member, inside the caller's open transaction (the caller commits)."""
    staff = Staff(
        id=new_id(),
        display_name=display_name.strip()[:60] or "Konselor",
        role=role,
        queue_ids=await _queue_ids(uow, queue_codes),
        on_duty=False,
        active=True,
        created_at=clock.now(),
    )
    await uow.staff.add(staff)
    return staff


async def staff_member(*, uow: UnitOfWork, staff_id: str) -> Staff | None:
    """The staff member if still active (a revoked one is nobody)."""
    async with uow:
        staff = await uow.staff.get(staff_id)
    return staff if staff is not None and staff.active else None


async def list_queues(*, uow: UnitOfWork) -> Sequence[Queue]:
    async with uow:
        return await uow.partners.queues()
