"""The admin dashboard's periods, and the promise: no page, export or JSON shows 1..k-1.

Every count the dashboard shows carries data-count="<text shown>" (HTML and SVG), sits in
a count column of a CSV section, or in a count field of the JSON; the checks below read
all of them. Durations (data-minutes) and labels (months, years) are not counts.
"""

from __future__ import annotations

import csv
import html
import io
import re
from datetime import UTC, date, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core import catalogue
from core.dashboard import (
    Dashboard,
    Period,
    Targets,
    build_dashboard,
    months_of,
    offered,
    to_csv,
    to_document,
)
from core.dashboard_text import chat_text
from core.model import Role, Staff
from core.stats import AGE_BANDS, CATEGORIES, EMPLOYMENT, GENDERS, CaseFact
from handlers import admin_html as view
from handlers.admin_api import Summary
from handlers.admin_svg import PLACEHOLDER

TODAY = date(2026, 3, 15)
TARGETS = Targets(240.0, 10080.0)
STAFF = Staff("s1", "Admin", Role.ADMIN, (), False, True, datetime(2026, 1, 1, tzinfo=UTC))
SHOWN = re.compile(r'data-count="([^"]*)"[^>]*>([^<]*)<')
SUPPRESSED_RECT = re.compile(r'<rect class="bar suppressed s[0-9]+"[^>]*height="([0-9.]+)"')
TIME_SECTIONS = {"# response_times", "# targets", "# period", "# scope"}


def test_rolling_periods_end_with_this_month() -> None:
    assert months_of(Period.THIS_MONTH, TODAY) == ("2026-03",)
    assert months_of(Period.LAST_3_MONTHS, TODAY) == ("2026-01", "2026-02", "2026-03")
    last_12 = months_of(Period.LAST_12_MONTHS, TODAY)
    assert last_12[0] == "2025-04" and last_12[-1] == "2026-03" and len(last_12) == 12


def test_a_year_is_its_twelve_months_and_only_past_years_are_offered() -> None:
    assert months_of(Period.YEAR_2025, TODAY) == tuple(f"2025-{m:02d}" for m in range(1, 13))
    assert offered(TODAY) == (
        Period.THIS_MONTH,
        Period.LAST_3_MONTHS,
        Period.LAST_12_MONTHS,
        Period.YEAR_2026,
        Period.YEAR_2025,
    )


def bad_counts(text: str, k: int) -> list[str]:
    """Counts from 1 to k-1 shown anywhere in an HTML page (attributes and their text)."""
    found = SHOWN.findall(text)
    assert found, "no count on the page at all"
    wrong = [f"{a!r} shows {b!r}" for a, b in found if html.unescape(a) != html.unescape(b)]
    return wrong + [a for a, _ in found if _small(html.unescape(a), k)]


def _small(value: Any, k: int) -> bool:
    if isinstance(value, str):
        if value == f"<{k}":
            return False
        value = int(value)  # anything else must be a whole number
    return bool(0 < value < k)


def bad_csv(text: str, k: int) -> list[str]:
    bad, section, header = [], "", False
    for row in csv.reader(io.StringIO(text)):
        if not row:
            continue
        if row[0].startswith("#"):
            section, header = row[0], True
            continue
        if header:
            header = False
            continue
        if section not in TIME_SECTIONS:
            bad += [f"{section}: {v}" for v in row[1:] if _small(v, k)]
    return bad


def bad_json(doc: dict[str, Any], k: int) -> list[str]:
    tables = [v for v in doc.values() if isinstance(v, dict) and "counts" in v]
    cases = doc["cases_by_month_category"]
    tables += [*cases["rows"], {"counts": cases["column_totals"], "total": cases["total"]}]
    values = [v for t in tables for v in (*t["counts"].values(), t["total"])]
    assert values
    return [str(v) for v in values if _small(v, k)]


def bad_chat(text: str, k: int) -> list[str]:
    """Small counts in the staff bot's /statistik message (the response times end the counts)."""
    counts = text.split(catalogue.text("console.stats_times"))[0].splitlines()
    values = [line.rsplit(": ", 1)[1] for line in counts if line.startswith("- ")]
    per_month = next(line for line in counts if line.startswith("Per bulan: "))
    values += [part.rsplit(" ", 1)[1] for part in per_month.split(": ", 1)[1].split(" · ")]
    assert len(values) > 20
    return [v for v in values if _small(v, k)]


def everything(board: Dashboard) -> tuple[str, str, str, dict[str, Any]]:
    doc = to_document(board)
    Summary.model_validate(doc)  # what /api/stats/summary sends, through its schema
    page = view.dashboard(doc, board.period, TODAY, STAFF, "csrf")
    return page, view.print_view(doc, board.period), to_csv(board), doc


facts = st.builds(
    CaseFact,
    month=st.sampled_from(months_of(Period.LAST_12_MONTHS, TODAY)),
    category=st.sampled_from((*CATEGORIES, "unknown")),
    crisis=st.booleans(),
    queue=st.sampled_from(("psikologi", "gizi", "hukum", "umum", None)),
    first_response_minutes=st.one_of(st.none(), st.floats(0, 50_000)),
    resolution_minutes=st.one_of(st.none(), st.floats(0, 500_000)),
    rating=st.one_of(st.none(), st.integers(1, 5)),
    gender=st.one_of(st.none(), st.sampled_from(GENDERS)),
    age_band=st.one_of(st.none(), st.sampled_from(AGE_BANDS)),
    employment=st.one_of(st.none(), st.sampled_from(EMPLOYMENT)),
)
loads = st.dictionaries(st.sampled_from(("psikologi", "gizi", "hukum", "umum")), st.integers(0, 9))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(facts, max_size=45),
    loads,
    st.sampled_from((Period.THIS_MONTH, Period.LAST_3_MONTHS, Period.LAST_12_MONTHS)),
    st.integers(3, 6),
)
def test_no_page_export_or_json_ever_shows_a_small_count(
    cases: list[CaseFact], load: dict[str, int], period: Period, k: int
) -> None:
    board = build_dashboard(cases, load, period=period, today=TODAY, k=k, targets=TARGETS)
    page, printed, exported, doc = everything(board)
    assert bad_counts(page, k) == [] and bad_counts(printed, k) == []
    assert bad_csv(exported, k) == [] and bad_json(doc, k) == []
    assert bad_chat(chat_text(doc), k) == []
    # A hidden bar segment is a fixed placeholder, never sized by what it hides.
    assert {float(x) for x in SUPPRESSED_RECT.findall(page)} <= {float(PLACEHOLDER)}


def small_board() -> Dashboard:
    one = CaseFact("2026-03", "gizi", True, "gizi", 5.0, 60.0, 4, "perempuan", "<30", "PNS")
    return build_dashboard(
        [one] * 7, {"gizi": 7}, period=Period.THIS_MONTH, today=TODAY, k=5, targets=TARGETS
    )


def test_the_checks_catch_a_small_count_that_slips_through() -> None:
    page, _, exported, doc = everything(small_board())
    assert bad_counts(page, 5) == [] and bad_csv(exported, 5) == [] and bad_json(doc, 5) == []
    leaked = page.replace('data-count="7">7<', 'data-count="2">2<', 1)
    assert bad_counts(leaked, 5) == ['"2"'.strip('"')]
    assert bad_csv(exported.replace("gizi,7", "gizi,2", 1), 5) == ["# cases_by_queue: 2"]
    assert bad_chat(chat_text(doc), 5) == []
    doc["gender"]["counts"]["perempuan"] = 3
    assert bad_json(doc, 5) == ["3"]
    assert bad_chat(chat_text(doc), 5) == ["3"]


def test_the_staff_bot_message_names_topics_answers_and_queues_in_indonesian() -> None:
    doc = to_document(small_board())
    said = chat_text(doc)
    assert said.startswith(
        "Statistik layanan Sapa ASN\nBulan ini · 2026-03 – 2026-03 · Semua mitra"
    )
    assert "- Gizi dan pola makan: 7" in said  # the topic, by its name
    assert "Kasus terbuka saat ini per antrean\n- gizi: 7" in said  # the queue, by its code
    assert "- Perempuan: 7" in said and "- Tidak diisi: 0" in said
    assert "- Sampai tanggapan pertama: 5 menit · 5 menit (Target layanan 4,0 jam)" in said
    assert "not_given" not in said and "perempuan" not in said
    english = chat_text(doc, "en")
    assert "- Nutrition and eating: 7" in english and "- Female: 7" in english
    assert "(Target 4.0 h)" in english


@pytest.mark.parametrize("label", ["<script>alert(1)</script>", 'x" onload="y'])
def test_every_label_is_escaped_in_charts_and_tables(label: str) -> None:
    board = build_dashboard(
        [], {label: 0}, period=Period.THIS_MONTH, today=TODAY, k=5, targets=TARGETS
    )
    page, *_ = everything(board)
    assert label not in page and html.escape(label) in page


def test_a_hidden_cell_is_drawn_as_a_fixed_placeholder_labelled_with_the_marker() -> None:
    two = CaseFact("2026-03", "hukum", False, "hukum", None, None, None, None, None, None)
    nine = CaseFact("2026-03", "gizi", False, "gizi", None, None, None, None, None, None)
    board = build_dashboard(
        [two] * 2 + [nine] * 9, {}, period=Period.THIS_MONTH, today=TODAY, k=5, targets=TARGETS
    )
    page, *_ = everything(board)
    chart = page[page.index('id="chart-cases"') : page.index("</svg>")]
    assert SUPPRESSED_RECT.findall(chart) == [f"{PLACEHOLDER:.1f}"] * 2  # hukum and gizi
    assert chart.count('class="count hidden" ') == 2
    assert chart.count('data-count="&lt;5">&lt;5<') == 3  # both segments and the total
