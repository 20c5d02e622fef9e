"""The Rasa client: intent mapping, uncertainty, the circuit breaker and the outage path."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from core.triage import Category, ClassifierUnavailable, CrisisHit, triage
from nlu.client import CircuitBreaker, RasaClassifier, to_classification
from nlu.server import free_port


def parse_answer(*ranking: tuple[str, float]) -> dict[str, Any]:
    return {
        "text": "ignored",
        "intent": {"name": ranking[0][0], "confidence": ranking[0][1]},
        "entities": [],
        "intent_ranking": [{"name": n, "confidence": c} for n, c in ranking],
    }


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Screener:
    """A stand-in crisis lexicon: flags texts containing 'bundir'."""

    def screen(self, text: str) -> CrisisHit | None:
        return CrisisHit(classes=("suicide",)) if "bundir" in text else None


@pytest.mark.parametrize(
    ("intent", "category", "crisis"),
    [
        ("keluarga", Category.KELUARGA, False),
        ("hukum", Category.HUKUM, False),
        ("gizi", Category.GIZI, False),
        ("kesehatan_jiwa", Category.KESEHATAN_JIWA, False),
        ("krisis_bunuh_diri", Category.KESEHATAN_JIWA, True),
        ("krisis_melukai_diri", Category.KESEHATAN_JIWA, True),
        ("krisis_membahayakan_orang", Category.KESEHATAN_JIWA, True),
        ("krisis_kekerasan_rumah", Category.KELUARGA, True),
        ("thanks", Category.LAINNYA, False),
        ("out_of_scope", Category.LAINNYA, False),
        ("greet", Category.LAINNYA, False),
        ("ask_human", Category.LAINNYA, False),
        ("some_new_intent", Category.LAINNYA, False),
    ],
)
def test_intents_map_to_category_and_crisis(intent: str, category: Category, crisis: bool) -> None:
    result = to_classification(parse_answer((intent, 0.95), ("hukum", 0.03)))
    assert (result.category, result.crisis, result.intent) == (category, crisis, intent)
    assert result.confidence == 0.95
    assert result.ranking[0] == (intent, 0.95)


def test_confident_concern_is_certain() -> None:
    assert not to_classification(parse_answer(("gizi", 0.9), ("keluarga", 0.05))).uncertain


def test_low_confidence_is_uncertain() -> None:
    assert to_classification(parse_answer(("gizi", 0.4), ("keluarga", 0.1))).uncertain


def test_close_top_two_of_different_categories_is_uncertain() -> None:
    result = to_classification(parse_answer(("hukum", 0.52), ("keluarga", 0.45)))
    assert result.uncertain
    assert result.category is Category.HUKUM


def test_close_top_two_meaning_the_same_is_not_ambiguous() -> None:
    answer = parse_answer(("krisis_bunuh_diri", 0.52), ("krisis_melukai_diri", 0.45))
    assert not to_classification(answer).uncertain


def test_greeting_and_asking_for_a_human_make_the_channel_ask() -> None:
    assert to_classification(parse_answer(("greet", 0.99), ("thanks", 0.01))).uncertain
    assert to_classification(parse_answer(("ask_human", 0.99), ("greet", 0.01))).uncertain
    assert not to_classification(parse_answer(("thanks", 0.99), ("greet", 0.01))).uncertain


def test_fallback_is_uncertain_but_keeps_the_best_guess() -> None:
    answer = parse_answer(("nlu_fallback", 0.3), ("gizi", 0.28), ("keluarga", 0.27))
    result = to_classification(answer)
    assert result.uncertain
    assert result.intent == "nlu_fallback"
    assert result.category is Category.GIZI


def test_breaker_opens_after_consecutive_failures_and_half_opens_after_cooldown() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(threshold=3, cooldown=30, clock=clock)
    for _ in range(2):
        breaker.failure()
    assert breaker.state == "closed"
    breaker.success()
    for _ in range(3):
        breaker.failure()
    assert breaker.state == "open"
    assert not breaker.allow()
    clock.now += 30
    assert breaker.state == "half-open"
    assert breaker.allow()
    breaker.failure()  # the trial call failed: open again for a full cool-down
    assert breaker.state == "open"
    clock.now += 30
    breaker.success()
    assert breaker.state == "closed"


def mock_classifier(
    handler: Callable[[httpx.Request], httpx.Response], **kw: Any
) -> RasaClassifier:
    return RasaClassifier("http://nlu.test", transport=httpx.MockTransport(handler), **kw)


async def test_classify_posts_text_with_token() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=parse_answer(("hukum", 0.9), ("gizi", 0.05)))

    async with mock_classifier(handler, token="s3cret") as classifier:
        result = await classifier.classify("utang pinjol")
    assert result.category is Category.HUKUM
    assert seen[0].url.path == "/model/parse"
    assert seen[0].url.params["token"] == "s3cret"
    assert json.loads(seen[0].content) == {"text": "utang pinjol"}


@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(500, text="boom"),
        httpx.Response(401, text="unauthorized"),
        httpx.Response(200, text="not json"),
        httpx.Response(200, json=["a list"]),
        httpx.Response(200, json={"no": "intent"}),
    ],
)
async def test_bad_answers_are_unavailable(response: httpx.Response) -> None:
    async with mock_classifier(lambda _: response) as classifier:
        with pytest.raises(ClassifierUnavailable):
            await classifier.classify("halo")


async def test_open_breaker_fails_fast_without_calling_the_server() -> None:
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        return httpx.Response(503)

    breaker = CircuitBreaker(threshold=2, cooldown=60, clock=FakeClock())
    async with mock_classifier(handler, breaker=breaker) as classifier:
        for _ in range(4):
            with pytest.raises(ClassifierUnavailable):
                await classifier.classify("halo")
    assert calls == 2


async def test_failures_never_log_the_text(caplog: pytest.LogCaptureFixture) -> None:
    async with mock_classifier(lambda _: httpx.Response(500)) as classifier:
        with pytest.raises(ClassifierUnavailable) as raised:
            await classifier.classify("rahasia pribadi saya")
    assert "rahasia" not in caplog.text
    assert "rahasia" not in str(raised.value)


# A real (tiny) HTTP server on a local port, to exercise timeouts and a dead server.


@pytest.fixture
async def slow_server() -> AsyncIterator[str]:
    """Accepts connections and reads requests but never answers."""
    release = asyncio.Event()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await reader.readuntil(b"\r\n\r\n")
            await release.wait()
        finally:
            writer.close()
            await writer.wait_closed()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    release.set()
    await asyncio.sleep(0.05)
    server.close()
    await server.wait_closed()


async def test_timeout_is_unavailable_within_the_timeout(slow_server: str) -> None:
    classifier = RasaClassifier(slow_server, timeout=0.2)
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(ClassifierUnavailable):
        await classifier.classify("halo")
    assert loop.time() - started < 1.0
    await classifier.aclose()


async def test_outage_gives_unknown_category_with_crisis_from_the_lexicon() -> None:
    classifier = RasaClassifier(f"http://127.0.0.1:{free_port()}", timeout=0.5)  # nobody there
    try:
        crisis = await triage("pengen bundir", screener=Screener(), classifier=classifier)
        calm = await triage("gaji kapan cair", screener=Screener(), classifier=classifier)
    finally:
        await classifier.aclose()
    assert (crisis.category, crisis.crisis, crisis.source) == (
        Category.UNKNOWN,
        True,
        "unavailable",
    )
    assert crisis.crisis_classes == ("suicide",)
    assert crisis.needs_confirmation
    assert (calm.category, calm.crisis) == (Category.UNKNOWN, False)
