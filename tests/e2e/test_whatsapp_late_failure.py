"""A 131047 reported later, in a "failed" status callback after Meta accepted the send: the
reply is held for the 24-hour-window flow (template, then sent when the ASN writes), and the
sealed payload kept for that is shredded once a report is final."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import select

from storage.tables import outbox
from storage.whatsapp import message_key
from tests.e2e.fake_graph_api import text_of
from tests.e2e.test_whatsapp_delivery import claimed_case, reply, wait_rows
from tests.e2e.test_whatsapp_journey import PHONE
from tests.e2e.whatsapp_conftest import WA, wa_fixture, wa_url  # noqa: F401
from tests.e2e.whatsapp_outbox import all_sent, kept_payloads
from tests.e2e.whatsapp_payloads import envelope, status_value, text

LATE = "KANARI-LAPOR-TERLAMBAT-4242"


async def report(wa: WA, wamid: str, status: str, code: int | None = None) -> None:
    body = envelope(status_value(wamid, status, recipient=PHONE, error_code=code))
    assert (await wa.post(body)).status_code == 200
    await wa.idle()


def sends_of(wa: WA, words: str) -> list[str]:
    return [c["wamid"] for c in wa.graph.sent(PHONE) if words in text_of(c["body"])]


async def test_a_late_131047_holds_the_reply_invites_and_sends_it_when_the_asn_writes(
    wa: WA,
) -> None:
    staff_id, code = await claimed_case(wa)
    await reply(wa, staff_id, code, LATE)
    first = (await wa.graph.wait_for_sent(PHONE, contains=LATE))[-1]["wamid"]
    await wait_rows(wa, ("sent", None), count=1)
    assert await kept_payloads(wa) >= 1  # sealed, kept for a report that may still come
    assert LATE.encode() not in await wa.stored()

    await report(wa, first, "sent")
    await report(wa, first, "failed", 131047)
    invited = await wa.graph.wait_for_sent(PHONE, kind="template")
    assert len(invited) == 1
    await wait_rows(wa, ("pending", "wa_held"))
    assert sends_of(wa, LATE) == [first]  # not re-sent into a closed window

    await wa.write(PHONE, text("Saya di sini"))
    again = await wa.graph.wait_for_sent(PHONE, contains=LATE, count=2)
    second = again[-1]["wamid"]
    assert second != first and len(wa.graph.sent(PHONE, kind="template")) == 1

    await wait_rows(wa, ("sent", "wa_held"))  # marked sent after Meta accepted it
    before = await kept_payloads(wa)
    await report(wa, second, "delivered")
    assert await kept_payloads(wa) == before - 1  # final: the payload is shredded
    await report(wa, first, "failed", 131047)  # a replayed old report changes nothing
    assert sends_of(wa, LATE) == [first, second]
    assert LATE.encode() not in await wa.stored()


async def known_wamids(wa: WA) -> list[str]:
    """The sent messages that carry an outbox row (the last part of each payload)."""
    async with wa.rt.svc.sessions() as session:
        keys = set(await session.scalars(select(outbox.c.external_id)))
    index_key = wa.rt.svc.keyring.blind_index_key
    return [c["wamid"] for c in wa.graph.sent(PHONE) if message_key(index_key, c["wamid"]) in keys]


async def test_final_reports_shred_kept_payloads_and_a_day_shreds_the_rest(wa: WA) -> None:
    staff_id, code = await claimed_case(wa)
    await reply(wa, staff_id, code, LATE)
    await wa.graph.wait_for_sent(PHONE, contains=LATE)
    await all_sent(wa)
    kept = await kept_payloads(wa)
    wamids = await known_wamids(wa)
    assert kept >= 4 and len(wamids) == kept
    await report(wa, wamids[0], "read")
    await report(wa, wamids[1], "failed", 131026)  # failed for good: nothing to resend
    assert await kept_payloads(wa) == kept - 2

    wa.clock.shift = timedelta(hours=25)  # no report came for the rest: gone after a day
    for _ in range(200):
        if not await kept_payloads(wa):
            break
        await asyncio.sleep(0.05)
    assert await kept_payloads(wa) == 0
