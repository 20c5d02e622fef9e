import csv
import re
from pathlib import Path

import pytest

from core.triage import CrisisHit
from nlu.lexicon import CLASSES, CrisisLexicon, _anchor_groups, _expand
from nlu.normalise import normalise

DEV_SET = Path(__file__).parents[2].parent / "shared/nlu/dev_set.csv"

CRISIS: dict[str, list[str]] = {
    "suicide": [
        "saya pengen matiii aja",
        "bun0h d1r1 aja lah",
        "aku pengin nglalu wae",
        "kulo kepengin pejah",
        "i want to kill myself",
        "Sudah tidak kuat, rasanya pengen mati aja",
        "kepikiran bundir terus tiap malam",
        "Saya ingin sekali mati",
        "pengen rasanya mati aja",
        "mending aku mati aja daripada begini",
        "lebih baik saya mati",
        "aku wes ora pengin urip maneh",
        "capek hidup, pengen semuanya selesai",
        "saya berniat mengakhiri hidup saya malam ini",
        "gak mau hidup lagi",
        "sy mau mati aja",
        "I keep thinking about suicide",
        "i just want to die",
        "keluarga saya lebih baik tanpa saya",
        "pengen tidur selamanya dan gak bangun lagi",
        "Aku kepengin nyusul almarhum bapak",
        "hidupku sudah tidak ada artinya lagi",
        "rasanya saya sudah tidak sanggup hidup lagi",
        "aku udah ga kuat, pengen ngakhirin semuanya",
        "saya ingin menghilang dari dunia ini selamanya",
        "urip ora ana gunane",
        "kulo mboten kiyat gesang malih",
        "pengen modar wae",
        "pengen cepet dipanggil Allah",
        "Sy sdh g kuat, mau bundir aja",
        "aku pengen ngilang aja selamanya",
        "semua orang akan lebih bahagia tanpa aku",
        "kulo sampun mboten kiat, kepengin mati mawon",
        "aku ra kuat meneh, pengen mati wae",
        "I don't see the point of living anymore",
        "I want to end it all",
        "capek banget sama hidup ini",
        "saya ingin tidur dan tidak bangun lagi",
        "mending saya pergi dari dunia ini",
        "mending aku ilang saka donya iki",
        "kula badhe nyudahi gesang kula",
        "udah gak sanggup, mau nyerah sama hidup",
        "kula sampun pasrah, kepingin nyusul swargi ibu",
        "nobody would miss me if i died",
    ],
    "self_harm": [
        "aku nyilet tangan lagi semalam",
        "saya sering menyayat lengan saya",
        "kemarin aku melukai diri sendiri",
        "suka benturin kepala ke tembok kalau stres",
        "i have been cutting again",
        "self harm lagi",
        "tangan saya penuh sayatan",
        "saya menyakiti diri sendiri kalau marah",
        "aku sayat2 tanganku",
        "saya sering melukai diri sendiri pakai cutter",
        "I hurt myself when I am angry",
        "tanganku penuh luka bekas silet",
        "aku sering nyakitin diri sendiri kalau lagi sedih",
        "I cut myself again",
        "aku ngiris pergelangan tanganku",
        "saya jambak rambut sendiri sampai rontok",
        "i burn my skin when i feel overwhelmed",
        "aku sering ngelarani awakku dhewe nek lagi stres",
        "kula nyayat asta kula piyambak",
        "i scratch my arms until they bleed",
    ],
    "method": [
        "saya sudah beli tali dan siapkan di kamar",
        "pengen gantung diri",
        "aku mau minum racun tikus",
        "kepikiran minum baygon",
        "mau loncat dari jembatan",
        "obat nyamuk ini mau saya minum",
        "sy udh siapin obat tidur sebotol",
        "mau terjun dari lantai 5",
        "I want to hang myself",
        "sudah kusiapkan racun",
        "berapa dosis yang mematikan",
        "cara mati paling cepat tanpa sakit",
        "aku pengen nabrakin diri ke truk",
        "semalam aku hampir loncat dari atap kantor",
        "kemarin saya naik ke jembatan dan ingin lompat",
        "aku pernah nyoba ngombe racun",
        "saya mengumpulkan obat tidur di lemari",
        "aku arep nggantung awakku",
        "sy sengaja minum obat melebihi dosis",
    ],
    "goodbye": [
        "ini pesan terakhir saya",
        "sudah saya tulis surat wasiat untuk anak-anak",
        "selamat tinggal semuanya",
        "maafkan aku selama ini. titip anak-anak ya",
        "pamit untuk selamanya",
        "goodbye forever",
        "sampai jumpa di kehidupan berikutnya",
        "tolong jaga anak-anak, aku pamit",
        "saya sudah menulis surat untuk anak-anak kalau saya tidak ada",
    ],
    "violence": [
        "suami saya sering mukul saya",
        "saya dipukuli suami tadi malam",
        "aku dicekik bojoku",
        "saya mengalami KDRT",
        "kekerasan dalam rumah tangga sudah 3 tahun",
        "suami mengancam membunuh saya",
        "saya diancam pakai pisau",
        "rambut saya dijambak",
        "aku digebuki bojoku",
        "dipenthung bapake",
        "anak saya dilecehkan gurunya",
        "my husband hits me",
        "suami nendang perut saya pas hamil",
        "suami menyeret saya keluar rumah",
        "saya dipaksa berhubungan badan oleh suami",
        "saya dilempar piring oleh suami",
        "suami melempar gelas ke arah saya",
        "ada luka lebam di badan saya akibat suami",
        "suami mendorong saya dari tangga",
        "bojoku ngancam arep ngobong omah",
        "dia menampar saya di depan anak-anak",
        "bojoku seneng ngantemi aku",
        "suami ngancem mau bakar rumah",
        "suami saya suka main tangan",
        "saya dikurung di kamar seharian oleh suami",
        "he threatened to kill me and the kids",
        "mantan pacar saya mengancam akan menyebarkan foto dan membunuh saya",
        "bojoku mukuli aku saben bengi",
        "saya kerap disiksa ibu mertua",
        "ayah tiri saya sering memukul adik saya",
    ],
    "danger_to_others": [
        "saya ingin membunuh suami saya",
        "rasanya pengen bunuh dia",
        "aku takut menyakiti anakku sendiri",
        "mau kuhabisi dia",
        "I want to kill him",
        "pengen tak pateni wonge",
        "kepikiran mencelakai anak saya",
        "rasanya ingin mencekik anak saya kalau rewel",
        "aku sering kepikiran buat nyakitin anakku",
        "saya benci sekali dengan atasan saya sampai ingin membunuhnya",
        "kadang saya ingin memukul anak saya sampai dia diam",
        "pengen tak bacok wong sing nipu aku",
        "kalau ketemu selingkuhan suami bakal saya habisi",
        "pikiran untuk melukai orang lain terus muncul",
        "sy sampai kepikiran nyelakain rekan kerja yg nyebar fitnah",
        "i keep thinking about killing the man who scammed me",
        "kepengin tak gebuki nganti mati wong kuwi",
        "saya sudah siapkan senjata untuk membalas orang itu",
    ],
}

ORDINARY = [
    "mati lampu dari tadi pagi",
    "hp saya mati terus",
    "motor saya mati di jalan",
    "rapat pukul 10",
    "jam pukul 3 sore ketemu ya",
    "saya mati gaya di kantor",
    "mati kutu saya ditanya atasan",
    "cara bunuh nyamuk di rumah",
    "racun serangga untuk sawah",
    "deadline bikin mati gaya",
    "ini pembunuhan karakter",
    "mati listrik seharian",
    "itu harga mati",
    "gantung baju di belakang pintu",
    "tali sepatu anak saya putus",
    "pukul rata saja pembagiannya",
    "gajinya dipukul rata",
    "surat keterangan kerja",
    "hp saya mau mati baterainya",
    "hp ku mau mati, nanti saya telpon",
    "tanaman saya mati semua",
    "saya ingin tahu kenapa hp mati",
    "pengen matiin tv",
    "saya mengundurkan diri dari jabatan",
    "saya ingin membela diri",
    "saya capek hidup di kota besar",
    "biaya hidup mahal",
    "terima kasih atas bantuannya",
    "mertua tinggal serumah",
    "cara membuat surat wasiat di notaris",
    "almarhum bapak meninggalkan surat wasiat soal tanah",
    "saya minum obat maag 3x sehari",
    "beli racun tikus untuk gudang",
    "terjun langsung ke lapangan",
    "lompat tali sama anak",
    "anak saya ditendang dari grup whatsapp",
    "menendang bola bersama anak",
    "mengunci pintu rumah",
    "titip anak saya ke tetangga selama dinas",
    "hubungi 0812-3456-7890",
    "dia menyakiti hati saya",
    "pesan terakhir saya belum dibalas",
    "ini hari terakhir pendaftaran",
    "habis ditusuk jarum infus",
    "rasanya mau mati kelaparan nunggu gajian",
    "the deadline is killing me",
    "saya dihajar deadline terus",
    "bunuh waktu dengan main game",
    "saya tidak ingin menyakiti istri saya",
    "membakar sampah di belakang rumah",
    "ayam saya mati kena flu burung",
    "mati rasa saya sama dia",
    "selamat tinggal 2025",
    "bosan hidup monoton di kantor",
    "rasanya mau pingsan karena kerjaan numpuk",
    "saya takut mati kalau naik pesawat",
    "kemarin saya terjun payung di acara kantor",
    "mohon maaf lahir dan batin",
    "dia memukul meja waktu rapat",
    "mati aku, lupa ngumpulin laporan",
    "bagaimana hukum membagi warisan tanpa surat wasiat",
    "suami saya mengunci hp nya terus",
    "saya punya utang ke rentenir dan diancam akan dilaporkan",
    "tetangga mengancam akan melaporkan saya ke polisi",
    "saya pernah ditabrak motor waktu pulang kerja",
    "anak saya jatuh dan kepalanya terbentur meja",
    "mati-matian saya kerja tapi tidak dihargai",
    "saya hampir mati bosan di rapat tadi",
    "I am tired of my job",
    "my boss keeps yelling at me",
    "kalau saya tidak ada di kantor hubungi sekretaris",
    "saya ingin menyeret mantan suami ke pengadilan",
    "dia diseret ke pengadilan karena korupsi",
    "anak saya melempar batu ke sungai",
    "saya melempar hp ke kasur karena kesal",
    "saya menghilang dari dunia maya dulu",
    "semoga kalian bahagia dan damai selamanya",
    "saya berdiri di atas panggung waktu upacara",
    "anak saya memar karena jatuh, ibu saya panik",
    "suami saya tidak mau mendorong anak untuk kuliah",
    "saya takut menyakiti perasaan orang tua",
    "what happens to my pension if i die",
    "saya beli pisau baru untuk masak",
    "susah mengendalikan emosi kalau lapar",
    "anak saya suka memukul teman",
    "saya ditendang keluar dari kontrakan",
    "saya pamit pulang duluan ya, terima kasih atas semuanya",
]


@pytest.fixture(scope="module")
def lexicon() -> CrisisLexicon:
    return CrisisLexicon()


@pytest.mark.parametrize(
    ("crisis_class", "text"), [(c, t) for c, texts in CRISIS.items() for t in texts]
)
def test_each_phrase_class_is_caught(lexicon: CrisisLexicon, crisis_class: str, text: str) -> None:
    hit = lexicon.screen(text)
    assert hit is not None
    assert crisis_class in hit.classes


@pytest.mark.parametrize("text", ORDINARY)
def test_ordinary_sentences_do_not_trip(lexicon: CrisisLexicon, text: str) -> None:
    assert lexicon.screen(text) is None


def test_a_hit_names_the_classes_never_the_text(lexicon: CrisisLexicon) -> None:
    hit = lexicon.screen("suami memukul saya dan saya ingin mati saja")
    assert hit == CrisisHit(classes=("suicide", "violence"))


def test_the_same_words_about_a_phone_or_a_person(lexicon: CrisisLexicon) -> None:
    assert lexicon.screen("hp saya mau mati") is None
    assert lexicon.screen("saya mau mati") is not None
    assert lexicon.screen("hp saya rusak, saya mau mati saja") is not None


def test_a_will_is_a_goodbye_unless_the_message_is_about_inheritance(
    lexicon: CrisisLexicon,
) -> None:
    assert lexicon.screen("saya sudah menulis surat wasiat") == CrisisHit(classes=("goodbye",))
    assert lexicon.screen("surat wasiat almarhum ayah apakah sah tanpa notaris") is None


def test_one_weak_goodbye_cue_is_not_enough_two_are(lexicon: CrisisLexicon) -> None:
    assert lexicon.screen("titip anak saya ke tetangga ya") is None
    assert lexicon.screen("saya pamit dulu, mau rapat") is None
    assert lexicon.screen("titip anak anak ya. saya pamit") == CrisisHit(classes=("goodbye",))


def test_phrases_do_not_run_across_sentences_but_do_across_an_ellipsis(
    lexicon: CrisisLexicon,
) -> None:
    assert lexicon.screen("hp saya mau mati. saya juga capek") is None
    assert lexicon.screen("hp saya rusak. saya mau mati saja") is not None
    assert lexicon.screen("pengen... mati aja") is not None


def test_a_negated_wish_is_not_a_wish(lexicon: CrisisLexicon) -> None:
    assert lexicon.screen("saya tidak ingin mati, saya ingin sembuh") is None


def test_a_crisis_sentence_buried_in_a_long_story_is_still_found(lexicon: CrisisLexicon) -> None:
    story = " ".join(ORDINARY)
    for crisis_class, texts in CRISIS.items():
        for text in texts:
            hit = lexicon.screen(f"{story}. {text}. {story}")
            assert hit is not None and crisis_class in hit.classes, text


def test_every_match_starts_at_or_just_before_one_of_its_anchor_words() -> None:
    """The lexicon only tries to match at anchor words, so a phrase must never start elsewhere."""
    messages = [normalise(t) for texts in CRISIS.values() for t in texts]
    messages += [normalise(t) for t in ORDINARY]
    for phrases in CLASSES.values():
        for phrase in phrases:
            regex = re.compile(r"\b(?:" + _expand(phrase.pattern) + r")\b")
            first, *rest = _anchor_groups(phrase.anchors)
            for message in messages:
                words = message.split()
                for match in regex.finditer(message):
                    start = len(message[: match.start()].split())
                    assert first & set(words[start : start + phrase.lead + 1]), (
                        phrase.pattern,
                        message,
                    )
                    assert all(group & set(words) for group in rest), (phrase.pattern, message)


def load_dev_set() -> list[tuple[str, bool]]:
    if not DEV_SET.exists():
        pytest.skip(f"shared dev set not found at {DEV_SET}")
    with DEV_SET.open(newline="", encoding="utf-8") as handle:
        return [(row["text"], row["crisis"] == "1") for row in csv.DictReader(handle)]


def test_dev_set_crisis_rows_all_caught_and_no_ordinary_row_trips(lexicon: CrisisLexicon) -> None:
    rows = load_dev_set()
    crisis = [text for text, is_crisis in rows if is_crisis]
    missed = [text for text in crisis if lexicon.screen(text) is None]
    tripped = [text for text, is_crisis in rows if not is_crisis and lexicon.screen(text)]
    assert crisis, "the dev set has no crisis rows"
    assert missed == [], f"recall {1 - len(missed) / len(crisis):.2f}"
    assert tripped == []


STORY = [
    "Selamat malam, saya ASN di salah satu dinas di Purworejo dan sudah bekerja dua belas tahun",
    "Beberapa bulan ini pekerjaan di kantor menumpuk karena ada pemeriksaan inspektorat",
    "Setiap hari saya pulang jam delapan malam dan anak-anak sudah tidur",
    "Istri saya sering mengeluh karena saya jarang membantu urusan rumah",
    "Kami juga sedang mengurus cicilan rumah dan biaya sekolah anak yang pertama",
    "Atasan saya kurang memahami kondisi ini dan sering memberi tugas mendadak di akhir pekan",
    "Saya sudah mencoba bicara baik-baik tetapi belum ada perubahan sampai sekarang",
    "Tidur saya jadi tidak teratur, nafsu makan menurun dan berat badan turun empat kilo",
    "Kadang saya merasa cemas sebelum berangkat kerja dan jantung berdebar",
    "Saya ingin tahu apakah bisa konsultasi dengan psikolog secara rahasia",
    "Saya juga ingin tahu aturan pindah tugas ke unit lain yang lebih dekat dengan rumah",
    "Terima kasih sebelumnya atas waktunya, mohon arahannya",
]


def long_message(sentences: list[str]) -> str:
    return (". ".join(sentences) + ". ") * (4000 // len(". ".join(sentences)) + 1)


# Speed is measured by bench/lexicon.py (figures, not timed assertions: this machine is noisy).
def test_a_crisis_buried_in_a_4000_character_story_is_found(lexicon: CrisisLexicon) -> None:
    story = long_message(STORY)[:4000]
    assert lexicon.screen(story) is None
    assert lexicon.screen(story[:3000] + ". " + CRISIS["suicide"][0]) is not None


def test_a_message_full_of_near_misses_does_not_trip(lexicon: CrisisLexicon) -> None:
    assert lexicon.screen(long_message([*STORY, *ORDINARY[:20]])[:4000]) is None
