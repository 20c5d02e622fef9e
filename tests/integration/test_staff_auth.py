"""Console logins on SQLite and PostgreSQL: what the database holds, lockout, sessions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text

from core.model import Role
from core.usecases.staffing import add_staff, revoke_staff
from storage.staff_auth import (
    LOCKOUT,
    MAX_FAILURES,
    SESSION_LIFETIME,
    LoginError,
    StaffAuth,
)
from storage.tables import staff_logins, staff_sessions
from tests.integration.conftest import Db

PASSWORD = "kata-sandi-panjang-1"
T0 = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)


class Clock:
    def now(self) -> datetime:
        return T0


async def member(db: Db, username: str = "Dewi.Psikolog") -> tuple[StaffAuth, str]:
    staff = await add_staff(
        uow=db.uow(),
        display_name="Dewi",
        role=Role.COUNSELLOR,
        queue_codes=["psikologi"],
        clock=Clock(),
    )
    auth = StaffAuth(db.sessions, db.keyring)
    await auth.add_login(staff.id, username, PASSWORD, T0)
    return auth, staff.id


async def dump(db: Db) -> str:
    async with db.sessions() as session:
        logins = (await session.execute(select(staff_logins))).all()
        sessions = (await session.execute(select(staff_sessions))).all()
    return repr(logins) + repr(sessions)


async def test_the_database_holds_an_argon2id_hash_and_no_username(db: Db) -> None:
    auth, staff_id = await member(db)
    login = await auth.login("dewi.psikolog", PASSWORD, T0)
    assert login is not None
    async with db.sessions() as session:
        row = (await session.execute(select(staff_logins))).one()
    assert row.password_hash.startswith("$argon2id$")
    assert row.staff_id == staff_id
    stored = (await dump(db)).lower()
    assert "dewi.psikolog" not in stored and PASSWORD not in stored
    assert login.session_token not in await dump(db)


async def test_a_username_is_case_insensitive_and_unique(db: Db) -> None:
    auth, _ = await member(db)
    assert await auth.login("  DEWI.psikolog ", PASSWORD, T0) is not None
    other = await add_staff(
        uow=db.uow(), display_name="X", role=Role.COUNSELLOR, queue_codes=[], clock=Clock()
    )
    with pytest.raises(LoginError):
        await auth.add_login(other.id, "dewi.PSIKOLOG", PASSWORD, T0)


async def test_a_short_password_is_refused(db: Db) -> None:
    staff = await add_staff(
        uow=db.uow(), display_name="X", role=Role.COUNSELLOR, queue_codes=[], clock=Clock()
    )
    with pytest.raises(LoginError):
        await StaffAuth(db.sessions, db.keyring).add_login(staff.id, "x", "short", T0)


async def test_wrong_password_and_unknown_user_get_nothing(db: Db) -> None:
    auth, _ = await member(db)
    assert await auth.login("Dewi.Psikolog", "salah-sekali-123", T0) is None
    assert await auth.login("nobody", PASSWORD, T0) is None


async def test_five_failures_lock_the_account_for_fifteen_minutes(db: Db) -> None:
    auth, _ = await member(db)
    for _ in range(MAX_FAILURES):
        assert await auth.login("Dewi.Psikolog", "salah-sekali-123", T0) is None
    assert await auth.login("Dewi.Psikolog", PASSWORD, T0 + timedelta(minutes=1)) is None
    assert await auth.login("Dewi.Psikolog", PASSWORD, T0 + LOCKOUT - timedelta(seconds=1)) is None
    assert await auth.login("Dewi.Psikolog", PASSWORD, T0 + LOCKOUT) is not None


async def test_a_success_before_the_fifth_failure_starts_the_count_again(db: Db) -> None:
    auth, _ = await member(db)
    for _ in range(MAX_FAILURES - 1):
        await auth.login("Dewi.Psikolog", "salah-sekali-123", T0)
    assert await auth.login("Dewi.Psikolog", PASSWORD, T0) is not None
    for _ in range(MAX_FAILURES - 1):
        await auth.login("Dewi.Psikolog", "salah-sekali-123", T0)
    assert await auth.login("Dewi.Psikolog", PASSWORD, T0) is not None


async def test_a_session_ends_after_its_lifetime(db: Db) -> None:
    auth, staff_id = await member(db)
    login = await auth.login("Dewi.Psikolog", PASSWORD, T0)
    assert login is not None
    found = await auth.session(login.session_token, T0 + SESSION_LIFETIME - timedelta(seconds=1))
    assert found == (staff_id, login.csrf_token)
    assert await auth.session(login.session_token, T0 + SESSION_LIFETIME) is None
    assert await auth.session("not-a-token", T0) is None


async def test_logout_ends_the_session(db: Db) -> None:
    auth, _ = await member(db)
    login = await auth.login("Dewi.Psikolog", PASSWORD, T0)
    assert login is not None
    await auth.logout(login.session_token)
    assert await auth.session(login.session_token, T0) is None
    async with db.sessions() as session:
        assert await session.scalar(text("SELECT count(*) FROM staff_sessions")) == 0


async def test_a_new_password_unlocks_and_ends_old_sessions(db: Db) -> None:
    auth, staff_id = await member(db)
    old = await auth.login("Dewi.Psikolog", PASSWORD, T0)
    assert old is not None
    for _ in range(MAX_FAILURES):
        await auth.login("Dewi.Psikolog", "salah-sekali-123", T0)
    await auth.reset_password(staff_id, "sandi-baru-yang-panjang", T0)
    assert await auth.session(old.session_token, T0) is None
    assert await auth.login("Dewi.Psikolog", PASSWORD, T0) is None
    assert await auth.login("Dewi.Psikolog", "sandi-baru-yang-panjang", T0) is not None


async def test_a_revoked_member_can_neither_log_in_nor_keep_a_session(db: Db) -> None:
    auth, staff_id = await member(db)
    login = await auth.login("Dewi.Psikolog", PASSWORD, T0)
    assert login is not None
    await revoke_staff(uow=db.uow(), staff_id=staff_id)
    assert await auth.session(login.session_token, T0) is None
    assert await auth.login("Dewi.Psikolog", PASSWORD, T0) is None
