"""The unit of work: one session, one transaction, every repository sealing through one Sealer."""

from __future__ import annotations

from types import TracebackType
from typing import Self

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.ports import KeyProvider
from storage.audit import SqlAuditLog
from storage.outbox import SqlOutbox
from storage.repos_cases import (
    SqlCaseRepository,
    SqlFeedbackRepository,
    SqlMessageRepository,
    SqlPartnerRepository,
)
from storage.repos_people import SqlClientRepository, SqlInviteRepository, SqlStaffRepository
from storage.sealing import Sealer
from storage.setup_store import SqlSetupStore


class SqlUnitOfWork:
    """Re-enterable: each `async with` opens a fresh session; leaving without commit rolls back."""

    clients: SqlClientRepository
    cases: SqlCaseRepository
    messages: SqlMessageRepository
    partners: SqlPartnerRepository
    staff: SqlStaffRepository
    invites: SqlInviteRepository
    feedback: SqlFeedbackRepository
    outbox: SqlOutbox
    audit: SqlAuditLog
    setup: SqlSetupStore

    def __init__(self, sessions: async_sessionmaker[AsyncSession], keyring: KeyProvider) -> None:
        self._sessions = sessions
        self._keyring = keyring
        self._session: AsyncSession | None = None

    async def __aenter__(self) -> Self:
        session = self._session = self._sessions()
        await session.begin()
        sealer = Sealer(session, self._keyring)
        index_key = self._keyring.blind_index_key
        self.clients = SqlClientRepository(session, sealer, index_key)
        self.cases = SqlCaseRepository(session, sealer)
        self.messages = SqlMessageRepository(session, sealer)
        self.partners = SqlPartnerRepository(session)
        self.staff = SqlStaffRepository(session, sealer, index_key)
        self.invites = SqlInviteRepository(session, index_key)
        self.feedback = SqlFeedbackRepository(session, sealer)
        self.outbox = SqlOutbox(session, sealer)
        self.audit = SqlAuditLog(session, self._keyring.audit_key)
        self.setup = SqlSetupStore(session)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        session, self._session = self._session, None
        if session is not None:
            try:
                if session.in_transaction():
                    await session.rollback()
            finally:
                await session.close()

    async def commit(self) -> None:
        assert self._session is not None, "commit outside `async with uow`"
        await self._session.commit()

    async def rollback(self) -> None:
        assert self._session is not None, "rollback outside `async with uow`"
        await self._session.rollback()
