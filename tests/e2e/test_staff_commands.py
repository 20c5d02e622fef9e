"""Every staff bot command, through real aiogram and the fake Bot API, answers as /bantuan says."""

from __future__ import annotations

from core.model import Role
from core.usecases.staffing import create_invite
from tests.e2e.conftest import CLIENT_TOKEN, STAFF_TOKEN, Service
from tests.e2e.test_telegram_journey import (
    ASN,
    COUNSELLOR,
    consent,
    open_case,
    register_counsellor,
)

NOTE = "KANARI-CATATAN-5120 klien tampak lelah"
REPLY = "KANARI-BALASAN-3381"
SUPERVISOR, ADMIN = 800300499, 800300498
OTHER = 700100299  # a second ASN


def texts(service: Service, user_id: int) -> list[str]:
    return [str(c["params"].get("text")) for c in service.api.sent(STAFF_TOKEN, chat_id=user_id)]


async def ask(service: Service, command: str, answer: str, user_id: int = COUNSELLOR) -> str:
    """Send one command; the staff bot's next message to that chat, which must contain answer."""
    before = len(service.api.sent(STAFF_TOKEN, chat_id=user_id))
    service.api.push_message(STAFF_TOKEN, user_id=user_id, text=command)
    await service.api.wait_for_sent(STAFF_TOKEN, chat_id=user_id, count=before + 1)
    said = texts(service, user_id)[before]
    assert answer in said, (command, said)
    return said


async def test_each_command_and_its_alias_answers(service: Service) -> None:
    await register_counsellor(service)
    await consent(service)
    code = await open_case(service)
    api = service.api

    for command in ("/bantuan", "/help", "/tidakada"):  # an unknown command gets the help
        said = await ask(service, command, "Perintah petugas")
        assert "/kasus" in said and "/alihkan" in said
    await ask(service, "/kasus", "tidak sedang menangani")
    await ask(service, "/queue", f"{code} - Kesehatan jiwa - Telegram - dalam antrean")
    await ask(service, f"/claim {code.lower()}", f"Kasus {code} sekarang Anda tangani")
    await ask(service, "/cases", f"{code} - Kesehatan jiwa - Telegram - sedang ditangani")

    await ask(service, f"/balas {code}", "Format perintah: /balas KODE pesan")
    await ask(service, f"/reply {code} Selamat pagi. {REPLY}", f"Terkirim ke klien kasus {code}")
    await api.wait_for_sent(CLIENT_TOKEN, chat_id=ASN, contains=REPLY)

    await ask(service, "/catatan", "Format perintah: /catatan KODE teks")
    await ask(service, f"/catatan {code} {NOTE}", f"Catatan internal disimpan untuk kasus {code}")
    await ask(service, f"/baca {code} respond", NOTE)  # the note is in the case's record
    assert not [c for c in api.sent(CLIENT_TOKEN, chat_id=ASN) if NOTE in str(c["params"])]

    await ask(service, "/statistik", "tidak berwenang")  # a counsellor sees no statistics
    await ask(service, "/istirahat", "Anda sekarang istirahat")
    await ask(service, "/onduty", "Anda sekarang bertugas")

    await ask(service, f"/alihkan {code} gizi", "Format perintah: /alihkan KODE ANTREAN alasan")
    await ask(service, f"/alihkan {code} entahlah butuh ahli", "tidak ditemukan")
    await ask(service, f"/pindah {code} gizi lebih tepat ke ahli gizi", "dipindahkan ke antrean")
    await ask(service, "/kasus", "tidak sedang menangani")  # no longer this counsellor's
    await ask(service, "Masih di sana?", "Belum ada kasus aktif")  # and no longer the current one


async def join(service: Service, user_id: int, role: Role, queue: str, name: str) -> None:
    issued = await create_invite(
        uow=service.rt.uow(), role=role, queue_codes=[queue], clock=service.rt.clock
    )
    service.api.push_message(
        STAFF_TOKEN, user_id=user_id, first_name=name, text=f"/start {issued.code}"
    )
    await service.api.wait_for_sent(
        STAFF_TOKEN, chat_id=user_id, contains=f"Selamat bergabung, {name}"
    )


def cases_total(said: str) -> str:
    """The total of the cases section ("Kasus per bulan menurut topik")."""
    section = said.split("Kasus per bulan menurut topik\n")[1].split("Per bulan:")[0]
    return section.strip().splitlines()[-1]


async def test_statistics_in_the_staff_bot_show_what_the_dashboard_shows_the_viewer(
    service: Service,
) -> None:
    """An admin sees every partner; a supervisor only their own partner, as on the web."""
    await join(service, ADMIN, Role.ADMIN, "psikologi", "Budi")
    await join(service, SUPERVISOR, Role.SUPERVISOR, "hukum", "Sari")
    await consent(service)
    await open_case(service)  # Kesehatan jiwa: the psikolog partner's queue, not hukum's

    admin = await ask(service, "/statistik", "Statistik layanan Sapa ASN", user_id=ADMIN)
    assert "12 bulan terakhir" in admin and "Semua mitra" in admin
    assert cases_total(admin) == "- Jumlah seluruhnya: <5"  # one case, suppressed
    assert "- Kesehatan jiwa: <5" in admin and "kesehatan_jiwa" not in admin

    mine = await ask(service, "/stats", "Statistik layanan Sapa ASN", user_id=SUPERVISOR)
    assert "Hanya mitra Bapak/Ibu (antrean: hukum)" in mine
    assert cases_total(mine) == "- Jumlah seluruhnya: 0"  # the other partner's case is not here
    for said in (admin, mine):
        assert '"<5" berarti angka disembunyikan' in said and "dasbor web (/admin)" in said
        assert "not_given" not in said and "Tidak diisi" in said  # labels, not codes


async def test_a_long_message_reaches_the_counsellor_whole_in_the_transcript(
    service: Service,
) -> None:
    api = service.api
    await register_counsellor(service)
    await consent(service)
    code = await open_case(service)
    await ask(service, f"/ambil {code}", "sekarang Anda tangani")
    end = "UJUNG-KANARI-7731"
    long = "kata " * 790 + end  # 3,967 characters: under the 4,000 an ASN may send
    api.push_message(CLIENT_TOKEN, user_id=ASN, text=long)
    relayed = await api.wait_for_sent(STAFF_TOKEN, chat_id=COUNSELLOR, contains=end)

    api.push_message(STAFF_TOKEN, user_id=COUNSELLOR, text=f"/transkrip {code} respond")
    await api.wait_for_sent(STAFF_TOKEN, chat_id=COUNSELLOR, contains=end, count=len(relayed) + 1)
    transcript = "\n".join(texts(service, COUNSELLOR)).split("pembacaan ini dicatat")[-1]
    assert long in transcript.replace("\n", " ")  # every word, in order, none cut off


def replying_to(quoted: str) -> dict[str, object]:
    """A Telegram reply ("reply_to_message") to one of the staff bot's messages."""
    bot = {"id": 5000, "is_bot": True, "first_name": "Sapa Staf"}
    chat = {"id": COUNSELLOR, "type": "private"}
    message = {"message_id": 1, "date": 1, "chat": chat, "from": bot, "text": quoted}
    return {"reply_to_message": message}


async def test_a_reply_goes_to_the_case_its_message_names_and_never_to_a_guess(
    service: Service,
) -> None:
    api = service.api
    await register_counsellor(service)
    await consent(service)
    first = await open_case(service)
    await consent(service, user_id=OTHER)
    second = await open_case(service, user_id=OTHER, text="Saya butuh teman bicara")
    await ask(service, f"/ambil {first}", "sekarang Anda tangani")
    await ask(service, f"/ambil {second}", "sekarang Anda tangani")  # the current case now

    api.push_message(CLIENT_TOKEN, user_id=ASN, text="Apakah Ibu masih di sana?")
    relayed = await api.wait_for_sent(STAFF_TOKEN, chat_id=COUNSELLOR, contains="masih di sana")
    quoted = relayed[-1]["params"]["text"]
    assert quoted.startswith(f"Pesan baru pada kasus {first}")
    api.push_message(STAFF_TOKEN, user_id=COUNSELLOR, text=REPLY, extra=replying_to(quoted))
    await api.wait_for_sent(CLIENT_TOKEN, chat_id=ASN, contains=REPLY)
    await api.wait_for_sent(STAFF_TOKEN, chat_id=COUNSELLOR, contains=f"klien kasus {first}")

    listing = await ask(service, "/kasus", "Kasus yang sedang Anda tangani:")
    assert first in listing and second in listing
    wrong = "KANARI-SALAH-ALAMAT-2207"
    api.push_message(STAFF_TOKEN, user_id=COUNSELLOR, text=wrong, extra=replying_to(listing))
    await api.wait_for_sent(STAFF_TOKEN, chat_id=COUNSELLOR, contains="tidak menyebut satu kasus")

    await ask(service, f"/catatan {first} {NOTE}", "Catatan internal disimpan")
    api.push_message(CLIENT_TOKEN, user_id=ASN, text="kata " * 790 + "akhir")  # a second part
    await api.wait_for_sent(STAFF_TOKEN, chat_id=COUNSELLOR, contains="kata akhir")
    before = len(texts(service, COUNSELLOR))
    api.push_message(STAFF_TOKEN, user_id=COUNSELLOR, text=f"/transkrip {first} respond")
    await api.wait_for_sent(STAFF_TOKEN, chat_id=COUNSELLOR, count=before + 2)
    parts = texts(service, COUNSELLOR)[before:]
    header = f"Percakapan kasus {first} (pembacaan ini dicatat):"
    assert len(parts) == 2 and all(p.startswith(header + "\n") for p in parts)
    assert " WIB] Klien: Apakah Ibu masih di sana?" in parts[0]
    assert f" WIB] Rina (catatan internal): {NOTE}" in parts[0]  # never taken for a reply
    later = "KANARI-BAGIAN-DUA-6154"
    api.push_message(STAFF_TOKEN, user_id=COUNSELLOR, text=later, extra=replying_to(parts[1]))
    await api.wait_for_sent(CLIENT_TOKEN, chat_id=ASN, contains=later)
    await api.wait_for_sent(
        STAFF_TOKEN, chat_id=COUNSELLOR, contains=f"klien kasus {first}", count=2
    )

    for canary in (wrong, later, REPLY):
        assert not [c for c in api.sent(CLIENT_TOKEN, chat_id=OTHER) if canary in str(c)]
    assert not [c for c in api.sent(CLIENT_TOKEN, chat_id=ASN) if wrong in str(c)]
