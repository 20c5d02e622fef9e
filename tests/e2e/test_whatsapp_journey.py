"""An ASN on WhatsApp and a counsellor on the staff Telegram bot: the whole journey, end to end.

The real app processes signed webhooks, the outbox worker sends through the fake Graph API, and
the staff bot is real aiogram polling the fake Bot API; on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from storage.stats_source import load_case_facts
from storage.tables import cases, clients, outbox, whatsapp_pending, whatsapp_window
from tests.e2e.conftest import STAFF_TOKEN
from tests.e2e.fake_graph_api import choices, text_of
from tests.e2e.test_telegram_journey import COUNSELLOR, register_counsellor
from tests.e2e.whatsapp_conftest import WA, wa_fixture, wa_url  # noqa: F401
from tests.e2e.whatsapp_outbox import all_sent, kept_payloads
from tests.e2e.whatsapp_payloads import (
    button_reply,
    envelope,
    image,
    list_reply,
    status_value,
    text,
)

PHONE = "6289912345678"
NAME = "Siti KANARI-NAMA-3141"
BSUID = "ID.7788990011223344"
SECRET = "KANARI-WA-RAHASIA-5150 suami saya"
REPLY = "KANARI-WA-JAWABAN-6262"
FOLLOWUP = "KANARI-WA-LANJUTAN-7373"
ASIDE = "KANARI-WA-SELA-8484 maaf saya bingung"


async def consent(wa: WA, phone: str = PHONE, **who: str) -> None:
    await wa.write(phone, text("halo"), name=NAME, **who)
    notice = await wa.graph.wait_for_sent(phone, contains="Pemberitahuan privasi")
    told = text_of(notice[-1]["body"])  # what WhatsApp keeps, not Telegram's notice
    assert "Nomor WhatsApp Bapak/Ibu disimpan terenkripsi" in told and "Telegram" not in told
    asked = await wa.graph.wait_for_sent(phone, kind="interactive")
    assert notice and choices(asked[-1]["body"]) == ["consent:yes:id", "consent:no:id"]
    assert asked[-1]["body"]["interactive"]["type"] == "button"
    await wa.write(phone, button_reply("consent:yes:id", "Saya setuju"), name=NAME, **who)
    await wa.graph.wait_for_sent(phone, contains="Silakan ceritakan")


async def answer_questions(wa: WA, phone: str, **who: str) -> None:
    """One answered, one skipped, one re-asked after free text and then answered."""
    gender = await wa.graph.wait_for_sent(phone, contains="opsional (boleh dilewati)")
    body = gender[-1]["body"]
    assert body["interactive"]["type"] == "button"
    assert choices(body) == ["q:gender:perempuan", "q:gender:laki_laki", "q:gender:-"]
    await wa.write(phone, button_reply("q:gender:perempuan", "Perempuan"), name=NAME, **who)
    age = await wa.graph.wait_for_sent(phone, contains="opsional: kelompok usia")
    assert age[-1]["body"]["interactive"]["type"] == "list"  # 4 bands and "Lewati"
    assert choices(age[-1]["body"])[-1] == "q:age:-"
    await wa.write(phone, list_reply("q:age:-", "Lewati"), name=NAME, **who)
    await wa.graph.wait_for_sent(phone, contains="opsional: status kepegawaian")
    await wa.write(phone, text(ASIDE), name=NAME, **who)
    again = await wa.graph.wait_for_sent(phone, contains="sudah kami simpan")
    assert "status kepegawaian" in again[-1]["body"]["interactive"]["body"]["text"]
    assert choices(again[-1]["body"]) == ["q:employment:PNS", "q:employment:PPPK", "q:employment:-"]
    assert "tercatat dengan kode" not in json.dumps(wa.graph.sent(phone))  # not opened yet
    await wa.write(phone, button_reply("q:employment:PNS", "PNS"), name=NAME, **who)


async def open_case(wa: WA, phone: str = PHONE, **who: str) -> str:
    await wa.write(phone, text(SECRET), name=NAME, **who)
    prompt = await wa.graph.wait_for_sent(phone, contains="Sepertinya ini tentang")
    body = prompt[-1]["body"]
    assert body["interactive"]["type"] == "list"
    assert choices(body)[0] == "cat:kesehatan_jiwa" and "cat:hukum" in choices(body)
    await wa.write(phone, list_reply("cat:kesehatan_jiwa", "Ya, benar"), name=NAME, **who)
    await answer_questions(wa, phone, **who)
    opened = await wa.graph.wait_for_sent(phone, contains="tercatat dengan kode")
    said = opened[-1]["body"]["text"]["body"]
    assert "Psikologi" in said and "Posisi antrean: 1" in said
    return str(said.split("kode ")[1].split(".")[0])


async def demographics_kept(wa: WA) -> None:
    """Only the bands reach the case, and the statistics count them."""
    async with wa.rt.svc.sessions() as session:
        row = (
            await session.execute(select(cases.c.gender, cases.c.age_band, cases.c.employment))
        ).one()
    assert tuple(row) == ("perempuan", None, "PNS")
    span = {"start": datetime(2000, 1, 1, tzinfo=UTC), "end": datetime(2100, 1, 1, tzinfo=UTC)}
    facts = await load_case_facts(wa.rt.svc.sessions, **span)
    assert [(f.gender, f.age_band, f.employment) for f in facts] == [("perempuan", None, "PNS")]


async def test_an_asn_on_whatsapp_talks_with_a_counsellor_on_the_staff_bot(
    wa: WA, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG)
    await register_counsellor(wa)  # type: ignore[arg-type]
    await consent(wa, user_id=BSUID)
    code = await open_case(wa, user_id=BSUID)
    await demographics_kept(wa)

    api = wa.api
    news = await api.wait_for_sent(STAFF_TOKEN, chat_id=COUNSELLOR, contains=f"Kasus baru {code}")
    assert "lewat WhatsApp" in news[-1]["params"]["text"]
    api.push_message(STAFF_TOKEN, user_id=COUNSELLOR, text=f"/ambil {code}")
    await wa.graph.wait_for_sent(PHONE, contains="Konselor Rina (Psikologi)")
    taken = await api.wait_for_sent(STAFF_TOKEN, chat_id=COUNSELLOR, contains="Anda tangani")
    assert "(klien menulis lewat WhatsApp)" in taken[-1]["params"]["text"]
    api.push_message(STAFF_TOKEN, user_id=COUNSELLOR, text=f"Selamat siang. {REPLY}")
    got = await wa.graph.wait_for_sent(PHONE, contains=REPLY)
    assert got[-1]["body"]["text"]["body"].startswith("Konselor Rina (Psikologi):\n")

    await wa.write(PHONE, text(FOLLOWUP), user_id=BSUID, name=NAME)
    await api.wait_for_sent(STAFF_TOKEN, chat_id=COUNSELLOR, contains=FOLLOWUP)

    # Delivery reports update the reply's outbox row, and never go backwards.
    wamid = got[-1]["wamid"]
    for state in ("delivered", "read", "delivered"):
        assert (await wa.post(envelope(status_value(wamid, state, recipient=PHONE)))).is_success
    await wa.idle()
    async with wa.rt.svc.sessions() as session:
        states = list(await session.scalars(select(outbox.c.delivery_status)))
    assert states.count("read") == 1, states

    await wa.write(PHONE, text("SELESAI"), user_id=BSUID, name=NAME)
    ask = await wa.graph.wait_for_sent(PHONE, contains="penilaian")
    assert choices(ask[-1]["body"]) == [f"rate:{n}" for n in range(1, 6)]
    await wa.write(PHONE, list_reply("rate:5", "5"), user_id=BSUID, name=NAME)
    await wa.graph.wait_for_sent(PHONE, contains="Terima kasih atas penilaiannya")

    await wa.write(PHONE, text("/data"), user_id=BSUID, name=NAME)
    document = await wa.graph.wait_for_sent(PHONE, kind="document")
    upload = [c for c in wa.graph.calls if c["method"] == "media"][-1]
    assert document[-1]["body"]["document"]["id"].startswith("media-")
    exported = json.loads(upload["body"]["content"])
    assert exported["cases"][0]["code"] == code and SECRET in upload["body"]["content"].decode()
    assert ASIDE in upload["body"]["content"].decode()  # free text between questions is kept

    stored = await wa.stored()
    for canary in (SECRET, REPLY, FOLLOWUP, ASIDE, PHONE, NAME, BSUID):
        assert canary.encode() not in stored, canary
    for call in wa.graph.sent():  # message ids embed the number: kept only as blind indexes
        assert call["wamid"].encode() not in stored
    assert b"wamid.HBgN" not in stored  # nor the ids of the ASN's own messages
    for call in api.calls:  # staff-bound: never the ASN's number or name
        assert PHONE not in json.dumps(call) and "KANARI-NAMA" not in json.dumps(call)
    logged = "\n".join(r.getMessage() + str(r.args or "") for r in caplog.records)
    logged += capsys.readouterr().out + capsys.readouterr().err
    assert len(caplog.records) > 10
    for canary in (SECRET, REPLY, FOLLOWUP, ASIDE, PHONE, NAME, BSUID):
        assert canary not in logged, canary

    await all_sent(wa)
    assert await kept_payloads(wa) > 0  # the export among them, sealed, for a late 131047
    await wa.write(PHONE, text("hapus"), user_id=BSUID, name=NAME)
    confirm = await wa.graph.wait_for_sent(PHONE, contains="yakin")
    assert choices(confirm[-1]["body"]) == ["erase:yes", "erase:no"]
    await wa.write(PHONE, button_reply("erase:yes"), user_id=BSUID, name=NAME)
    await wa.graph.wait_for_sent(PHONE, contains="sudah kami hapus")
    await all_sent(wa)
    assert await kept_payloads(wa) == 1  # only the confirmation sent after the erasure
    assert await wa.count(clients) == 0 and await wa.count(whatsapp_pending) == 0
    assert await wa.count(whatsapp_window) == 0
    api.push_message(STAFF_TOKEN, user_id=COUNSELLOR, text=f"/transkrip {code} review")
    await api.wait_for_sent(STAFF_TOKEN, chat_id=COUNSELLOR, contains="tidak ditemukan")


async def test_crisis_gets_the_safety_message_first_and_pages_the_counsellor(wa: WA) -> None:
    await register_counsellor(wa)  # type: ignore[arg-type]
    await consent(wa)
    await wa.write(PHONE, text("saya sudah tidak kuat, pengen bunuh diri aja"))
    await wa.graph.wait_for_sent(PHONE, contains="119")
    said = [c["body"] for c in wa.graph.sent(PHONE)]
    after_consent = said[said.index(next(b for b in said if "Silakan ceritakan" in str(b))) + 1 :]
    assert "Keselamatan" in json.dumps(after_consent[0], ensure_ascii=False), after_consent
    await wa.api.wait_for_sent(STAFF_TOKEN, chat_id=COUNSELLOR, contains="KRISIS")


async def test_the_asn_is_known_again_by_wa_id_when_there_is_no_user_id(wa: WA) -> None:
    await consent(wa)
    await wa.write(PHONE, text("STATUS"))
    await wa.graph.wait_for_sent(PHONE, contains="belum memiliki kasus")
    await wa.write(PHONE, text("Bahasa"))
    await wa.graph.wait_for_sent(PHONE, contains="English")
    await wa.write(PHONE, text("help"))
    await wa.graph.wait_for_sent(PHONE, contains="DELETE - erase all your data")
    assert await wa.count(clients) == 1


async def test_crisis_during_the_questions_gets_the_safety_message_and_no_question(wa: WA) -> None:
    await register_counsellor(wa)  # type: ignore[arg-type]
    await consent(wa)
    await wa.write(PHONE, text("saya sedang ada masalah dengan atasan di kantor"))
    await wa.graph.wait_for_sent(PHONE, kind="interactive", count=2)
    await wa.write(PHONE, list_reply("cat:hukum", "Hukum"))
    await wa.graph.wait_for_sent(PHONE, contains="opsional (boleh dilewati)")
    await wa.write(PHONE, text("saya sudah tidak kuat, pengen bunuh diri aja"))
    await wa.graph.wait_for_sent(PHONE, contains="119")
    await wa.api.wait_for_sent(STAFF_TOKEN, chat_id=COUNSELLOR, contains="KRISIS")
    await wa.idle()
    said = [json.dumps(c["body"], ensure_ascii=False) for c in wa.graph.sent(PHONE)]
    after = said[next(i for i, b in enumerate(said) if "opsional (boleh dilewati)" in b) + 1 :]
    assert after and "Keselamatan" in after[0] and not any("sudah kami simpan" in b for b in after)


async def test_crisis_words_before_consent_or_in_a_caption_bring_the_contacts(wa: WA) -> None:
    """Nothing is stored before consent, and a photo is not kept: the contacts still come."""
    danger = "saya sudah tidak kuat, pengen bunuh diri aja"
    await wa.write(PHONE, text(danger), name=NAME)
    await wa.graph.wait_for_sent(PHONE, kind="interactive")  # the consent buttons
    said = [text_of(c["body"]) for c in wa.graph.sent(PHONE)]
    assert said[0].startswith("Bapak/Ibu, keselamatan Bapak/Ibu") and "119" in said[0]
    assert "Pemberitahuan privasi" in " ".join(said[1:])
    async with wa.rt.svc.sessions() as session:
        assert (await session.execute(select(clients.c.id))).all() == []

    await consent(wa)
    before = len(wa.graph.sent(PHONE))
    photo = image()
    photo["image"]["caption"] = danger
    await wa.write(PHONE, photo, name=NAME)
    await wa.graph.wait_for_sent(PHONE, contains="119", count=2)
    await wa.graph.wait_for_sent(PHONE, count=before + 2)
    later = [text_of(c["body"]) for c in wa.graph.sent(PHONE)[before:]]
    assert later[0].startswith("Bapak/Ibu, keselamatan") and "119" in later[0]
