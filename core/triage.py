"""Triage results and the one triage path every channel (and the evaluation) uses."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol


class Category(StrEnum):
    KELUARGA = "keluarga"
    HUKUM = "hukum"
    GIZI = "gizi"
    KESEHATAN_JIWA = "kesehatan_jiwa"
    LAINNYA = "lainnya"
    # Triage could not decide (NLU down or unsure): the channel asks the ASN to choose.
    UNKNOWN = "unknown"


CASE_CATEGORIES: tuple[Category, ...] = (
    Category.KELUARGA,
    Category.HUKUM,
    Category.GIZI,
    Category.KESEHATAN_JIWA,
    Category.LAINNYA,
)


@dataclass(frozen=True)
class CrisisHit:
    """A crisis-lexicon match: the phrase classes matched, never the text itself."""

    classes: tuple[str, ...]


@dataclass(frozen=True)
class Classification:
    """What the NLU model says about one message."""

    category: Category
    crisis: bool
    confidence: float
    intent: str | None = None
    ranking: tuple[tuple[str, float], ...] = ()
    uncertain: bool = False


@dataclass(frozen=True)
class Triage:
    category: Category
    crisis: bool
    confidence: float
    uncertain: bool
    source: str  # "model", "unavailable"
    intent: str | None = None
    ranking: tuple[tuple[str, float], ...] = ()
    crisis_classes: tuple[str, ...] = field(default=())

    @property
    def needs_confirmation(self) -> bool:
        return self.uncertain or self.category is Category.UNKNOWN


class ClassifierUnavailable(Exception):
    """The NLU server is down, timed out or the breaker is open."""


class Classifier(Protocol):
    async def classify(self, text: str) -> Classification: ...


class CrisisScreener(Protocol):
    def screen(self, text: str) -> CrisisHit | None: ...


async def triage(text: str, *, screener: CrisisScreener, classifier: Classifier) -> Triage:
    """Lexicon first (no network), then the model; a lexicon hit wins whatever the model says."""
    hit = screener.screen(text)
    classes = hit.classes if hit else ()
    try:
        result = await classifier.classify(text)
    except ClassifierUnavailable:
        return Triage(
            category=Category.UNKNOWN,
            crisis=hit is not None,
            confidence=0.0,
            uncertain=True,
            source="unavailable",
            crisis_classes=classes,
        )
    return Triage(
        category=result.category,
        crisis=result.crisis or hit is not None,
        confidence=result.confidence,
        uncertain=result.uncertain,
        source="model",
        intent=result.intent,
        ranking=result.ranking,
        crisis_classes=classes,
    )
