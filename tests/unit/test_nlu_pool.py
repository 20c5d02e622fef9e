"""Round robin over several Rasa servers: the healthy ones share the load, a dead one is skipped."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from core.triage import Category, ClassifierUnavailable
from nlu.pool import RoundRobinClassifier, nlu_urls
from tests.unit.rasa_stub import RasaStub
from tests.unit.test_nlu_client import FakeClock


@pytest.fixture
async def servers() -> AsyncIterator[dict[str, RasaStub]]:
    """Three local Rasa stand-ins; a stopped one refuses connections."""
    stubs = {name: await RasaStub().start() for name in "abc"}
    yield stubs
    for stub in stubs.values():
        await stub.stop()


def pool(servers: dict[str, RasaStub], clock: FakeClock, *names: str) -> RoundRobinClassifier:
    return RoundRobinClassifier([servers[n].url for n in names], recheck_seconds=5, clock=clock)


def parsed(servers: dict[str, RasaStub]) -> dict[str, int]:
    return {name: stub.parsed for name, stub in servers.items()}


def test_the_setting_takes_one_or_several_urls() -> None:
    assert nlu_urls("http://a:5005") == ["http://a:5005"]
    assert nlu_urls(" http://a:5005, http://b:5005 ,") == ["http://a:5005", "http://b:5005"]


async def test_requests_alternate_between_servers(servers: dict[str, RasaStub]) -> None:
    classifier = pool(servers, FakeClock(), "a", "b", "c")
    for i in range(6):
        assert (await classifier.classify("makan sekali sehari")).category is Category.GIZI
        assert parsed(servers) == {n: (i + 3 - k) // 3 for k, n in enumerate("abc")}
    await classifier.aclose()


async def test_a_dead_server_is_skipped_then_checked_and_taken_back(
    servers: dict[str, RasaStub],
) -> None:
    clock = FakeClock()
    classifier = pool(servers, clock, "a", "b")
    await servers["a"].stop()
    for _ in range(4):  # no request is lost while "a" is down
        assert (await classifier.classify("diet ketat")).category is Category.GIZI
    assert parsed(servers) == {"a": 0, "b": 4, "c": 0}
    assert classifier.healthy() == [servers["b"].url]
    await servers["a"].start()  # back, on the same port
    await classifier.classify("diet ketat")
    assert parsed(servers)["a"] == 0, "not re-checked before its time"
    clock.now += 5
    for _ in range(2):
        await classifier.classify("diet ketat")
    await classifier.aclose()
    assert parsed(servers) == {"a": 1, "b": 6, "c": 0}
    assert [s.path for s in servers["a"].seen] == ["/status", "/model/parse"]
    assert classifier.healthy() == [servers["a"].url, servers["b"].url]


async def test_all_servers_down_is_unavailable(servers: dict[str, RasaStub]) -> None:
    clock = FakeClock()
    classifier = pool(servers, clock, "a", "b")
    for name in "ab":
        await servers[name].stop()
    with pytest.raises(ClassifierUnavailable):
        await classifier.classify("halo")
    clock.now += 5  # rechecked, still down
    with pytest.raises(ClassifierUnavailable):
        await classifier.classify("halo")
    await classifier.aclose()
