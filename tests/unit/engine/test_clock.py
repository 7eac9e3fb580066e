"""The clock: idle windows close from processing time, with an injected clock."""

from __future__ import annotations

import json
from typing import Any

from tests.unit.engine.conftest import T0, batch
from tests.unit.engine.harness import Processor

from streamdrift.codec import decode_checkpoint, encode_checkpoint
from streamdrift.metrics import Metrics

TIME_WINDOWS = """
[defaults]
window = { kind = "time", size = 60, allowed_lateness = 10 }
reference = { mode = "first", size = 500 }
"""


def test_the_drifted_last_event_time_window_closes_after_its_end_plus_lateness_plus_idle_timeout(
    make_harness: Any,
) -> None:
    h = make_harness(TIME_WINDOWS, idle_timeout=60.0, traffic_period=0.0)
    h.send(batch(3000, dt=0.1))  # reference [T0, T0+50 s), windows up to T0+300 s
    h.send(batch(600, start=T0 + 300.0, dt=0.1, shift=2.0, seed=1))  # [300, 360): drifted
    closed = [w["window"]["start"] - T0 for w in h.windows()]
    assert 300.0 not in closed  # the last window is open: no later event closes it
    # its end (T0+360) + lateness 10 + idle_timeout 60 is 70.1 s after the last event (359.9)
    assert h.tick(70.0) == []
    out = h.tick(0.2)
    (window,) = h.windows(out)
    assert (window["window"]["start"] - T0, window["window"]["count"]) == (300.0, 600)
    firing = [a for a in h.alerts(out) if a["status"] == "firing"]
    assert {a["feature"] for a in firing} == {"x"}
    assert h.tick(100.0) == []  # closed once


def test_an_idle_partial_count_window_is_tested_and_says_partial(make_harness: Any) -> None:
    h = make_harness(idle_timeout=60.0, traffic_period=0.0)
    h.send(batch(1000))  # reference (500) and one full window (500)
    h.send(batch(300, start=T0 + 10.0, shift=2.0, seed=1))  # a drifted partial window
    assert len(h.windows()) == 1
    assert h.tick(59.0) == []
    out = h.tick(2.0)
    (window,) = h.windows(out)
    assert (window["window"]["index"], window["window"]["count"], window["window"]["partial"]) == (
        1,
        300,
        True,
    )
    (alert,) = [a for a in h.alerts(out) if a["feature"] == "x"]
    assert (alert["status"], alert["window"]["partial"]) == ("firing", True)
    assert h.tick(120.0) == []


def test_an_idle_count_window_below_min_window_count_waits_for_more_events(
    make_harness: Any,
) -> None:
    h = make_harness(idle_timeout=60.0, traffic_period=0.0)
    h.send(batch(1000))
    h.send(batch(99, start=T0 + 10.0, seed=1))  # min_window_count is 100
    assert h.tick(600.0) == []
    out = h.send(batch(401, start=T0 + 11.0, seed=2))  # the window fills up: full, index 1
    (window,) = h.windows(out)
    assert (window["window"]["index"], window["window"]["count"], window["window"]["partial"]) == (
        1,
        500,
        False,
    )


def comparable(out: list[Any]) -> list[Any]:
    rows = []
    for o in out:
        doc = json.loads(o.value)
        doc.pop("detected_at", None)
        rows.append((o.topic, doc))
    return rows


def test_a_restart_from_the_checkpoint_after_a_tick_continues_like_an_uninterrupted_run(
    make_harness: Any,
) -> None:
    later = [batch(700, start=T0 + 20.0, shift=2.0, seed=s) for s in (3, 4)]
    whole = make_harness(idle_timeout=60.0, traffic_period=0.0)
    whole.send(batch(1200))
    whole.tick(61.0)  # closes the partial window [1000, 1200)
    for b in later:
        whole.send(b)
    first = make_harness(idle_timeout=60.0, traffic_period=0.0)
    first.send(batch(1200))
    first.tick(61.0)
    snapshot = decode_checkpoint(encode_checkpoint(first.processor.snapshot(0)))
    restarted = make_harness(idle_timeout=60.0, traffic_period=0.0)
    restarted.processor = Processor(first.processor.settings, Metrics(), clock=restarted.clock)
    restarted.processor.restore(0, snapshot)
    restarted.offset = first.offset
    for b in later:
        restarted.send(b)
    assert comparable(restarted.out) == comparable(whole.out[len(first.out) :])
    assert restarted.windows()  # the later events closed windows after the restart


def test_a_worker_taking_over_counts_idleness_from_the_takeover_not_from_the_checkpoint(
    make_harness: Any,
) -> None:
    first = make_harness(idle_timeout=60.0, traffic_period=0.0)
    first.send(batch(1000))
    first.send(batch(300, start=T0 + 10.0, shift=2.0, seed=1))  # a partial window
    snapshot = decode_checkpoint(encode_checkpoint(first.processor.snapshot(0)))
    later = make_harness(idle_timeout=60.0, traffic_period=0.0)
    later.clock.now = first.clock.now + 3600.0  # the worker was down for an hour
    later.processor.restore(0, snapshot)
    assert later.tick(0.0) == [] and later.tick(59.0) == []  # the downtime is not silence
    (window,) = later.windows(later.tick(2.0))
    assert (window["window"]["index"], window["window"]["partial"]) == (1, True)
