"""The inbox: a replay has no second effect, but an update a killed worker never finished is
handled again when it is delivered again (zero inbound messages lost)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from storage.inbox import InboxStore
from tests.integration.conftest import Db

T0 = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)
KEY = {"channel": "tg-client", "external_id": "4242"}


async def test_an_unfinished_update_is_handled_again_after_the_stale_window(db: Db) -> None:
    inbox = InboxStore(db.sessions)
    assert await inbox.begin(**KEY, at=T0)
    assert not await inbox.begin(**KEY, at=T0 + timedelta(seconds=5)), "still being handled"
    # The worker handling it was killed: Telegram's next delivery is handled, once.
    later = T0 + timedelta(seconds=61)
    assert await inbox.begin(**KEY, at=later)
    assert not await inbox.begin(**KEY, at=later + timedelta(seconds=1))
    await inbox.finish(**KEY, at=later + timedelta(seconds=2))
    assert not await inbox.begin(**KEY, at=T0 + timedelta(hours=1)), "finished: a replay"


async def test_a_finished_or_recorded_update_is_never_handled_again(db: Db) -> None:
    inbox = InboxStore(db.sessions)
    assert await inbox.begin(**KEY, at=T0)
    await inbox.finish(**KEY, at=T0 + timedelta(seconds=1))
    web = {"channel": "web", "external_id": "abc:1"}
    assert await inbox.record(**web, at=T0)
    for at in (T0 + timedelta(seconds=2), T0 + timedelta(days=1)):
        assert not await inbox.begin(**KEY, at=at)
        assert not await inbox.record(**web, at=at)
        assert not await inbox.begin(**web, at=at)
