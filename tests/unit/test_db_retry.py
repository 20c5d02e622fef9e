"""The Telegram bots ride out a database restart; a conflict is retried but is no outage."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy.exc import IntegrityError, OperationalError

from handlers import telegram_common


@pytest.mark.parametrize(
    ("error", "said"),
    [
        (IntegrityError("INSERT", {}, Exception("UNIQUE constraint failed")), "database conflict"),
        (OperationalError("SELECT", {}, Exception("connection refused")), "database unavailable"),
    ],
)
async def test_a_failed_call_is_retried_and_named_for_what_it_was(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, error: Exception, said: str
) -> None:
    monkeypatch.setattr(telegram_common, "DB_RETRY_DELAYS", (0.0, 0.0))
    calls = []

    async def flaky() -> str:
        calls.append(1)
        if len(calls) == 1:
            raise error
        return "done"

    with caplog.at_level(logging.WARNING, logger="sapa.telegram"):
        assert await telegram_common._with_db_retry(flaky) == "done"
    assert len(calls) == 2
    assert [r.getMessage().split(" (")[0] for r in caplog.records] == [said]


async def test_a_call_failing_every_time_fails_after_the_last_delay(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(telegram_common, "DB_RETRY_DELAYS", (0.0, 0.0))
    calls = []

    async def down() -> None:
        calls.append(1)
        raise OperationalError("SELECT", {}, Exception("connection refused"))

    with pytest.raises(OperationalError):
        await telegram_common._with_db_retry(down)
    assert len(calls) == 3
