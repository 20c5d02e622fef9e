"""Which queue serves a category. The mapping is data (queues' categories), not code."""

from __future__ import annotations

from collections.abc import Sequence

from core.errors import NotFound
from core.model import Queue
from core.triage import Category


def route(queues: Sequence[Queue], category: Category) -> Queue:
    """The first queue serving the category; otherwise the general desk, which can re-route."""
    for queue in queues:
        if category in queue.categories:
            return queue
    for queue in queues:
        if queue.general_desk:
            return queue
    raise NotFound("No queue serves this category and there is no general desk.")
