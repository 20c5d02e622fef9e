"""Render a statistics Report as an aligned text table, JSON or CSV.

JSON keys (stable; a suppressed count is the string "<k", e.g. "<5"):
  k, months, suppressed_marker
  cases_by_month_category: {columns, rows: [{month, counts: {category: n}, total}],
                            column_totals: {category: n}, total}
  crisis_by_month, cases_by_queue, ratings, gender, age_band, employment:
                           {counts: {label: n}, total}
  response_times: {first_response, resolution}: {median_minutes, p90_minutes}, each a
                  number, or "<k" when fewer than k cases contribute
Labels "not_given" (no answer, or no rating) and "none" (no queue yet) are rows too.
CSV: one section per table, opened by a "# name" line and closed by an empty line.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from typing import Literal

from core.stats import Cell, CrossTable, Distribution, Duration, Report

Value = int | str


def _value(cell: Cell, marker: str) -> Value:
    return marker if cell.suppressed or cell.value is None else cell.value


def _minutes(value: float | None, marker: str) -> float | str:
    return marker if value is None else round(value, 1)


def _distributions(report: Report) -> list[tuple[str, str, Distribution]]:
    return [
        ("crisis_by_month", "month", report.crisis),
        ("cases_by_queue", "queue", report.queues),
        ("ratings", "rating", report.ratings),
        ("gender", "gender", report.gender),
        ("age_band", "age_band", report.age_band),
        ("employment", "employment", report.employment),
    ]


def _durations(report: Report) -> list[tuple[str, Duration]]:
    return [("first_response", report.first_response), ("resolution", report.resolution)]


def _cross_rows(table: CrossTable, marker: str) -> list[list[Value]]:
    head: list[Value] = ["month", *table.columns, "total"]
    body: list[list[Value]] = [
        [row, *(_value(c, marker) for c in cells), _value(total, marker)]
        for row, cells, total in zip(table.rows, table.cells, table.row_totals, strict=True)
    ]
    foot: list[Value] = [
        "total",
        *(_value(c, marker) for c in table.column_totals),
        _value(table.total, marker),
    ]
    return [head, *body, foot]


def _dist_rows(label: str, dist: Distribution, marker: str) -> list[list[Value]]:
    body: list[list[Value]] = [
        [name, _value(c, marker)] for name, c in zip(dist.labels, dist.cells, strict=True)
    ]
    return [[label, "cases"], *body, ["total", _value(dist.total, marker)]]


def _duration_rows(report: Report, marker: str) -> list[list[Value]]:
    rows: list[list[Value]] = [["measure", "median", "p90"]]
    for name, d in _durations(report):
        rows.append([name, _human(d.median_minutes, marker), _human(d.p90_minutes, marker)])
    return rows


def _human(minutes: float | None, marker: str) -> str:
    if minutes is None:
        return marker
    return f"{minutes:.0f} min" if minutes < 120 else f"{minutes / 60:.1f} h"


def _as_json(report: Report, marker: str) -> str:
    table = report.cases
    doc: dict[str, object] = {
        "k": report.k,
        "months": list(report.months),
        "suppressed_marker": marker,
        "cases_by_month_category": {
            "columns": list(table.columns),
            "rows": [
                {
                    "month": month,
                    "counts": {
                        c: _value(v, marker) for c, v in zip(table.columns, cells, strict=True)
                    },
                    "total": _value(total, marker),
                }
                for month, cells, total in zip(
                    table.rows, table.cells, table.row_totals, strict=True
                )
            ],
            "column_totals": {
                c: _value(v, marker)
                for c, v in zip(table.columns, table.column_totals, strict=True)
            },
            "total": _value(table.total, marker),
        },
    }
    for key, _, dist in _distributions(report):
        doc[key] = {
            "counts": {
                name: _value(c, marker) for name, c in zip(dist.labels, dist.cells, strict=True)
            },
            "total": _value(dist.total, marker),
        }
    doc["response_times"] = {
        name: {
            "median_minutes": _minutes(d.median_minutes, marker),
            "p90_minutes": _minutes(d.p90_minutes, marker),
        }
        for name, d in _durations(report)
    }
    return json.dumps(doc, ensure_ascii=False, indent=2)


def _sections(report: Report, marker: str) -> list[tuple[str, list[list[Value]]]]:
    sections = [("cases_by_month_category", _cross_rows(report.cases, marker))]
    sections += [(key, _dist_rows(label, d, marker)) for key, label, d in _distributions(report)]
    sections.append(("response_times", _duration_rows(report, marker)))
    return sections


def _as_csv(report: Report, marker: str) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for name, rows in _sections(report, marker):
        writer.writerow([f"# {name}"])
        writer.writerows(rows)
        writer.writerow([])
    return out.getvalue().rstrip("\n") + "\n"


def _aligned(rows: Sequence[Sequence[Value]]) -> list[str]:
    texts = [[str(v) for v in row] for row in rows]
    widths = [max(len(row[i]) for row in texts) for i in range(len(texts[0]))]
    return [
        "  ".join(
            t.ljust(w) if i == 0 else t.rjust(w)
            for i, (t, w) in enumerate(zip(row, widths, strict=True))
        ).rstrip()
        for row in texts
    ]


_TITLES = {
    "cases_by_month_category": "Cases per month and category",
    "crisis_by_month": "Crisis cases per month",
    "cases_by_queue": "Cases per queue",
    "ratings": "Feedback ratings",
    "gender": "Gender",
    "age_band": "Age band",
    "employment": "Employment",
    "response_times": "Time to first staff response and to resolution",
}


def _as_table(report: Report, marker: str) -> str:
    months = f"{report.months[0]} .. {report.months[-1]}" if report.months else "-"
    lines = [
        f"Sapa ASN statistics, {months}",
        f'"{marker}" = suppressed: fewer than {report.k} cases, or hidden so that no small',
        "count can be worked out from the totals.",
    ]
    for name, rows in _sections(report, marker):
        lines += ["", _TITLES[name], *_aligned(rows)]
    return "\n".join(lines) + "\n"


def render(report: Report, *, fmt: Literal["table", "json", "csv"], k: int) -> str:
    if k != report.k:
        raise ValueError(f"report was built with k={report.k}, not {k}")
    marker = f"<{k}"
    if fmt == "json":
        return _as_json(report, marker)
    if fmt == "csv":
        return _as_csv(report, marker)
    if fmt == "table":
        return _as_table(report, marker)
    raise ValueError(f"unknown format {fmt!r}")
