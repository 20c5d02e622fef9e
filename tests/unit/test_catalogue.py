"""Every sentence exists in Indonesian and English, with the same placeholders."""

import ast
import json
import re
from pathlib import Path
from string import Formatter

import pytest

from core import catalogue
from core.triage import CASE_CATEGORIES

CORE = Path(__file__).resolve().parents[2] / "core"
SENTENCES = {
    locale: json.loads((CORE / "locales" / f"{locale}.json").read_text(encoding="utf-8"))
    for locale in catalogue.LOCALES
}
KEY = re.compile(
    r"^(category|intake|case|crisis|staff|staffbot|client|status|input|error|wait|service|web|console|stats)\.[a-z_]*[a-z]$"
)


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in Formatter().parse(template) if name is not None}


NAMES = {"channel.telegram", "channel.whatsapp"}  # the same in every language


def keys_used_in_core() -> set[str]:
    used = set()
    for path in CORE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and KEY.match(str(node.value)):
                used.add(str(node.value))
    return used | {f"category.{c.value}" for c in CASE_CATEGORIES}


def test_both_locales_have_the_same_keys() -> None:
    assert catalogue.keys("id") == catalogue.keys("en")


@pytest.mark.parametrize("key", sorted(catalogue.keys("id")))
def test_each_sentence_has_the_same_placeholders_in_both_locales(key: str) -> None:
    indonesian = SENTENCES["id"][key]
    english = SENTENCES["en"][key]
    assert placeholders(indonesian) == placeholders(english)
    assert indonesian.strip() and english.strip()
    assert indonesian != english or key in NAMES, "untranslated"


@pytest.mark.parametrize("key", sorted(catalogue.keys("id")))
@pytest.mark.parametrize("locale", catalogue.LOCALES)
def test_each_sentence_renders_with_its_placeholders(key: str, locale: str) -> None:
    values = {name: f"<{name}>" for name in placeholders(SENTENCES[locale][key])}
    rendered = catalogue.text(key, locale, **values)
    assert all(f"<{name}>" in rendered for name in values)


def test_every_key_the_core_uses_exists() -> None:
    used = keys_used_in_core()
    assert "crisis.safety" in used and "input.too_long" in used
    assert used <= catalogue.keys("id")


def test_an_unknown_locale_falls_back_to_indonesian() -> None:
    assert catalogue.text("error.not_found", "jv") == catalogue.text("error.not_found", "id")


def test_an_unknown_key_is_an_error_not_a_blank_message() -> None:
    with pytest.raises(KeyError):
        catalogue.text("case.nonexistent", "en")


def test_indonesian_is_the_default() -> None:
    assert catalogue.text("category.gizi") == "Gizi dan pola makan"
    assert catalogue.text("category.gizi", "en") == "Nutrition and eating"


@pytest.mark.parametrize("locale", catalogue.LOCALES)
def test_no_key_is_written_twice(locale: str) -> None:
    raw = (CORE / "locales" / f"{locale}.json").read_text(encoding="utf-8")
    pairs = json.loads(raw, object_pairs_hook=lambda items: items)
    names = [name for name, _ in pairs]
    assert len(names) == len(set(names))


def calls_with_a_key() -> list[tuple[str, str, set[str]]]:
    """(where, key, keyword names) for each call that names a sentence and all its values."""
    found = []
    root = CORE.parent
    for folder in ("core", "handlers", "bot"):
        for path in (root / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if not isinstance(node, ast.Call) or any(k.arg is None for k in node.keywords):
                    continue  # a **values spread is checked where it is built
                for arg in node.args:
                    if isinstance(arg, ast.Constant) and arg.value in SENTENCES["id"]:
                        where = f"{path.relative_to(root)}:{node.lineno}"
                        found.append((where, str(arg.value), {k.arg for k in node.keywords}))
    return found


def test_every_sentence_is_given_all_its_placeholders_where_it_is_used() -> None:
    """A missing value is a KeyError at run time: the staff member would get no answer."""
    calls = calls_with_a_key()
    assert len(calls) > 100, "the scan should see the handlers' and use cases' calls"
    missing = [
        f"{where} {key}: {sorted(placeholders(SENTENCES['id'][key]) - given)}"
        for where, key, given in calls
        if placeholders(SENTENCES["id"][key]) - given
    ]
    assert not missing
