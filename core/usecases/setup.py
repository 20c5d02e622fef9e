"""Service setup by a BKPSDM admin: category mapping, retention, k, contacts, hours, holidays.

Values live in the SetupStore and override the embedded defaults; every change is audited
as `setup.changed` naming the field (and the mapping), never anything said in a case.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import time

from core.errors import InvalidInput, NotFound
from core.model import AuditEvent, Partner, Queue
from core.policy import ServicePolicy
from core.ports import Clock, UnitOfWork
from core.triage import CASE_CATEGORIES, Category
from core.usecases.staff_admin import require_admin

MAPPING_MANAGED = "mapping.managed"
DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
HOUR = re.compile(r"^([01]\d|2[0-3])[.:]([0-5]\d)$")
LIMITS = {"retention_days": (30, 3650), "stats_k": (5, 50)}


@dataclass(frozen=True)
class SetupView:
    partners: Sequence[Partner]
    queues: Sequence[Queue]
    values: Mapping[str, object]


async def setup_view(*, uow: UnitOfWork, admin_id: str) -> SetupView:
    async with uow:
        await require_admin(uow, admin_id)
        return SetupView(
            await uow.partners.partners(), await uow.partners.queues(), await uow.setup.all()
        )


async def map_category(
    *, uow: UnitOfWork, admin_id: str, category: str, queue_code: str, clock: Clock
) -> None:
    """The category is served by this queue from now on (and by no other)."""
    if category not in {c.value for c in CASE_CATEGORIES}:
        raise InvalidInput("oversight.bad_value")
    chosen = Category(category)
    async with uow:
        admin = await require_admin(uow, admin_id)
        queues = await uow.partners.queues()
        if queue_code not in {q.code for q in queues}:
            raise NotFound("error.not_found")
        for queue in queues:
            kept = tuple(c for c in queue.categories if c is not chosen)
            wanted = (*kept, chosen) if queue.code == queue_code else kept
            if wanted != queue.categories:
                await uow.partners.update_queue(dataclasses.replace(queue, categories=wanted))
        await uow.setup.put(MAPPING_MANAGED, True, at=clock.now())
        what = f"mapping {category} -> {queue_code}"
        await uow.audit.append(AuditEvent(admin.id, "setup.changed", None, what, clock.now()))
        await uow.commit()


def parse_value(key: str, raw: str) -> object:
    """A form field's text as the value stored; InvalidInput when it is not acceptable."""
    text = raw.strip()
    if key in LIMITS:
        low, high = LIMITS[key]
        if not text.isdigit() or not low <= int(text) <= high:
            raise InvalidInput("oversight.bad_value")
        return int(text)
    if key == "emergency_contacts":
        lines = [" ".join(line.split())[:200] for line in text.splitlines() if line.strip()]
        if not 1 <= len(lines) <= 12:
            raise InvalidInput("oversight.bad_value")
        return lines
    if key == "holidays":
        days = sorted({d for d in re.split(r"[\s,]+", text) if d})
        if len(days) > 60 or not all(DAY.match(d) for d in days):
            raise InvalidInput("oversight.bad_value")
        return days
    if key in ("opens", "closes"):
        if not HOUR.match(text):
            raise InvalidInput("oversight.bad_value")
        return text.replace(".", ":")
    raise InvalidInput("oversight.bad_value")


async def change_value(
    *, uow: UnitOfWork, admin_id: str, key: str, raw: str, clock: Clock
) -> object:
    value = parse_value(key, raw)
    async with uow:
        admin = await require_admin(uow, admin_id)
        policy = policy_from(await uow.setup.all(), ServicePolicy())
        if key in ("opens", "closes"):
            check_hours(policy, key, str(value))
        await uow.setup.put(key, value, at=clock.now())
        shown = f"{key} = {value}" if key in LIMITS else key
        await uow.audit.append(AuditEvent(admin.id, "setup.changed", None, shown, clock.now()))
        await uow.commit()
    return value


def _time(value: object) -> time:
    hours, minutes = str(value).split(":")
    return time(int(hours), int(minutes))


def check_hours(policy: ServicePolicy, key: str, value: str) -> None:
    opens = _time(value) if key == "opens" else policy.opens
    closes = _time(value) if key == "closes" else policy.closes
    if opens >= closes:
        raise InvalidInput("oversight.bad_value")


def policy_from(values: Mapping[str, object], base: ServicePolicy) -> ServicePolicy:
    """The service policy with the admin's overrides applied."""
    changes: dict[str, object] = {}
    contacts, holidays = values.get("emergency_contacts"), values.get("holidays")
    if isinstance(contacts, list):
        changes["emergency_contacts"] = tuple(str(v) for v in contacts)
    if isinstance(holidays, list):
        changes["holidays"] = frozenset(str(v) for v in holidays)
    for key in ("opens", "closes"):
        if values.get(key):
            changes[key] = _time(values[key])
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def effective_int(values: Mapping[str, object], key: str, default: int) -> int:
    found = values.get(key)
    return found if isinstance(found, int) and not isinstance(found, bool) else default
