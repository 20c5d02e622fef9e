"""The Classifier port over Rasa's HTTP API, behind a circuit breaker. Never logs message text."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

import aiohttp

from core.triage import Category, Classification, ClassifierUnavailable

log = logging.getLogger("sapa.nlu")

# Rasa intent -> (category, crisis). Anything unknown (incl. nlu_fallback) is LAINNYA + uncertain.
INTENTS: Mapping[str, tuple[Category, bool]] = {
    "keluarga": (Category.KELUARGA, False),
    "hukum": (Category.HUKUM, False),
    "gizi": (Category.GIZI, False),
    "kesehatan_jiwa": (Category.KESEHATAN_JIWA, False),
    "krisis_bunuh_diri": (Category.KESEHATAN_JIWA, True),
    "krisis_melukai_diri": (Category.KESEHATAN_JIWA, True),
    "krisis_membahayakan_orang": (Category.KESEHATAN_JIWA, True),
    "krisis_kekerasan_rumah": (Category.KELUARGA, True),
    "greet": (Category.LAINNYA, False),
    "thanks": (Category.LAINNYA, False),
    "ask_human": (Category.LAINNYA, False),
    "out_of_scope": (Category.LAINNYA, False),
}
# A greeting or "I want a person" says nothing about the concern: the channel should ask.
ASK_AGAIN_INTENTS = frozenset({"greet", "ask_human", "nlu_fallback"})
FALLBACK_INTENT = "nlu_fallback"


class CircuitBreaker:
    """Opens after `threshold` consecutive failures; after `cooldown` one trial call may pass."""

    def __init__(
        self,
        *,
        threshold: int = 3,
        cooldown: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.threshold = threshold
        self.cooldown = cooldown
        self._clock = clock
        self._failures = 0
        self._opened_at: float | None = None

    @property
    def state(self) -> str:
        if self._opened_at is None:
            return "closed"
        if self._clock() - self._opened_at >= self.cooldown:
            return "half-open"
        return "open"

    def allow(self) -> bool:
        return self.state != "open"

    def success(self) -> None:
        if self._opened_at is not None:
            log.info("nlu circuit closed")
        self._failures = 0
        self._opened_at = None

    def failure(self) -> None:
        self._failures += 1
        if self.state == "half-open" or self._failures >= self.threshold:
            if self._opened_at is None:
                log.warning("nlu circuit opened after %d failures", self._failures)
            self._opened_at = self._clock()


def to_classification(
    payload: Mapping[str, Any], *, min_confidence: float = 0.5, min_margin: float = 0.15
) -> Classification:
    """Map Rasa's /model/parse answer to a Classification; raises ValueError when malformed."""
    intent = payload["intent"]
    name = intent["name"] if intent else FALLBACK_INTENT
    confidence = float(intent["confidence"]) if intent else 0.0
    ranking = tuple(
        (str(item["name"]), float(item["confidence"]))
        for item in payload.get("intent_ranking") or ()
    )
    category, crisis = INTENTS.get(name or "", (Category.LAINNYA, False))
    if name == FALLBACK_INTENT:
        category, crisis = _best_known(ranking)
    return Classification(
        category=category,
        crisis=crisis,
        confidence=confidence,
        intent=name,
        ranking=ranking,
        uncertain=_uncertain(name, confidence, ranking, min_confidence, min_margin),
    )


def _best_known(ranking: tuple[tuple[str, float], ...]) -> tuple[Category, bool]:
    """Under a fallback, the best real intent still hints at the category (flagged uncertain)."""
    for name, _ in ranking:
        if name in INTENTS:
            return INTENTS[name]
    return Category.LAINNYA, False


def _uncertain(
    name: str,
    confidence: float,
    ranking: tuple[tuple[str, float], ...],
    min_confidence: float,
    min_margin: float,
) -> bool:
    if name in ASK_AGAIN_INTENTS or name not in INTENTS or confidence < min_confidence:
        return True
    ranked = sorted((r for r in ranking if r[0] != FALLBACK_INTENT), key=lambda r: -r[1])
    if len(ranked) < 2 or ranked[0][1] - ranked[1][1] >= min_margin:
        return False
    # Two close intents that mean the same thing (category and crisis flag) are not ambiguous.
    return INTENTS.get(ranked[0][0]) != INTENTS.get(ranked[1][0])


# Failures of a parse: the server is down, slow, refuses the token or answers nonsense.
FAILURES = (aiohttp.ClientError, TimeoutError, ValueError, KeyError, TypeError)


class RasaClassifier:
    """`POST /model/parse` with short timeouts; every failure becomes ClassifierUnavailable.

    aiohttp, not httpx: a parse through httpx cost 1.3 ms of CPU here against 0.26 ms
    (`bench/` notes in the README), on the path of every message an ASN writes.
    """

    def __init__(
        self,
        base_url: str,
        *,
        token: str | None = None,
        timeout: float = 2.0,
        breaker: CircuitBreaker | None = None,
        min_confidence: float = 0.5,
        min_margin: float = 0.15,
        connections: int = 32,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._params = {"token": token} if token else None
        # The short limit is on reaching the server (a dead host), not on waiting for one of
        # our own connections: under a burst, parses queued for the pool past 1 s counted as
        # NLU failures and opened the circuit (the pipeline benchmark's ingest).
        self._timeout = aiohttp.ClientTimeout(total=timeout, sock_connect=min(timeout, 1.0))
        self._connections = connections
        self.breaker = breaker or CircuitBreaker()
        self.min_confidence = min_confidence
        self.min_margin = min_margin
        self._session: aiohttp.ClientSession | None = None

    def _http(self) -> aiohttp.ClientSession:
        """Made at first use, inside the event loop (aiohttp binds a session to its loop)."""
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                # Every connection is kept: one closed after a burst was a new TCP handshake
                # later. Idle ones go after 4 s, long before Rasa's keep-alive (120 s) ends.
                connector=aiohttp.TCPConnector(limit=self._connections, keepalive_timeout=4.0),
                timeout=self._timeout,
            )
        return self._session

    async def classify(self, text: str) -> Classification:
        if not self.breaker.allow():
            raise ClassifierUnavailable("nlu circuit is open")
        try:
            payload = await self._parse(text)
            result = to_classification(
                payload, min_confidence=self.min_confidence, min_margin=self.min_margin
            )
        except FAILURES as exc:
            # The exception type only: an HTTP error message could quote the request.
            self.breaker.failure()
            log.warning("nlu parse failed: %s", type(exc).__name__)
            raise ClassifierUnavailable(type(exc).__name__) from None
        self.breaker.success()
        return result

    async def _parse(self, text: str) -> Mapping[str, Any]:
        url = self.base_url + "/model/parse"
        async with self._http().post(url, params=self._params, json={"text": text}) as response:
            response.raise_for_status()
            payload = json.loads(await response.read())
        if not isinstance(payload, dict):
            raise ValueError("unexpected nlu answer")
        return payload

    async def status_ok(self) -> bool:
        """GET /status (the model is loaded and the token accepted); no text is sent."""
        try:
            url = self.base_url + "/status"
            async with self._http().get(url, params=self._params) as response:
                await response.read()
                return response.status == 200
        except (aiohttp.ClientError, TimeoutError):
            return False

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def __aenter__(self) -> RasaClassifier:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
