"""aiogram's types and API methods, built at first use (handlers/aiogram_types.py), are the same
types as stock aiogram's: the same schema for every one of them, the same parsed update."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

# Prints, for every pydantic model aiogram exports, whether it was built at import and its JSON
# schema (building it if needed), then an update parsed and a method serialised.
PROBE = """
import json, sys
if sys.argv[1] == "deferred":
    from handlers.aiogram_types import install
    assert install()
import aiogram, aiogram.methods as methods, aiogram.types as types
from pydantic import BaseModel

def models(module):
    for name in module.__all__:
        value = getattr(module, name)
        if isinstance(value, type) and issubclass(value, BaseModel):
            yield module.__name__ + "." + name, value

found = dict([*models(types), *models(methods)])
built = sorted(name for name, model in found.items() if model.__pydantic_complete__)
schemas = {}
for name, model in found.items():
    try:
        schemas[name] = model.model_json_schema()
    except Exception as error:
        schemas[name] = type(error).__name__
update = types.Update.model_validate({
    "update_id": 7,
    "message": {"message_id": 3, "date": 1700000000, "text": "halo",
                "chat": {"id": 5, "type": "private"},
                "from": {"id": 5, "is_bot": False, "first_name": "A"},
                "reply_to_message": {"message_id": 2, "date": 1700000000,
                                     "chat": {"id": 5, "type": "private"},
                                     "photo": [{"file_id": "f", "file_unique_id": "u",
                                                "width": 1, "height": 1}]}},
})
markup = types.InlineKeyboardMarkup(
    inline_keyboard=[[types.InlineKeyboardButton(text="Ya", callback_data="ok")]])
send = methods.SendMessage(chat_id=5, text="hai", reply_markup=markup)
response = methods.base.Response[types.Message].model_validate(
    {"ok": True, "result": {"message_id": 9, "date": 1700000000, "text": "hai",
                            "chat": {"id": 5, "type": "private"}}})
print(json.dumps({
    "count": len(found), "built_at_import": built, "schemas": schemas,
    "update": update.model_dump(mode="json"), "send": send.model_dump(),
    "response": response.model_dump(mode="json"),
}, default=str, sort_keys=True))
"""


@pytest.fixture(scope="module")
def probes() -> dict[str, dict[str, object]]:
    """Both probes at once (each takes a core for a while)."""
    running = {
        mode: subprocess.Popen(
            [sys.executable, "-c", PROBE, mode],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for mode in ("stock", "deferred")
    }
    results = {}
    for mode, process in running.items():
        out, err = process.communicate(timeout=300)
        assert process.returncode == 0, err[-2000:]
        results[mode] = json.loads(out)
    return results


@pytest.fixture(scope="module")
def stock(probes: dict[str, dict[str, object]]) -> dict[str, object]:
    return probes["stock"]


@pytest.fixture(scope="module")
def deferred(probes: dict[str, dict[str, object]]) -> dict[str, object]:
    return probes["deferred"]


def test_stock_aiogram_builds_its_types_at_import(stock: dict[str, object]) -> None:
    # The premise: if aiogram stops doing this, handlers/aiogram_types.py can go.
    built = stock["built_at_import"]
    assert isinstance(built, list)
    assert "aiogram.types.Message" in built
    assert "aiogram.methods.SendMessage" in built
    assert len(built) > 400


def test_deferred_types_are_built_only_when_used(deferred: dict[str, object]) -> None:
    built = deferred["built_at_import"]
    assert isinstance(built, list)
    assert "aiogram.types.Message" not in built
    assert "aiogram.methods.SendMessage" not in built
    assert len(built) < 10


def test_every_type_and_method_has_stock_aiograms_schema(
    stock: dict[str, object], deferred: dict[str, object]
) -> None:
    assert deferred["count"] == stock["count"]
    ours, theirs = deferred["schemas"], stock["schemas"]
    assert isinstance(ours, dict)
    assert isinstance(theirs, dict)
    assert sorted(ours) == sorted(theirs)
    differ = [name for name in theirs if ours[name] != theirs[name]]
    assert differ == []
    assert sum(1 for schema in theirs.values() if isinstance(schema, dict)) > 400


def test_updates_and_methods_read_and_write_as_in_stock_aiogram(
    stock: dict[str, object], deferred: dict[str, object]
) -> None:
    for key in ("update", "send", "response"):
        assert deferred[key] == stock[key]
    update = deferred["update"]
    assert isinstance(update, dict)
    assert update["message"]["reply_to_message"]["photo"][0]["file_id"] == "f"


def test_install_after_aiogram_was_imported_reports_it() -> None:
    probe = (
        "import aiogram.types\n"
        "from handlers.aiogram_types import install, deferred\n"
        "print(install(), deferred())"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120
    )
    assert done.stdout.split() == ["False", "False"]
