"""Server-side SVG charts of suppressed statistics: no script, no third-party asset.

A count is drawn from the published value only. A suppressed cell ("<k") is a hatched
placeholder of fixed height labelled with the marker, never sized by its true value,
which the report does not even carry. Every shown count carries data-count="..." with
exactly the text shown, so tests can check every count on a page.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

Count = int | str
WIDTH, HEIGHT, TOP, BOTTOM, LEFT = 640, 260, 24, 48, 8
PLACEHOLDER = 14  # pixels of a suppressed segment, whatever it hides


def h(value: object) -> str:
    return escape(str(value), quote=True)


def count_text(value: Count, css: str = "count", x: float = 0, y: float = 0) -> str:
    return f'<text class="{css}" x="{x:.1f}" y="{y:.1f}" data-count="{h(value)}">{h(value)}</text>'


def _open(chart_id: str, title: str, kind: str) -> str:
    return (
        f'<svg class="chart {h(kind)}" id="{h(chart_id)}" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'role="img" aria-labelledby="{h(chart_id)}-t" xmlns="http://www.w3.org/2000/svg">'
        f'<title id="{h(chart_id)}-t">{h(title)}</title>'
        '<defs><pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" '
        'patternTransform="rotate(45)"><rect width="6" height="6" class="hatch-bg"/>'
        '<line x1="0" y1="0" x2="0" y2="6" class="hatch-line"/></pattern></defs>'
    )


def _scale(stacks: Sequence[Sequence[Count]]) -> float:
    """Pixels per case, from the visible values only."""
    tallest = max((_height_units(stack) for stack in stacks), default=0.0)
    room = HEIGHT - TOP - BOTTOM
    return room / tallest if tallest > 0 else 1.0


def _height_units(stack: Sequence[Count]) -> float:
    return float(sum(v for v in stack if isinstance(v, int)))


def _segment(
    out: list[str], x: float, y: float, width: float, value: Count, scale: float, css: str
) -> float:
    """Draw one segment whose bottom is at y; return its top."""
    if isinstance(value, int):
        height = value * scale
        if height <= 0:
            return y
        return _rect(out, x, y - height, width, height, f"bar {css}", str(value))
    top = _rect(out, x, y - PLACEHOLDER, width, PLACEHOLDER, f"bar suppressed {css}", str(value))
    out.append(count_text(value, "count hidden", x + width / 2, y - 3))
    return top


def _rect(
    out: list[str], x: float, top: float, width: float, height: float, css: str, label: str
) -> float:
    out.append(
        f'<rect class="{h(css)}" x="{x:.1f}" y="{top:.1f}" width="{width:.1f}" '
        f'height="{height:.1f}"><title>{h(label)}</title></rect>'
    )
    return top


def stacked_bars(
    chart_id: str,
    title: str,
    bars: Sequence[tuple[str, Sequence[Count], Count]],
    series: Sequence[str],
) -> str:
    """One bar per label, stacked by series; the bar's total printed on top."""
    parts: list[str] = []
    scale = _scale([values for _, values, _ in bars])
    slot = (WIDTH - LEFT) / max(len(bars), 1)
    width = min(slot * 0.7, 80.0)
    base = HEIGHT - BOTTOM
    for i, (label, values, total) in enumerate(bars):
        x = LEFT + i * slot + (slot - width) / 2
        top = float(base)
        for j, value in enumerate(values):
            top = _segment(parts, x, top, width, value, scale, f"s{j}")
        parts.append(count_text(total, "count total", x + width / 2, top - 4))
        parts.append(_axis_label(label, x + width / 2))
    legend = "".join(
        f'<rect class="s{j} key" x="{LEFT + j * 120}" y="{HEIGHT - 14}" width="10" height="10"/>'
        f'<text class="key" x="{LEFT + j * 120 + 14}" y="{HEIGHT - 5}">{h(name)}</text>'
        for j, name in enumerate(series)
    )
    return _open(chart_id, title, "stacked") + "".join(parts) + legend + "</svg>"


def bars(chart_id: str, title: str, values: Sequence[tuple[str, Count]]) -> str:
    """A simple bar chart of one distribution."""
    return stacked_bars(chart_id, title, [(label, [v], v) for label, v in values], [])


def _axis_label(label: str, x: float) -> str:
    return f'<text class="axis" x="{x:.1f}" y="{HEIGHT - BOTTOM + 16}">{h(label)}</text>'


def durations(
    chart_id: str, title: str, rows: Sequence[tuple[str, float | str, float | str, float]]
) -> str:
    """Median and p90 per measure as horizontal bars, with the target as a line."""
    parts: list[str] = []
    widest = max(
        [target for *_, target in rows]
        + [v for _, m, p, _ in rows for v in (m, p) if isinstance(v, float | int)],
        default=1.0,
    )
    scale = (WIDTH - 200) / (widest or 1.0)
    for i, (label, median, p90, target) in enumerate(rows):
        y = TOP + i * 100
        parts.append(f'<text class="key" x="{LEFT}" y="{y + 12}">{h(label)}</text>')
        for j, (name, value) in enumerate((("median", median), ("p90", p90))):
            _hbar(parts, 180, y + 20 + j * 28, value, scale, name)
        tx = 180 + target * scale
        parts.append(
            f'<line class="target" x1="{tx:.1f}" x2="{tx:.1f}" y1="{y + 14}" y2="{y + 78}">'
            f"<title>target {h(_human(target))}</title></line>"
        )
    return _open(chart_id, title, "durations") + "".join(parts) + "</svg>"


def _hbar(out: list[str], x: float, y: float, value: float | str, scale: float, name: str) -> None:
    out.append(f'<text class="key" x="{LEFT + 100}" y="{y + 14}">{h(name)}</text>')
    if isinstance(value, str):
        out.append(
            f'<rect class="bar suppressed" x="{x}" y="{y}" width="{PLACEHOLDER * 3}" height="20">'
            f"<title>{h(value)}</title></rect>"
            f'<text class="value" x="{x + PLACEHOLDER * 3 + 6}" y="{y + 14}" '
            f'data-minutes="{h(value)}">{h(value)}</text>'
        )
        return
    width = max(value * scale, 1.0)
    out.append(
        f'<rect class="bar {h(name)}" x="{x}" y="{y}" width="{width:.1f}" height="20">'
        f"<title>{h(_human(value))}</title></rect>"
        f'<text class="value" x="{x + width + 6:.1f}" y="{y + 14}" '
        f'data-minutes="{value}">{h(_human(value))}</text>'
    )


def _human(minutes: float) -> str:
    return f"{minutes:.0f} min" if minutes < 120 else f"{minutes / 60:.1f} h"
