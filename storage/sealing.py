"""The one place values are encrypted and decrypted: per-owner data keys under versioned KEKs."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, bindparam, delete, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage import crypto
from storage.crypto import Aad, CryptoError, KekSource
from storage.tables import data_keys

# Built once at import, like the other statements run for nearly every message: building one
# costs about 0.1 ms, more than SQLite takes to run it. Values go in as bound parameters.
_KEY = select(data_keys.c.wrapped, data_keys.c.kek_version).where(
    data_keys.c.owner_id == bindparam("owner_id")
)
_NEW_KEY = insert(data_keys)


def with_key(query: Select[Any], owner_id: ColumnElement[Any]) -> Select[Any]:
    """`query` with the data key of each row's owner read alongside (`key_wrapped`,
    `key_version`; NULL once destroyed): one statement where a row and its key took two."""
    return query.add_columns(
        data_keys.c.wrapped.label("key_wrapped"), data_keys.c.kek_version.label("key_version")
    ).outerjoin(data_keys, data_keys.c.owner_id == owner_id)


class MissingKey(CryptoError):
    """The owner's data key was destroyed (deleted or purged): its data is gone for good."""


class Sealer:
    """Seals and opens column values for one session; data keys are cached per session."""

    def __init__(self, session: AsyncSession, keyring: KekSource) -> None:
        self._session = session
        self._keyring = keyring
        self._deks: dict[str, tuple[bytes, int]] = {}
        self._read: dict[str, tuple[bytes, int]] = {}  # wrapped keys read with their owner

    def read_with(self, owner_id: str, row: Any) -> None:
        """Keeps the wrapped key of a row read through `with_key`, unwrapped if it is used.
        A destroyed key (NULL) is looked up as before, and found missing."""
        if row.key_wrapped is not None and owner_id not in self._deks:
            self._read[owner_id] = (bytes(row.key_wrapped), int(row.key_version))

    async def create_key(self, owner_id: str) -> None:
        dek, version = crypto.new_data_key(), self._keyring.current_version
        wrapped = crypto.wrap_key(
            dek, kek=self._keyring.kek(version), kek_version=version, owner_id=owner_id
        )
        await self._session.execute(
            _NEW_KEY,
            {
                "owner_id": owner_id,
                "wrapped": wrapped,
                "kek_version": version,
                "created_at": _now(),
            },
        )
        self._deks[owner_id] = (dek, version)

    async def destroy_keys(self, owner_ids: list[str]) -> None:
        """Crypto-shredding: without its data key, no ciphertext of the owner can be read."""
        if owner_ids:
            await self._session.execute(
                delete(data_keys).where(data_keys.c.owner_id.in_(owner_ids))
            )
        for owner_id in owner_ids:
            self._deks.pop(owner_id, None)
            self._read.pop(owner_id, None)

    async def seal(
        self, text: str, *, table: str, column: str, row_id: str, owner_id: str
    ) -> bytes:
        dek, version = await self._dek(owner_id)
        return crypto.encrypt(
            text, key=dek, key_version=version, aad=Aad(table, column, row_id, owner_id)
        )

    async def open(
        self, token: bytes, *, table: str, column: str, row_id: str, owner_id: str
    ) -> str:
        dek, _ = await self._dek(owner_id)
        return crypto.decrypt(bytes(token), key=dek, aad=Aad(table, column, row_id, owner_id))

    async def _dek(self, owner_id: str) -> tuple[bytes, int]:
        if owner_id not in self._deks:
            read = self._read.pop(owner_id, None)
            if read is None:
                row = (await self._session.execute(_KEY, {"owner_id": owner_id})).first()
                if row is None:
                    raise MissingKey("the data key of this record was destroyed")
                read = bytes(row.wrapped), int(row.kek_version)
            wrapped, version = read
            dek = crypto.unwrap_key(wrapped, keyring=self._keyring, owner_id=owner_id)
            self._deks[owner_id] = (dek, version)
        return self._deks[owner_id]


def _now() -> datetime:
    return datetime.now(UTC)
