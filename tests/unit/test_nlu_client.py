"""The Rasa client: intent mapping, uncertainty, the circuit breaker and the outage path."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from core.triage import Category, ClassifierUnavailable, CrisisHit, triage
from nlu.client import CircuitBreaker, RasaClassifier, to_classification
from nlu.server import free_port
from tests.unit.rasa_stub import RasaStub, Seen, answers, parse_answer


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


@contextlib.asynccontextmanager
async def stub_classifier(
    answer: Callable[[Seen], tuple[int, bytes]], **kw: Any
) -> AsyncIterator[tuple[RasaClassifier, RasaStub]]:
    async with RasaStub(answer) as stub, RasaClassifier(stub.url, **kw) as classifier:
        yield classifier, stub


async def test_classify_posts_text_with_token() -> None:
    async with stub_classifier(answers(("hukum", 0.9), ("gizi", 0.05)), token="s3cret") as (
        classifier,
        stub,
    ):
        result = await classifier.classify("utang pinjol")
    assert result.category is Category.HUKUM
    assert (stub.seen[0].method, stub.seen[0].path) == ("POST", "/model/parse")
    assert stub.seen[0].query["token"] == "s3cret"
    assert json.loads(stub.seen[0].body) == {"text": "utang pinjol"}


async def test_many_parses_share_kept_connections() -> None:
    async with stub_classifier(answers(("gizi", 0.9), ("hukum", 0.05))) as (classifier, stub):
        results = await asyncio.gather(*(classifier.classify(f"diet {i}") for i in range(50)))
        assert {r.category for r in results} == {Category.GIZI}
        assert stub.parsed == 50
        assert await classifier.status_ok()


async def test_waiting_for_a_free_connection_is_not_a_failure() -> None:
    """A burst bigger than the pool waits for a connection within the parse's timeout: the
    wait is ours, not the server's, and opens no circuit (it did after 1 s)."""
    async with (
        RasaStub(delay=0.3) as stub,
        RasaClassifier(stub.url, timeout=5.0, connections=1) as classifier,
    ):
        results = await asyncio.gather(*(classifier.classify(f"diet {i}") for i in range(5)))
        assert {r.category for r in results} == {Category.GIZI}  # the last waited 1.2 s
        assert classifier.breaker.allow() and stub.parsed == 5


@pytest.mark.parametrize(
    "answer",
    [
        (500, b"boom"),
        (401, b"unauthorized"),
        (200, b"not json"),
        (200, b'["a list"]'),
        (200, b'{"no": "intent"}'),
        (200, b'{"intent": {"name": "gizi"}}'),
    ],
)
async def test_bad_answers_are_unavailable(answer: tuple[int, bytes]) -> None:
    async with stub_classifier(lambda _: answer) as (classifier, stub):
        with pytest.raises(ClassifierUnavailable):
            await classifier.classify("halo")
    assert stub.parsed == 1


async def test_open_breaker_fails_fast_without_calling_the_server() -> None:
    breaker = CircuitBreaker(threshold=2, cooldown=60, clock=FakeClock())
    async with stub_classifier(lambda _: (503, b""), breaker=breaker) as (classifier, stub):
        for _ in range(4):
            with pytest.raises(ClassifierUnavailable):
                await classifier.classify("halo")
    assert stub.parsed == 2


async def test_failures_never_log_the_text(caplog: pytest.LogCaptureFixture) -> None:
    async with stub_classifier(lambda _: (500, b"rahasia pribadi saya")) as (classifier, _):
        with pytest.raises(ClassifierUnavailable) as raised:
            await classifier.classify("rahasia pribadi saya")
    assert "rahasia" not in caplog.text
    assert "rahasia" not in str(raised.value)


async def test_a_server_restart_between_parses_loses_no_parse() -> None:
    """A kept connection that the server closed is not reused: the next parse opens one."""
    stub = await RasaStub().start()
    classifier = RasaClassifier(stub.url)
    try:
        assert (await classifier.classify("diet")).category is Category.GIZI
        await stub.stop()  # closes the kept connection
        await stub.start()  # same port
        assert (await classifier.classify("diet")).category is Category.GIZI
        assert classifier.breaker.state == "closed"
    finally:
        await classifier.aclose()
        await stub.stop()
    assert stub.parsed == 2


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
