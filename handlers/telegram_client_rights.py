"""The ASN bot: status, close, rate, export, erase and language of their own case and data."""

from __future__ import annotations

import json
from dataclasses import asdict

from aiogram import F
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from bot.runtime import Runtime
from core import catalogue
from core.errors import ConsentRequired, DomainError
from core.model import Button
from core.usecases import client_rights
from handlers.routes import Routes
from handlers.telegram_client import (
    CHANNEL,
    ask_consent,
    explain,
    locale,
    safety_if_unkept,
    say,
    sender_of,
)

router = Routes("asn-rights")


@router.message(Command("status"))
async def status(message: Message, rt: Runtime) -> None:
    try:
        text = await client_rights.own_case_status(
            uow=rt.uow(), sender=sender_of(message), clock=rt.clock, policy=rt.policy
        )
    except DomainError as error:
        await explain(rt, message, error)
        return
    await say(rt, message, text)


@router.message(Command("selesai"))
async def close(message: Message, rt: Runtime) -> None:
    try:
        await client_rights.close_own_case(uow=rt.uow(), sender=sender_of(message), clock=rt.clock)
    except DomainError as error:
        await explain(rt, message, error)
    rt.kick()


@router.callback_query(F.data.startswith("rate:"))
async def rate(query: CallbackQuery, rt: Runtime) -> None:
    try:
        rating = int((query.data or "")[5:])
        await client_rights.record_feedback(
            uow=rt.uow(), sender=sender_of(query), rating=rating, comment=None, clock=rt.clock
        )
    except ValueError:
        return
    except DomainError as error:
        await explain(rt, query, error)
    rt.kick()


@router.message(Command("data"))
async def export(message: Message, rt: Runtime) -> None:
    try:
        held = await client_rights.export_client_data(uow=rt.uow(), sender=sender_of(message))
    except DomainError as error:
        await explain(rt, message, error)
        return
    content = json.dumps(asdict(held), ensure_ascii=False, indent=2).encode("utf-8")
    await rt.reply(
        channel=CHANNEL,
        address=str(message.chat.id),
        text=catalogue.text("client.export_caption", held.locale),
        document=("sapa-asn-data.json", content),
    )


@router.message(Command("hapus"))
async def erase_asked(message: Message, rt: Runtime) -> None:
    lang = await locale(rt, message)
    await say(
        rt,
        message,
        catalogue.text("client.delete_confirm", lang),
        (
            Button(catalogue.text("client.button_delete_yes", lang), "erase:yes"),
            Button(catalogue.text("client.button_cancel", lang), "erase:no"),
        ),
    )


@router.callback_query(F.data.startswith("erase:"))
async def erase(query: CallbackQuery, rt: Runtime, state: FSMContext) -> None:
    lang = await locale(rt, query)
    if query.data != "erase:yes":
        await say(rt, query, catalogue.text("client.delete_cancelled", lang))
        return
    try:
        text = await client_rights.delete_client_data(uow=rt.uow(), sender=sender_of(query))
    except ConsentRequired:
        text = catalogue.text("case.deleted", lang)  # nothing was held: nothing left to erase
    await state.clear()
    await say(rt, query, text)


@router.message(Command("bahasa", "language"))
async def language(message: Message, rt: Runtime, state: FSMContext) -> None:
    current = await client_rights.locale_of(uow=rt.uow(), sender=sender_of(message))
    if current is None:
        await ask_consent(rt, message, "en")
        return
    other = "en" if current == "id" else "id"
    text = await client_rights.set_locale(uow=rt.uow(), sender=sender_of(message), locale=other)
    data = await state.get_data()
    if "lang" in data:  # midway through the optional questions: the rest in the new language
        await state.set_data({**data, "lang": other})
    await say(rt, message, text)


@router.message(Command("bantuan", "help"))
async def help_(message: Message, rt: Runtime) -> None:
    await say(rt, message, catalogue.text("client.help", await locale(rt, message)))


@router.message(F.text.startswith("/"))
async def unknown_command(message: Message, rt: Runtime) -> None:
    await help_(message, rt)


@router.message()
async def not_text(message: Message, rt: Runtime) -> None:
    """Photos, voice notes, stickers, files, locations: a kind word, and nothing is stored.

    A caption is still screened: a photo captioned with crisis words gets the contacts."""
    await safety_if_unkept(rt, message, message.caption)
    await say(rt, message, catalogue.text("client.text_only", await locale(rt, message)))
