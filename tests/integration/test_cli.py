"""The `sapa` command as an operator uses it, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.conftest import PARTNERS

SAPA = [str(Path(sys.executable).with_name("sapa"))]  # the console script users run


def sapa(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*SAPA, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).resolve().parents[2],
    )


def _env(db_url: str, tmp_path: Path) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if not k.startswith("SAPA_")}
    return {
        **keep,
        "SAPA_DATABASE_URL": db_url,
        "SAPA_KEY_FILE": str(tmp_path / "keys.json"),
        "SAPA_PARTNERS_FILE": str(PARTNERS),
    }


@pytest.fixture
def env(db_url: str, tmp_path: Path) -> dict[str, str]:
    return _env(db_url, tmp_path)


def test_an_operator_session(env: dict[str, str], tmp_path: Path) -> None:
    upgraded = sapa(env, "db", "upgrade")
    assert upgraded.returncode == 0, upgraded.stderr
    assert "Losing it loses every transcript" in upgraded.stderr  # the loud key-file warning
    assert oct((tmp_path / "keys.json").stat().st_mode & 0o777) == "0o600"

    invite = sapa(
        env, "staff", "invite", "--role", "counsellor", "--queue", "psikologi", "--format", "json"
    )
    assert invite.returncode == 0, invite.stderr
    issued = json.loads(invite.stdout)
    assert issued["role"] == "counsellor" and issued["queues"] == ["psikologi"]
    assert len(issued["code"]) == 12

    assert "no staff members yet" in sapa(env, "staff", "list").stdout
    assert sapa(env, "keys", "status").stdout.strip() == "KEK v1 (current): 0 data keys"
    rotated = sapa(env, "keys", "rotate")
    assert rotated.returncode == 0 and "KEK v2" in rotated.stdout
    assert "KEK v2 (current)" in sapa(env, "keys", "status").stdout
    assert sapa(env, "audit", "verify").stdout.strip() == "audit chain intact"
    assert sapa(env, "purge").stdout.strip() == "purged 0 cases"

    stats = sapa(env, "stats", "--format", "json", "--from", "2026-01", "--to", "2026-03")
    assert stats.returncode == 0, stats.stderr
    assert json.loads(stats.stdout)["months"] == ["2026-01", "2026-02", "2026-03"]
    assert sapa(env, "stats", "--format", "csv").returncode == 0


@pytest.mark.parametrize(
    ("args", "setup", "sentence"),
    [
        (("staff", "invite", "--role", "counsellor", "--queue", "nope"), None, "Unknown queue"),
        (("stats", "--from", "2026-13"), None, "is not a month"),
        (("stats", "--format", "xml"), None, "--format must be"),
        (("keys", "status"), "bad_key_file", "is not valid JSON"),
        (("keys", "status"), "open_key_file", "chmod 600"),
        (("staff", "list"), "dead_database", "cannot reach the database"),
    ],
)
def test_user_errors_are_one_clear_sentence(
    tmp_path: Path, args: tuple[str, ...], setup: str | None, sentence: str
) -> None:
    env = _env(f"sqlite+aiosqlite:///{tmp_path / 'sapa.db'}", tmp_path)
    key_file = tmp_path / "keys.json"
    if "--queue" in args:
        assert sapa(env, "db", "upgrade").returncode == 0
    if setup == "bad_key_file":
        key_file.write_text("{not json")
        key_file.chmod(0o600)
    elif setup == "open_key_file":
        key_file.write_text("{}")
        key_file.chmod(0o644)
    elif setup == "dead_database":
        env = {**env, "SAPA_DATABASE_URL": "postgresql+asyncpg://nobody@127.0.0.1:1/none"}
    result = sapa(env, *args)
    assert result.returncode != 0
    assert sentence in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    errors = [line for line in result.stderr.splitlines() if "sapa.keys" not in line]
    assert len(errors) == 1 and errors[0].startswith("error: "), result.stderr


def test_audit_verify_exits_non_zero_on_tampering(env: dict[str, str]) -> None:
    import asyncio

    from sqlalchemy import update

    from storage.db import create_engine
    from storage.tables import audit_head

    assert sapa(env, "db", "upgrade").returncode == 0

    async def tamper() -> None:
        engine = create_engine(env["SAPA_DATABASE_URL"])
        async with engine.begin() as conn:
            await conn.execute(update(audit_head).values(seq=2))
        await engine.dispose()

    asyncio.run(tamper())
    result = sapa(env, "audit", "verify")
    assert result.returncode == 1
    assert "BROKEN at event 1" in result.stderr
