"""The client's language is read on every bot step: one column, found through either identity,
and without opening any sealed field (it works even with the client's data key gone)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import delete, insert

from core.model import Client
from core.usecases.client_rights import locale_of
from core.usecases.common import Sender
from storage.repos_people import client_index
from storage.sealing import MissingKey
from storage.tables import client_aliases, data_keys

NOW = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)


async def _add_client(db, *, external_id: str, locale: str) -> Client:
    client = Client(
        id="c-locale-1",
        channel="whatsapp",
        pseudonym="Kenari-41",
        locale=locale,
        consent_version="v1",
        consented_at=NOW,
        reply_address="6281200000000",
        created_at=NOW,
    )
    async with db.uow() as uow:
        await uow.clients.add(client, external_id=external_id)
        await uow.commit()
    return client


async def test_the_locale_is_found_by_identity_and_by_alias_and_none_for_a_stranger(db) -> None:
    client = await _add_client(db, external_id="6281200000000", locale="en")
    alias = client_index(db.keyring.blind_index_key, "whatsapp", "ID.bsuid-77")
    async with db.sessions() as session, session.begin():
        await session.execute(
            insert(client_aliases).values(
                channel="whatsapp", identity_index=alias, client_id=client.id
            )
        )

    def sender(external_id: str) -> Sender:
        return Sender(channel="whatsapp", external_id=external_id)

    assert await locale_of(uow=db.uow(), sender=sender("6281200000000")) == "en"
    assert await locale_of(uow=db.uow(), sender=sender("ID.bsuid-77")) == "en"
    assert await locale_of(uow=db.uow(), sender=sender("6289999999999")) is None
    # the same number on another channel is another person
    assert await locale_of(uow=db.uow(), sender=Sender("telegram", "6281200000000")) is None


async def test_reading_the_locale_opens_no_sealed_field(db) -> None:
    client = await _add_client(db, external_id="6281200000001", locale="id")
    async with db.sessions() as session, session.begin():
        await session.execute(delete(data_keys).where(data_keys.c.owner_id == client.id))
    async with db.uow() as uow:  # the full record now fails to open ...
        with pytest.raises(MissingKey):
            await uow.clients.find(channel="whatsapp", external_id="6281200000001")
    # ... but the language, stored in the clear, is still read
    sender = Sender(channel="whatsapp", external_id="6281200000001")
    assert await locale_of(uow=db.uow(), sender=sender) == "id"
