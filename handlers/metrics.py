"""`/metrics` in the Prometheus text format: counts, depths, ages and latencies.

No label names a person or a case: labels are a channel, a direction, a queue code or a
surface of the app. Guarded by a bearer token (SAPA_METRICS_TOKEN); with no token set it
is served only in development.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

from fastapi import APIRouter, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Receive, Scope, Send

from bot.health import nlu_up
from bot.runtime import Runtime
from bot.settings import Settings
from storage import ops

router = APIRouter(include_in_schema=False)
SURFACES = ("/telegram", "/api/chat", "/staff", "/admin", "/chat")


@dataclass
class Snapshot:
    messages: dict[tuple[str, str], int] = field(default_factory=dict)
    depth: dict[str, int] = field(default_factory=dict)
    pending: int = 0
    dead: int = 0
    oldest: float = 0.0
    nlu: float = 0.0


class SnapshotCollector(Collector):
    """Reports the figures gathered (from the database) just before each scrape."""

    def __init__(self) -> None:
        self.now = Snapshot()

    def collect(self) -> Iterator[GaugeMetricFamily]:
        s = self.now
        held = GaugeMetricFamily(
            "sapa_messages",
            "Messages held, by channel and direction",
            labels=["channel", "direction"],
        )
        for (channel, direction), count in sorted(s.messages.items()):
            held.add_metric([channel, direction], count)
        depth = GaugeMetricFamily(
            "sapa_queue_depth", "Cases waiting to be claimed", labels=["queue"]
        )
        for code, count in sorted(s.depth.items()):
            depth.add_metric([code], count)
        yield held
        yield depth
        yield GaugeMetricFamily("sapa_outbox_pending", "Outbox rows not yet sent", value=s.pending)
        yield GaugeMetricFamily(
            "sapa_outbox_oldest_pending_seconds", "Age of the oldest unsent row", value=s.oldest
        )
        yield GaugeMetricFamily("sapa_outbox_dead", "Outbox dead letters", value=s.dead)
        yield GaugeMetricFamily("sapa_nlu_up", "1 when the NLU server answers", value=s.nlu)


@dataclass
class Metrics:
    registry: CollectorRegistry
    snapshot: SnapshotCollector
    latency: Histogram


def new_metrics() -> Metrics:
    registry = CollectorRegistry(auto_describe=True)
    snapshot = SnapshotCollector()
    registry.register(snapshot)
    latency = Histogram(
        "sapa_request_seconds",
        "Time the service takes to handle a request, by surface",
        ["surface"],
        registry=registry,
        buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
    )
    return Metrics(registry, snapshot, latency)


def surface(path: str) -> str:
    """A fixed label per part of the app (never the path itself: it may carry a case code)."""
    return next((s.strip("/").replace("/", "_") for s in SURFACES if path.startswith(s)), "other")


class Timing:
    """Observes how long each HTTP request takes to handle."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app, self.metrics = app, metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path") == "/metrics":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        try:
            await self.app(scope, receive, send)
        finally:
            elapsed = time.perf_counter() - started
            self.metrics.latency.labels(surface(scope.get("path", ""))).observe(elapsed)


def allowed(request: Request, settings: Settings) -> bool:
    if settings.metrics_token is None:
        return settings.environment == "development"
    expected = f"Bearer {settings.metrics_token.get_secret_value()}"
    given = request.headers.get("authorization", "")
    return hmac.compare_digest(given.encode(), expected.encode())


async def gather(rt: Runtime, settings: Settings) -> Snapshot:
    sessions = rt.svc.sessions
    counts = await rt.outbox.counts(now=rt.clock.now())
    up = await nlu_up(settings)
    return Snapshot(
        messages=await ops.message_counts(sessions),
        depth=await ops.queue_depth(sessions),
        pending=counts.pending,
        dead=counts.dead,
        oldest=counts.oldest_pending_seconds,
        nlu=1.0 if up else 0.0,
    )


@router.get("/metrics")
async def metrics(request: Request) -> Response:
    settings: Settings = request.app.state.services.settings
    if not allowed(request, settings):
        return Response("forbidden\n", status_code=403, media_type="text/plain")
    found: Metrics = request.app.state.metrics
    found.snapshot.now = await gather(request.app.state.runtime, settings)
    return Response(generate_latest(found.registry), media_type=CONTENT_TYPE_LATEST)
