"""How `sapa serve` settles its process after start-up."""

from __future__ import annotations

import gc

from bot.serve_workers import settle_heap


def test_settling_the_heap_freezes_what_start_up_made() -> None:
    try:
        settle_heap()
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
