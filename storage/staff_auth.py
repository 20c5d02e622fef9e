"""Staff console logins: argon2id passwords, lockout, and sessions stored only as hashes.

A username is kept only as a blind index (case-insensitive), so the database does not
name who works for which partner. A session lasts at most SESSION_LIFETIME from login
(absolute, one working shift), whatever the activity: a stolen cookie dies with the shift.
"""

from __future__ import annotations

import asyncio
import secrets
from datetime import datetime, timedelta
from functools import cache
from typing import NamedTuple

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.ports import KeyProvider
from storage.crypto import blind_index
from storage.tables import staff, staff_logins, staff_sessions

MAX_FAILURES = 5
LOCKOUT = timedelta(minutes=15)
SESSION_LIFETIME = timedelta(hours=8)
MIN_PASSWORD_CHARS = 10
MAX_PASSWORD_CHARS = 256


class LoginError(Exception):
    """A username taken, unknown, or a password too weak: one sentence for the operator."""


class Login(NamedTuple):
    session_token: str  # for the cookie; only its blind index is stored
    csrf_token: str


class StaffSession(NamedTuple):
    staff_id: str
    csrf_token: str


@cache
def _hasher() -> PasswordHasher:
    return PasswordHasher()  # argon2id with the library's current recommended costs


@cache
def _dummy_hash() -> str:
    """Verified against when the username is unknown, so both paths cost one argon2 run."""
    return _hasher().hash(secrets.token_urlsafe(16))


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_CHARS:
        raise LoginError(f"the password needs at least {MIN_PASSWORD_CHARS} characters")
    if len(password) > MAX_PASSWORD_CHARS:
        raise LoginError(f"the password may have at most {MAX_PASSWORD_CHARS} characters")
    return password


async def _hash(password: str) -> str:
    return await asyncio.to_thread(_hasher().hash, password)


async def _verify(password_hash: str, password: str) -> bool:
    def verify() -> bool:
        try:
            return _hasher().verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    return await asyncio.to_thread(verify)


class StaffAuth:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], keyring: KeyProvider) -> None:
        self._sessions, self._keyring = sessions, keyring

    def _username_index(self, username: str) -> str:
        return blind_index(
            username.strip().casefold(),
            key=self._keyring.blind_index_key,
            namespace="staff:username",
        )

    def _token_index(self, token: str) -> str:
        return blind_index(token, key=self._keyring.blind_index_key, namespace="staff:session")

    async def staff_id_for(self, username: str) -> str | None:
        async with self._sessions() as session:
            found: str | None = await session.scalar(
                select(staff_logins.c.staff_id).where(
                    staff_logins.c.username_index == self._username_index(username)
                )
            )
        return found

    async def has_login(self, staff_id: str) -> bool:
        async with self._sessions() as session:
            found = await session.scalar(
                select(staff_logins.c.staff_id).where(staff_logins.c.staff_id == staff_id)
            )
        return found is not None

    async def add_login(self, staff_id: str, username: str, password: str, now: datetime) -> None:
        if not username.strip():
            raise LoginError("the username must not be empty")
        password_hash = await _hash(check_password(password))
        try:
            async with self._sessions() as session, session.begin():
                await session.execute(
                    insert(staff_logins).values(
                        staff_id=staff_id,
                        username_index=self._username_index(username),
                        password_hash=password_hash,
                        failed_attempts=0,
                        locked_until=None,
                        password_changed_at=now,
                    )
                )
        except IntegrityError:
            raise LoginError("this username (or staff member) already has a login") from None

    async def reset_password(self, staff_id: str, password: str, now: datetime) -> None:
        """A new password unlocks the account and ends every open session of the member."""
        password_hash = await _hash(check_password(password))
        async with self._sessions() as session, session.begin():
            changed = await session.execute(
                update(staff_logins)
                .where(staff_logins.c.staff_id == staff_id)
                .values(
                    password_hash=password_hash,
                    failed_attempts=0,
                    locked_until=None,
                    password_changed_at=now,
                )
            )
            if changed.rowcount == 0:  # type: ignore[attr-defined]
                raise LoginError("this staff member has no console login")
            await session.execute(
                delete(staff_sessions).where(staff_sessions.c.staff_id == staff_id)
            )

    async def login(self, username: str, password: str, now: datetime) -> Login | None:
        """None for an unknown user, a wrong password, a locked or revoked account alike."""
        async with self._sessions() as session:
            row = (
                await session.execute(
                    select(staff_logins, staff.c.active)
                    .join(staff, staff.c.id == staff_logins.c.staff_id)
                    .where(staff_logins.c.username_index == self._username_index(username))
                )
            ).first()
        if row is None:
            await _verify(_dummy_hash(), password)
            return None
        password_ok = await _verify(row.password_hash, password[:MAX_PASSWORD_CHARS])
        locked = row.locked_until is not None and row.locked_until > now
        if locked or not row.active:
            return None
        if not password_ok:
            await self._failed(row.staff_id, now)
            return None
        return await self._open_session(row.staff_id, now)

    async def _failed(self, staff_id: str, now: datetime) -> None:
        async with self._sessions() as session, session.begin():
            failures = await session.scalar(
                update(staff_logins)
                .where(staff_logins.c.staff_id == staff_id)
                .values(failed_attempts=staff_logins.c.failed_attempts + 1)
                .returning(staff_logins.c.failed_attempts)
            )
            if failures is not None and failures >= MAX_FAILURES:
                await session.execute(
                    update(staff_logins)
                    .where(staff_logins.c.staff_id == staff_id)
                    .values(failed_attempts=0, locked_until=now + LOCKOUT)
                )

    async def _open_session(self, staff_id: str, now: datetime) -> Login:
        token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        async with self._sessions() as session, session.begin():
            await session.execute(
                update(staff_logins)
                .where(staff_logins.c.staff_id == staff_id)
                .values(failed_attempts=0, locked_until=None)
            )
            # Last activity for /admin/staff: when the member last signed in, nothing more.
            await session.execute(
                update(staff).where(staff.c.id == staff_id).values(last_active_at=now)
            )
            await session.execute(delete(staff_sessions).where(staff_sessions.c.expires_at <= now))
            await session.execute(
                insert(staff_sessions).values(
                    token_index=self._token_index(token),
                    staff_id=staff_id,
                    csrf_token=csrf,
                    created_at=now,
                    expires_at=now + SESSION_LIFETIME,
                )
            )
        return Login(token, csrf)

    async def session(self, token: str, now: datetime) -> StaffSession | None:
        """The open session of this cookie: unexpired, of a member still active."""
        if not token or len(token) > 100:
            return None
        async with self._sessions() as session:
            row = (
                await session.execute(
                    select(staff_sessions.c.staff_id, staff_sessions.c.csrf_token)
                    .join(staff, staff.c.id == staff_sessions.c.staff_id)
                    .where(
                        staff_sessions.c.token_index == self._token_index(token),
                        staff_sessions.c.expires_at > now,
                        staff.c.active.is_(True),
                    )
                )
            ).first()
        return StaffSession(row.staff_id, row.csrf_token) if row is not None else None

    async def logout(self, token: str) -> None:
        async with self._sessions() as session, session.begin():
            await session.execute(
                delete(staff_sessions).where(
                    staff_sessions.c.token_index == self._token_index(token)
                )
            )
