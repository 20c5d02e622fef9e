"""The staff console's pages, built in Python: every value goes through html.escape."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from html import escape
from urllib.parse import quote

from core import catalogue
from core.model import Queue, Staff
from core.purposes import READ_PURPOSES, purpose_label_key
from core.usecases.casework import QueueItem, TranscriptLine
from core.usecases.common import category_name, channel_name
from core.usecases.common import waited as wait_text


def t(key: str, **values: object) -> str:
    """A catalogue sentence, escaped (and its values escaped before they go in)."""
    return escape(catalogue.text(key, "id", **{k: str(v) for k, v in values.items()}))


def h(value: object) -> str:
    return escape(str(value), quote=True)


def page(body: str, *, staff: Staff | None = None, csrf: str = "", flash: str = "") -> str:
    notice = f'<p class="flash" role="status">{flash}</p>' if flash else ""
    return (
        '<!doctype html><html lang="id"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{t('console.title')}</title>"
        '<link rel="stylesheet" href="/staff/static/staff.css">'
        '<script src="/staff/static/staff.js" defer></script></head><body>'
        f"{_header(staff, csrf)}<main>{notice}{body}</main></body></html>"
    )


def _header(staff: Staff | None, csrf: str) -> str:
    title = f'<a class="brand" href="/staff">{t("console.title")}</a>'
    if staff is None:
        return f"<header>{title}</header>"
    role = catalogue.text(f"console.role_{staff.role.value}", "id")
    duty = t("console.duty_on" if staff.on_duty else "console.duty_off")
    toggle = t("console.duty_stop" if staff.on_duty else "console.duty_start")
    return (
        f"<header>{title}<span>{t('console.signed_in', name=staff.display_name, role=role)}"
        f" · {duty}</span>"
        + form("/staff/duty", csrf, button(toggle), extra=hidden("on_duty", not staff.on_duty))
        + form("/staff/logout", csrf, button(t("console.logout")))
        + "</header>"
    )


def hidden(name: str, value: object) -> str:
    return f'<input type="hidden" name="{h(name)}" value="{h(value)}">'


def button(label: str, css: str = "") -> str:
    kind = f' class="{h(css)}"' if css else ""
    return f'<button type="submit"{kind}>{label}</button>'


def form(action: str, csrf: str, body: str, *, extra: str = "", css: str = "inline") -> str:
    return (
        f'<form method="post" action="{h(action)}" class="{h(css)}">'
        f"{hidden('csrf', csrf)}{extra}{body}</form>"
    )


def login_page(message: str = "", username: str = "") -> str:
    error = f'<p class="error" role="alert">{message}</p>' if message else ""
    return page(
        f"<h1>{t('console.login_heading')}</h1>{error}"
        '<form method="post" action="/staff/login" class="stack">'
        f'<label>{t("console.username")}<input name="username" value="{h(username)}" '
        'autocomplete="username" required maxlength="100" autofocus></label>'
        f'<label>{t("console.password")}<input name="password" type="password" '
        'autocomplete="current-password" required maxlength="256"></label>'
        f"{button(t('console.login_button'))}</form>"
    )


def error_page(message: str, *, staff: Staff | None = None, csrf: str = "") -> str:
    back = f'<p><a href="/staff">{t("console.back")}</a></p>' if staff else ""
    return page(
        f'<h1>{t("console.error_heading")}</h1><p class="error" role="alert">{message}</p>{back}',
        staff=staff,
        csrf=csrf,
    )


def waited(since: datetime, now: datetime) -> str:
    return h(wait_text(since, now))


def category(item: QueueItem) -> str:
    return h(category_name(item.category))


def channel(item: QueueItem) -> str:
    return h(channel_name(item.channel))


def crisis_mark(item: QueueItem) -> str:
    return f'<strong class="crisis-mark">{t("console.crisis")}</strong> ' if item.crisis else ""


def queue_rows(
    items: Sequence[QueueItem], queues: dict[str, str], staff: Staff, csrf: str, now: datetime
) -> str:
    if not items:
        return f'<tr><td colspan="7">{t("console.queue_empty")}</td></tr>'
    return "".join(_row(i, queues, staff, csrf, now) for i in items)


def _row(item: QueueItem, queues: dict[str, str], staff: Staff, csrf: str, now: datetime) -> str:
    link = f"/staff/cases/{quote(item.code)}"
    status = t(f"status.label_{item.status.value}")
    if item.assignee_id == staff.id:
        status += f" ({t('console.mine')})"
    if item.status.value == "queued":
        action = form(f"{link}/claim", csrf, button(t("console.claim")))
    else:
        action = f'<a href="{h(link)}">{t("console.open")}</a>'
    return (
        f'<tr class="{"crisis" if item.crisis else "case"}" data-code="{h(item.code)}">'
        f'<td>{crisis_mark(item)}<a href="{h(link)}">{h(item.code)}</a></td>'
        f"<td>{h(queues.get(item.queue_id or '', '-'))}</td><td>{category(item)}</td>"
        f"<td>{channel(item)}</td>"
        f"<td>{status}</td><td>{waited(item.opened_at, now)}</td><td>{action}</td></tr>"
    )


def queue_page(rows: str, *, staff: Staff, csrf: str, flash: str, refresh: float) -> str:
    heads = ("col_code", "col_queue", "col_category", "col_channel", "col_status", "col_waiting")
    heads += ("col_action",)
    header = "".join(f'<th scope="col">{t("console." + key)}</th>' for key in heads)
    return page(
        f"<h1>{t('console.queue_heading')}</h1>"
        f'<p class="hint">{t("console.auto_refresh", seconds=round(refresh))}</p>'
        f'<table class="queue"><thead><tr>{header}</tr></thead>'
        f'<tbody id="queue-rows" data-live="/staff/queue/rows" '
        f'data-every="{int(refresh * 1000)}">{rows}</tbody></table>',
        staff=staff,
        csrf=csrf,
        flash=flash,
    )


def case_summary(code: str, item: QueueItem | None, now: datetime) -> str:
    heading = f"<h1>{t('console.case_heading', code=code)}</h1>"
    if item is None:
        return heading
    status = t(f"status.label_{item.status.value}")
    line = (
        f"{t('console.col_status')}: {status} · {t('console.col_category')}: {category(item)}"
        f" · {t('console.col_channel')}: {channel(item)}"
        f" · {t('console.col_waiting')}: {waited(item.opened_at, now)}"
    )
    return f'{heading}<p class="summary">{crisis_mark(item)}{line}</p>'


def purpose_form(code: str, item: QueueItem | None, staff: Staff, csrf: str) -> str:
    link = f"/staff/cases/{quote(code)}"
    claim = ""
    if item is not None and item.status.value == "queued":
        claim = f"<p>{t('console.not_claimed')}</p>" + form(
            f"{link}/claim", csrf, button(t("console.claim"))
        )
    return (
        f"{claim}<p>{t('console.purpose_explain')}</p>"
        f'<form method="get" action="{h(link)}" class="stack">'
        f'<label>{t("console.purpose_label")}<select name="purpose" required>'
        f"{purpose_options()}</select></label>"
        f"{button(t('console.read_button'))}</form>"
    )


def purpose_options() -> str:
    return "".join(f'<option value="{c}">{t("purpose." + c)}</option>' for c in READ_PURPOSES)


def purpose_text(code: str) -> str:
    """The label of a purpose code, unescaped (t() escapes it where it goes in)."""
    return catalogue.text(purpose_label_key(code), "id")


def transcript(code: str, purpose: str, lines: Iterable[TranscriptLine]) -> str:
    items = "".join(_line(line) for line in lines)
    again = f"/staff/cases/{quote(code)}?purpose={quote(purpose)}"
    return (
        f"<h2>{t('console.transcript_heading', code=code, purpose=purpose_text(purpose))}</h2>"
        f'<ol class="transcript">{items}</ol>'
        f'<p><a href="{h(again)}">{t("console.reload")}</a></p>'
    )


def _line(line: TranscriptLine) -> str:
    return (
        f'<li class="msg {h(line.direction.value)}"><span class="meta">{h(line.when())} · '
        f'{h(line.who())}</span><div class="body">{h(line.body)}</div></li>'
    )


def case_actions(code: str, purpose: str, queues: Sequence[Queue], mine: bool, csrf: str) -> str:
    link = f"/staff/cases/{quote(code)}"
    keep = hidden("purpose", purpose)
    reply = form(
        f"{link}/reply",
        csrf,
        f'<label>{t("console.reply_label")}<textarea name="text" required maxlength="4096" '
        f'rows="4"></textarea></label>{button(t("console.reply_button"))}',
        extra=keep,
        css="stack",
    )
    note = form(
        f"{link}/note",
        csrf,
        f'<label>{t("console.note_label")}<textarea name="text" required maxlength="4096" '
        f'rows="2"></textarea></label>{button(t("console.note_button"))}',
        extra=keep,
        css="stack",
    )
    options = "".join(f'<option value="{h(q.code)}">{h(q.name)}</option>' for q in queues)
    transfer = form(
        f"{link}/transfer",
        csrf,
        f'<label>{t("console.transfer_queue")}<select name="queue">{options}</select></label>'
        f'<label>{t("console.transfer_reason")}<input name="reason" required maxlength="500">'
        f"</label>{button(t('console.transfer_button'))}",
        css="stack",
    )
    resolve = form(f"{link}/resolve", csrf, button(t("console.resolve_button")))
    parts = [reply, resolve] if mine else []
    return "".join([*parts, note, transfer])
