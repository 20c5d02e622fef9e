"""The web chat's mailboxes: what the browser of an ASN picks up, sealed under the mailbox's key.

A mailbox id is the web client's reply address (itself encrypted at rest). Its data key is made
at consent; erasing the client destroys the key and the rows (storage/repos_people.py).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.crypto import CryptoError, KekSource
from storage.sealing import MissingKey, Sealer
from storage.tables import data_keys, web_mailbox

TABLE, COLUMN = "web_mailbox", "payload"
READ_LIMIT = 200


class WebMailbox:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], keyring: KekSource) -> None:
        self._sessions, self._keyring = sessions, keyring

    async def create(self, mailbox_id: str) -> None:
        """Make the mailbox's data key (once; calling again changes nothing)."""
        async with self._sessions() as session, session.begin():
            found = await session.scalar(
                select(data_keys.c.owner_id).where(data_keys.c.owner_id == mailbox_id)
            )
            if found is None:
                await Sealer(session, self._keyring).create_key(mailbox_id)

    async def deliver(self, mailbox_id: str, payload: dict[str, Any]) -> int:
        """Seal and keep one message; raises MissingKey when the mailbox was erased."""
        async with self._sessions() as session, session.begin():
            sealed = await Sealer(session, self._keyring).seal(
                json.dumps(payload, ensure_ascii=False), **_aad(mailbox_id)
            )
            seq = await session.scalar(
                insert(web_mailbox)
                .values(mailbox_id=mailbox_id, payload_enc=sealed, created_at=datetime.now(UTC))
                .returning(web_mailbox.c.seq)
            )
        return int(seq or 0)

    async def read(
        self, mailbox_id: str, after_seq: int = 0, limit: int = READ_LIMIT
    ) -> list[tuple[int, dict[str, Any]]]:
        """Messages after `after_seq`, oldest first; none once the mailbox is erased."""
        async with self._sessions() as session:
            rows = (
                await session.execute(
                    select(web_mailbox.c.seq, web_mailbox.c.payload_enc)
                    .where(web_mailbox.c.mailbox_id == mailbox_id)
                    .where(web_mailbox.c.seq > after_seq)
                    .order_by(web_mailbox.c.seq)
                    .limit(limit)
                )
            ).all()
            if not rows:
                return []
            sealer = Sealer(session, self._keyring)
            try:
                return [
                    (int(r.seq), json.loads(await sealer.open(r.payload_enc, **_aad(mailbox_id))))
                    for r in rows
                ]
            except (MissingKey, CryptoError):
                return []

    async def prune(self, *, before: datetime) -> int:
        """Retention: drop messages older than `before` from every mailbox."""
        async with self._sessions() as session, session.begin():
            gone = await session.execute(
                delete(web_mailbox)
                .where(web_mailbox.c.created_at < before)
                .returning(web_mailbox.c.seq)
            )
            return len(gone.all())


def _aad(mailbox_id: str) -> dict[str, str]:
    # The seq is unknown before the insert: the mailbox id names the row and owns the key.
    return {"table": TABLE, "column": COLUMN, "row_id": mailbox_id, "owner_id": mailbox_id}
