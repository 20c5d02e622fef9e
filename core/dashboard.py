"""The admin dashboard's statistics: fixed periods only, every count suppressed with k.

Free date ranges would let two views be subtracted to reveal a small cell, so a view is
one of a few fixed periods. The current load per queue is a distribution like the others.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from core.stats import CaseFact, Cell, Distribution, Report, build_report, distribution
from core.stats_format import render

FIRST_YEAR = 2025  # the service started in December 2025


class Period(StrEnum):
    THIS_MONTH = "this_month"
    LAST_3_MONTHS = "last_3_months"
    LAST_12_MONTHS = "last_12_months"
    YEAR_2025 = "year_2025"
    YEAR_2026 = "year_2026"
    YEAR_2027 = "year_2027"
    YEAR_2028 = "year_2028"
    YEAR_2029 = "year_2029"
    YEAR_2030 = "year_2030"

    @property
    def year(self) -> int | None:
        return int(self.value[5:]) if self.value.startswith("year_") else None


ROLLING = {Period.THIS_MONTH: 1, Period.LAST_3_MONTHS: 3, Period.LAST_12_MONTHS: 12}


@dataclass(frozen=True)
class Targets:
    """Service targets the response times are shown against, in minutes."""

    first_response_minutes: float
    resolution_minutes: float


@dataclass(frozen=True)
class Dashboard:
    period: Period
    scope: str | None  # a supervisor's partner code; None for all partners
    report: Report
    load: Distribution  # open cases per queue now
    targets: Targets


def offered(today: date) -> tuple[Period, ...]:
    """The periods a selector offers: the rolling ones, then every year up to this one."""
    years = [p for p in Period if p.year is not None and FIRST_YEAR <= p.year <= today.year]
    return (*ROLLING, *reversed(years))


def months_of(period: Period, today: date) -> tuple[str, ...]:
    """The months ("YYYY-MM") a period covers, oldest first."""
    if period.year is not None:
        return tuple(f"{period.year}-{m:02d}" for m in range(1, 13))
    index = today.year * 12 + today.month - 1
    count = ROLLING[period]
    return tuple(f"{i // 12}-{i % 12 + 1:02d}" for i in range(index - count + 1, index + 1))


def span_of(months: Sequence[str]) -> tuple[date, date]:
    """First day of the first month, and first day after the last month."""
    first_year, first_month = (int(part) for part in months[0].split("-"))
    last_year, last_month = (int(part) for part in months[-1].split("-"))
    after = last_year * 12 + last_month
    return date(first_year, first_month, 1), date(after // 12, after % 12 + 1, 1)


def build_dashboard(
    facts: Sequence[CaseFact],
    open_by_queue: Mapping[str, int],
    *,
    period: Period,
    today: date,
    k: int,
    targets: Targets,
    scope: str | None = None,
) -> Dashboard:
    report = build_report(facts, k=k, months=months_of(period, today))
    queues = sorted(open_by_queue)
    load = distribution(queues, [open_by_queue[q] for q in queues], k=k)
    return Dashboard(period, scope, report, load, targets)


def to_document(board: Dashboard) -> dict[str, Any]:
    """The JSON document of core.stats_format, with the period, the scope, load and targets."""
    k = board.report.k
    marker = f"<{k}"
    doc: dict[str, Any] = json.loads(render(board.report, fmt="json", k=k))
    doc["open_by_queue"] = {
        "counts": {
            label: _shown(cell, marker)
            for label, cell in zip(board.load.labels, board.load.cells, strict=True)
        },
        "total": _shown(board.load.total, marker),
    }
    times = doc["response_times"]
    times["first_response"]["target_minutes"] = board.targets.first_response_minutes
    times["resolution"]["target_minutes"] = board.targets.resolution_minutes
    return {"period": board.period.value, "scope": board.scope, **doc}


def _shown(cell: Cell, marker: str) -> int | str:
    return marker if cell.suppressed or cell.value is None else cell.value


def to_csv(board: Dashboard) -> str:
    """The CSV of `sapa stats --format csv`, plus the open load and the targets."""
    k = board.report.k
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["# open_by_queue"])
    writer.writerow(["queue", "open_cases"])
    for label, cell in zip(board.load.labels, board.load.cells, strict=True):
        writer.writerow([label, _shown(cell, f"<{k}")])
    writer.writerow(["total", _shown(board.load.total, f"<{k}")])
    writer.writerow([])
    writer.writerow(["# targets"])
    writer.writerow(["measure", "target_minutes"])
    writer.writerow(["first_response", board.targets.first_response_minutes])
    writer.writerow(["resolution", board.targets.resolution_minutes])
    head = f"# period,{board.period.value}\n# scope,{board.scope or 'all'}\n\n"
    return head + render(board.report, fmt="csv", k=k) + "\n" + out.getvalue()
