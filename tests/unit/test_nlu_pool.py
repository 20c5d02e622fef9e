"""Round robin over several Rasa servers: the healthy ones share the load, a dead one is skipped."""

from __future__ import annotations

import httpx
import pytest

from core.triage import Category, ClassifierUnavailable
from nlu.pool import RoundRobinClassifier, nlu_urls
from tests.unit.test_nlu_client import FakeClock, parse_answer


class Servers:
    """Rasa's HTTP answers per host; a host listed in `down` refuses connections."""

    def __init__(self) -> None:
        self.down: set[str] = set()
        self.parsed: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        host = request.url.host
        if host in self.down:
            raise httpx.ConnectError("connection refused", request=request)
        if request.url.path == "/status":
            return httpx.Response(200, json={"model_file": "nlu.tar.gz"})
        self.parsed.append(host)
        return httpx.Response(200, json=parse_answer(("gizi", 0.9), ("hukum", 0.05)))


def pool(servers: Servers, clock: FakeClock, *hosts: str) -> RoundRobinClassifier:
    urls = [f"http://{h}:5005" for h in hosts]
    return RoundRobinClassifier(
        urls, recheck_seconds=5, clock=clock, transport=httpx.MockTransport(servers)
    )


def test_the_setting_takes_one_or_several_urls() -> None:
    assert nlu_urls("http://a:5005") == ["http://a:5005"]
    assert nlu_urls(" http://a:5005, http://b:5005 ,") == ["http://a:5005", "http://b:5005"]


async def test_requests_alternate_between_servers() -> None:
    servers, clock = Servers(), FakeClock()
    classifier = pool(servers, clock, "a", "b", "c")
    for _ in range(6):
        assert (await classifier.classify("makan sekali sehari")).category is Category.GIZI
    await classifier.aclose()
    assert servers.parsed == ["a", "b", "c", "a", "b", "c"]


async def test_a_dead_server_is_skipped_then_checked_and_taken_back() -> None:
    servers, clock = Servers(), FakeClock()
    classifier = pool(servers, clock, "a", "b")
    servers.down.add("a")
    for _ in range(4):  # no request is lost while "a" is down
        assert (await classifier.classify("diet ketat")).category is Category.GIZI
    assert servers.parsed == ["b"] * 4
    assert classifier.healthy() == ["http://b:5005"]
    servers.down.clear()
    await classifier.classify("diet ketat")
    assert servers.parsed[-1] == "b", "not re-checked before its time"
    clock.now += 5
    for _ in range(2):
        await classifier.classify("diet ketat")
    await classifier.aclose()
    assert sorted(servers.parsed[-2:]) == ["a", "b"]
    assert classifier.healthy() == ["http://a:5005", "http://b:5005"]


async def test_all_servers_down_is_unavailable() -> None:
    servers, clock = Servers(), FakeClock()
    classifier = pool(servers, clock, "a", "b")
    servers.down.update({"a", "b"})
    with pytest.raises(ClassifierUnavailable):
        await classifier.classify("halo")
    clock.now += 5  # rechecked, still down
    with pytest.raises(ClassifierUnavailable):
        await classifier.classify("halo")
    await classifier.aclose()
    assert servers.parsed == []
