"""The inbox: a replay has no second effect, but an update a killed worker never finished is
handled again when it is delivered again (zero inbound messages lost)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import event

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


async def test_concurrent_updates_share_transactions_and_each_id_is_handled_once(db: Db) -> None:
    """Group commit: 60 deliveries (20 updates, each delivered three times at once)."""
    inbox = InboxStore(db.sessions)
    commits = []
    event.listen(db.engine.sync_engine, "commit", lambda _conn: commits.append(1))
    deliveries = [str(n) for n in range(20)] * 3
    first = await asyncio.gather(
        *(inbox.begin(channel="tg-client", external_id=i, at=T0) for i in deliveries)
    )
    assert sum(first) == 20
    assert {i for i, new in zip(deliveries, first, strict=True) if new} == set(deliveries[:20])
    begun = len(commits)
    await asyncio.gather(
        *(inbox.finish(channel="tg-client", external_id=str(n), at=T0) for n in range(20))
    )
    assert begun < 60 and len(commits) - begun < 20  # shared, not one transaction each
    late = T0 + timedelta(minutes=5)  # past the stale window, but finished: replays
    assert not any(
        await asyncio.gather(
            *(inbox.begin(channel="tg-client", external_id=i, at=late) for i in deliveries)
        )
    )


async def test_an_update_whose_handling_failed_here_is_handled_at_its_next_delivery(db: Db) -> None:
    inbox = InboxStore(db.sessions)
    assert await inbox.begin(**KEY, at=T0)
    await inbox.abandon(**KEY)  # the handler raised (e.g. Redis refused a connection)
    assert await inbox.begin(**KEY, at=T0 + timedelta(seconds=2)), "not taken for a replay"
    await inbox.finish(**KEY, at=T0 + timedelta(seconds=3))
    await inbox.abandon(**KEY)  # a finished update is never un-recorded
    assert not await inbox.begin(**KEY, at=T0 + timedelta(minutes=5))
