"""The worker tunes the garbage collector after start-up."""

from __future__ import annotations

import gc

from streamdrift.service.worker import GC_THRESHOLD, tune_gc


def test_tune_gc_raises_the_threshold_and_freezes_start_up() -> None:
    before = gc.get_threshold()
    try:
        tune_gc()
        assert gc.get_threshold() == GC_THRESHOLD
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
