"""Pure helpers of the pipeline benchmark: percentiles, reply correlation, ratios.

Nothing here touches the network or the clock, so tests/unit/test_bench_stats.py checks
them on tiny inputs.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Posted:
    """One update the benchmark posted: to which chat, when, and which reply it expects."""

    chat: int
    at: float  # time.monotonic() when the POST was sent
    expects: str | None  # a callback-data prefix the reply's buttons carry; None: any reply


@dataclass(frozen=True)
class Sent:
    """One sendMessage the fake Bot API received: chat, arrival time and button data."""

    chat: int
    at: float
    buttons: tuple[str, ...]


def percentile(values: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..100); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def ms_per_update(cpu_seconds: float, updates: int) -> float:
    """CPU milliseconds per handled update (0 updates counts as 1: no division by zero)."""
    return round(1000 * cpu_seconds / max(updates, 1), 2)


def latency_summary(seconds: Sequence[float], prefix: str) -> dict[str, float | int | None]:
    """p50/p95/p99/max in milliseconds, plus the count, under `prefix_`."""
    summary: dict[str, float | int | None] = {f"{prefix}_n": len(seconds)}
    for name, q in (("p50", 50.0), ("p95", 95.0), ("p99", 99.0), ("max", 100.0)):
        value = percentile(seconds, q)
        summary[f"{prefix}_{name}_ms"] = None if value is None else round(value * 1000, 1)
    return summary


def correlate(posted: Iterable[Posted], sent: Iterable[Sent]) -> list[float]:
    """Latency of each posted update to the reply handed to the Bot API for it, per chat.

    Each update takes the first not yet taken send to its chat that arrived after it was
    posted and, when the update expects a button prefix, carries that prefix. Updates
    without a matching send (a reply that never came) are left out; `unanswered` counts them.
    """
    by_chat: dict[int, list[Sent]] = {}
    for s in sorted(sent, key=lambda s: s.at):
        by_chat.setdefault(s.chat, []).append(s)
    latencies = []
    for update in sorted(posted, key=lambda p: p.at):
        reply = _take(by_chat.get(update.chat, []), update)
        if reply is not None:
            latencies.append(reply.at - update.at)
    return latencies


def _take(sends: list[Sent], update: Posted) -> Sent | None:
    for index, candidate in enumerate(sends):
        if candidate.at < update.at:
            continue
        if update.expects is None or any(b.startswith(update.expects) for b in candidate.buttons):
            return sends.pop(index)
    return None


def unanswered(posted: Sequence[Posted], sent: Sequence[Sent]) -> int:
    return len(posted) - len(correlate(posted, sent))


def buttons_of(markup: object) -> tuple[str, ...]:
    """The callback data of an inline keyboard as the fake Bot API recorded it."""
    if not isinstance(markup, Mapping):
        return ()
    rows = markup.get("inline_keyboard") or []
    return tuple(
        str(button.get("callback_data", ""))
        for row in rows
        for button in row
        if isinstance(button, Mapping)
    )


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    if not numerator or not denominator:
        return None
    return round(numerator / denominator, 2)


def ratios(results: Mapping[str, Mapping[str, object]]) -> dict[str, float | None]:
    """Throughput of each app configuration over each reference (app/echo, app/rasa)."""

    def rate(name: str) -> float | None:
        value = results.get(name, {}).get("updates_per_s")
        return float(value) if isinstance(value, int | float) else None

    apps = [name for name in results if name.startswith("app_")]
    refs = [name for name in results if name.startswith("ref_")]
    return {f"{app}/{ref}": ratio(rate(app), rate(ref)) for app in apps for ref in refs}
