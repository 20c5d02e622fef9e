"""The WhatsApp webhook: Meta's handshake, signatures, replays, several entries, non-text."""

from __future__ import annotations

import hashlib
import hmac
import logging
from pathlib import Path

import httpx
import pytest

from bot.app import create_app
from storage.tables import clients, inbox, messages, outbox, whatsapp_pending
from tests.e2e.fake_graph_api import choices
from tests.e2e.test_whatsapp_journey import PHONE, consent
from tests.e2e.web_conftest import web_settings
from tests.e2e.whatsapp_conftest import VERIFY_TOKEN, WA, wa_fixture, wa_url  # noqa: F401
from tests.e2e.whatsapp_payloads import MEDIA_KINDS, envelope, message_value, signed, text


async def test_the_verification_handshake_echoes_the_challenge_only_for_our_token(wa: WA) -> None:
    query = {
        "hub.mode": "subscribe",
        "hub.verify_token": VERIFY_TOKEN,
        "hub.challenge": "1158201444",
    }
    good = await wa.http.get("/whatsapp/webhook", params=query)
    assert good.status_code == 200 and good.text == "1158201444"
    for bad in ({**query, "hub.verify_token": "tebakan"}, {**query, "hub.mode": "unsubscribe"}, {}):
        assert (await wa.http.get("/whatsapp/webhook", params=bad)).status_code == 403


async def test_a_bad_or_missing_signature_gets_401_and_writes_nothing(wa: WA) -> None:
    payload = envelope(message_value(PHONE, text("KANARI-TANPA-TANDA")))
    body, headers = signed(payload, "bukan-rahasia-aplikasi")
    url = "/whatsapp/webhook"
    assert (await wa.http.post(url, content=body, headers=headers)).status_code == 401
    assert (await wa.http.post(url, content=body)).status_code == 401
    tampered = body.replace(b"KANARI", b"KANARU")
    _, good = signed(payload, wa.settings.whatsapp_app_secret.get_secret_value())  # type: ignore[union-attr]
    assert (await wa.http.post(url, content=tampered, headers=good)).status_code == 401
    garbage, garbage_headers = b"{not json", {"X-Hub-Signature-256": "sha256=00"}
    assert (await wa.http.post(url, content=garbage, headers=garbage_headers)).status_code == 401
    for table in (inbox, whatsapp_pending, clients, outbox):
        assert await wa.count(table) == 0, table.name
    assert wa.graph.calls == []


async def test_a_signed_body_that_is_not_json_is_refused_kindly(wa: WA) -> None:
    secret = wa.settings.whatsapp_app_secret.get_secret_value().encode()  # type: ignore[union-attr]
    body = b"{not json"
    sig = "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()
    response = await wa.http.post(
        "/whatsapp/webhook", content=body, headers={"X-Hub-Signature-256": sig}
    )
    assert response.status_code == 400 and await wa.count(inbox) == 0


async def test_a_replayed_post_has_one_effect(wa: WA) -> None:
    payload = envelope(message_value(PHONE, text("halo"), message_id="wamid.ULANG-1"))
    for _ in range(3):
        assert (await wa.post(payload)).status_code == 200
    await wa.graph.wait_for_sent(PHONE, contains="Pemberitahuan privasi")
    await wa.idle()
    await wa.rt.workers[0].run_once()
    notices = wa.graph.sent(PHONE, kind="interactive")
    assert len(notices) == 1 and await wa.count(inbox) == 1
    assert await wa.count(clients) == 0  # nothing is stored before consent


async def test_several_entries_and_changes_from_several_asn_in_one_post(wa: WA) -> None:
    phones = ["6281100000001", "6281100000002", "6281100000003"]
    values = [
        message_value(phones[0], text("halo")),
        message_value(phones[1], text("permisi"), user_id="ID.5500000000000002"),
        message_value(phones[2], text("selamat pagi")),
    ]
    assert (await wa.post(envelope(*values, entries=2))).status_code == 200
    for phone in phones:
        asked = await wa.graph.wait_for_sent(phone, kind="interactive")
        assert choices(asked[-1]["body"])[0] == "consent:yes:id"


@pytest.mark.parametrize("kind", ["image", "audio", "sticker", "location", "unsupported"])
async def test_anything_but_text_gets_the_text_only_reply_and_is_not_stored(
    wa: WA, kind: str
) -> None:
    await consent(wa)
    await wa.write(PHONE, MEDIA_KINDS[kind])
    await wa.graph.wait_for_sent(PHONE, contains="hanya dapat menerima pesan teks")
    await wa.idle()
    assert await wa.count(messages) == 0 and await wa.count(whatsapp_pending) == 0


async def test_every_media_kind_of_the_issue_gets_the_reply_before_consent_too(wa: WA) -> None:
    for content in MEDIA_KINDS.values():
        await wa.write(PHONE, content)
    await wa.graph.wait_for_sent(PHONE, contains="hanya dapat", count=len(MEDIA_KINDS))
    assert await wa.count(clients) == 0


async def test_the_channel_is_off_with_one_log_line_without_its_settings(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from storage.migrate import upgrade

    caplog.set_level(logging.INFO, logger="sapa.whatsapp")
    settings = web_settings(tmp_path)
    await upgrade(settings.database_url)
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://sapa.test") as http:
            assert (await http.get("/whatsapp/webhook")).status_code == 404
            assert (await http.post("/whatsapp/webhook", content=b"{}")).status_code == 404
    lines = [r.getMessage() for r in caplog.records if r.name == "sapa.whatsapp"]
    assert lines == ["SAPA_WHATSAPP_* settings are incomplete: the WhatsApp channel is off"]
