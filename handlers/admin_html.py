"""The admin dashboard's pages, built in Python: every value goes through html.escape.

Each count cell carries data-count="<the text shown>", the same as the SVG labels, so a
test can read every published count of a page and nothing else.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from core import catalogue
from core.dashboard import Period, offered
from core.model import Staff
from handlers import admin_svg as svg
from handlers.admin_svg import Count, h

NAV = (
    ("/admin", "console.stats_nav_stats"),
    ("/admin/setup", "console.stats_nav_setup"),
    ("/admin/staff", "console.stats_nav_staff"),
    ("/admin/audit", "console.stats_nav_audit"),
    ("/admin/ops", "console.stats_nav_ops"),
)
CURRENT = ' aria-current="page"'
DISTRIBUTIONS = (
    ("crisis_by_month", "console.stats_crisis", "console.stats_month"),
    ("open_by_queue", "console.stats_load", "console.stats_label"),
    ("cases_by_queue", "console.stats_queues", "console.stats_label"),
    ("ratings", "console.stats_ratings", "console.stats_label"),
    ("gender", "console.stats_gender", "console.stats_label"),
    ("age_band", "console.stats_age_band", "console.stats_label"),
    ("employment", "console.stats_employment", "console.stats_label"),
)


def t(key: str, locale: str = "id", **values: object) -> str:
    return h(catalogue.text(key, locale, **{k: str(v) for k, v in values.items()}))


def both(key: str, **values: object) -> str:
    """Indonesian first, English second."""
    return f'{t(key, **values)} <span class="en" lang="en">{t(key, "en", **values)}</span>'


def nav(current: str = "/admin") -> str:
    """The dashboard's navigation; the setup, staff, audit and ops pages hang here too."""
    links = "".join(
        f'<a href="{h(href)}"{CURRENT if href == current else ""}>{both(key)}</a>'
        for href, key in NAV
    )
    return f'<nav aria-label="admin">{links}</nav>'


def page(body: str, *, title: str, staff: Staff | None = None, csrf: str = "") -> str:
    return (
        '<!doctype html><html lang="id"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{title}</title>"
        '<link rel="stylesheet" href="/admin/static/admin.css"></head><body>'
        f"{_header(staff, csrf)}<main>{body}</main></body></html>"
    )


def _header(staff: Staff | None, csrf: str) -> str:
    brand = f'<a class="brand" href="/admin">{t("console.stats_title")}</a>'
    if staff is None:
        return f"<header>{brand}</header>"
    role = t(f"console.role_{staff.role.value}")
    who = t("console.signed_in", name=staff.display_name, role=role)
    logout = (
        f'<form method="post" action="/admin/logout" class="inline">'
        f'<input type="hidden" name="csrf" value="{h(csrf)}">'
        f'<button type="submit">{t("console.logout")}</button></form>'
    )
    return f"<header>{brand}<span>{who}</span>{logout}</header>{nav()}"


def login_page(message: str = "", username: str = "") -> str:
    error = f'<p class="error" role="alert">{message}</p>' if message else ""
    return page(
        f"<h1>{both('console.stats_login_heading')}</h1>{error}"
        '<form method="post" action="/admin/login" class="stack">'
        f'<label>{t("console.username")}<input name="username" value="{h(username)}" '
        'autocomplete="username" required maxlength="100" autofocus></label>'
        f'<label>{t("console.password")}<input name="password" type="password" '
        'autocomplete="current-password" required maxlength="256"></label>'
        f'<button type="submit">{t("console.login_button")}</button></form>',
        title=t("console.stats_title"),
    )


def message_page(key: str, staff: Staff | None = None, csrf: str = "") -> str:
    body = f'<h1>{t("console.error_heading")}</h1><p class="error" role="alert">{both(key)}</p>'
    return page(body, title=t("console.stats_title"), staff=staff, csrf=csrf)


def period_name(period: Period) -> str:
    if period.year is not None:
        return both("console.stats_period_year", year=period.year)
    return both(f"console.stats_period_{period.value}")


def selector(period: Period, today: date) -> str:
    """Fixed periods only: a view can never be narrowed to reveal a small cell."""
    options = "".join(
        f'<option value="{h(p.value)}"{" selected" if p is period else ""}>'
        f"{_plain_period(p)}</option>"
        for p in offered(today)
    )
    return (
        '<form method="get" action="/admin" class="period">'
        f'<label>{both("console.stats_period")} <select name="period">{options}</select></label>'
        f'<button type="submit">{t("console.stats_show")}</button></form>'
    )


def _plain_period(period: Period) -> str:
    if period.year is not None:
        return t("console.stats_period_year", year=period.year)
    return t(f"console.stats_period_{period.value}")


def cell(value: Count) -> str:
    return f'<td class="n" data-count="{h(value)}">{h(value)}</td>'


def _label(name: str) -> str:
    known = f"category.{name}"
    return t(known) if known in catalogue.keys("id") else h(name)


def _table(caption: str, head: Sequence[str], rows: Sequence[tuple[str, Sequence[Count]]]) -> str:
    heads = "".join(f'<th scope="col">{x}</th>' for x in head)
    body = "".join(
        f'<tr><th scope="row">{label}</th>{"".join(cell(v) for v in values)}</tr>'
        for label, values in rows
    )
    return f"<table><caption>{caption}</caption><thead><tr>{heads}</tr></thead>{body}</table>"


def cases_section(doc: dict[str, Any]) -> str:
    table = doc["cases_by_month_category"]
    columns: list[str] = table["columns"]
    rows = [(r["month"], [*(r["counts"][c] for c in columns), r["total"]]) for r in table["rows"]]
    chart = svg.stacked_bars(
        "chart-cases",
        catalogue.text("console.stats_cases", "id"),
        [(r["month"], [r["counts"][c] for c in columns], r["total"]) for r in table["rows"]],
        [catalogue.text(f"category.{c}", "id") for c in columns],
    )
    head = [t("console.stats_month"), *(_label(c) for c in columns), t("console.stats_total")]
    footer = (
        t("console.stats_total"),
        [*(table["column_totals"][c] for c in columns), table["total"]],
    )
    return _section("cases", chart, _table(both("console.stats_cases"), head, [*rows, footer]))


def distribution_section(doc: dict[str, Any], key: str, title: str, label: str) -> str:
    counts: dict[str, Count] = doc[key]["counts"]
    chart = svg.bars(f"chart-{key}", catalogue.text(title, "id"), list(counts.items()))
    head = [t(label), t("console.stats_count")]
    rows = [(_label(name), [v]) for name, v in counts.items()]
    rows.append((t("console.stats_total"), [doc[key]["total"]]))
    return _section(key, chart, _table(both(title), head, rows))


def times_section(doc: dict[str, Any]) -> str:
    names = {
        "first_response": "console.stats_first_response",
        "resolution": "console.stats_resolution",
    }
    times = doc["response_times"]
    rows = [
        (catalogue.text(names[n], "id"), d["median_minutes"], d["p90_minutes"], d["target_minutes"])
        for n, d in times.items()
    ]
    chart = svg.durations("chart-times", catalogue.text("console.stats_times", "id"), rows)
    heads = (
        "console.stats_measure",
        "console.stats_median",
        "console.stats_p90",
        "console.stats_target",
    )
    body = "".join(
        f'<tr><th scope="row">{h(name)}</th>'
        + "".join(f'<td data-minutes="{h(v)}">{h(_minutes(v))}</td>' for v in (m, p, target))
        + "</tr>"
        for name, m, p, target in rows
    )
    head = "".join(f'<th scope="col">{t(x)}</th>' for x in heads)
    caption = both("console.stats_times")
    table = f"<table><caption>{caption}</caption><thead><tr>{head}</tr></thead>{body}</table>"
    return _section("times", chart, table)


def _minutes(value: float | str) -> str:
    return value if isinstance(value, str) else svg._human(value)


def _section(name: str, chart: str, table: str) -> str:
    return f'<section class="stat" id="stat-{h(name)}">{chart}{table}</section>'


def sections(doc: dict[str, Any]) -> str:
    parts = [cases_section(doc)]
    parts += [distribution_section(doc, *spec) for spec in DISTRIBUTIONS[:3]]
    parts.append(times_section(doc))
    parts += [distribution_section(doc, *spec) for spec in DISTRIBUTIONS[3:]]
    return "".join(parts)


def _intro(doc: dict[str, Any], period: Period) -> str:
    scope = doc["scope"]
    where = (
        both("console.stats_scope_partner", queues=scope)
        if scope
        else both("console.stats_scope_all")
    )
    marker = doc["suppressed_marker"]
    return (
        f'<p class="scope">{period_name(period)} · {h(doc["months"][0])} – {h(doc["months"][-1])}'
        f" · {where}</p>"
        f'<p class="note">{both("console.stats_suppressed_note", marker=marker, k=doc["k"])}</p>'
    )


def dashboard(doc: dict[str, Any], period: Period, today: date, staff: Staff, csrf: str) -> str:
    links = (
        f'<p class="exports"><a href="/admin/export.csv?period={h(period.value)}" download>'
        f'{both("console.stats_csv")}</a> · <a href="/admin/print?period={h(period.value)}">'
        f"{both('console.stats_print')}</a></p>"
    )
    body = f"<h1>{both('console.stats_title')}</h1>{selector(period, today)}{_intro(doc, period)}"
    return page(
        body + links + sections(doc), title=t("console.stats_title"), staff=staff, csrf=csrf
    )


def print_view(doc: dict[str, Any], period: Period) -> str:
    body = (
        f'<div class="print">'
        f'<p class="noprint"><a href="/admin?period={h(period.value)}">'
        f"{both('console.stats_back')}</a>"
        f" · {both('console.stats_print_hint')}</p>"
        f"<h1>{both('console.stats_title')}</h1>{_intro(doc, period)}{sections(doc)}</div>"
    )
    return page(body, title=t("console.stats_title"))
