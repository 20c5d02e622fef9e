"""An ASN first known by wa_id who later comes with a BSUID (user_id) stays the same client:
the BSUID's blind index is linked to the client found by the wa_id's, and works alone later."""

from __future__ import annotations

from storage.tables import client_aliases, clients
from tests.e2e.test_whatsapp_journey import PHONE, consent
from tests.e2e.whatsapp_conftest import WA, wa_fixture, wa_url  # noqa: F401
from tests.e2e.whatsapp_payloads import button_reply, text

BSUID = "ID.5566778899001122"
NOTHING_YET = "belum memiliki kasus"


async def test_a_bsuid_arriving_later_joins_the_client_known_by_wa_id(wa: WA) -> None:
    await consent(wa)  # by wa_id only
    await wa.write(PHONE, text("STATUS"), user_id=BSUID)  # both ids in one payload
    await wa.graph.wait_for_sent(PHONE, contains=NOTHING_YET)
    assert await wa.count(clients) == 1 and await wa.count(client_aliases) == 1

    await wa.write(None, text("STATUS"), user_id=BSUID)  # a username user: the BSUID alone
    await wa.graph.wait_for_sent(BSUID, contains=NOTHING_YET)
    assert not wa.graph.sent(BSUID, kind="interactive")  # never asked to consent again
    assert await wa.count(clients) == 1 and await wa.count(client_aliases) == 1
    stored = await wa.stored()
    assert BSUID.encode() not in stored and PHONE.encode() not in stored

    await wa.write(None, text("HAPUS"), user_id=BSUID)
    await wa.graph.wait_for_sent(BSUID, contains="yakin")
    await wa.write(None, button_reply("erase:yes"), user_id=BSUID)
    await wa.graph.wait_for_sent(BSUID, contains="sudah kami hapus")
    assert await wa.count(clients) == 0 and await wa.count(client_aliases) == 0


async def test_a_number_arriving_later_joins_the_client_known_by_bsuid(wa: WA) -> None:
    await wa.write(None, text("halo"), user_id=BSUID)
    await wa.graph.wait_for_sent(BSUID, kind="interactive")
    await wa.write(None, button_reply("consent:yes:id"), user_id=BSUID)
    await wa.graph.wait_for_sent(BSUID, contains="Silakan ceritakan")
    await wa.write(PHONE, text("STATUS"), user_id=BSUID)
    await wa.graph.wait_for_sent(PHONE, contains=NOTHING_YET)
    await wa.write(PHONE, text("STATUS"))  # the number alone
    await wa.graph.wait_for_sent(PHONE, contains=NOTHING_YET, count=2)
    assert not wa.graph.sent(PHONE, kind="interactive")
    assert await wa.count(clients) == 1 and await wa.count(client_aliases) == 1


async def test_two_clients_already_known_apart_are_not_merged(wa: WA) -> None:
    await consent(wa)
    other = "ID.1000000000000009"
    await wa.write(None, text("halo"), user_id=other)
    await wa.graph.wait_for_sent(other, kind="interactive")
    await wa.write(None, button_reply("consent:yes:id"), user_id=other)
    await wa.graph.wait_for_sent(other, contains="Silakan ceritakan")
    await wa.write(PHONE, text("STATUS"), user_id=other)
    await wa.graph.wait_for_sent(PHONE, contains=NOTHING_YET)
    assert await wa.count(clients) == 2 and await wa.count(client_aliases) == 0
