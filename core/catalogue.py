"""Message catalogues: every user-facing sentence lives in core/locales/<locale>.json."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

DEFAULT_LOCALE = "id"
LOCALES = ("id", "en")
_DIR = Path(__file__).parent / "locales"


@cache
def _load(locale: str) -> dict[str, str]:
    data: dict[str, str] = json.loads((_DIR / f"{locale}.json").read_text(encoding="utf-8"))
    return data


def text(key: str, locale: str = DEFAULT_LOCALE, /, **values: Any) -> str:
    """The sentence for key in locale (Indonesian when the locale or key is unknown)."""
    chosen = locale if locale in LOCALES else DEFAULT_LOCALE
    template = _load(chosen).get(key) or _load(DEFAULT_LOCALE)[key]
    return template.format(**values)


def keys(locale: str) -> frozenset[str]:
    return frozenset(_load(locale))
