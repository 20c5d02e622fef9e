"""Evaluate the bot's exact triage path (lexicon + Rasa + mapping) on a labelled CSV file."""

from __future__ import annotations

import asyncio
import csv
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from core.triage import CASE_CATEGORIES, Category, Classifier, CrisisScreener, Triage, triage

if TYPE_CHECKING:
    from bot.settings import Settings

COLUMNS = ("text", "category", "crisis")
LABELS = tuple(c.value for c in CASE_CATEGORIES)
PREDICTED_LABELS = (*LABELS, Category.UNKNOWN.value)
EVAL_TIMEOUT_SECONDS = 10.0
CONCURRENCY = 4


class DatasetError(ValueError):
    """The evaluation file is malformed; the message is one sentence for the user."""


@dataclass(frozen=True)
class Row:
    text: str
    category: Category
    crisis: bool


def load_rows(path: Path) -> list[Row]:
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            if not reader.fieldnames:
                raise DatasetError(f"{path} is empty; expected a header `text,category,crisis`")
            missing = [c for c in COLUMNS if c not in reader.fieldnames]
            if missing:
                raise DatasetError(f"{path} has no column {', '.join(missing)} in its header")
            rows = [_row(path, line, record) for line, record in enumerate(reader, start=2)]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise DatasetError(f"cannot read {path}: {type(exc).__name__}") from None
    if not rows:
        raise DatasetError(f"{path} has a header but no rows")
    return rows


def _row(path: Path, line: int, record: dict[str, Any]) -> Row:
    text = (record.get("text") or "").strip()
    category = (record.get("category") or "").strip().lower()
    crisis = (record.get("crisis") or "").strip()
    if not text:
        raise DatasetError(f"{path} line {line}: the text is empty")
    if category not in LABELS:
        raise DatasetError(
            f"{path} line {line}: unknown category {category!r}; use one of {', '.join(LABELS)}"
        )
    if crisis not in ("0", "1"):
        raise DatasetError(f"{path} line {line}: crisis must be 0 or 1, not {crisis!r}")
    return Row(text=text, category=Category(category), crisis=crisis == "1")


async def predict(
    rows: Sequence[Row], *, screener: CrisisScreener, classifier: Classifier
) -> list[Triage]:
    limit = asyncio.Semaphore(CONCURRENCY)

    async def one(row: Row) -> Triage:
        async with limit:
            return await triage(row.text, screener=screener, classifier=classifier)

    return list(await asyncio.gather(*(one(row) for row in rows)))


def metrics(rows: Sequence[Row], predictions: Sequence[Triage]) -> dict[str, Any]:
    """Accuracy, macro-F1 over the case categories, crisis recall/precision, confusion matrix.

    A predicted `unknown` is always wrong. Macro-F1 averages the categories that occur in the
    gold labels or the predictions.
    """
    gold = [r.category.value for r in rows]
    pred = [p.category.value for p in predictions]
    confusion = {g: dict.fromkeys(PREDICTED_LABELS, 0) for g in LABELS}
    for g, p in zip(gold, pred, strict=True):
        confusion[g][p] += 1
    per_category = {label: _prf(gold, pred, label) for label in LABELS}
    present = [label for label in LABELS if label in gold or label in pred]
    macro_f1 = sum(per_category[label]["f1"] for label in present) / max(len(present), 1)
    crisis_gold = [r.crisis for r in rows]
    crisis_pred = [p.crisis for p in predictions]
    tp = sum(g and p for g, p in zip(crisis_gold, crisis_pred, strict=True))
    return {
        "n": len(rows),
        "accuracy": _round(sum(g == p for g, p in zip(gold, pred, strict=True)) / len(rows)),
        "macro_f1": _round(macro_f1),
        "per_category": per_category,
        "crisis_recall": _round(_ratio(tp, sum(crisis_gold))),
        "crisis_precision": _round(_ratio(tp, sum(crisis_pred))),
        "crisis_support": sum(crisis_gold),
        "unavailable": sum(p.source == "unavailable" for p in predictions),
        "uncertain": sum(p.uncertain for p in predictions),
        "confusion": {"labels": list(PREDICTED_LABELS), "gold_by_predicted": confusion},
    }


def _prf(gold: Sequence[str], pred: Sequence[str], label: str) -> dict[str, Any]:
    tp = sum(g == p == label for g, p in zip(gold, pred, strict=True))
    precision = _ratio(tp, sum(p == label for p in pred))
    recall = _ratio(tp, sum(g == label for g in gold))
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "precision": _round(precision),
        "recall": _round(recall),
        "f1": _round(f1),
        "support": sum(g == label for g in gold),
    }


def _ratio(part: int, whole: int) -> float:
    """A ratio with nothing to count (e.g. no crisis predicted and none expected) is perfect."""
    return part / whole if whole else 1.0


def _round(value: float) -> float:
    return round(value, 4)


def unmet(
    report: dict[str, Any],
    *,
    min_macro_f1: float | None = None,
    min_crisis_recall: float | None = None,
    min_crisis_precision: float | None = None,
) -> list[str]:
    """The thresholds the report misses, as sentences."""
    checks = (
        ("macro_f1", min_macro_f1),
        ("crisis_recall", min_crisis_recall),
        ("crisis_precision", min_crisis_precision),
    )
    return [
        f"{name} {report[name]:.4f} is below the required {floor:.4f}"
        for name, floor in checks
        if floor is not None and report[name] < floor
    ]


async def reachable(url: str) -> bool:
    try:
        async with httpx.AsyncClient(timeout=2.0) as http:
            return (await http.get(url)).status_code < 500
    except httpx.HTTPError:
        return False


async def evaluate_file(
    path: Path, settings: Settings, *, progress: Callable[[str], object] = print
) -> dict[str, Any]:
    """Run the bot's triage path on every row, against SAPA_NLU_URL or a local server."""
    from nlu.client import CircuitBreaker, RasaClassifier
    from nlu.lexicon import CrisisLexicon
    from nlu.server import managed_nlu

    rows = load_rows(path)
    if settings.nlu_url and not await reachable(settings.nlu_url):
        progress(f"SAPA_NLU_URL {settings.nlu_url} is not reachable; starting a local server")
        settings = settings.model_copy(update={"nlu_url": None})
    async with managed_nlu(settings, progress=progress) as (url, token):
        classifier = RasaClassifier(
            url,
            token=token,
            timeout=max(settings.nlu_timeout_seconds, EVAL_TIMEOUT_SECONDS),
            breaker=CircuitBreaker(threshold=5),
        )
        try:
            predictions = await predict(rows, screener=CrisisLexicon(), classifier=classifier)
        finally:
            await classifier.aclose()
    return metrics(rows, predictions)


def stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)
