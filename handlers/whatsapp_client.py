"""The ASN on WhatsApp: the Telegram bot's journey on the same use cases; keywords for commands.

WhatsApp has no slash commands in practice, so a message that is exactly a keyword (STATUS,
SELESAI, DATA, HAPUS, BAHASA, BANTUAN, MULAI, or their English words; a leading "/" is fine)
acts as the command. Buttons and list rows carry the same data as the Telegram buttons.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import asdict

from bot.runtime import Runtime
from core import catalogue
from core.errors import ConsentRequired, DomainError, InvalidInput
from core.model import Button
from core.usecases import client_rights, intake
from core.usecases.common import Sender
from handlers import whatsapp_questions as questions
from handlers.whatsapp_payload import CHOICE, OTHER, Inbound
from storage.whatsapp import WhatsAppWindow
from storage.whatsapp_reports import shred_kept_for

CHANNEL = "whatsapp"
KEYWORDS = {
    **dict.fromkeys(("status",), "status"),
    **dict.fromkeys(("selesai", "done"), "close"),
    **dict.fromkeys(("data",), "export"),
    **dict.fromkeys(("hapus", "delete"), "erase"),
    **dict.fromkeys(("bahasa", "language"), "language"),
    **dict.fromkeys(("bantuan", "help", "menu"), "help"),
    **dict.fromkeys(("mulai", "start"), "start"),
}


def sender_of(event: Inbound) -> Sender:
    return Sender(CHANNEL, event.identity)


def keyword(text: str | None) -> str | None:
    word = (text or "").strip().lstrip("/").strip().casefold()
    return KEYWORDS.get(word)


async def say(rt: Runtime, event: Inbound, text: str, buttons: tuple[Button, ...] = ()) -> None:
    await rt.reply(channel=CHANNEL, address=event.address, text=text, buttons=buttons)


async def locale(rt: Runtime, event: Inbound) -> str:
    found = await client_rights.locale_of(uow=rt.uow(), sender=sender_of(event))
    return found or catalogue.DEFAULT_LOCALE


async def handle(rt: Runtime, event: Inbound) -> None:
    """One inbound message: parse, one use case, reply through the outbox."""
    try:
        if event.kind == OTHER:  # a caption is still screened for crisis words
            await safety_if_unkept(rt, event)
            await say(rt, event, catalogue.text("whatsapp.text_only", await locale(rt, event)))
        elif event.kind == CHOICE:
            await chosen(rt, event, event.choice or "")
        elif (command := keyword(event.text)) is not None:
            await COMMANDS[command](rt, event)
        else:
            await concern(rt, event)
    except DomainError as error:
        if isinstance(error, ConsentRequired | InvalidInput):  # the message was not kept
            await safety_if_unkept(rt, event)
        await explain(rt, event, error)
    finally:
        rt.kick()


async def safety_if_unkept(rt: Runtime, event: Inbound) -> None:
    """Crisis words in a message not kept (no consent yet, too long, a caption): the emergency
    contacts first, whatever else is said."""
    if intake.unkept_crisis(event.text, rt.screener):  # the locale is read only then
        safety = intake.unkept_safety(rt.policy, await locale(rt, event))
        await rt.reply(channel=CHANNEL, address=event.address, text=safety, urgent=True)


async def ask_consent(rt: Runtime, event: Inbound, lang: str) -> None:
    """Before consent nothing is stored: the language rides along in the buttons."""
    notice = await rt.privacy_notice(lang, key="whatsapp.privacy")  # the number IS kept, sealed
    await say(rt, event, notice, rt.consent_buttons(lang))


async def explain(rt: Runtime, event: Inbound, error: DomainError) -> None:
    lang = await locale(rt, event)
    if isinstance(error, ConsentRequired):
        await ask_consent(rt, event, lang)
        return
    try:
        text = catalogue.text(str(error), lang, **error.values)
    except (KeyError, IndexError):
        text = catalogue.text("error.not_found", lang)
    await say(rt, event, text)


async def concern(rt: Runtime, event: Inbound) -> None:
    field = await questions.asking(rt, sender_of(event))
    if field is not None:
        await off_question(rt, event, field)
        return
    await intake.receive_client_message(
        uow=rt.uow(),
        sender=sender_of(event),
        text=event.text,
        screener=rt.screener,
        classifier=rt.classifier,
        clock=rt.clock,
        policy=rt.policy,
    )


async def chosen(rt: Runtime, event: Inbound, data: str) -> None:
    kind, _, rest = data.partition(":")
    if kind == "consent":
        await consent(rt, event, rest)
    elif kind == "cat":
        lang = await locale(rt, event)
        await say(rt, event, *await questions.begin(rt, sender_of(event), rest, lang))
    elif kind == "q" and rest.count(":") == 1:
        await answer(rt, event, *rest.split(":"))
    elif kind == "rate" and rest in {"1", "2", "3", "4", "5"}:
        await client_rights.record_feedback(
            uow=rt.uow(), sender=sender_of(event), rating=int(rest), comment=None, clock=rt.clock
        )
    elif kind == "erase":
        await erase(rt, event, confirmed=rest == "yes")
    else:  # a stale button or a template's quick reply: the help text says what to do
        await help_(rt, event)


async def answer(rt: Runtime, event: Inbound, field: str, value: str) -> None:
    lang = await locale(rt, event)
    following = await questions.answered(rt, sender_of(event), field, value, lang)
    if following is not None:
        await say(rt, event, *following)


async def off_question(rt: Runtime, event: Inbound, field: str) -> None:
    """Text instead of a choice: a typed choice counts; else it is kept (and screened), and
    the question is asked again, kindly."""
    lang = await locale(rt, event)
    typed = questions.typed_choice(field, lang, event.text)
    if typed is not None:
        await answer(rt, event, field, typed.rsplit(":", 1)[1])
        return
    reception = await intake.receive_client_message(
        uow=rt.uow(),
        sender=sender_of(event),
        text=event.text,
        screener=rt.screener,
        classifier=rt.classifier,
        clock=rt.clock,
        policy=rt.policy,
    )
    if not reception.crisis:  # after the safety message, no question gets in the way
        text, buttons = questions.question(field, lang)
        reask = catalogue.text("whatsapp.question_reask", lang)
        await say(rt, event, f"{reask}\n\n{text}", buttons)


async def consent(rt: Runtime, event: Inbound, rest: str) -> None:
    answer, _, lang = rest.partition(":")
    lang = lang if lang in catalogue.LOCALES else catalogue.DEFAULT_LOCALE
    if answer != "yes":
        await say(rt, event, catalogue.text("whatsapp.refused", lang))
        return
    await intake.give_consent(
        uow=rt.uow(),
        sender=sender_of(event),
        reply_address=event.address,
        locale=lang,
        version=rt.svc.settings.consent_version,
        clock=rt.clock,
    )
    await say(rt, event, catalogue.text("client.ask_concern", lang))


async def start(rt: Runtime, event: Inbound) -> None:
    lang = await client_rights.locale_of(uow=rt.uow(), sender=sender_of(event))
    if lang is None:
        await ask_consent(rt, event, catalogue.DEFAULT_LOCALE)
        return
    await questions.forget(rt, sender_of(event))
    await say(rt, event, catalogue.text("client.ask_concern", lang))


async def status(rt: Runtime, event: Inbound) -> None:
    text = await client_rights.own_case_status(
        uow=rt.uow(), sender=sender_of(event), clock=rt.clock, policy=rt.policy
    )
    await say(rt, event, text)


async def close(rt: Runtime, event: Inbound) -> None:
    await client_rights.close_own_case(uow=rt.uow(), sender=sender_of(event), clock=rt.clock)


async def export(rt: Runtime, event: Inbound) -> None:
    held = await client_rights.export_client_data(uow=rt.uow(), sender=sender_of(event))
    content = json.dumps(asdict(held), ensure_ascii=False, indent=2).encode("utf-8")
    await rt.reply(
        channel=CHANNEL,
        address=event.address,
        text=catalogue.text("client.export_caption", held.locale),
        document=("sapa-asn-data.json", content),
    )


async def erase_asked(rt: Runtime, event: Inbound) -> None:
    lang = await locale(rt, event)
    buttons = (
        Button(catalogue.text("client.button_delete_yes", lang), "erase:yes"),
        Button(catalogue.text("client.button_cancel", lang), "erase:no"),
    )
    await say(rt, event, catalogue.text("client.delete_confirm", lang), buttons)


async def erase(rt: Runtime, event: Inbound, *, confirmed: bool) -> None:
    lang = await locale(rt, event)
    if not confirmed:
        await say(rt, event, catalogue.text("client.delete_cancelled", lang))
        return
    try:
        text = await client_rights.delete_client_data(uow=rt.uow(), sender=sender_of(event))
    except ConsentRequired:
        text = catalogue.text("case.deleted", lang)  # nothing was held: nothing left to erase
    await WhatsAppWindow(rt.svc.sessions, rt.svc.keyring.blind_index_key).forget(event.address)
    await questions.forget(rt, sender_of(event))
    await shred_kept_for(rt.svc.sessions, rt.svc.keyring, address=event.address)
    await say(rt, event, text)


async def language(rt: Runtime, event: Inbound) -> None:
    current = await client_rights.locale_of(uow=rt.uow(), sender=sender_of(event))
    if current is None:
        await ask_consent(rt, event, "en")
        return
    other = "en" if current == "id" else "id"
    text = await client_rights.set_locale(uow=rt.uow(), sender=sender_of(event), locale=other)
    await say(rt, event, text)


async def help_(rt: Runtime, event: Inbound) -> None:
    await say(rt, event, catalogue.text("whatsapp.help", await locale(rt, event)))


COMMANDS: dict[str, Callable[[Runtime, Inbound], Awaitable[None]]] = {
    "start": start,
    "status": status,
    "close": close,
    "export": export,
    "erase": erase_asked,
    "language": language,
    "help": help_,
}
