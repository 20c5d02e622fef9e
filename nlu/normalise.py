"""Normalise a chat message the way ASN type on their phones, for the crisis lexicon.

Case, accents, leetspeak, stretched letters ("matiii"), punctuation and common slang
(Indonesian, Javanese, SMS abbreviations) are folded so that one lexicon phrase covers
the many ways it is written. Pure standard library.
"""

from __future__ import annotations

import re
import string
import unicodedata

# Slang, abbreviations and Javanese words: each word on the right is read as the one on the left.
VARIANTS: dict[str, str] = {
    "ingin": (
        "pengen pgn pngn pngen pgen pengn pengin pingin pingen kepengen kepingin kepengin kpngn "
        "kpgn pengeen ingn pngin"
    ),
    "mau": "mo mw mao badhe bade",
    "tidak": (
        "gak ga nggak ngga enggak engga gk tdk tak ndak nda kagak gag gx ngak nggk gaak ora ra "
        "mboten boten"
    ),
    "saya": "sy sya aq ak aku gw gue gua gwe kulo kula",
    "banget": "bgt bngt bangett bgd",
    "saja": "aja aj ajah ajalah sj wae bae ae tok kemawon mawon",
    "sudah": "udh udah sdh dah uda udeh wis uwis",
    "karena": "krn karna krna soale",
    "dengan": "dgn dg",
    "yang": "yg yng",
    "tapi": "tp tpi",
    "lagi": "lg maneh neh malih",
    "kalau": "klo kalo kl",
    "jadi": "jd jdi",
    "untuk": "utk untk",
    "bisa": "bs",
    "belum": "blm",
    "masih": "msh",
    "sekarang": "skrg skrng",
    "terus": "trs trus",
    "orang tua": "ortu",
    "bagaimana": "gmn gmna gimana gmana bgmn",
    "kenapa": "knp knapa",
    "memang": "emg emang",
    "mending": "mendingan",
    "capek": "cape cpk cpek",
    "kuat": "kiat kiyat",
    "ada": "ana wonten",
    "dunia": "donya",
    "tangan": "asta",
    "sendiri": "piyambak dhewe dewe",
    "sampai": "nganti sampe",
    "dari": "saka",
    "ini": "iki",
    "semua": "kabeh",
    "maaf": "sepurane sepuntene ngapunten",
    "ya": "yo",
    "rumah": "omah",
    "orang": "org tiyang",
    "gunanya": "gunane",
    "artinya": "artine",
    # Javanese and slang words the crisis lexicon shares with Indonesian
    "hidup": "urip gesang",
    "mati": "pejah mokat modar",
    "bunuh diri": "bundir bunuhdiri bnhdiri",
}
SLANG: dict[str, str] = {
    variant: word for word, variants in VARIANTS.items() for variant in variants.split()
}

_LEET = str.maketrans(
    {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s"}
)
# ASCII punctuation (not the leet symbols @ and $) becomes a space; apostrophes vanish.
_PUNCTUATION = str.maketrans(
    {
        **{c: " " for c in string.punctuation if c not in "@$'`"},
        **{i: " " for i in (*range(32), 127)},  # control characters
        "'": None,
        "`": None,
        "\u2018": None,
        "\u2019": None,
        **dict.fromkeys(("\u200b", "\u200c", "\u200d", "\u2060", "\ufeff")),  # zero-width
    }
)
_NON_ASCII = re.compile(r"[^\x00-\x7f]+")
_ACCENTS = re.compile(r"[\u0300-\u036f]+")  # combining marks left by NFD: "é" is "e" + U+0301
_LEETISH = re.compile(r"[0-9@$]")
_NUMBER = re.compile(r"\d{2,}")
_UNIT = re.compile(r"[a-z]{1,2}\d")  # "rp4", "no5", "km3"
# Three or more of a letter ("matiii"), or a doubled last letter ("ajaa"), is one; not "ee",
# "ll", "ss" or "ff", which end words ("see", "kill", "less", "off").
_STRETCH = re.compile(r"([a-z])\1(?:\1+|(?<=[aiuohkgnty])\b)")


def normalise(text: str) -> str:
    """Lower-case, accent-free, de-leeted, de-stretched, slang-expanded single-spaced text."""
    text = unicodedata.normalize("NFKC", text).casefold().translate(_PUNCTUATION)
    if not text.isascii():
        text = unicodedata.normalize("NFD", text)  # "≠" can decompose into "=" and a mark
        text = _NON_ASCII.sub(" ", _ACCENTS.sub("", text)).translate(_PUNCTUATION)
    text = _STRETCH.sub(r"\1", text)
    if _LEETISH.search(text) is not None:
        text = _unleet_words(text)
    words = text.split()
    return " ".join(map(SLANG.get, words, words))


def _unleet_words(text: str) -> str:
    """Apply _unleet to each space-separated word holding a digit, "@" or "$"."""
    parts, done = [], 0
    for match in _LEETISH.finditer(text):
        if match.start() < done:
            continue
        start = text.rfind(" ", 0, match.start()) + 1
        end = text.find(" ", match.end())
        end = len(text) if end < 0 else end
        parts += [text[done:start], _unleet(text[start:end])]
        done = end
    parts.append(text[done:])
    return "".join(parts)


def _unleet(word: str) -> str:
    """Read digits as letters inside words ("bun0h d1r1"), never in numbers ("pukul 10")."""
    if _NUMBER.search(word) or _UNIT.fullmatch(word) or not any(c.isalpha() for c in word):
        return _fold(word.replace("@", "").replace("$", ""))  # a bare "@" or "$" is dropped
    word = word.translate(_LEET)
    if len(word) > 3 and word.endswith("2") and word[:-1].isalpha():
        half = _fold(word[:-1])
        return f"{half} {half}"  # "anak2" is "anak anak"
    return _fold(word)


def _fold(word: str) -> str:
    word = _STRETCH.sub(r"\1", word)
    return SLANG.get(word, word)
