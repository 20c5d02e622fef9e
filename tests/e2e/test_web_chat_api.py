"""The ASN web chat's API, end to end: the real app, its outbox worker and SQLite, over HTTP."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from core.usecases import intake
from core.usecases.casework import claim_case, reply_to_client
from handlers.web_chat_guard import TokenBucket, normalise_code
from storage.tables import clients, inbox, web_mailbox
from storage.web_mailbox import WebMailbox
from tests.e2e.web_conftest import Web, auth, counsellor, web_fixture  # noqa: F401

SECRET = "KANARI-WEB-5521 suami saya"
REPLY = "KANARI-BALASAN-7734"


async def open_case(web: Web, code: str, text: str = SECRET) -> str:
    assert (await web.post(code, "message", text=text, client_msg_id="m1")).status_code == 200
    prompt = await web.wait_for(code, "Sepertinya ini tentang")
    buttons = [data for m in prompt for _, data in m["buttons"]]
    assert "cat:kesehatan_jiwa" in buttons and "cat:gizi" in buttons
    assert (await web.post(code, "choose", data="cat:kesehatan_jiwa")).status_code == 200
    asked = await web.wait_for(code, "jenis kelamin")
    assert ["Lewati", "q:gender:-"] in asked[-1]["buttons"]
    for data in ("q:gender:perempuan", "q:age:-", "q:employment:PNS"):
        assert (await web.post(code, "choose", data=data)).status_code == 200
    opened = await web.wait_for(code, "tercatat dengan kode")
    text = next(m["text"] for m in opened if "tercatat" in m["text"])
    assert "Psikologi" in text and "Posisi antrean: 1" in text
    return text.split("kode ")[1].split(".")[0]


async def test_an_asn_talks_with_a_counsellor_through_the_web_chat(web: Web) -> None:
    code = await web.start()
    assert normalise_code(code) == code and len(code.replace("-", "")) == 20
    assert await web.count(clients) == 0  # a code alone stores nothing
    consent = await web.post(code, "consent", agree=True, locale="id")
    assert consent.status_code == 200 and consent.headers["cache-control"] == "no-store"
    await web.wait_for(code, "Silakan ceritakan")

    case_code = await open_case(web, code)
    status = (await web.get(code, "status")).json()
    assert status["case_code"] == case_code and "dalam antrean" in status["text"]

    staff = await counsellor(web)
    await claim_case(uow=web.rt.uow(), staff_id=staff.id, case_code=case_code, clock=web.rt.clock)
    await reply_to_client(
        uow=web.rt.uow(), staff_id=staff.id, case_code=case_code, text=REPLY, clock=web.rt.clock
    )
    web.rt.kick()
    got = await web.wait_for(code, REPLY)
    assert any(m["text"] == f"Konselor Rina (Psikologi):\n{REPLY}" for m in got)
    mine = [m["text"] for m in got if m["mine"]]
    assert mine == [SECRET]
    assert SECRET.encode() not in web.database_bytes()
    assert REPLY.encode() not in web.database_bytes()


async def test_live_updates_arrive_as_server_sent_events(web: Web) -> None:
    web.config.stream_seconds, web.config.poll_seconds = 1.5, 0.2
    code = await web.consented()
    await web.wait_for(code, "Silakan ceritakan")
    response = await web.http.get("/api/chat/events?after=0", headers=auth(code))
    assert response.headers["content-type"].startswith("text/event-stream")
    events = [b for b in response.text.split("\n\n") if b.startswith("id:")]
    first = json.loads(events[0].split("data: ", 1)[1])
    assert "Silakan ceritakan" in first["text"] and events[0].startswith(f"id: {first['seq']}")
    later = await web.http.get(f"/api/chat/events?after={first['seq']}", headers=auth(code))
    assert "id:" not in later.text
    assert (await web.http.get("/api/chat/events")).status_code == 401


async def test_close_rate_export_and_delete(web: Web) -> None:
    code = await web.consented()
    case_code = await open_case(web, code)
    closed = await web.post(code, "close")
    assert closed.json()["case_code"] == case_code
    asked = await web.wait_for(code, "Pilih 1 (kurang) sampai 5")
    assert any(["5", "rate:5"] in m["buttons"] for m in asked)
    assert (await web.post(code, "choose", data="rate:5")).status_code == 200
    await web.wait_for(code, "Terima kasih atas penilaiannya")

    export = await web.get(code, "export")
    assert export.status_code == 200
    assert export.headers["content-disposition"].startswith("attachment")
    held = export.json()
    assert held["cases"][0]["code"] == case_code and held["cases"][0]["ratings"] == [5]
    assert held["cases"][0]["messages"][0]["text"] == SECRET

    refused = await web.post(code, "delete")
    assert refused.status_code == 400 and "yakin" in refused.json()["message"]
    deleted = await web.post(code, "delete", confirm=True)
    assert deleted.status_code == 200 and "sudah kami hapus" in deleted.json()["message"]
    gone = await web.get(code, "status")
    assert gone.status_code == 401 and gone.json()["error"] == "consent_required"
    assert (await web.get(code, "messages")).status_code == 401
    assert await web.count(web_mailbox) == 0 and await web.count(clients) == 0
    assert SECRET.encode() not in web.database_bytes()


async def test_a_crisis_gets_the_safety_message_first(web: Web) -> None:
    code = await web.consented()
    await web.post(code, "message", text="saya sudah tidak kuat, pengen bunuh diri aja")
    got = await web.wait_for(code, "119")
    after = [m for m in got if not m["mine"]][1:]  # after "Silakan ceritakan"
    assert "Keselamatan" in after[0]["text"] and after[0]["urgent"] is True


async def test_with_the_nlu_down_the_asn_picks_the_topic(web: Web) -> None:
    web.classifier.category = None
    code = await web.consented()
    await web.post(code, "message", text="Saya bingung harus mulai dari mana")
    prompt = await web.wait_for(code, "mohon pilih topik")
    buttons = {data for m in prompt for _, data in m["buttons"]}
    assert {"cat:keluarga", "cat:hukum", "cat:gizi", "cat:kesehatan_jiwa"} <= buttons


async def test_a_retried_message_is_kept_once(web: Web) -> None:
    code = await web.consented()
    first = await web.post(code, "message", text=SECRET, client_msg_id="retry-1")
    again = await web.post(code, "message", text=SECRET, client_msg_id="retry-1")
    assert first.json() == {"ok": True} and again.json()["duplicate"] is True
    await web.wait_for(code, "Sepertinya ini tentang")
    assert [m["text"] for m in await web.messages(code) if m["mine"]] == [SECRET]
    held = (await web.get(code, "export")).json()
    assert len(held["cases"][0]["messages"]) == 1
    assert await web.count(inbox) == 1
    bad = await web.post(code, "message", text="x", client_msg_id="<script>")
    assert bad.status_code == 400


async def test_empty_huge_and_oversized_input_get_a_kind_answer(web: Web) -> None:
    code = await web.consented()
    empty = await web.post(code, "message", text="   \n ")
    assert empty.status_code == 400 and "kosong" in empty.json()["message"]
    huge = await web.post(code, "message", text="a" * 4097)
    assert huge.status_code == 400 and "4096" in huge.json()["message"]
    assert not [m for m in await web.messages(code) if "119" in m["text"]]
    danger = "cerita " * 700 + "saya sudah tidak kuat, pengen bunuh diri aja"
    refused = await web.post(code, "message", text=danger)  # too long, not kept, yet in danger
    assert refused.status_code == 400 and "terlalu panjang" in refused.json()["message"]
    [safety] = [m for m in await web.messages(code) if "119" in m["text"]]
    assert safety["text"].startswith("Bapak/Ibu, keselamatan") and not safety["mine"]
    body = json.dumps({"text": "a" * 40_000})
    oversized = await web.http.post(
        "/api/chat/message",
        content=body,
        headers={**auth(code), "Content-Type": "application/json"},
    )
    assert oversized.status_code == 413 and oversized.json()["error"] == "too_large"
    broken = await web.http.post("/api/chat/message", content=b"{nope", headers=auth(code))
    assert broken.status_code == 400 and broken.json()["message"]
    assert [m for m in await web.messages(code) if m["mine"]] == []


async def test_too_many_requests_get_a_kind_429(web: Web) -> None:
    code = await web.consented()
    answers = [
        await web.post(code, "message", text=f"pesan {n}", client_msg_id=f"n{n}") for n in range(30)
    ]
    limited = [a for a in answers if a.status_code == 429]
    assert limited and "tunggu sebentar" in limited[0].json()["message"]
    assert limited[0].headers["retry-after"] == "2"
    web.config.per_ip = TokenBucket(3, 0.01)
    starts = [(await web.http.post("/api/chat/start")).status_code for _ in range(5)]
    assert starts[:3] == [200, 200, 200] and starts[3:] == [429, 429]


async def test_codes_that_are_not_codes_open_nothing(web: Web) -> None:
    assert (await web.get(None, "status")).json()["error"] == "code_invalid"
    assert (await web.get("ABC", "status")).status_code == 401
    stranger = await web.start()
    unknown = await web.get(stranger, "status")
    assert unknown.status_code == 401 and unknown.json()["error"] == "consent_required"
    assert (await web.post(stranger, "message", text="halo")).status_code == 401
    refused = await web.post(stranger, "consent", agree=False)
    assert refused.json()["consented"] is False and "Tidak ada data" in refused.json()["message"]
    assert await web.count(clients) == 0


async def test_the_code_resumes_on_another_device_and_stale_buttons_do_nothing(web: Web) -> None:
    code = await web.consented()
    await open_case(web, code)
    typed = code.lower().replace("-", " ")
    other = await web.http.get("/api/chat/messages", headers={"Authorization": f"Bearer {typed}"})
    assert SECRET in [m["text"] for m in other.json() if m["mine"]]
    stale = await web.post(code, "choose", data="q:age:30-39")
    assert stale.status_code == 200
    assert (await web.post(code, "choose", data="claim:K-AAAA")).status_code == 400
    assert (await web.post(code, "choose", data="cat:nonsense")).status_code == 400
    assert (await web.post(code, "choose", data="q:age:saya 41 tahun")).status_code == 400


async def test_the_language_switch_and_the_page(web: Web) -> None:
    code = await web.consented()
    switched = await web.post(code, "locale", locale="en")
    assert switched.status_code == 200
    await web.wait_for(code, "Language")
    texts = (await web.http.get("/api/chat/texts?locale=en")).json()
    assert texts["texts"]["web.quick_exit"] == "Quick exit" and "Privacy notice" in texts["notice"]
    page = await web.http.get("/")
    assert page.status_code == 200 and "Keluar cepat" in page.text and "{{" not in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["referrer-policy"] == "no-referrer"
    assert page.headers["x-content-type-options"] == "nosniff"
    script = await web.http.get("/static/chat.js")
    assert script.status_code == 200 and "textContent" in script.text
    assert "innerHTML" not in script.text
    assert (await web.http.get("/static/chat.map")).status_code == 404


async def test_the_mailbox_holds_only_ciphertext_bound_to_its_mailbox(web: Web) -> None:
    code = await web.consented()
    await web.post(code, "message", text=SECRET)
    await web.wait_for(code, "Sepertinya ini tentang")
    async with web.rt.svc.sessions() as session:
        rows = (await session.execute(select(web_mailbox))).all()
    assert rows and all(SECRET.encode() not in bytes(r.payload_enc) for r in rows)
    mailbox = WebMailbox(web.rt.svc.sessions, web.rt.svc.keyring)
    other = "00000000-0000-4000-8000-000000000000"
    await mailbox.create(other)
    async with web.rt.svc.sessions() as session, session.begin():
        await session.execute(update(web_mailbox).values(mailbox_id=other))
    assert await mailbox.read(other) == []  # moved rows do not open under another mailbox
    assert await mailbox.prune(before=datetime.now(UTC) + timedelta(seconds=1)) == len(rows)
    assert await web.count(web_mailbox) == 0


async def test_a_message_that_failed_is_handled_when_the_page_sends_it_again(
    web: Web, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A failure after the id was recorded (a database hiccup) must not make the retry a
    "duplicate": the message would show as sent and never be kept, screened or relayed."""
    code = await web.consented()
    real = intake.receive_client_message

    async def fails_once(**kw: Any) -> Any:
        monkeypatch.setattr(intake, "receive_client_message", real)
        raise RuntimeError("database went away")

    monkeypatch.setattr(intake, "receive_client_message", fails_once)
    with pytest.raises(RuntimeError):
        await web.post(code, "message", text=SECRET, client_msg_id="flaky-1")
    again = await web.post(code, "message", text=SECRET, client_msg_id="flaky-1")
    assert again.json() == {"ok": True}  # handled now, not refused as a replay
    await web.wait_for(code, "Sepertinya ini tentang")
    held = (await web.get(code, "export")).json()
    assert [m["text"] for m in held["cases"][0]["messages"]] == [SECRET]
    third = await web.post(code, "message", text=SECRET, client_msg_id="flaky-1")
    assert third.json()["duplicate"] is True  # once kept, a replay is one
