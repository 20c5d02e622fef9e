"""WhatsApp delivery: the 24-hour window and its template, Graph errors, delivery reports."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import select

from core.usecases.casework import claim_case, reply_to_client
from storage.tables import outbox
from tests.e2e.fake_graph_api import text_of
from tests.e2e.test_whatsapp_journey import PHONE, consent, open_case
from tests.e2e.web_conftest import counsellor
from tests.e2e.whatsapp_conftest import WA, wa_fixture, wa_url  # noqa: F401
from tests.e2e.whatsapp_payloads import button_reply, envelope, list_reply, status_value, text


async def claimed_case(wa: WA) -> tuple[str, str]:
    await consent(wa)
    code = await open_case(wa)
    staff = await counsellor(wa)  # type: ignore[arg-type]
    await claim_case(uow=wa.rt.uow(), staff_id=staff.id, case_code=code, clock=wa.rt.clock)
    await wa.graph.wait_for_sent(PHONE, contains="Konselor Rina")
    return staff.id, code


async def reply(wa: WA, staff_id: str, code: str, words: str) -> None:
    await reply_to_client(
        uow=wa.rt.uow(), staff_id=staff_id, case_code=code, text=words, clock=wa.rt.clock
    )
    wa.rt.kick()


async def outbox_rows(wa: WA) -> list[tuple[str, str | None, str | None]]:
    async with wa.rt.svc.sessions() as session:
        query = select(outbox.c.status, outbox.c.last_error, outbox.c.delivery_status).where(
            outbox.c.channel == "whatsapp"
        )
        return [tuple(row) for row in await session.execute(query)]  # type: ignore[misc]


async def wait_rows(wa: WA, wanted: tuple[str, str | None], count: int = 1) -> None:
    for _ in range(200):
        if sum(row[:2] == wanted for row in await outbox_rows(wa)) >= count:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"no outbox row {wanted}: {await outbox_rows(wa)}")


async def test_after_24_hours_the_template_invites_and_the_reply_waits_for_the_asn(wa: WA) -> None:
    staff_id, code = await claimed_case(wa)
    await reply(wa, staff_id, code, "Balasan di dalam jendela")
    await wa.graph.wait_for_sent(PHONE, contains="Balasan di dalam jendela")

    wa.clock.shift = timedelta(hours=25)
    await reply(wa, staff_id, code, "KANARI-TERTAHAN-1")
    await reply(wa, staff_id, code, "KANARI-TERTAHAN-2")
    invited = await wa.graph.wait_for_sent(PHONE, kind="template")
    assert invited[-1]["body"]["template"] == {
        "name": "sapa_balasan_konselor",
        "language": {"code": "id"},
    }
    await wait_rows(wa, ("pending", "wa_held"), count=2)
    assert len(wa.graph.sent(PHONE, kind="template")) == 1  # invited once, not per message
    assert not [c for c in wa.graph.calls if "KANARI-TERTAHAN" in text_of(c["body"])]

    await wa.write(PHONE, text("Saya di sini"))
    await wa.graph.wait_for_sent(PHONE, contains="KANARI-TERTAHAN-1")
    await wa.graph.wait_for_sent(PHONE, contains="KANARI-TERTAHAN-2")
    await wa.api.wait_for_sent(None, contains="Saya di sini")  # relayed to the counsellor


async def test_a_131047_answer_holds_the_reply_and_sends_the_template(wa: WA) -> None:
    staff_id, code = await claimed_case(wa)
    wa.graph.fail_next(131047, kind="text")
    await reply(wa, staff_id, code, "KANARI-DI-LUAR-JENDELA")
    await wa.graph.wait_for_sent(PHONE, kind="template")
    await wait_rows(wa, ("pending", "wa_held"))
    await wa.write(PHONE, text("Halo lagi"))
    await wa.graph.wait_for_sent(PHONE, contains="KANARI-DI-LUAR-JENDELA")


@pytest.mark.parametrize("code", [130429, 131056])
async def test_rate_limits_are_retried_after_the_backoff(wa: WA, code: int) -> None:
    wa.sender.rate_limit_seconds = 1.0
    await consent(wa)
    wa.graph.fail_next(code, kind="text")
    await wa.write(PHONE, text("STATUS"))
    await wa.graph.wait_for_sent(PHONE, contains="belum memiliki kasus")
    tries = [c for c in wa.graph.calls if "belum memiliki kasus" in text_of(c["body"])]
    assert [c["status"] for c in tries] == [400, 200]
    assert tries[1]["at"] - tries[0]["at"] >= 1.0


async def test_a_server_error_is_retried_and_undeliverable_goes_to_the_dead_letters(wa: WA) -> None:
    await consent(wa)
    wa.graph.fail_next(500, kind="text")
    await wa.write(PHONE, text("STATUS"))
    await wa.graph.wait_for_sent(PHONE, contains="belum memiliki kasus")
    wa.graph.fail_next(131026, kind="text")
    await wa.write(PHONE, text("BANTUAN"))
    await wait_rows(wa, ("dead", "wa_131026"))
    assert not [c for c in wa.graph.sent(PHONE) if "STATUS - melihat" in text_of(c["body"])]


async def test_a_failed_delivery_report_is_surfaced_on_the_outbox_row(wa: WA) -> None:
    await consent(wa)
    await wait_rows(wa, ("sent", None), count=2)  # the privacy notice and the question
    sent = wa.graph.sent(PHONE)[-1]["wamid"]
    report = status_value(sent, "failed", recipient=PHONE, error_code=131026)
    assert (await wa.post(envelope(report))).status_code == 200
    await wa.idle()
    assert ("sent", "wa_131026", "failed") in await outbox_rows(wa)


async def test_a_retry_continues_after_the_parts_already_delivered(wa: WA) -> None:
    wa.sender.rate_limit_seconds = 0.5
    wa.graph.fail_next(130429, kind="text", skip=1)
    long_text = " ".join(f"KATA{n:04d}" for n in range(600))  # two WhatsApp messages
    await wa.rt.reply(channel="whatsapp", address=f"to:{PHONE}", text=long_text)
    await wa.graph.wait_for_sent(PHONE, contains="KATA0599")
    parts = [c for c in wa.graph.calls if "KATA" in text_of(c["body"])]
    assert [c["status"] for c in parts] == [200, 400, 200]
    assert "KATA0000" in text_of(parts[0]["body"]) and "KATA0000" not in text_of(parts[2]["body"])


async def test_an_asn_known_by_bsuid_then_by_number_gets_held_replies(wa: WA) -> None:
    bsuid = "ID.9000000000000001"
    await wa.write(None, text("halo"), user_id=bsuid)
    await wa.graph.wait_for_sent(bsuid, kind="interactive")
    await wa.write(None, button_reply("consent:yes:id"), user_id=bsuid)
    await wa.graph.wait_for_sent(bsuid, contains="Silakan ceritakan")
    await wa.write(None, text("Saya butuh teman bicara"), user_id=bsuid)
    await wa.graph.wait_for_sent(bsuid, contains="Sepertinya ini tentang")
    await wa.write(None, list_reply("cat:kesehatan_jiwa"), user_id=bsuid)
    for asked, field in enumerate(("gender", "age", "employment"), start=1):  # all skipped
        await wa.graph.wait_for_sent(bsuid, contains="Pertanyaan opsional", count=asked)
        await wa.write(None, list_reply(f"q:{field}:-"), user_id=bsuid)
    opened = await wa.graph.wait_for_sent(bsuid, contains="tercatat dengan kode")
    code = opened[-1]["body"]["text"]["body"].split("kode ")[1].split(".")[0]
    staff = await counsellor(wa)  # type: ignore[arg-type]
    await claim_case(uow=wa.rt.uow(), staff_id=staff.id, case_code=code, clock=wa.rt.clock)

    wa.clock.shift = timedelta(hours=30)
    await reply(wa, staff.id, code, "KANARI-UNTUK-BSUID")
    await wa.graph.wait_for_sent(bsuid, kind="template")
    await wa.write(PHONE, text("Sekarang dengan nomor"), user_id=bsuid)  # the number appears
    got = await wa.graph.wait_for_sent(bsuid, contains="KANARI-UNTUK-BSUID")
    assert got[-1]["body"]["recipient"] == bsuid and "to" not in got[-1]["body"]
