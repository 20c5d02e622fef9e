"""The admin's saved setup (/admin/setup) applied to the running service."""

from __future__ import annotations

from bot.wiring import Services
from core.policy import ServicePolicy
from core.usecases.setup import effective_int, policy_from


async def _values(svc: Services) -> dict[str, object]:
    async with svc.uow() as uow:
        return await uow.setup.all()


async def apply_saved(svc: Services) -> None:
    """Service hours, holidays and emergency contacts saved by an admin replace the defaults."""
    svc.policy = policy_from(await _values(svc), ServicePolicy())


async def retention_days(svc: Services) -> int:
    return effective_int(await _values(svc), "retention_days", svc.settings.retention_days)


async def stats_k(svc: Services) -> int:
    return effective_int(await _values(svc), "stats_k", svc.settings.stats_k)
