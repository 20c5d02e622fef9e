"""Anonymised statistics with small-cell and complementary suppression.

A count from 1 to k-1 is hidden (primary suppression). Then, in every line of a table
(a row or a column, its total counted as a cell of the line), one hidden cell never
stands alone: the smallest other non-zero cell is hidden too, and a line whose other
cells are all zero hides its total (secondary suppression), to a fixed point. Last, each
hidden cell is checked exactly against an adversary who knows every published figure,
every row and column sum, and that a hidden cell is at least 1 (zeros are shown): while
some hidden cell has only one consistent value, one more cell is hidden. A hidden cell
carries no value in the report, so no renderer can leak it.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

CATEGORIES = ("keluarga", "hukum", "gizi", "kesehatan_jiwa", "lainnya")
RATINGS = ("1", "2", "3", "4", "5")
GENDERS = ("perempuan", "laki_laki")
AGE_BANDS = ("<30", "30-39", "40-49", "50+")
EMPLOYMENT = ("PNS", "PPPK")
NOT_GIVEN = "not_given"
NO_QUEUE = "none"
MIN_K = 3


@dataclass(frozen=True)
class CaseFact:
    """One case, with no identifier, no text and no case code."""

    month: str
    category: str
    crisis: bool
    queue: str | None
    first_response_minutes: float | None
    resolution_minutes: float | None
    rating: int | None
    gender: str | None
    age_band: str | None
    employment: str | None


@dataclass(frozen=True)
class Cell:
    """A published count; a suppressed cell has no value at all."""

    value: int | None
    suppressed: bool


@dataclass(frozen=True)
class CrossTable:
    rows: tuple[str, ...]
    columns: tuple[str, ...]
    cells: tuple[tuple[Cell, ...], ...]
    row_totals: tuple[Cell, ...]
    column_totals: tuple[Cell, ...]
    total: Cell


@dataclass(frozen=True)
class Distribution:
    labels: tuple[str, ...]
    cells: tuple[Cell, ...]
    total: Cell


@dataclass(frozen=True)
class Duration:
    """Median and p90 in minutes; both None when fewer than k cases contribute."""

    median_minutes: float | None
    p90_minutes: float | None

    @property
    def suppressed(self) -> bool:
        return self.median_minutes is None


@dataclass(frozen=True)
class Report:
    k: int
    months: tuple[str, ...]
    cases: CrossTable  # month x category
    crisis: Distribution  # per month
    queues: Distribution
    first_response: Duration
    resolution: Duration
    ratings: Distribution
    gender: Distribution
    age_band: Distribution
    employment: Distribution


@dataclass(frozen=True)
class _Grid:
    """Cells of a table with totals, as the lines they sum in and as graph edges.

    Each cell is an edge (tail, head, sign) between the two lines it belongs to; with
    e = sign * change, every line's changes sum to zero, so the ways to alter hidden
    cells without altering any published figure are the cycles of that graph.
    """

    values: tuple[int, ...]
    lines: tuple[tuple[tuple[int, ...], int], ...]  # (member cells, total cell)
    edges: tuple[tuple[int, int, int], ...]


def _cross_grid(counts: Sequence[Sequence[int]]) -> _Grid:
    rows, cols = len(counts), len(counts[0])
    full = [[*row, sum(row)] for row in counts]
    full.append([sum(col) for col in zip(*full, strict=True)])

    def at(i: int, j: int) -> int:
        return i * (cols + 1) + j

    lines = [(tuple(at(i, j) for j in range(cols)), at(i, cols)) for i in range(rows + 1)]
    lines += [(tuple(at(i, j) for i in range(rows)), at(rows, j)) for j in range(cols + 1)]
    edges = [
        (i, rows + 1 + j, -1 if (i == rows) != (j == cols) else 1)
        for i in range(rows + 1)
        for j in range(cols + 1)
    ]
    values = tuple(v for row in full for v in row)
    return _Grid(values, tuple(lines), tuple(edges))


def _line_grid(counts: Sequence[int]) -> _Grid:
    n = len(counts)
    edges = (*((0, 1, 1) for _ in range(n)), (0, 1, -1))
    return _Grid((*counts, sum(counts)), ((tuple(range(n)), n),), edges)


def _arcs(grid: _Grid, cell: int) -> list[tuple[int, int]]:
    """Directions in which a hidden cell may change: up is always possible, down from 2."""
    tail, head, sign = grid.edges[cell]
    may_drop = grid.values[cell] >= 2
    arcs = []
    if sign == 1 or may_drop:
        arcs.append((tail, head))
    if sign == -1 or may_drop:
        arcs.append((head, tail))
    return arcs


def _reaches(arcs: list[tuple[int, int]], start: int, goal: int) -> bool:
    after: dict[int, list[int]] = {}
    for a, b in arcs:
        after.setdefault(a, []).append(b)
    seen, todo = {start}, [start]
    while todo:
        node = todo.pop()
        if node == goal:
            return True
        fresh = [b for b in after.get(node, []) if b not in seen]
        seen.update(fresh)
        todo.extend(fresh)
    return False


def _undetermined(grid: _Grid, hidden: set[int], cell: int) -> bool:
    """True when the published figures allow at least two values for a hidden cell.

    The cell can change by one, with every published figure kept, exactly when one of
    its arcs closes a directed cycle through other hidden cells' arcs.
    """
    others = [arc for h in hidden - {cell} for arc in _arcs(grid, h)]
    return any(_reaches(others, head, tail) for tail, head in _arcs(grid, cell))


def _smallest_visible(grid: _Grid, hidden: set[int], cells: Sequence[int]) -> int | None:
    visible = [c for c in cells if c not in hidden and grid.values[c] > 0]
    return min(visible, key=lambda c: (grid.values[c], c), default=None)


def _line_rules(grid: _Grid, hidden: set[int]) -> None:
    changed = True
    while changed:
        changed = False
        for members, total in grid.lines:
            count = sum(c in hidden for c in (*members, total))
            if count == 1 and (extra := _smallest_visible(grid, hidden, members)) is not None:
                hidden.add(extra)
                changed = True
            rest_zero = all(grid.values[m] == 0 for m in members if m not in hidden)
            if count and total not in hidden and rest_zero:
                hidden.add(total)
                changed = True


def _suppress(grid: _Grid, k: int, forced: set[int]) -> set[int]:
    hidden = {c for c, v in enumerate(grid.values) if 0 < v < k} | forced
    while True:
        _line_rules(grid, hidden)
        weak = next((c for c in sorted(hidden) if not _undetermined(grid, hidden, c)), None)
        if weak is None:
            return hidden
        near = [c for members, total in grid.lines if weak in (*members, total) for c in members]
        extra = _smallest_visible(grid, hidden, near)
        if extra is None:
            extra = _smallest_visible(grid, hidden, range(len(grid.values)))
        if extra is None:  # unreachable: hiding every non-zero cell always protects
            raise AssertionError("suppression found no cell to hide")
        hidden.add(extra)


def _cells(grid: _Grid, hidden: set[int]) -> list[Cell]:
    return [Cell(None, True) if c in hidden else Cell(v, False) for c, v in enumerate(grid.values)]


def cross_table(
    rows: Sequence[str],
    columns: Sequence[str],
    counts: Sequence[Sequence[int]],
    *,
    k: int,
    hide_total: bool = False,
) -> CrossTable:
    """Suppress a rows x columns table of counts with its row, column and grand totals."""
    _check_k(k)
    grid = _cross_grid(counts)
    corner = len(grid.values) - 1
    hidden = _suppress(grid, k, {corner} if hide_total and grid.values[corner] else set())
    flat, width = _cells(grid, hidden), len(columns) + 1
    lines = [tuple(flat[i * width : (i + 1) * width]) for i in range(len(rows) + 1)]
    return CrossTable(
        rows=tuple(rows),
        columns=tuple(columns),
        cells=tuple(line[:-1] for line in lines[:-1]),
        row_totals=tuple(line[-1] for line in lines[:-1]),
        column_totals=lines[-1][:-1],
        total=lines[-1][-1],
    )


def distribution(
    labels: Sequence[str], counts: Sequence[int], *, k: int, hide_total: bool = False
) -> Distribution:
    """Suppress a one-dimensional distribution with its total."""
    _check_k(k)
    grid = _line_grid(counts)
    total = len(counts)
    hidden = _suppress(grid, k, {total} if hide_total and grid.values[total] else set())
    cells = _cells(grid, hidden)
    return Distribution(tuple(labels), tuple(cells[:-1]), cells[-1])


def _check_k(k: int) -> None:
    if k < MIN_K:
        raise ValueError(f"k must be at least {MIN_K}, got {k}")


def _duration(minutes: Sequence[float], k: int) -> Duration:
    if len(minutes) < k:
        return Duration(None, None)
    p90 = statistics.quantiles(minutes, n=10, method="inclusive")[8]
    return Duration(float(statistics.median(minutes)), float(p90))


def _counts(
    facts: Sequence[CaseFact], key: Callable[[CaseFact], str], labels: Sequence[str]
) -> list[int]:
    tally = Counter(key(f) for f in facts)
    return [tally[label] for label in labels]


def _category(fact: CaseFact) -> str:
    # A case whose category was never settled goes to the general desk: count it there.
    return fact.category if fact.category in CATEGORIES else "lainnya"


def _given(value: str | None, known: Sequence[str]) -> str:
    return value if value is not None and value in known else NOT_GIVEN


def build_report(facts: Sequence[CaseFact], *, k: int, months: Sequence[str]) -> Report:
    """Every statistic over the cases opened in `months`, suppressed with threshold k."""
    _check_k(k)
    if not months:
        raise ValueError("at least one month is needed")
    wanted = set(months)
    facts = [f for f in facts if f.month in wanted]
    queues = (*sorted({f.queue for f in facts if f.queue is not None}), NO_QUEUE)
    ratings = (*RATINGS, NOT_GIVEN)
    by_month = [_counts([f for f in facts if f.month == m], _category, CATEGORIES) for m in months]
    bands: list[tuple[Sequence[str], Callable[[CaseFact], str]]] = [
        (queues, lambda f: f.queue or NO_QUEUE),
        (ratings, lambda f: _given(None if f.rating is None else str(f.rating), RATINGS)),
        ((*GENDERS, NOT_GIVEN), lambda f: _given(f.gender, GENDERS)),
        ((*AGE_BANDS, NOT_GIVEN), lambda f: _given(f.age_band, AGE_BANDS)),
        ((*EMPLOYMENT, NOT_GIVEN), lambda f: _given(f.employment, EMPLOYMENT)),
    ]

    def shared(hide_total: bool) -> tuple[CrossTable, list[Distribution]]:
        cases = cross_table(months, CATEGORIES, by_month, k=k, hide_total=hide_total)
        dists = [
            distribution(labels, _counts(facts, key, labels), k=k, hide_total=hide_total)
            for labels, key in bands
        ]
        return cases, dists

    # These tables all add up to the same grand total: it is hidden in every one as soon
    # as one hides it, else it would be read from the others.
    cases, dists = shared(hide_total=False)
    if cases.total.suppressed or any(d.total.suppressed for d in dists):
        cases, dists = shared(hide_total=True)
    crisis_months = _counts([f for f in facts if f.crisis], lambda f: f.month, months)
    return Report(
        k=k,
        months=tuple(months),
        cases=cases,
        crisis=distribution(months, crisis_months, k=k),
        queues=dists[0],
        first_response=_duration(
            [f.first_response_minutes for f in facts if f.first_response_minutes is not None], k
        ),
        resolution=_duration(
            [f.resolution_minutes for f in facts if f.resolution_minutes is not None], k
        ),
        ratings=dists[1],
        gender=dists[2],
        age_band=dists[3],
        employment=dists[4],
    )
