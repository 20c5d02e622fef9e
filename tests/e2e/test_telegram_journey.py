"""A whole conversation through both Telegram bots: real aiogram polling the local fake Bot API."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy.engine import make_url

from core.model import Role
from core.usecases.staffing import create_invite
from tests.e2e.conftest import CLIENT_TOKEN, STAFF_TOKEN, Service

ASN, COUNSELLOR = 700100200, 800300400
SECRET = "KANARI-RAHASIA-4471 suami saya"
REPLY = "KANARI-JAWABAN-9902"


async def invite(service: Service, role: Role = Role.COUNSELLOR) -> str:
    issued = await create_invite(
        uow=service.rt.uow(), role=role, queue_codes=["psikologi"], clock=service.rt.clock
    )
    return issued.code


async def register_counsellor(service: Service, user_id: int = COUNSELLOR) -> None:
    api = service.api
    api.push_message(
        STAFF_TOKEN, user_id=user_id, first_name="Rina", text=f"/start {await invite(service)}"
    )
    await api.wait_for_sent(STAFF_TOKEN, chat_id=user_id, contains="Selamat bergabung, Rina")
    api.push_message(STAFF_TOKEN, user_id=user_id, text="/bertugas")
    await api.wait_for_sent(STAFF_TOKEN, chat_id=user_id, contains="sekarang bertugas")


async def consent(service: Service, user_id: int = ASN) -> None:
    api = service.api
    api.push_message(CLIENT_TOKEN, user_id=user_id, text="/start")
    notice = await api.wait_for_sent(
        CLIENT_TOKEN, chat_id=user_id, contains="Pemberitahuan privasi"
    )
    markup = str(notice[-1]["params"].get("reply_markup"))
    assert "consent:yes:id" in markup and "consent:no:id" in markup
    told = notice[-1]["params"]["text"]  # what is kept, said truly: the chat id, sealed
    assert "Nomor akun Telegram disimpan terenkripsi" in told and "WhatsApp" not in told
    api.push_callback(CLIENT_TOKEN, user_id=user_id, data="consent:yes:id")
    await api.wait_for_sent(CLIENT_TOKEN, chat_id=user_id, contains="Silakan ceritakan")


async def open_case(service: Service, user_id: int = ASN, text: str = SECRET) -> str:
    api = service.api
    api.push_message(CLIENT_TOKEN, user_id=user_id, text=text)
    await api.wait_for_sent(CLIENT_TOKEN, chat_id=user_id, contains="Sepertinya ini tentang")
    api.push_callback(CLIENT_TOKEN, user_id=user_id, data="cat:kesehatan_jiwa")
    await api.wait_for_sent(CLIENT_TOKEN, chat_id=user_id, contains="jenis kelamin")
    for data in ("q:gender:perempuan", "q:age:30-39", "q:employment:PNS"):
        api.push_callback(CLIENT_TOKEN, user_id=user_id, data=data)
        await asyncio.sleep(0.05)
    opened = await api.wait_for_sent(CLIENT_TOKEN, chat_id=user_id, contains="tercatat dengan kode")
    text_sent = opened[-1]["params"]["text"]
    return text_sent.split("kode ")[1].split(".")[0]


async def test_an_asn_and_a_counsellor_talk_through_the_two_bots(service: Service) -> None:
    api = service.api
    await register_counsellor(service)
    await consent(service)
    code = await open_case(service)
    opened = api.sent(CLIENT_TOKEN, chat_id=ASN)[-1]["params"]["text"]
    assert "Psikologi" in opened and "Posisi antrean: 1" in opened

    news = await api.wait_for_sent(STAFF_TOKEN, chat_id=COUNSELLOR, contains=f"Kasus baru {code}")
    assert "lewat Telegram" in news[-1]["params"]["text"]  # the counsellor knows how replies go
    api.push_message(STAFF_TOKEN, user_id=COUNSELLOR, text="/antrian")
    listed = await api.wait_for_sent(STAFF_TOKEN, chat_id=COUNSELLOR, contains=f"{code} - ")
    assert f"{code} - Kesehatan jiwa - Telegram - " in listed[-1]["params"]["text"]
    api.push_message(STAFF_TOKEN, user_id=COUNSELLOR, text=f"/ambil {code}")
    taken = await api.wait_for_sent(STAFF_TOKEN, chat_id=COUNSELLOR, contains="Anda tangani")
    assert "(klien menulis lewat Telegram)" in taken[-1]["params"]["text"]
    await api.wait_for_sent(CLIENT_TOKEN, chat_id=ASN, contains="Konselor Rina (Psikologi)")
    api.push_message(STAFF_TOKEN, user_id=COUNSELLOR, text="/kasus")
    mine = await api.wait_for_sent(STAFF_TOKEN, chat_id=COUNSELLOR, contains="sedang ditangani")
    assert f"{code} - Kesehatan jiwa - Telegram - sedang ditangani" in mine[-1]["params"]["text"]

    api.push_message(STAFF_TOKEN, user_id=COUNSELLOR, text=f"/transkrip {code} {SECRET}")
    await api.wait_for_sent(STAFF_TOKEN, chat_id=COUNSELLOR, contains="pilih tujuan membaca")
    await api.wait_for_sent(STAFF_TOKEN, chat_id=COUNSELLOR, contains="respond - menanggapi klien")
    assert not any(SECRET in str(c["params"]) for c in api.sent(STAFF_TOKEN))
    api.push_message(STAFF_TOKEN, user_id=COUNSELLOR, text=f"/transkrip {code} respond")
    transcript = await api.wait_for_sent(STAFF_TOKEN, chat_id=COUNSELLOR, contains=SECRET)
    assert "dicatat" in transcript[-1]["params"]["text"]

    api.push_message(STAFF_TOKEN, user_id=COUNSELLOR, text=f"Selamat siang. {REPLY}")
    got = await api.wait_for_sent(CLIENT_TOKEN, chat_id=ASN, contains=REPLY)
    assert got[-1]["params"]["text"].startswith("Konselor Rina (Psikologi):\n")

    api.push_message(CLIENT_TOKEN, user_id=ASN, text="Terima kasih, saya mau cerita lagi")
    await api.wait_for_sent(STAFF_TOKEN, chat_id=COUNSELLOR, contains="mau cerita lagi")

    api.push_message(STAFF_TOKEN, user_id=COUNSELLOR, text=f"/selesai {code}")
    ask = await api.wait_for_sent(CLIENT_TOKEN, chat_id=ASN, contains="penilaian")
    assert "rate:5" in str(ask[-1]["params"].get("reply_markup"))
    api.push_callback(CLIENT_TOKEN, user_id=ASN, data="rate:5")
    await api.wait_for_sent(CLIENT_TOKEN, chat_id=ASN, contains="Terima kasih atas penilaiannya")

    api.push_message(CLIENT_TOKEN, user_id=ASN, text="/data")
    await api.wait_for_sent(CLIENT_TOKEN, chat_id=ASN, contains="Salinan semua data")
    document = [c for c in api.calls if c["method"] == "sendDocument"]
    assert document, "the export should arrive as a file"
    assert document[-1]["status"] == 200, document

    assert not [c for c in api.calls if c["method"].lower().startswith("forward")]
    raw = _database_bytes(service)
    for canary in (SECRET, REPLY, str(ASN), str(COUNSELLOR)):
        assert canary.encode() not in raw

    api.push_message(CLIENT_TOKEN, user_id=ASN, text="/hapus")
    await api.wait_for_sent(CLIENT_TOKEN, chat_id=ASN, contains="yakin")
    api.push_callback(CLIENT_TOKEN, user_id=ASN, data="erase:yes")
    await api.wait_for_sent(CLIENT_TOKEN, chat_id=ASN, contains="sudah kami hapus")
    api.push_message(STAFF_TOKEN, user_id=COUNSELLOR, text=f"/transkrip {code} respond")
    await api.wait_for_sent(STAFF_TOKEN, chat_id=COUNSELLOR, contains="tidak ditemukan")


def _database_bytes(service: Service) -> bytes:
    path = Path(str(make_url(service.settings.database_url).database))
    return b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))


async def test_crisis_gets_the_safety_message_first_and_pages_the_counsellor(
    service: Service,
) -> None:
    api = service.api
    await register_counsellor(service)
    await consent(service)
    api.push_message(CLIENT_TOKEN, user_id=ASN, text="saya sudah tidak kuat, pengen bunuh diri aja")
    safety = await api.wait_for_sent(CLIENT_TOKEN, chat_id=ASN, contains="119")
    after_consent = [c["params"]["text"] for c in api.sent(CLIENT_TOKEN, chat_id=ASN)][2:]
    assert "Keselamatan" in after_consent[0], after_consent
    assert safety
    await api.wait_for_sent(STAFF_TOKEN, chat_id=COUNSELLOR, contains="KRISIS")
    # Unclaimed: paged again (5 minutes in production, shortened by the clock here).
    service.rt.svc.clock = _Shifted(service.rt.svc.clock, minutes=6)
    await api.wait_for_sent(STAFF_TOKEN, chat_id=COUNSELLOR, contains="KRISIS", count=2)


class _Shifted:
    def __init__(self, clock, minutes: int) -> None:
        self._clock, self._minutes = clock, minutes

    def now(self):
        from datetime import timedelta

        return self._clock.now() + timedelta(minutes=self._minutes)


async def test_nlu_down_asks_the_asn_to_choose_and_nothing_is_lost(service: Service) -> None:
    api = service.api
    service.classifier.category = None
    await consent(service)
    api.push_message(CLIENT_TOKEN, user_id=ASN, text="Saya bingung harus mulai dari mana")
    prompt = await api.wait_for_sent(CLIENT_TOKEN, chat_id=ASN, contains="mohon pilih topik")
    markup = str(prompt[-1]["params"].get("reply_markup"))
    for category in ("keluarga", "hukum", "gizi", "kesehatan_jiwa", "lainnya"):
        assert f"cat:{category}" in markup


async def test_refusing_consent_stores_nothing_and_bad_input_is_answered_kindly(
    service: Service,
) -> None:
    api = service.api
    api.push_message(CLIENT_TOKEN, user_id=ASN, text="/start")
    await api.wait_for_sent(CLIENT_TOKEN, chat_id=ASN, contains="Pemberitahuan privasi")
    api.push_callback(CLIENT_TOKEN, user_id=ASN, data="consent:no:id")
    await api.wait_for_sent(CLIENT_TOKEN, chat_id=ASN, contains="Tidak ada data yang kami simpan")
    api.push_message(CLIENT_TOKEN, user_id=ASN, text="halo")
    await api.wait_for_sent(CLIENT_TOKEN, chat_id=ASN, contains="Pemberitahuan privasi", count=2)
    async with service.rt.uow() as uow:
        assert await uow.clients.find(channel="telegram", external_id=str(ASN)) is None

    await consent(service)
    api.push_message(
        CLIENT_TOKEN,
        user_id=ASN,
        extra={
            "sticker": {
                "file_id": "x",
                "file_unique_id": "y",
                "type": "regular",
                "width": 1,
                "height": 1,
                "is_animated": False,
                "is_video": False,
            }
        },
    )
    await api.wait_for_sent(CLIENT_TOKEN, chat_id=ASN, contains="hanya dapat menerima pesan teks")
    api.push_message(CLIENT_TOKEN, user_id=ASN, text="x" * 4500)
    await api.wait_for_sent(CLIENT_TOKEN, chat_id=ASN, contains="terlalu panjang")
    update = {
        "update_id": 99999,
        "message": {
            "message_id": 5,
            "date": 1,
            "chat": {"id": ASN, "type": "private"},
            "from": {"id": ASN, "is_bot": False, "first_name": "A"},
            "text": "/status",
        },
    }
    api.push_update(CLIENT_TOKEN, update)
    api.push_update(CLIENT_TOKEN, update)
    api.push_update(CLIENT_TOKEN, update)
    await api.wait_for_sent(CLIENT_TOKEN, chat_id=ASN, contains="belum memiliki kasus")
    await asyncio.sleep(1.0)
    answers = [
        c
        for c in api.sent(CLIENT_TOKEN, chat_id=ASN)
        if "belum memiliki kasus" in c["params"].get("text", "")
    ]
    assert len(answers) == 1  # a replayed update has exactly one effect


async def test_telegram_429_is_honoured_and_the_message_still_arrives(service: Service) -> None:
    api = service.api
    api.fail_next("sendMessage", status=429, retry_after=2, token=CLIENT_TOKEN)
    api.push_message(CLIENT_TOKEN, user_id=ASN, text="/start")
    await api.wait_for_sent(CLIENT_TOKEN, chat_id=ASN, contains="Pemberitahuan privasi")
    attempts = [c for c in api.calls if c["method"] == "sendMessage" and c["token"] == CLIENT_TOKEN]
    assert [c["status"] for c in attempts] == [429, 200]
    assert attempts[1]["at"] - attempts[0]["at"] >= 2.0
