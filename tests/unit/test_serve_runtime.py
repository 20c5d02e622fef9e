"""How `sapa serve` runs its process: uvloop's event loop, and a heap settled after start-up."""

from __future__ import annotations

import asyncio
import gc

import uvloop

from bot.cli import run
from bot.serve_workers import settle_heap


def test_the_service_loop_is_the_one_asked_for() -> None:
    async def loop_type() -> type:
        return type(asyncio.get_running_loop())

    assert run(loop_type(), uvloop.new_event_loop) is uvloop.Loop
    assert run(loop_type()) is not uvloop.Loop  # the other commands keep asyncio's own


def test_settling_the_heap_freezes_what_start_up_made() -> None:
    made_at_start_up = [object() for _ in range(10)]
    try:
        settle_heap()
        assert gc.get_freeze_count() >= len(made_at_start_up)
    finally:
        gc.unfreeze()
