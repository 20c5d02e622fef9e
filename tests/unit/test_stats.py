import csv
import io
import itertools
import json
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.stats import (
    CATEGORIES,
    CaseFact,
    Cell,
    CrossTable,
    Distribution,
    Report,
    build_report,
    cross_table,
    distribution,
)
from core.stats_format import render

MONTHS = ["2026-01", "2026-02", "2026-03"]
HIDDEN = Cell(None, True)
FAST = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def fact(
    month: str = "2026-01",
    category: str = "keluarga",
    *,
    crisis: bool = False,
    queue: str | None = "psikologi",
    first: float | None = None,
    resolved: float | None = None,
    rating: int | None = None,
    gender: str | None = None,
    age_band: str | None = None,
    employment: str | None = None,
) -> CaseFact:
    return CaseFact(
        month, category, crisis, queue, first, resolved, rating, gender, age_band, employment
    )


def shown(*values: int) -> tuple[Cell, ...]:
    return tuple(Cell(v, False) for v in values)


# --- lines of every table with totals, as (cells, total) ---------------------------


def cross_lines(t: CrossTable) -> Iterator[tuple[list[Cell], Cell]]:
    for cells, total in zip(t.cells, t.row_totals, strict=True):
        yield list(cells), total
    yield list(t.column_totals), t.total
    for j in range(len(t.columns)):
        yield [row[j] for row in t.cells], t.column_totals[j]
    yield list(t.row_totals), t.total


def report_lines(r: Report) -> Iterator[tuple[list[Cell], Cell]]:
    yield from cross_lines(r.cases)
    for d in distributions(r):
        yield list(d.cells), d.total


def distributions(r: Report) -> list[Distribution]:
    return [r.crisis, r.queues, r.ratings, r.gender, r.age_band, r.employment]


def all_cells(r: Report) -> Iterator[Cell]:
    for cells, total in report_lines(r):
        yield from cells
        yield total


# --- examples with known figures -----------------------------------------------------


def test_a_distribution_hides_small_counts_and_the_next_smallest() -> None:
    d = distribution(["perempuan", "laki_laki", "not_given"], [10, 3, 7], k=5)
    assert d.cells == (Cell(10, False), HIDDEN, HIDDEN)
    assert d.total == Cell(20, False)


def test_zeros_are_shown_and_a_line_of_small_counts_and_zeros_hides_its_total() -> None:
    d = distribution(["a", "b", "c"], [3, 4, 0], k=5)
    assert d.cells == (HIDDEN, HIDDEN, Cell(0, False))
    assert d.total == HIDDEN


def test_a_distribution_with_nothing_small_is_published_whole() -> None:
    d = distribution(["a", "b", "c"], [5, 0, 9], k=5)
    assert d.cells == shown(5, 0, 9)
    assert d.total == Cell(14, False)


def test_cross_table_with_known_figures() -> None:
    t = cross_table(["m1", "m2", "m3"], ["a", "b", "c"], [[2, 9, 10], [8, 7, 12], [6, 20, 30]], k=5)
    # 2 is small. Row m1 then hides 9 (smallest other), column a hides 6, column b 7;
    # that leaves row m2 (7) and row m3 (6) with one hidden cell each: 8 and 20 go too.
    # Columns a and b are then hidden whole, so their totals would give the sums: hidden.
    assert t.cells == (
        (HIDDEN, HIDDEN, Cell(10, False)),
        (HIDDEN, HIDDEN, Cell(12, False)),
        (HIDDEN, HIDDEN, Cell(30, False)),
    )
    assert t.row_totals == shown(21, 27, 56)
    assert t.column_totals == (HIDDEN, HIDDEN, Cell(52, False))
    assert t.total == Cell(104, False)


def test_a_pair_of_ones_is_not_left_readable_from_the_total() -> None:
    # Published zeros tell that a hidden cell is at least 1: two hidden cells that add
    # up to 2 would both be 1, so a third cell is hidden as well.
    d = distribution(["a", "b", "c", "d"], [1, 1, 9, 20], k=5)
    assert d.cells == (HIDDEN, HIDDEN, HIDDEN, Cell(20, False))
    assert d.total == Cell(31, False)


def test_k_below_three_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 3"):
        build_report([], k=2, months=MONTHS)
    with pytest.raises(ValueError, match="at least 3"):
        distribution(["a"], [1], k=2)
    with pytest.raises(ValueError, match="at least 3"):
        cross_table(["r"], ["c"], [[1]], k=1)


def test_report_counts_months_categories_and_ignores_other_months() -> None:
    facts = (
        [fact("2026-01", "keluarga")] * 6
        + [fact("2026-01", "hukum")] * 5
        + [fact("2026-02", "gizi")] * 7
        + [fact("2026-02", "unknown")] * 5  # never triaged: counted under lainnya
        + [fact("2025-12", "keluarga")] * 3  # outside the months asked for
    )
    r = build_report(facts, k=5, months=["2026-01", "2026-02"])
    assert r.cases.columns == CATEGORIES
    assert r.cases.cells == (shown(6, 5, 0, 0, 0), shown(0, 0, 7, 0, 5))
    assert r.cases.row_totals == shown(11, 12)
    assert r.cases.column_totals == shown(6, 5, 7, 0, 5)
    assert r.cases.total == Cell(23, False)
    assert r.queues.labels == ("psikologi", "none")
    assert r.queues.cells == shown(23, 0)
    assert r.gender.cells == shown(0, 0, 23)
    assert r.ratings.labels == ("1", "2", "3", "4", "5", "not_given")


def test_crisis_cases_per_month_are_suppressed_like_any_count() -> None:
    facts = [fact("2026-01", crisis=True)] * 2 + [fact("2026-02", crisis=True)] * 6
    r = build_report(facts, k=5, months=MONTHS)
    assert r.crisis.labels == tuple(MONTHS)
    assert r.crisis.cells == (HIDDEN, HIDDEN, Cell(0, False))
    assert r.crisis.total == HIDDEN  # 2 + 6 and a zero: the total would give their sum


def test_grand_total_hidden_in_one_table_is_hidden_in_every_table() -> None:
    # 7 cases: 3 women and 4 men hide the gender total (only zeros beside them), so the
    # same 7 may not stay readable from the case table, the queues or the ratings.
    facts = [fact(gender="perempuan", employment="PNS")] * 3 + [
        fact(gender="laki_laki", employment="PNS")
    ] * 4
    r = build_report(facts, k=5, months=MONTHS)
    assert r.gender.cells == (HIDDEN, HIDDEN, Cell(0, False))
    totals = [r.cases.total] + [d.total for d in distributions(r)[1:]]
    assert totals == [HIDDEN] * 6
    for cells, total in report_lines(r):
        assert sum(c.suppressed for c in [*cells, total]) != 1


def test_durations_need_k_contributing_cases() -> None:
    facts = [fact(first=float(m), resolved=60.0 * m) for m in (10, 20, 30, 40, 50)]
    r = build_report(facts, k=5, months=MONTHS)
    assert r.first_response.median_minutes == 30.0
    assert r.first_response.p90_minutes == pytest.approx(46.0)
    assert r.resolution.median_minutes == 1800.0
    r6 = build_report(facts, k=6, months=MONTHS)
    assert r6.first_response.suppressed and r6.first_response.p90_minutes is None
    assert r6.resolution.suppressed


def test_renderings_mark_suppressed_cells_and_keep_stable_keys() -> None:
    facts = [fact("2026-01", "hukum", first=5.0)] * 3 + [fact("2026-02", "gizi", first=200.0)] * 9
    r = build_report(facts, k=5, months=MONTHS)
    doc = json.loads(render(r, fmt="json", k=5))
    assert list(doc) == [
        "k",
        "months",
        "suppressed_marker",
        "cases_by_month_category",
        "crisis_by_month",
        "cases_by_queue",
        "ratings",
        "gender",
        "age_band",
        "employment",
        "response_times",
    ]
    assert doc["cases_by_month_category"]["rows"][0]["counts"]["hukum"] == "<5"
    assert doc["cases_by_month_category"]["rows"][1]["counts"]["gizi"] == 9
    assert doc["response_times"]["first_response"] == {
        "median_minutes": 200.0,
        "p90_minutes": 200.0,
    }
    text = render(r, fmt="table", k=5)
    assert "<5" in text and "3.3 h" in text
    sections = [row[0] for row in csv.reader(io.StringIO(render(r, fmt="csv", k=5))) if row]
    assert sum(s.startswith("# ") for s in sections) == 8
    with pytest.raises(ValueError, match="k=5"):
        render(r, fmt="json", k=3)


# --- property tests ------------------------------------------------------------------

facts_strategy = st.lists(
    st.builds(
        CaseFact,
        month=st.sampled_from([*MONTHS, "2025-12"]),
        category=st.sampled_from([*CATEGORIES, "unknown"]),
        crisis=st.booleans(),
        queue=st.sampled_from(["psikologi", "gizi", "hukum", "umum", None]),
        first_response_minutes=st.none() | st.floats(0, 10_000),
        resolution_minutes=st.none() | st.floats(0, 100_000),
        rating=st.none() | st.integers(1, 5),
        gender=st.sampled_from(["perempuan", "laki_laki", None]),
        age_band=st.sampled_from(["<30", "30-39", "40-49", "50+", None]),
        employment=st.sampled_from(["PNS", "PPPK", None]),
    ),
    max_size=90,
)


def small(value: object, k: int) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and 0 < value < k


def json_numbers(node: object) -> Iterator[object]:
    if isinstance(node, dict):
        for key, child in node.items():
            if key != "response_times":  # minutes, not counts
                yield from json_numbers(child)
    elif isinstance(node, list):
        for child in node:
            yield from json_numbers(child)
    else:
        yield node


@FAST
@given(facts=facts_strategy, k=st.integers(3, 10))
def test_no_cell_between_1_and_k_minus_1_is_ever_shown(facts: list[CaseFact], k: int) -> None:
    r = build_report(facts, k=k, months=MONTHS)
    for cell in all_cells(r):
        assert cell.value is None if cell.suppressed else not small(cell.value, k)
    doc = json.loads(render(r, fmt="json", k=k))
    assert not [n for n in json_numbers(doc) if small(n, k)]
    section = ""
    for row in csv.reader(io.StringIO(render(r, fmt="csv", k=k))):
        section = row[0] if row and row[0].startswith("# ") else section
        if section != "# response_times":
            assert not [v for v in row[1:] if v.isdigit() and small(int(v), k)]
    counts_part = render(r, fmt="table", k=k).split("Time to first staff response")[0]
    for line in counts_part.splitlines()[3:]:
        assert not [v for v in line.split()[1:] if v.isdigit() and small(int(v), k)]


@FAST
@given(facts=facts_strategy, k=st.integers(3, 10))
def test_every_line_with_a_hidden_cell_has_two(facts: list[CaseFact], k: int) -> None:
    r = build_report(facts, k=k, months=MONTHS)
    for cells, total in report_lines(r):
        line = [*cells, total]
        hidden = sum(c.suppressed for c in line)
        assert hidden != 1
        if hidden and all(c.suppressed or c.value == 0 for c in cells):
            assert total.suppressed  # else the total would give the sum of the hidden cells
    shared = [r.cases.total, r.queues.total, r.ratings.total, r.gender.total]
    shared += [r.age_band.total, r.employment.total]
    assert len(set(shared)) == 1  # the grand total is hidden everywhere or nowhere


@FAST
@given(facts=facts_strategy, k=st.integers(3, 10))
def test_durations_hidden_below_k_contributing_cases(facts: list[CaseFact], k: int) -> None:
    r = build_report(facts, k=k, months=MONTHS)
    inside = [f for f in facts if f.month in MONTHS]
    first = [f for f in inside if f.first_response_minutes is not None]
    resolved = [f for f in inside if f.resolution_minutes is not None]
    assert r.first_response.suppressed == (len(first) < k)
    assert (r.first_response.p90_minutes is None) == (len(first) < k)
    assert r.resolution.suppressed == (len(resolved) < k)
    assert (r.resolution.median_minutes is None) == (len(resolved) < k)


# --- brute force: every hidden cell has at least two consistent values ---------------


def completions(t: CrossTable, cap: int) -> Iterator[list[list[int]]]:
    """Every full table (margins included) an outsider finds consistent with what is
    published: shown cells as printed, hidden cells at least 1 (zeros are shown),
    every sum exact. Only values up to `cap` are tried, which can only make fewer
    completions appear, so the test stays sound."""

    def fits(cell: Cell, value: int) -> bool:
        return value >= 1 if cell.suppressed else value == cell.value

    row_options = [
        [
            combo
            for combo in itertools.product(
                *(range(1, cap + 1) if c.suppressed else [c.value or 0] for c in cells)
            )
            if fits(total, sum(combo))
        ]
        for cells, total in zip(t.cells, t.row_totals, strict=True)
    ]
    for inner in itertools.product(*row_options):
        column_sums = [sum(col) for col in zip(*inner, strict=True)]
        row_sums = [sum(row) for row in inner]
        if all(map(fits, t.column_totals, column_sums)) and fits(t.total, sum(row_sums)):
            full = [[*row, total] for row, total in zip(inner, row_sums, strict=True)]
            yield [*full, [*column_sums, sum(row_sums)]]


def published_grid(t: CrossTable) -> list[list[Cell]]:
    rows = [[*cells, total] for cells, total in zip(t.cells, t.row_totals, strict=True)]
    return [*rows, [*t.column_totals, t.total]]


def assert_no_hidden_cell_derivable(counts: list[list[int]], k: int) -> None:
    rows, cols = len(counts), len(counts[0])
    t = cross_table([f"r{i}" for i in range(rows)], [f"c{j}" for j in range(cols)], counts, k=k)
    grid = published_grid(t)
    seen: dict[tuple[int, int], set[int]] = {}
    for full in completions(t, cap=max(max(row) for row in counts) + 1):
        for i, row in enumerate(grid):
            for j, cell in enumerate(row):
                if cell.suppressed:
                    seen.setdefault((i, j), set()).add(full[i][j])
    hidden = [(i, j) for i, row in enumerate(grid) for j, c in enumerate(row) if c.suppressed]
    assert all(len(seen.get(pos, ())) >= 2 for pos in hidden), (counts, k, seen)


@pytest.mark.parametrize(
    ("counts", "k"),
    [
        # Two hidden 1s per row and column still add up to 2: both would read as 1.
        ([[1, 1, 5], [5, 6, 5]], 5),
        ([[1, 1], [1, 1], [5, 5]], 5),
        ([[2, 9, 10], [8, 7, 12], [6, 20, 30]], 5),
        ([[0, 3, 0], [4, 0, 0]], 5),
    ],
)
def test_no_hidden_cell_of_these_tables_can_be_derived(counts: list[list[int]], k: int) -> None:
    assert_no_hidden_cell_derivable(counts, k)


@settings(max_examples=80, deadline=None)
@given(
    k=st.integers(3, 6),
    shape=st.sampled_from([(1, 2), (1, 3), (2, 2), (2, 3), (3, 2)]),
    data=st.data(),
)
def test_no_hidden_cell_of_a_small_table_can_be_derived(
    k: int, shape: tuple[int, int], data: st.DataObject
) -> None:
    rows, cols = shape
    row = st.lists(st.integers(0, 5), min_size=cols, max_size=cols)
    assert_no_hidden_cell_derivable(data.draw(st.lists(row, min_size=rows, max_size=rows)), k)


@settings(max_examples=150, deadline=None)
@given(k=st.integers(3, 8), counts=st.lists(st.integers(0, 9), min_size=1, max_size=4))
def test_no_hidden_cell_of_a_distribution_can_be_derived(k: int, counts: list[int]) -> None:
    d = distribution([str(i) for i in range(len(counts))], counts, k=k)
    line = [*d.cells, d.total]
    hidden = [i for i, c in enumerate(line) if c.suppressed]
    cap = max(counts) + 1
    seen: dict[int, set[int]] = {i: set() for i in hidden}
    members = [range(1, cap + 1) if c.suppressed else [c.value or 0] for c in d.cells]
    for combo in itertools.product(*members):
        total = sum(combo)
        if (total >= 1) if d.total.suppressed else total == d.total.value:
            for i in hidden:
                seen[i].add([*combo, total][i])
    assert all(len(v) >= 2 for v in seen.values()), (counts, k, seen)
