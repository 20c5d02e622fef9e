"""Partners and queues from config/partners.yaml: added when new, updated when changed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.model import Partner, Queue, new_id
from core.triage import CASE_CATEGORIES, Category
from storage.repos_cases import SqlPartnerRepository
from storage.setup_store import MAPPING_MANAGED, NAMES_MANAGED, QUEUES_REMOVED, SqlSetupStore


class PartnersFileError(Exception):
    """The partners file is missing or malformed; the message is one sentence."""


def load_partners_file(path: Path) -> dict[str, Any]:
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise PartnersFileError(f"Cannot read {path}: {exc.strerror}.") from None
    except yaml.YAMLError:
        raise PartnersFileError(f"{path} is not valid YAML.") from None
    if not isinstance(document, dict) or not {"partners", "queues"} <= set(document):
        raise PartnersFileError(f"{path} needs top-level keys 'partners' and 'queues'.")
    return document


def _categories(entry: dict[str, Any], path: Path) -> tuple[Category, ...]:
    allowed = {c.value for c in CASE_CATEGORIES}
    values = entry.get("categories") or []
    unknown = [v for v in values if v not in allowed]
    if unknown:
        raise PartnersFileError(f"{path}: queue '{entry.get('code')}' has unknown {unknown}.")
    return tuple(Category(v) for v in values)


async def seed_partners(sessions: async_sessionmaker[AsyncSession], path: Path) -> None:
    document = load_partners_file(path)
    async with sessions() as session, session.begin():
        repo = SqlPartnerRepository(session)
        by_code = {p.code: p for p in await repo.partners()}
        for entry in document["partners"]:
            if entry["code"] not in by_code:
                partner = Partner(new_id(), str(entry["code"]), str(entry["name"]))
                await repo.add_partner(partner)
                by_code[partner.code] = partner
        # Once an admin has changed the mapping at /admin/setup, the database keeps it.
        store = SqlSetupStore(session)
        managed = bool(await store.get(MAPPING_MANAGED))
        removed = set(await store.get(QUEUES_REMOVED) or [])  # an admin removed these
        keep_names = bool(await store.get(NAMES_MANAGED))  # an admin renamed queues
        for entry in document["queues"]:
            if str(entry["code"]) in removed:
                continue
            await _upsert_queue(
                repo, entry, by_code, path, keep_categories=managed, keep_name=keep_names
            )


async def _upsert_queue(
    repo: SqlPartnerRepository,
    entry: dict[str, Any],
    partners: dict[str, Partner],
    path: Path,
    *,
    keep_categories: bool = False,
    keep_name: bool = False,
) -> None:
    partner = partners.get(entry.get("partner", ""))
    if partner is None:
        raise PartnersFileError(f"{path}: queue '{entry.get('code')}' names an unknown partner.")
    existing = await repo.queue_by_code(str(entry["code"]))
    queue = Queue(
        id=existing.id if existing else new_id(),
        code=str(entry["code"]),
        name=existing.name if existing and keep_name else str(entry["name"]),
        partner_id=partner.id,
        categories=existing.categories
        if existing and keep_categories
        else _categories(entry, path),
        general_desk=bool(entry.get("general_desk", False)),
    )
    if existing is None:
        await repo.add_queue(queue)
    elif existing != queue:
        await repo.update_queue(queue)
