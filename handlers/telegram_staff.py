"""The staff bot: invites, queue, claim, audited reading, replies, notes, transfers, duty."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from aiogram import BaseMiddleware, F
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message, TelegramObject

from bot.runtime import Runtime
from core import catalogue
from core.dashboard import Period, to_document
from core.dashboard_text import chat_text
from core.errors import DomainError
from core.model import Button, Role, Staff
from core.purposes import READ_PURPOSES
from core.usecases import casework, staffing
from core.usecases.casework import QueueItem
from core.usecases.common import category_name, channel_name, waited
from handlers.admin_access import dashboard_for
from handlers.routes import Routes

CHANNEL = "staff"
CHUNK = 3500
router = Routes("staff")


class StaffLookup(BaseMiddleware):
    """Hands every handler the staff member bound to the Telegram account (or None)."""

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        user = data.get("event_from_user")
        rt: Runtime = data["rt"]
        data["staff"] = (
            await staffing.staff_by_telegram(uow=rt.uow(), telegram_id=str(user.id))
            if user is not None
            else None
        )
        return await handler(event, data)


def t(key: str, **values: object) -> str:
    return catalogue.text(key, "id", **values)


async def say(
    rt: Runtime, event: Message | CallbackQuery, text: str, buttons: tuple[Button, ...] = ()
) -> None:
    chat = event.message.chat.id if isinstance(event, CallbackQuery) and event.message else None
    address = str(chat if chat is not None else event.chat.id)  # type: ignore[union-attr]
    await rt.reply(channel=CHANNEL, address=address, text=text, buttons=buttons)


async def refuse(rt: Runtime, event: Message | CallbackQuery, error: DomainError) -> None:
    """Tell the staff member in one sentence why a use case said no."""
    try:
        text = catalogue.text(str(error), "id", **error.values)
    except (KeyError, IndexError):
        text = str(error)
    await say(rt, event, text)


async def attempt(
    rt: Runtime, event: Message | CallbackQuery, call: Awaitable[Any], done: str | None = None
) -> bool:
    """Run a use case; tell the staff member the outcome in one sentence either way."""
    try:
        await call
    except DomainError as error:
        await refuse(rt, event, error)
        return False
    if done:
        await say(rt, event, done)
    rt.kick()
    return True


@router.message(CommandStart(deep_link=True))
@router.message(Command("daftar"))
async def register(message: Message, command: CommandObject, rt: Runtime) -> None:
    assert message.from_user is not None
    code = (command.args or "").strip()
    if not code:
        await say(rt, message, t("staffbot.not_registered"))
        return
    name = (message.from_user.first_name or "Konselor").strip()
    redeem = staffing.redeem_invite(
        uow=rt.uow(),
        code=code,
        telegram_id=str(message.from_user.id),
        telegram_chat=str(message.chat.id),
        display_name=name,
        clock=rt.clock,
    )
    try:
        member = await redeem
    except DomainError as error:
        await refuse(rt, message, error)
        return
    await say(
        rt,
        message,
        t(
            "staffbot.registered",
            name=member.display_name,
            role=t(f"console.role_{member.role.value}"),
        ),
    )


@router.message()
async def gate(message: Message, rt: Runtime, staff: Staff | None, state: FSMContext) -> None:
    if staff is None:
        await say(rt, message, t("staffbot.not_registered"))
        return
    await dispatch_command(message, rt, staff, state)


COMMANDS: dict[str, Callable[..., Awaitable[None]]] = {}


def command(
    *names: str,
) -> Callable[[Callable[..., Awaitable[None]]], Callable[..., Awaitable[None]]]:
    def register_(fn: Callable[..., Awaitable[None]]) -> Callable[..., Awaitable[None]]:
        for name in names:
            COMMANDS[name] = fn
        return fn

    return register_


async def dispatch_command(message: Message, rt: Runtime, staff: Staff, state: FSMContext) -> None:
    text = (message.text or "").strip()
    if not text.startswith("/"):
        await free_text(message, rt, staff, state, text)
        return
    name, _, args = text[1:].partition(" ")
    handler = COMMANDS.get(name.split("@")[0].lower(), help_)
    await handler(message, rt, staff, state, args.strip())


CASE_CODE = re.compile(r"\bK-[A-Z0-9]{4}\b")


def quoted_case(quoted: str) -> str | None:
    """The case a staff bot message is about: the one code on its first line.

    Every message about one case names it there (a relayed message, a notice, each part of
    a transcript); lists open with a line naming none. Later lines may hold an ASN's own
    words, which could spell any code."""
    codes = set(CASE_CODE.findall(quoted.split("\n", 1)[0]))
    return codes.pop() if len(codes) == 1 else None


async def free_text(
    message: Message, rt: Runtime, staff: Staff, state: FSMContext, text: str
) -> None:
    """A reply to a message about one case goes to that case; otherwise to the case claimed
    last. A reply to anything else (a list, a message naming no case) is not guessed at: the
    wrong guess would send one ASN's counsellor's words to another ASN."""
    if message.reply_to_message is not None:
        quoted = message.reply_to_message.text or message.reply_to_message.caption or ""
        current = quoted_case(quoted)
        if current is None:
            await say(rt, message, t("staffbot.which_case"))
            return
    else:
        current = (await state.get_data()).get("case")
    if not current:
        await say(rt, message, t("staffbot.no_current"))
        return
    await attempt(
        rt,
        message,
        casework.reply_to_client(
            uow=rt.uow(), staff_id=staff.id, case_code=current, text=text, clock=rt.clock
        ),
        t("staffbot.sent", code=current),
    )


@command("bantuan", "help", "start")
async def help_(message: Message, rt: Runtime, staff: Staff, state: FSMContext, args: str) -> None:
    await say(rt, message, t("staffbot.help"))


@command("antrian", "queue")
async def queue(message: Message, rt: Runtime, staff: Staff, state: FSMContext, args: str) -> None:
    try:
        items = await casework.list_queue(uow=rt.uow(), staff_id=staff.id)
    except DomainError as error:
        await refuse(rt, message, error)
        return
    if not items:
        await say(rt, message, t("staffbot.queue_empty"))
        return
    now = rt.clock.now()
    lines = [t("staffbot.queue_header")] + [_queue_line(i, now) for i in items[:30]]
    buttons = tuple(
        Button(t("staff.button_claim", code=i.code), f"claim:{i.code}")
        for i in items[:10]
        if i.status.value == "queued"
    )
    await say(rt, message, "\n".join(lines), buttons)


def _queue_line(item: QueueItem, now: datetime) -> str:
    """One case in /antrian and /kasus: crisis mark, code, topic, channel, status, wait."""
    return t(
        "staffbot.queue_line",
        mark="🔴 KRISIS " if item.crisis else "",
        code=item.code,
        category=category_name(item.category),
        channel=channel_name(item.channel),
        status=t(f"status.label_{item.status.value}"),
        waited=waited(item.opened_at, now),
    )


async def _claim(
    event: Message | CallbackQuery, rt: Runtime, staff: Staff, state: FSMContext, code: str
) -> None:
    try:
        claimed = await casework.claim_case(
            uow=rt.uow(), staff_id=staff.id, case_code=code, clock=rt.clock
        )
    except DomainError as error:
        await refuse(rt, event, error)
        return
    await state.update_data(case=claimed.case.code)
    await say(
        rt,
        event,
        t("staffbot.claimed", code=claimed.case.code, channel=channel_name(claimed.channel)),
    )
    rt.kick()


@command("ambil", "claim")
async def claim(message: Message, rt: Runtime, staff: Staff, state: FSMContext, args: str) -> None:
    if not args:
        await say(rt, message, t("staffbot.usage", usage="/ambil KODE"))
        return
    await _claim(message, rt, staff, state, args.split()[0])


@router.callback_query(F.data.startswith("claim:"))
async def claim_button(
    query: CallbackQuery, rt: Runtime, staff: Staff | None, state: FSMContext
) -> None:
    if staff is None:
        await say(rt, query, t("staffbot.not_registered"))
        return
    await _claim(query, rt, staff, state, (query.data or "")[6:])


@command("transkrip", "baca", "read")
async def read(message: Message, rt: Runtime, staff: Staff, state: FSMContext, args: str) -> None:
    code, _, purpose = args.partition(" ")
    if not code:
        await say(rt, message, t("staffbot.usage", usage="/transkrip KODE TUJUAN"))
        return
    choices = t("staffbot.purposes", code=code.upper(), choices=_purpose_choices())
    if not purpose.strip():
        await say(rt, message, choices)
        return
    try:
        lines = await casework.read_transcript(
            uow=rt.uow(), staff_id=staff.id, case_code=code, clock=rt.clock, purpose=purpose
        )
    except DomainError as error:
        await refuse(rt, message, error)
        if str(error) == "error.bad_purpose":
            await say(rt, message, choices)
        return
    # Each part opens with the case's code, so a reply to any part goes to this case.
    header = t("staffbot.transcript_header", code=code.upper()) + "\n"
    chunk = header  # a few lines per message; a longer line goes whole, the sender splits it
    for line in (f"[{line.when()}] {line.who()}: {line.body}" for line in lines):
        if chunk != header and len(chunk) + len(line) > CHUNK:
            await say(rt, message, chunk)
            chunk = header
        chunk += line + "\n"
    await say(rt, message, chunk)


def _purpose_choices() -> str:
    return "\n".join(f"{code} - {t('purpose.' + code)}" for code in READ_PURPOSES)


@command("balas", "reply")
async def reply(message: Message, rt: Runtime, staff: Staff, state: FSMContext, args: str) -> None:
    code, _, text = args.partition(" ")
    if not code or not text.strip():
        await say(rt, message, t("staffbot.usage", usage="/balas KODE pesan"))
        return
    await attempt(
        rt,
        message,
        casework.reply_to_client(
            uow=rt.uow(), staff_id=staff.id, case_code=code, text=text, clock=rt.clock
        ),
        t("staffbot.sent", code=code.upper()),
    )


@command("catatan", "note")
async def note(message: Message, rt: Runtime, staff: Staff, state: FSMContext, args: str) -> None:
    code, _, text = args.partition(" ")
    if not code or not text.strip():
        await say(rt, message, t("staffbot.usage", usage="/catatan KODE teks"))
        return
    await attempt(
        rt,
        message,
        casework.add_note(
            uow=rt.uow(), staff_id=staff.id, case_code=code, text=text, clock=rt.clock
        ),
        t("staffbot.noted", code=code.upper()),
    )


@command("alihkan", "pindah", "transfer")
async def transfer(
    message: Message, rt: Runtime, staff: Staff, state: FSMContext, args: str
) -> None:
    parts = args.split(" ", 2)
    if len(parts) < 3:
        await say(rt, message, t("staffbot.usage", usage="/alihkan KODE ANTREAN alasan"))
        return
    code, queue_code, reason = parts
    if await attempt(
        rt,
        message,
        casework.transfer_case(
            uow=rt.uow(),
            staff_id=staff.id,
            case_code=code,
            queue_code=queue_code,
            reason=reason,
            clock=rt.clock,
        ),
        t("staffbot.transferred", code=code.upper(), queue=queue_code),
    ):
        await state.update_data(case=None)


@command("selesai", "tuntas", "resolve")
async def resolve(
    message: Message, rt: Runtime, staff: Staff, state: FSMContext, args: str
) -> None:
    code = args.split()[0] if args else (await state.get_data()).get("case")
    if not code:
        await say(rt, message, t("staffbot.usage", usage="/selesai KODE"))
        return
    if await attempt(
        rt,
        message,
        casework.resolve_case(uow=rt.uow(), staff_id=staff.id, case_code=code, clock=rt.clock),
        t("staffbot.resolved", code=code.upper()),
    ):
        await state.update_data(case=None)


@command("bertugas", "onduty")
async def on_duty(
    message: Message, rt: Runtime, staff: Staff, state: FSMContext, args: str
) -> None:
    await attempt(
        rt,
        message,
        staffing.set_on_duty(uow=rt.uow(), staff_id=staff.id, on_duty=True),
        t("staffbot.on_duty"),
    )


@command("istirahat", "offduty")
async def off_duty(
    message: Message, rt: Runtime, staff: Staff, state: FSMContext, args: str
) -> None:
    await attempt(
        rt,
        message,
        staffing.set_on_duty(uow=rt.uow(), staff_id=staff.id, on_duty=False),
        t("staffbot.off_duty"),
    )


@command("statistik", "stats")
async def statistics(
    message: Message, rt: Runtime, staff: Staff, state: FSMContext, args: str
) -> None:
    if staff.role not in (Role.ADMIN, Role.SUPERVISOR):
        await say(rt, message, t("error.not_allowed"))
        return
    # What the web dashboard shows this staff member: a supervisor, their own partner only.
    board = await dashboard_for(rt, staff, Period.LAST_12_MONTHS)
    await say(rt, message, chat_text(to_document(board)))


@command("kasus", "cases")
async def cases(message: Message, rt: Runtime, staff: Staff, state: FSMContext, args: str) -> None:
    try:
        items = await casework.my_cases(uow=rt.uow(), staff_id=staff.id)
    except DomainError as error:
        await refuse(rt, message, error)
        return
    if not items:
        await say(rt, message, t("staffbot.my_cases_empty"))
        return
    now = rt.clock.now()
    lines = [t("staffbot.my_cases_header")] + [_queue_line(i, now) for i in items]
    await say(rt, message, "\n".join(lines))
