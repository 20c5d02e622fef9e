"""The dashboard's statistics as one chat message: the staff bot's /statistik.

It reads the document of core.dashboard.to_document, so it shows exactly what the web
dashboard shows for the same viewer and period (the same suppression, the same scope),
only shorter: totals over the period, not month by month. Labels come from the catalogue.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from core import catalogue
from core.dashboard import Period

QUEUES = ("open_by_queue", "cases_by_queue")  # rows named by queue code, shown as they are
SECTIONS = (  # (key in the document, title) in the dashboard's order
    ("crisis_by_month", "console.stats_crisis"),
    ("open_by_queue", "console.stats_load"),
    ("cases_by_queue", "console.stats_queues"),
    ("ratings", "console.stats_ratings"),
    ("gender", "console.stats_gender"),
    ("age_band", "console.stats_age_band"),
    ("employment", "console.stats_employment"),
)
TIMES = (
    ("first_response", "console.stats_first_response"),
    ("resolution", "console.stats_resolution"),
)


def period_name(period: Period, locale: str = "id") -> str:
    if period.year is not None:
        return catalogue.text("console.stats_period_year", locale, year=period.year)
    return catalogue.text(f"console.stats_period_{period.value}", locale)


def label(name: str, locale: str = "id", *, queue: bool = False) -> str:
    """A row's name as people read it: a topic, an answer, or as it is (a queue, a month).

    A queue code may be spelt like a topic (hukum, gizi): it is a queue there, not a topic."""
    for key in ((f"category.{name}",) if not queue else ()) + (f"stats.label_{name}",):
        if key in catalogue.keys(locale):
            return catalogue.text(key, locale)
    return name


def duration(minutes: float | str, locale: str = "id") -> str:
    """Minutes as "45 menit" or "3,5 jam"; a suppressed value ("<5") as it is."""
    if isinstance(minutes, str):
        return minutes
    if minutes < 120:
        return catalogue.text("stats.minutes", locale, n=f"{minutes:.0f}")
    hours = f"{minutes / 60:.1f}"
    return catalogue.text(
        "stats.hours", locale, n=hours.replace(".", ",") if locale == "id" else hours
    )


def chat_text(doc: Mapping[str, Any], locale: str = "id") -> str:
    def t(key: str, **values: object) -> str:
        return catalogue.text(key, locale, **values)

    months = doc["months"]
    scope = (
        t("console.stats_scope_partner", queues=doc["scope"])
        if doc["scope"]
        else t("console.stats_scope_all")
    )
    total = t("console.stats_total")
    cases = doc["cases_by_month_category"]
    by_month = cases["rows"]
    lines = [
        t("console.stats_title"),
        f"{period_name(Period(doc['period']), locale)} · {months[0]} – {months[-1]} · {scope}",
        "",
        t("console.stats_cases"),
        *(f"- {label(c, locale)}: {cases['column_totals'][c]}" for c in cases["columns"]),
        f"- {total}: {cases['total']}",
        t(
            "stats.per_month",
            months=" · ".join(f"{r['month']} {r['total']}" for r in by_month),
        ),
    ]
    for key, title in SECTIONS:
        counts: Mapping[str, Any] = doc[key]["counts"]
        lines += ["", t(title)]
        named = {name: label(name, locale, queue=key in QUEUES) for name in counts}
        lines += [f"- {named[name]}: {value}" for name, value in counts.items()]
        lines.append(f"- {total}: {doc[key]['total']}")
    lines += ["", t("console.stats_times")]
    for key, title in TIMES:
        d = doc["response_times"][key]
        lines.append(
            f"- {t(title)}: "
            + " · ".join(duration(d[m], locale) for m in ("median_minutes", "p90_minutes"))
            + f" ({t('console.stats_target')} {duration(d['target_minutes'], locale)})"
        )
    lines += [
        "",
        t("console.stats_suppressed_note", marker=doc["suppressed_marker"], k=doc["k"]),
        t("stats.more_on_the_web"),
    ]
    return "\n".join(lines)
