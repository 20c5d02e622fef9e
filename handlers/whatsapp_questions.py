"""The optional, skippable questions on WhatsApp (gender, age band, PNS/PPPK), as on Telegram.

The chosen category and the answered bands wait in the bot state (keyed by a blind index, only
enumerated values); the case opens after the last question. Free text meanwhile is kept in the
case and screened for crisis like any message, then the question is asked again, kindly.
"""

from __future__ import annotations

from bot.runtime import Runtime
from core import catalogue
from core.errors import DomainError
from core.model import Button, Demographics
from core.triage import CASE_CATEGORIES
from core.usecases import intake
from core.usecases.common import Sender
from storage.bot_state import StateStore

CHANNEL = "whatsapp"
FIELDS = ("gender", "age", "employment")
ASKED = {
    "gender": "client.ask_gender",
    "age": "client.ask_age",
    "employment": "client.ask_employment",
}
ANSWERS = {"gender": intake.GENDERS, "age": intake.AGE_BANDS, "employment": intake.EMPLOYMENT}
AGE_ORDER = ("<30", "30-39", "40-49", "50+")
CATEGORIES = frozenset(c.value for c in CASE_CATEGORIES)


def store(rt: Runtime) -> StateStore:
    return StateStore(rt.svc.sessions, rt.svc.keyring.blind_index_key)


def key_of(rt: Runtime, sender: Sender) -> str:
    return store(rt).key(CHANNEL, sender.external_id)


def question(field: str, lang: str) -> tuple[str, tuple[Button, ...]]:
    """The text and choices of one question; the sender makes buttons or a list of them."""
    if field == "gender":
        options = (
            Button(catalogue.text("client.button_female", lang), "q:gender:perempuan"),
            Button(catalogue.text("client.button_male", lang), "q:gender:laki_laki"),
        )
    elif field == "age":
        options = tuple(Button(v, f"q:age:{v}") for v in AGE_ORDER)
    else:
        options = tuple(Button(v, f"q:employment:{v}") for v in ("PNS", "PPPK"))
    skip = Button(catalogue.text("client.button_skip", lang), f"q:{field}:-")
    return catalogue.text(ASKED[field], lang), (*options, skip)


async def asking(rt: Runtime, sender: Sender) -> str | None:
    """The question the ASN is on, if any."""
    state, _ = await store(rt).get(key_of(rt, sender))
    return state if state in FIELDS else None


async def begin(
    rt: Runtime, sender: Sender, category: str, lang: str
) -> tuple[str, tuple[Button, ...]]:
    if category not in CATEGORIES:
        raise DomainError("error.not_found")
    key = key_of(rt, sender)
    await store(rt).set_data(key, {"category": category, "answers": {}})
    await store(rt).set_state(key, "gender")
    return question("gender", lang)


async def answered(
    rt: Runtime, sender: Sender, field: str, value: str, lang: str
) -> tuple[str, tuple[Button, ...]] | None:
    """The next question, or None once the case is opened (or the button was stale)."""
    key = key_of(rt, sender)
    state, data = await store(rt).get(key)
    valid = field in ANSWERS and (value == "-" or value in ANSWERS[field])
    if not valid or state != field or "category" not in data:
        return None  # a stale button from an earlier question or conversation
    answers = {**data.get("answers", {}), field: None if value == "-" else value}
    following = FIELDS.index(field) + 1
    if following < len(FIELDS):
        await store(rt).set_data(key, {**data, "answers": answers})
        await store(rt).set_state(key, FIELDS[following])
        return question(FIELDS[following], lang)
    await forget(rt, sender)
    await open_case(rt, sender, str(data["category"]), answers)
    return None


async def open_case(
    rt: Runtime, sender: Sender, category: str, answers: dict[str, str | None]
) -> None:
    demographics = Demographics(
        answers.get("gender"), answers.get("age"), answers.get("employment")
    )
    await intake.confirm_category(
        uow=rt.uow(),
        sender=sender,
        category=category,
        clock=rt.clock,
        policy=rt.policy,
        demographics=demographics,
    )


async def forget(rt: Runtime, sender: Sender) -> None:
    await store(rt).delete(key_of(rt, sender))


def typed_choice(field: str, lang: str, text: str | None) -> str | None:
    """A typed answer that is exactly one of the choices ("lewati", "PNS", "30-39") counts."""
    typed = (text or "").strip().casefold()
    _, buttons = question(field, lang)
    return next((b.data for b in buttons if typed in (b.label.casefold(), b.data.casefold())), None)
