"""No message text and no identifier ever reaches the database, a dump or the logs in plaintext."""

from __future__ import annotations

import logging
import shutil
import subprocess
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from tests.integration.journey import CANARIES, whole_conversation


def _database_bytes(db: object, url: str) -> bytes:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        base = Path(str(parsed.database))
        files = [base, base.with_name(base.name + "-wal"), base.with_name(base.name + "-shm")]
        return b"".join(f.read_bytes() for f in files if f.exists())
    pg_dump = shutil.which("pg_dump")
    assert pg_dump, "pg_dump is needed for this test (Debian package postgresql-client)"
    dump = subprocess.run(
        [
            pg_dump,
            "-h",
            parsed.host or "127.0.0.1",
            "-p",
            str(parsed.port or 5432),
            "-U",
            parsed.username or "postgres",
            str(parsed.database),
        ],
        check=True,
        capture_output=True,
    )
    return dump.stdout


async def test_canaries_reach_the_people_but_never_the_database_or_logs(
    db, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    # SQL statements with their bound parameters are logged too: they must hold no canary.
    caplog.set_level(logging.INFO, logger="sqlalchemy.engine")
    journey = await whole_conversation(db)

    # The conversation really happened: the ASN and the counsellor got the texts.
    to_client = [p["text"] for a, p in journey.delivered["telegram"].sent]
    to_staff = [p["text"] for a, p in journey.delivered["staff"].sent]
    assert {a for a, _ in journey.delivered["telegram"].sent} == {CANARIES["client_chat"]}
    assert {a for a, _ in journey.delivered["staff"].sent} == {CANARIES["staff_chat"]}
    assert any(
        CANARIES["reply"] in t and t.startswith("Konselor Bu Rina (Psikologi):") for t in to_client
    )
    assert any(CANARIES["followup"] in t for t in to_staff)
    assert not any(CANARIES["note"] in t for t in to_client + to_staff)
    raw = _database_bytes(db, db.url)
    assert len(raw) > 10_000
    for name, canary in CANARIES.items():
        assert canary.encode() not in raw, f"{name} found in the database in plaintext"
    for record in caplog.records:
        rendered = record.getMessage() + str(record.args or "")
        for name, canary in CANARIES.items():
            assert canary not in rendered, f"{name} found in a log record"
    assert len(caplog.records) > 50, "too few log records: the log check would prove little"
