import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nlu.normalise import normalise


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("SAYA Capek", "saya capek"),
        ("Café résumé naïve", "cafe resume naive"),
        ("ｐｅｎｇｅｎ", "ingin"),  # full-width letters fold under NFKC
        ("  banyak   spasi\tdan\nbaris  ", "banyak spasi dan baris"),
        ("", ""),
        ("?!... 😭😭", ""),
    ],
)
def test_case_accents_width_and_whitespace_are_folded(text: str, expected: str) -> None:
    assert normalise(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("matiii", "mati"),
        ("pengeeen mati", "ingin mati"),
        ("capeeeek bangeeet", "capek banget"),
        ("ajaa", "saja"),  # a doubled last vowel is a stretch too
        ("sudahh", "sudah"),
        ("tolooong", "tolong"),
    ],
)
def test_stretched_letters_collapse(text: str, expected: str) -> None:
    assert normalise(text) == expected


@pytest.mark.parametrize(
    "text",
    ["bakkar", "kakak", "saat", "maaf", "jujur", "ngga", "teh", "kill", "anggaran", "sukses"],
)
def test_ordinary_double_letters_inside_words_are_kept(text: str) -> None:
    assert normalise(text).replace("tidak", "ngga") == text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("bun0h d1r1", "bunoh diri"),
        ("m4t1", "mati"),
        ("p3ng3n m4ti", "ingin mati"),
        ("r@cun", "racun"),
        ("$ilet", "silet"),
        ("k1ll mys3lf", "kill myself"),
    ],
)
def test_leetspeak_inside_words_is_read_as_letters(text: str, expected: str) -> None:
    assert normalise(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("rapat pukul 10", "rapat pukul 10"),
        ("jam 3 sore", "jam 3 sore"),
        ("hubungi 0812-3456-7890", "hubungi 0812 3456 7890"),
        ("gaji Rp4.500.000", "gaji rp4 500 000"),
        ("tahun 2024", "tahun 2024"),
        ("lantai 5", "lantai 5"),
        ("email saya @ kantor", "email saya kantor"),
    ],
)
def test_numbers_are_never_turned_into_letters(text: str, expected: str) -> None:
    assert normalise(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("pengen", "ingin"),
        ("pgn", "ingin"),
        ("pingin", "ingin"),
        ("kepengin", "ingin"),
        ("gak", "tidak"),
        ("nggak", "tidak"),
        ("enggak", "tidak"),
        ("tdk", "tidak"),
        ("ora", "tidak"),
        ("bgt", "banget"),
        ("yg", "yang"),
        ("dgn", "dengan"),
        ("krn", "karena"),
        ("karna", "karena"),
        ("bundir", "bunuh diri"),
        ("udh", "sudah"),
        ("sdh", "sudah"),
        ("aja", "saja"),
        ("wae", "saja"),
        ("mo", "mau"),
        ("sy", "saya"),
        ("aku", "saya"),
        ("gw", "saya"),
        ("kulo", "saya"),
        ("urip", "hidup"),
        ("pejah", "mati"),
    ],
)
def test_slang_and_abbreviations_are_expanded(text: str, expected: str) -> None:
    assert normalise(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Aku pengin nglalu wae", "saya ingin nglalu saja"),
        ("kulo kepengin pejah", "saya ingin mati"),
        ("Ora pengin urip maneh", "tidak ingin hidup lagi"),
        ("sy udh gk kuat, pgn bundir aja!!!", "saya sudah tidak kuat ingin bunuh diri saja"),
        ("I don't want to live", "i dont want to live"),
        ("anak2 saya", "anak anak saya"),
        ("anak-anak saya", "anak anak saya"),
    ],
)
def test_whole_messages(text: str, expected: str) -> None:
    assert normalise(text) == expected


def test_zero_width_characters_cannot_split_a_word() -> None:
    assert normalise("bun\u200buh d\u200biri") == "bunuh diri"


@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=200))
def test_output_is_plain_single_spaced_words(text: str) -> None:
    assert re.fullmatch(r"(?:[a-z0-9]+(?: [a-z0-9]+)*)?", normalise(text))


@given(st.text(alphabet="abeikmnoprstuy013457@$2 .!-'", max_size=80))
def test_normalising_twice_changes_nothing(text: str) -> None:
    once = normalise(text)
    assert normalise(once) == once
