"""Clients, staff and invites. Identities are stored only as blind indexes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, bindparam, delete, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.model import Client, Invite, Role, Staff
from storage.crypto import blind_index
from storage.sealing import Sealer, with_key
from storage.tables import (
    cases,
    client_aliases,
    clients,
    feedback,
    invites,
    messages,
    outbox,
    queues,
    staff,
    web_mailbox,
)

# Built once at import (see storage/sealing.py): a client is looked up on every message, by
# its own identity first, then as a second identity of a known client (e.g. a WhatsApp BSUID).
_ALIASED = (
    select(client_aliases.c.client_id)
    .where(client_aliases.c.channel == bindparam("channel"))
    .where(client_aliases.c.identity_index == bindparam("index"))
    .scalar_subquery()
)
_OWN = (clients.c.channel == bindparam("channel")) & (
    clients.c.identity_index == bindparam("index")
)


def _by_identity(query: Select[Any]) -> tuple[Select[Any], Select[Any]]:
    """`query` for the client by its own identity, then as an alias."""
    return query.where(_OWN), query.where(clients.c.id.in_(_ALIASED))


# A client is read with its data key (its reply address is sealed under it).
_A_CLIENT = with_key(select(clients), clients.c.id)
_CLIENT, _LOCALE = _by_identity(_A_CLIENT), _by_identity(select(clients.c.locale))
_CLIENT_BY_ID = _A_CLIENT.where(clients.c.id == bindparam("id"))
_ADD_CLIENT = insert(clients)  # values bound per call (the keys name the columns)
_UPDATE_CLIENT = update(clients).where(clients.c.id == bindparam("b_id"))


def ids_text(ids: Sequence[str]) -> str:
    return ",".join(ids)


def ids_of(text: str) -> tuple[str, ...]:
    return tuple(part for part in text.split(",") if part)


def client_index(index_key: bytes, channel: str, external_id: str) -> str:
    return blind_index(external_id, key=index_key, namespace=f"client:{channel}")


class SqlClientRepository:
    def __init__(self, session: AsyncSession, sealer: Sealer, index_key: bytes) -> None:
        self._s, self._sealer, self._key = session, sealer, index_key

    def _index(self, channel: str, external_id: str) -> str:
        return client_index(self._key, channel, external_id)

    async def channels(self, client_ids: Sequence[str]) -> dict[str, str]:
        if not client_ids:
            return {}
        query = select(clients.c.id, clients.c.channel).where(clients.c.id.in_(list(client_ids)))
        return {row.id: row.channel for row in await self._s.execute(query)}

    def _identity(self, channel: str, external_id: str) -> dict[str, str]:
        """The bound parameters of _CLIENT and _LOCALE."""
        return {"channel": channel, "index": self._index(channel, external_id)}

    async def add(self, client: Client, *, external_id: str) -> None:
        await self._sealer.create_key(client.id)
        await self._s.execute(
            _ADD_CLIENT,
            {
                "id": client.id,
                "channel": client.channel,
                "identity_index": self._index(client.channel, external_id),
                **await self._values(client),
                "created_at": client.created_at,
            },
        )

    async def _values(self, client: Client) -> dict[str, Any]:
        return {
            "pseudonym": client.pseudonym,
            "locale": client.locale,
            "consent_version": client.consent_version,
            "consented_at": client.consented_at,
            "reply_address_enc": await self._sealer.seal(
                client.reply_address,
                table="clients",
                column="reply_address",
                row_id=client.id,
                owner_id=client.id,
            ),
        }

    async def get(self, client_id: str) -> Client | None:
        row = (await self._s.execute(_CLIENT_BY_ID, {"id": client_id})).first()
        return None if row is None else await self._client(row)

    async def find(self, *, channel: str, external_id: str) -> Client | None:
        """By the client's own identity, then (only if that finds nothing) as an alias."""
        params = self._identity(channel, external_id)
        for statement in _CLIENT:
            row = (await self._s.execute(statement, params)).first()
            if row is not None:
                return await self._client(row)
        return None

    async def locale(self, *, channel: str, external_id: str) -> str | None:
        params = self._identity(channel, external_id)
        for statement in _LOCALE:
            found = await self._s.scalar(statement, params)
            if found is not None:
                return str(found)
        return None

    async def _client(self, row: Any) -> Client:
        self._sealer.read_with(row.id, row)
        address = await self._sealer.open(
            row.reply_address_enc,
            table="clients",
            column="reply_address",
            row_id=row.id,
            owner_id=row.id,
        )
        return Client(
            id=row.id,
            channel=row.channel,
            pseudonym=row.pseudonym,
            locale=row.locale,
            consent_version=row.consent_version,
            consented_at=row.consented_at,
            reply_address=address,
            created_at=row.created_at,
        )

    async def update(self, client: Client) -> None:
        values = await self._values(client)
        await self._s.execute(_UPDATE_CLIENT, {"b_id": client.id, **values})

    async def _web_mailbox(self, client_id: str) -> list[str]:
        """A web client's reply address is its mailbox: it goes with the client."""
        client = await self.get(client_id)
        return [client.reply_address] if client is not None and client.channel == "web" else []

    async def delete(self, client_id: str) -> None:
        """Erase the client: shred every data key, then remove every row that held its data."""
        case_ids = list(
            (await self._s.execute(select(cases.c.id).where(cases.c.client_id == client_id)))
            .scalars()
            .all()
        )
        mailbox = await self._web_mailbox(client_id)
        await self._sealer.destroy_keys([*case_ids, client_id, *mailbox])
        if mailbox:
            await self._s.execute(delete(web_mailbox).where(web_mailbox.c.mailbox_id.in_(mailbox)))
        await self._s.execute(
            delete(outbox).where(
                or_(outbox.c.client_id == client_id, outbox.c.case_id.in_(case_ids))
            )
        )
        await self._s.execute(delete(feedback).where(feedback.c.case_id.in_(case_ids)))
        await self._s.execute(delete(messages).where(messages.c.case_id.in_(case_ids)))
        await self._s.execute(delete(cases).where(cases.c.client_id == client_id))
        await self._s.execute(delete(client_aliases).where(client_aliases.c.client_id == client_id))
        await self._s.execute(delete(clients).where(clients.c.id == client_id))


class SqlStaffRepository:
    def __init__(self, session: AsyncSession, sealer: Sealer, index_key: bytes) -> None:
        self._s, self._sealer, self._key = session, sealer, index_key

    def _index(self, telegram_id: str) -> str:
        return blind_index(telegram_id, key=self._key, namespace="staff:telegram")

    async def add(self, member: Staff) -> None:
        await self._sealer.create_key(member.id)
        await self._s.execute(
            insert(staff).values(
                id=member.id, created_at=member.created_at, **await self._values(member)
            )
        )

    async def _values(self, member: Staff) -> dict[str, Any]:
        chat = None
        if member.telegram_chat is not None:
            chat = await self._sealer.seal(
                member.telegram_chat,
                table="staff",
                column="telegram_chat",
                row_id=member.id,
                owner_id=member.id,
            )
        return {
            "display_name": member.display_name,
            "role": member.role.value,
            "queue_ids": ids_text(member.queue_ids),
            "on_duty": member.on_duty,
            "active": member.active,
            "telegram_chat_enc": chat,
            "last_active_at": member.last_active_at,
        }

    async def _member(self, row: Any) -> Staff:
        chat = None
        if row.telegram_chat_enc is not None:
            chat = await self._sealer.open(
                row.telegram_chat_enc,
                table="staff",
                column="telegram_chat",
                row_id=row.id,
                owner_id=row.id,
            )
        return Staff(
            id=row.id,
            display_name=row.display_name,
            role=Role(row.role),
            queue_ids=ids_of(row.queue_ids),
            on_duty=row.on_duty,
            active=row.active,
            created_at=row.created_at,
            telegram_chat=chat,
            last_active_at=row.last_active_at,
        )

    async def _many(self, where: Any = None) -> list[Staff]:
        query = select(staff).order_by(staff.c.created_at, staff.c.id)
        if where is not None:
            query = query.where(where)
        return [await self._member(row) for row in await self._s.execute(query)]

    async def get(self, staff_id: str) -> Staff | None:
        found = await self._many(staff.c.id == staff_id)
        return found[0] if found else None

    async def find_by_telegram(self, telegram_id: str) -> Staff | None:
        found = await self._many(staff.c.telegram_index == self._index(telegram_id))
        return found[0] if found else None

    async def bind_telegram(self, member: Staff, *, telegram_id: str) -> None:
        """The account is bound to this member only: a disabled member who held it lets go."""
        index = self._index(telegram_id)
        await self._s.execute(
            update(staff)
            .where(staff.c.telegram_index == index, staff.c.id != member.id)
            .values(telegram_index=None)
        )
        await self._s.execute(
            update(staff).where(staff.c.id == member.id).values(telegram_index=index)
        )

    async def update(self, member: Staff) -> None:
        values = await self._values(member)
        await self._s.execute(update(staff).where(staff.c.id == member.id).values(**values))

    async def all(self) -> Sequence[Staff]:
        return await self._many()

    async def on_duty(self, *, queue_id: str) -> Sequence[Staff]:
        members = await self._many(staff.c.active.is_(True) & staff.c.on_duty.is_(True))
        return [m for m in members if queue_id in m.queue_ids]

    async def supervisors(self, *, partner_id: str) -> Sequence[Staff]:
        partner_queues = set(
            (await self._s.execute(select(queues.c.id).where(queues.c.partner_id == partner_id)))
            .scalars()
            .all()
        )
        members = await self._many(
            staff.c.active.is_(True) & (staff.c.role == Role.SUPERVISOR.value)
        )
        return [m for m in members if partner_queues & set(m.queue_ids)]


class SqlInviteRepository:
    def __init__(self, session: AsyncSession, index_key: bytes) -> None:
        self._s, self._key = session, index_key

    def _index(self, code: str) -> str:
        return blind_index(code, key=self._key, namespace="invite")

    async def add(self, invite: Invite, *, code: str) -> None:
        await self._s.execute(
            insert(invites).values(
                id=invite.id,
                code_index=self._index(code),
                role=invite.role.value,
                queue_ids=ids_text(invite.queue_ids),
                expires_at=invite.expires_at,
                created_at=invite.created_at,
                used_at=invite.used_at,
            )
        )

    async def find(self, code: str) -> Invite | None:
        row = (
            await self._s.execute(select(invites).where(invites.c.code_index == self._index(code)))
        ).first()
        if row is None:
            return None
        return Invite(
            id=row.id,
            role=Role(row.role),
            queue_ids=ids_of(row.queue_ids),
            expires_at=row.expires_at,
            created_at=row.created_at,
            used_at=row.used_at,
        )

    async def use(self, invite_id: str, *, at: datetime) -> bool:
        result = await self._s.execute(
            update(invites)
            .where((invites.c.id == invite_id) & invites.c.used_at.is_(None))
            .values(used_at=at)
        )
        return bool(getattr(result, "rowcount", 0) == 1)
