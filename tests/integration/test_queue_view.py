"""What a counsellor's queue shows of each case, against real SQLite and PostgreSQL."""

from __future__ import annotations

from core.policy import ServicePolicy
from core.usecases import casework, intake
from tests.integration.journey import Clock, add_supervisor, told_their_story


async def test_the_queue_shows_the_channel_each_client_writes_from(db) -> None:
    """A WhatsApp client's reply may wait for them (the 24-hour window) and a web client's
    shows when they open the page: the counsellor sees which one they are answering."""
    clock, wanted = Clock(), {}
    for external_id, channel in (("72001", "telegram"), ("72002", "whatsapp"), ("72003", "web")):
        sender, received = await told_their_story(db, clock, external_id, channel=channel)
        await intake.confirm_category(
            uow=db.uow(), sender=sender, category="kesehatan_jiwa", clock=clock,
            policy=ServicePolicy(),
        )  # fmt: skip
        wanted[received.case_code] = channel
        clock.advance(minutes=1)
    supervisor = await add_supervisor(db)

    items = await casework.list_queue(uow=db.uow(), staff_id=supervisor)

    assert {i.code: i.channel for i in items} == wanted
    assert [i.code for i in items] == list(wanted)  # oldest first, as before
