"""The ASN bot: consent, the concern, triage confirmation, optional questions."""

from __future__ import annotations

import contextlib

from aiogram import Bot, F
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import CommandStart
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message

from bot.runtime import Runtime
from core import catalogue
from core.errors import ConsentRequired, DomainError, InvalidInput
from core.model import Button, Demographics
from core.usecases import client_rights, intake
from core.usecases.common import Sender
from handlers.routes import Routes

CHANNEL = "telegram"
router = Routes("asn")


class Questions(StatesGroup):
    gender = State()
    age = State()
    employment = State()


def sender_of(event: Message | CallbackQuery) -> Sender:
    assert event.from_user is not None
    return Sender(CHANNEL, str(event.from_user.id))


def chat_of(event: Message | CallbackQuery) -> str:
    if isinstance(event, CallbackQuery):
        assert event.message is not None
        return str(event.message.chat.id)
    return str(event.chat.id)


async def say(
    rt: Runtime, event: Message | CallbackQuery, text: str, buttons: tuple[Button, ...] = ()
) -> None:
    await rt.reply(channel=CHANNEL, address=chat_of(event), text=text, buttons=buttons)


async def locale(rt: Runtime, event: Message | CallbackQuery) -> str:
    found = await client_rights.locale_of(uow=rt.uow(), sender=sender_of(event))
    return found or catalogue.DEFAULT_LOCALE


async def ask_consent(rt: Runtime, event: Message | CallbackQuery, lang: str) -> None:
    """Before consent nothing is stored: the language rides along in the buttons."""
    await say(rt, event, await rt.privacy_notice(lang), rt.consent_buttons(lang))


async def explain(rt: Runtime, event: Message | CallbackQuery, error: DomainError) -> None:
    lang = await locale(rt, event)
    if isinstance(error, ConsentRequired):
        await ask_consent(rt, event, lang)
        return
    try:
        text = catalogue.text(str(error), lang, **error.values)
    except (KeyError, IndexError):
        text = catalogue.text("error.not_found", lang)
    await say(rt, event, text)


@router.message(F.chat.type != "private")
async def not_private(message: Message, rt: Runtime, bot: Bot) -> None:
    """Groups and channels would expose the ASN: say so once, and leave."""
    await say(rt, message, catalogue.text("client.private_only", catalogue.DEFAULT_LOCALE))
    with contextlib.suppress(TelegramAPIError):
        await bot.leave_chat(message.chat.id)


@router.message(CommandStart())
async def start(message: Message, rt: Runtime, state: FSMContext) -> None:
    lang = await client_rights.locale_of(uow=rt.uow(), sender=sender_of(message))
    if lang is None:
        await ask_consent(rt, message, catalogue.DEFAULT_LOCALE)
        return
    await state.clear()
    await say(rt, message, catalogue.text("client.ask_concern", lang))


@router.callback_query(F.data.startswith("consent:"))
async def consent(query: CallbackQuery, rt: Runtime) -> None:
    _, answer, lang = (query.data or "consent:no:id").split(":", 2)
    lang = lang if lang in catalogue.LOCALES else catalogue.DEFAULT_LOCALE
    if answer != "yes":
        await say(rt, query, catalogue.text("client.refused", lang))
        return
    await intake.give_consent(
        uow=rt.uow(),
        sender=sender_of(query),
        reply_address=chat_of(query),
        locale=lang,
        version=rt.svc.settings.consent_version,
        clock=rt.clock,
    )
    await say(rt, query, catalogue.text("client.ask_concern", lang))


@router.callback_query(F.data.startswith("cat:"))
async def category_chosen(query: CallbackQuery, rt: Runtime, state: FSMContext) -> None:
    lang = await locale(rt, query)
    await state.set_state(Questions.gender)
    # The language rides along for the next questions: no read of it per answer.
    await state.set_data({"category": (query.data or "")[4:], "answers": {}, "lang": lang})
    await say(
        rt,
        query,
        catalogue.text("client.ask_gender", lang),
        (
            Button(catalogue.text("client.button_female", lang), "q:gender:perempuan"),
            Button(catalogue.text("client.button_male", lang), "q:gender:laki_laki"),
            Button(catalogue.text("client.button_skip", lang), "q:gender:-"),
        ),
    )


NEXT = {
    "gender": ("age", "client.ask_age", ("<30", "30-39", "40-49", "50+")),
    "age": ("employment", "client.ask_employment", ("PNS", "PPPK")),
}


@router.callback_query(F.data.startswith("q:"))
async def question_answered(query: CallbackQuery, rt: Runtime, state: FSMContext) -> None:
    _, field, value = (query.data or "q:-:-").split(":", 2)
    data = await state.get_data()
    if "category" not in data:
        return  # a stale button from an earlier conversation
    answers = {**data.get("answers", {}), field: None if value == "-" else value}
    if field in NEXT:
        await state.set_data({**data, "answers": answers})  # data was just read: no re-read
        lang = data.get("lang") or await locale(rt, query)
        following, key, values = NEXT[field]
        buttons = tuple(Button(v, f"q:{following}:{v}") for v in values)
        skip = Button(catalogue.text("client.button_skip", lang), f"q:{following}:-")
        await say(rt, query, catalogue.text(key, lang), (*buttons, skip))
        return
    await state.clear()
    await open_case(rt, query, data["category"], answers)


async def open_case(
    rt: Runtime, query: CallbackQuery, category: str, answers: dict[str, str | None]
) -> None:
    sender = sender_of(query)
    try:
        await intake.confirm_category(
            uow=rt.uow(),
            sender=sender,
            category=category,
            clock=rt.clock,
            policy=rt.policy,
            demographics=Demographics(
                answers.get("gender"), answers.get("age"), answers.get("employment")
            ),
        )
    except DomainError as error:
        await explain(rt, query, error)
    rt.kick()


@router.edited_message(F.text & (F.chat.type == "private"))
async def edited(message: Message, rt: Runtime) -> None:
    """An edit is kept as a new message, marked as an edit; the original stays."""
    await receive(rt, message, catalogue.text("staffbot.edited", "id", text=message.text or ""))


@router.message(F.text & ~F.text.startswith("/"))
async def concern(message: Message, rt: Runtime) -> None:
    await receive(rt, message, message.text)


async def receive(rt: Runtime, message: Message, text: str | None) -> None:
    try:
        await intake.receive_client_message(
            uow=rt.uow(),
            sender=sender_of(message),
            text=text,
            screener=rt.screener,
            classifier=rt.classifier,
            clock=rt.clock,
            policy=rt.policy,
        )
    except DomainError as error:
        if isinstance(error, ConsentRequired | InvalidInput):  # the message was not kept
            await safety_if_unkept(rt, message, text)
        await explain(rt, message, error)
    rt.kick()


async def safety_if_unkept(rt: Runtime, message: Message, text: str | None) -> None:
    """Crisis words in a message not kept (no consent yet, too long, a caption): the emergency
    contacts first, whatever else is said."""
    if intake.unkept_crisis(text, rt.screener):  # the locale is read only then
        safety = intake.unkept_safety(rt.policy, await locale(rt, message))
        await rt.reply(channel=CHANNEL, address=chat_of(message), text=safety, urgent=True)


async def slow_down(event: object, data: dict[str, object]) -> None:
    rt = data["rt"]
    assert isinstance(rt, Runtime) and isinstance(event, Message)
    await say(rt, event, catalogue.text("client.slow_down", await locale(rt, event)))
