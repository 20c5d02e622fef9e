"""Staff management by a BKPSDM admin: create, invite, queues, disable; each step audited.

The audit events (`member.*`) name the member and what changed (role, queue codes),
never case content, and are written in the same transaction as the change: no log, no change.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from core.errors import InvalidInput, NotAllowed, NotFound
from core.model import AuditEvent, Role, Staff
from core.ports import Clock, UnitOfWork
from core.usecases import staffing
from core.usecases.common import require_staff, visible_queue_ids

MAX_NAME_CHARS = 60


@dataclass(frozen=True)
class Member:
    id: str
    display_name: str
    role: Role
    queue_codes: tuple[str, ...]
    on_duty: bool
    active: bool
    last_active_at: datetime | None
    telegram_bound: bool


async def require_admin(uow: UnitOfWork, staff_id: str) -> Staff:
    admin = await require_staff(uow, staff_id)
    if admin.role is not Role.ADMIN:
        raise NotAllowed("error.not_allowed")
    return admin


async def _audit(uow: UnitOfWork, actor: Staff, action: str, what: str, clock: Clock) -> None:
    await uow.audit.append(AuditEvent(actor.id, action, None, what[:200], clock.now()))


async def list_members(*, uow: UnitOfWork, admin_id: str) -> Sequence[Member]:
    async with uow:
        await require_admin(uow, admin_id)
        codes = {q.id: q.code for q in await uow.partners.queues()}
        members = await uow.staff.all()
    return [
        Member(
            m.id,
            m.display_name,
            m.role,
            tuple(codes.get(q, "?") for q in m.queue_ids),
            m.on_duty,
            m.active,
            m.last_active_at,
            m.telegram_chat is not None,
        )
        for m in sorted(members, key=lambda m: (not m.active, m.display_name.casefold()))
    ]


def checked_name(display_name: str) -> str:
    name = " ".join(display_name.split())[:MAX_NAME_CHARS]
    if not name:
        raise InvalidInput("oversight.name_required")
    return name


async def create_member(
    *,
    uow: UnitOfWork,
    admin_id: str,
    display_name: str,
    role: Role,
    queue_codes: Sequence[str],
    clock: Clock,
) -> Staff:
    """A console member; the caller adds the login (username and first password)."""
    name = checked_name(display_name)
    async with uow:
        admin = await require_admin(uow, admin_id)
        member = await staffing.add_staff_in(
            uow, display_name=name, role=role, queue_codes=queue_codes, clock=clock
        )
        what = f"{name}: {role.value} {_codes(queue_codes)}"
        await _audit(uow, admin, "member.created", what, clock)
        await uow.commit()
    return member


async def invite_member(
    *, uow: UnitOfWork, admin_id: str, role: Role, queue_codes: Sequence[str], clock: Clock
) -> staffing.IssuedInvite:
    async with uow:
        admin = await require_admin(uow, admin_id)
        issued = await staffing.issue_invite_in(
            uow, role=role, queue_codes=queue_codes, clock=clock
        )
        what = f"{role.value} {_codes(queue_codes)}"
        await _audit(uow, admin, "member.invited", what, clock)
        await uow.commit()
    return issued


async def assign_queues(
    *, uow: UnitOfWork, admin_id: str, staff_id: str, queue_codes: Sequence[str], clock: Clock
) -> None:
    async with uow:
        admin = await require_admin(uow, admin_id)
        member = await uow.staff.get(staff_id)
        if member is None:
            raise NotFound("error.not_found")
        by_code = {q.code: q.id for q in await uow.partners.queues()}
        unknown = [c for c in queue_codes if c not in by_code]
        if unknown:
            raise NotFound("error.not_found")
        before = await visible_queue_ids(uow, member)
        member.queue_ids = tuple(by_code[c] for c in queue_codes)
        await uow.staff.update(member)
        # Cases in work in a queue the member no longer sees go back to it: they could
        # neither read nor list them, yet the ASN's words would still be relayed to them.
        lost = before - await visible_queue_ids(uow, member)
        await staffing.requeue_cases_in(uow, member, lost)
        await _audit(
            uow, admin, "member.queues", f"{member.display_name}: {_codes(queue_codes)}", clock
        )
        await uow.commit()


async def disable_member(*, uow: UnitOfWork, admin_id: str, staff_id: str, clock: Clock) -> None:
    """Revoked at once (sessions stop working; cases in work go back to their queue)."""
    async with uow:
        admin = await require_admin(uow, admin_id)
        if staff_id == admin_id:
            raise InvalidInput("oversight.not_yourself")
        member = await staffing.revoke_in(uow, staff_id=staff_id)
        await _audit(uow, admin, "member.disabled", member.display_name, clock)
        await uow.commit()


async def password_reset(*, uow: UnitOfWork, admin_id: str, staff_id: str, clock: Clock) -> Staff:
    """Checks and audits a password reset; the caller sets the new password."""
    async with uow:
        admin = await require_admin(uow, admin_id)
        member = await uow.staff.get(staff_id)
        if member is None or not member.active:
            raise NotFound("error.not_found")
        await _audit(uow, admin, "member.password_reset", member.display_name, clock)
        await uow.commit()
    return member


def _codes(queue_codes: Sequence[str]) -> str:
    return "[" + ",".join(queue_codes) + "]"
