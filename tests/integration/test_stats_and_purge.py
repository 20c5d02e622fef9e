"""Statistics read from the database, and retention that shreds old transcripts."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from core.stats import build_report
from core.stats_format import render
from storage.purge import purge
from storage.sealing import MissingKey, Sealer
from storage.stats_source import load_case_facts
from storage.tables import cases, messages
from tests.integration.journey import CANARIES, Clock, whole_conversation

START = datetime(2026, 1, 1, tzinfo=UTC)
END = datetime(2027, 1, 1, tzinfo=UTC)


async def test_stats_count_cases_from_the_database_and_suppress_small_cells(db) -> None:
    for _ in range(6):
        await whole_conversation(db)
    facts = await load_case_facts(db.sessions, start=START, end=END)
    assert len(facts) == 6
    assert {f.category for f in facts} == {"kesehatan_jiwa"}
    assert {f.queue for f in facts} == {"psikologi"}
    assert all(f.first_response_minutes == 12.0 and f.rating == 5 for f in facts)
    report = build_report(facts, k=5, months=["2026-03"])
    data = json.loads(render(report, fmt="json", k=5))
    text = json.dumps(data)
    assert "K-" not in text and CANARIES["comment"] not in text
    assert "6" in json.dumps(data["cases_by_month_category"])

    few = build_report(facts[:2], k=5, months=["2026-03"])
    table = render(few, fmt="table", k=5)
    assert "<5" in table
    assert not any(f" {n} " in f" {table} " for n in ("1", "2"))


async def test_purge_shreds_transcripts_of_cases_closed_past_retention(db) -> None:
    old_clock = Clock(datetime(2025, 1, 6, 2, 0, tzinfo=UTC))
    old = await whole_conversation(db, old_clock)
    recent = await whole_conversation(db)
    now = datetime(2026, 3, 10, tzinfo=UTC)

    assert await purge(db.sessions, db.keyring, now=now, retention_days=365) == 1
    assert await purge(db.sessions, db.keyring, now=now, retention_days=365) == 0
    async with db.sessions() as session:
        rows = {r.code: r for r in await session.execute(select(cases))}
        left = set((await session.execute(select(messages.c.case_id))).scalars())
        sealer = Sealer(session, db.keyring)
        with pytest.raises(MissingKey):  # the purged case's key is gone
            await sealer.open(
                b"\x01" + b"\0" * 40,
                table="messages",
                column="body",
                row_id="x",
                owner_id=rows[old.case_code].id,
            )
    assert rows[old.case_code].purged_at is not None
    assert rows[recent.case_code].purged_at is None
    assert left == {rows[recent.case_code].id}
    # The purged case still counts in the statistics (without any text).
    facts = await load_case_facts(db.sessions, start=now - timedelta(days=800), end=now)
    assert len(facts) == 2
