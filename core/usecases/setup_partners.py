"""Partners and queues set up by a BKPSDM admin: add, rename, and remove an idle queue.

Every change is audited as `setup.changed` in its own transaction (no log, no change),
naming codes only. A queue with open cases is never removed. Renames and removals stick
across restarts: the partners file no longer overwrites names, nor brings a removed
queue back.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence

from core.errors import InvalidInput, NotFound
from core.model import CONTINUED_STATUSES, AuditEvent, Partner, Queue, Staff, new_id
from core.ports import Clock, UnitOfWork
from core.triage import CASE_CATEGORIES, Category
from core.usecases.staff_admin import require_admin

NAMES_MANAGED = "names.managed"  # set once an admin renamed a partner or a queue
QUEUES_REMOVED = "queues.removed"  # codes an admin removed: the partners file adds none back
MAPPING_MANAGED = "mapping.managed"
CODE = re.compile(r"^[a-z][a-z0-9_-]{1,39}$")
MAX_NAME = 200


def checked_code(raw: str) -> str:
    code = raw.strip().lower()
    if not CODE.match(code):
        raise InvalidInput("oversight.bad_code")
    return code


def checked_name(raw: str) -> str:
    name = " ".join(raw.split())[:MAX_NAME]
    if not name:
        raise InvalidInput("oversight.name_missing")
    return name


def checked_categories(raw: Sequence[str]) -> tuple[Category, ...]:
    allowed = {c.value for c in CASE_CATEGORIES}
    if any(value not in allowed for value in raw):
        raise InvalidInput("oversight.bad_value")
    return tuple(Category(value) for value in sorted(set(raw)))


async def _audited(uow: UnitOfWork, admin: Staff, what: str, clock: Clock) -> None:
    await uow.audit.append(AuditEvent(admin.id, "setup.changed", None, what, clock.now()))
    await uow.commit()


async def add_partner(
    *, uow: UnitOfWork, admin_id: str, code: str, name: str, clock: Clock
) -> Partner:
    partner = Partner(new_id(), checked_code(code), checked_name(name))
    async with uow:
        admin = await require_admin(uow, admin_id)
        if any(p.code == partner.code for p in await uow.partners.partners()):
            raise InvalidInput("oversight.code_taken", code=partner.code)
        await uow.partners.add_partner(partner)
        await _audited(uow, admin, f"partner added {partner.code}", clock)
    return partner


async def rename_partner(
    *, uow: UnitOfWork, admin_id: str, code: str, name: str, clock: Clock
) -> None:
    new_name = checked_name(name)
    async with uow:
        admin = await require_admin(uow, admin_id)
        found = [p for p in await uow.partners.partners() if p.code == code]
        if not found:
            raise NotFound("error.not_found")
        await uow.partners.update_partner(dataclasses.replace(found[0], name=new_name))
        await uow.setup.put(NAMES_MANAGED, True, at=clock.now())
        await _audited(uow, admin, f"partner renamed {code}", clock)


async def add_queue(
    *,
    uow: UnitOfWork,
    admin_id: str,
    code: str,
    name: str,
    partner_code: str,
    categories: Sequence[str],
    clock: Clock,
) -> Queue:
    """A new queue of a partner; the categories it serves move to it from other queues."""
    checked = (checked_code(code), checked_name(name), checked_categories(categories))
    async with uow:
        admin = await require_admin(uow, admin_id)
        partner = [p for p in await uow.partners.partners() if p.code == partner_code]
        if not partner:
            raise NotFound("error.not_found")
        if await uow.partners.queue_by_code(checked[0]) is not None:
            raise InvalidInput("oversight.code_taken", code=checked[0])
        queue = Queue(new_id(), checked[0], checked[1], partner[0].id, checked[2])
        await _take_categories(uow, queue.categories, clock)
        await uow.partners.add_queue(queue)
        removed = sorted(await _removed(uow) - {queue.code})
        await uow.setup.put(QUEUES_REMOVED, removed, at=clock.now())
        served = ",".join(c.value for c in queue.categories)
        await _audited(uow, admin, f"queue added {queue.code} ({partner_code}) [{served}]", clock)
    return queue


async def _take_categories(uow: UnitOfWork, taken: Sequence[Category], clock: Clock) -> None:
    if not taken:
        return
    for other in await uow.partners.queues():
        kept = tuple(c for c in other.categories if c not in taken)
        if kept != other.categories:
            await uow.partners.update_queue(dataclasses.replace(other, categories=kept))
    await uow.setup.put(MAPPING_MANAGED, True, at=clock.now())


async def _removed(uow: UnitOfWork) -> set[str]:
    found = await uow.setup.get(QUEUES_REMOVED)
    return {str(code) for code in found} if isinstance(found, list) else set()


async def rename_queue(
    *, uow: UnitOfWork, admin_id: str, code: str, name: str, clock: Clock
) -> None:
    new_name = checked_name(name)
    async with uow:
        admin = await require_admin(uow, admin_id)
        queue = await uow.partners.queue_by_code(code)
        if queue is None:
            raise NotFound("error.not_found")
        await uow.partners.update_queue(dataclasses.replace(queue, name=new_name))
        await uow.setup.put(NAMES_MANAGED, True, at=clock.now())
        await _audited(uow, admin, f"queue renamed {code}", clock)


async def remove_queue(*, uow: UnitOfWork, admin_id: str, code: str, clock: Clock) -> None:
    """Refused while the queue has open cases, or for the general desk; members lose it."""
    async with uow:
        admin = await require_admin(uow, admin_id)
        queue = await uow.partners.queue_by_code(code)
        if queue is None:
            raise NotFound("error.not_found")
        if queue.general_desk:
            raise InvalidInput("oversight.queue_general_desk")
        statuses = sorted(CONTINUED_STATUSES)
        open_cases = await uow.partners.count_cases(queue_id=queue.id, statuses=statuses)
        if open_cases:
            raise InvalidInput("oversight.queue_has_cases", count=open_cases)
        for member in await uow.staff.all():
            if queue.id in member.queue_ids:
                member.queue_ids = tuple(q for q in member.queue_ids if q != queue.id)
                await uow.staff.update(member)
        await uow.partners.remove_queue(queue.id)
        removed = sorted(await _removed(uow) | {queue.code})
        await uow.setup.put(QUEUES_REMOVED, removed, at=clock.now())
        await _audited(uow, admin, f"queue removed {code}", clock)
