"""Caps: max_models and max_versions per partition refuse further streams to dead-letter."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from tests.unit.engine.conftest import T0, batch

from streamdrift.codec import decode_checkpoint, encode_checkpoint
from streamdrift.engine.messages import DEAD_LETTER_REASONS, H_REASON


def reasons(out: list[Any]) -> list[str]:
    return [dict(o.headers)[H_REASON].decode() for o in out if o.topic == "dead-letter"]


def dead_letters(h: Any, reason: str) -> float:
    value = h.processor.metrics.registry.get_sample_value(
        "streamdrift_dead_letter_total", {"reason": reason}
    )
    return 0.0 if value is None else value


def test_models_past_max_models_go_to_dead_letter_counted_and_logged_once(
    make_harness: Any, caplog: pytest.LogCaptureFixture
) -> None:
    h = make_harness(max_models=3)
    assert "too_many_models" in DEAD_LETTER_REASONS and dead_letters(h, "too_many_models") == 0
    with caplog.at_level(logging.WARNING):
        for i in range(200):
            h.send(batch(10, model=f"m{i}", seed=i))
    assert reasons(h.out) == ["too_many_models"] * 197
    assert dead_letters(h, "too_many_models") == 197
    capped = [r for r in caplog.records if "max_models" in r.getMessage()]
    assert len(capped) == 1
    assert len(h.processor.states[0].fleet.monitors) == 3
    h.send(batch(10, model="m1", seed=1))  # an admitted model still is
    assert len(reasons(h.out)) == 197


def test_versions_past_max_versions_go_to_dead_letter_and_retirement_frees_a_slot(
    make_harness: Any,
) -> None:
    h = make_harness(max_versions=2, retire_after=300.0, traffic_period=0.0)
    for v in range(5):
        h.send(batch(10, version=str(v), seed=v))
    assert reasons(h.out) == ["too_many_versions"] * 3
    assert dead_letters(h, "too_many_versions") == 3
    h.tick(301.0)  # versions 0 and 1 retire
    h.send(batch(10, start=T0 + 400.0, version="9"))
    assert len(reasons(h.out)) == 3
    assert {k[1] for k in h.processor.states[0].fleet.monitors} == {"9"}


def test_admission_state_survives_a_checkpoint(make_harness: Any) -> None:
    h = make_harness(max_models=2)
    for i in range(2):
        h.send(batch(10, model=f"m{i}"))
    snapshot = decode_checkpoint(encode_checkpoint(h.processor.snapshot(0)))
    h.processor.restore(0, snapshot)
    assert reasons(h.send(batch(10, model="m9"))) == ["too_many_models"]
    assert reasons(h.send(batch(10, model="m0"))) == []


def test_refused_model_ids_leave_nothing_behind_in_the_processor(make_harness: Any) -> None:
    """Past max_models, a flood of new model ids retains no state per id (tracemalloc: the
    allocations still alive after 20,000 refused ids), so memory is bounded by the caps."""
    import gc
    import tracemalloc

    h = make_harness(max_models=3)
    for i in range(200):  # past the cap, the refusal path is warm
        h.send(batch(2, model=f"warm{i}", seed=i))
    h.out.clear()
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.take_snapshot()
        for i in range(20_000):
            h.send(batch(1, model=f"flood{i}", seed=0))
            h.out.clear()  # what a runner does once the records are published
        gc.collect()
        after = tracemalloc.take_snapshot()
    finally:
        tracemalloc.stop()
    grown = sum(s.size_diff for s in after.compare_to(before, "filename"))
    assert grown < 64 * 1024, f"{grown} bytes retained for 20,000 refused model ids"
