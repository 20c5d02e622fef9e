"""Several Rasa servers behind one Classifier: round robin over the healthy ones.

A server that fails a request is marked down and skipped; after `recheck_seconds` a health
check (GET /status) may bring it back. When every server is down the classifier is unavailable
and intake asks the ASN for the category (crisis screening never depends on the NLU).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from core.triage import Classification, ClassifierUnavailable
from nlu.client import CircuitBreaker, RasaClassifier

log = logging.getLogger("sapa.nlu")


def nlu_urls(value: str) -> list[str]:
    """SAPA_NLU_URL: one URL or several, comma-separated."""
    return [url.strip() for url in value.split(",") if url.strip()]


@dataclass
class Member:
    url: str
    classifier: RasaClassifier
    down_until: float = 0.0
    served: int = 0


class RoundRobinClassifier:
    def __init__(
        self,
        urls: Sequence[str],
        *,
        token: str | None = None,
        timeout: float = 2.0,
        recheck_seconds: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        # Each server gets a breaker that never opens: being down is decided here, per server.
        self.members = [
            Member(url, RasaClassifier(url, token=token, timeout=timeout,
                                       breaker=CircuitBreaker(threshold=1_000_000)))
            for url in urls
        ]  # fmt: skip
        self._recheck, self._clock = recheck_seconds, clock
        self._next = 0

    async def classify(self, text: str) -> Classification:
        start, self._next = self._next, (self._next + 1) % len(self.members)
        for offset in range(len(self.members)):
            member = self.members[(start + offset) % len(self.members)]
            if not await self._usable(member):
                continue
            try:
                result = await member.classifier.classify(text)
            except ClassifierUnavailable:
                self._mark_down(member)
                continue
            member.served += 1
            return result
        raise ClassifierUnavailable("no nlu server is available")

    def healthy(self) -> list[str]:
        now = self._clock()
        return [m.url for m in self.members if m.down_until <= now]

    async def _usable(self, member: Member) -> bool:
        if member.down_until == 0.0:
            return True
        if member.down_until > self._clock():
            return False
        if await member.classifier.status_ok():
            log.info("nlu server %d is back", self.members.index(member))
            member.down_until = 0.0
            return True
        self._mark_down(member)
        return False

    def _mark_down(self, member: Member) -> None:
        if member.down_until == 0.0:
            log.warning("nlu server %d is down; trying the others", self.members.index(member))
        member.down_until = self._clock() + self._recheck

    async def aclose(self) -> None:
        for member in self.members:
            await member.classifier.aclose()
