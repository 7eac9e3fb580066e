"""Endings: silent streams resolve their episodes (stopped), silent versions retire."""

from __future__ import annotations

from typing import Any

from tests.unit.engine.conftest import T0, batch

from streamdrift.alerts.policy import alert_id
from streamdrift.codec import encode_checkpoint
from streamdrift.records import AlertKind, AlertStatus


def test_a_model_that_stops_raises_traffic_and_its_drift_alert_resolves_as_stopped(
    make_harness: Any,
) -> None:
    h = make_harness(idle_timeout=600.0, silence_after=300.0)
    h.send(batch(1000, dt=1.0))  # 1 event/s for 1000 s: reference and one window
    for k in range(4):  # drifted windows, 1 event/s, each sent as its 500 s end
        h.clock.now += 500.0
        h.send(batch(500, start=T0 + 1000 + 500 * k, dt=1.0, shift=2.0, seed=k + 1))
    firing = [a for a in h.alerts() if a["status"] == "firing"]
    assert [(a["kind"], a["feature"]) for a in firing] == [("data_drift", "x")]
    seen = len(h.out)
    ticks = [h.tick(10.0) for _ in range(31)]
    after = [(10.0 * (i + 1), a) for i, out in enumerate(ticks) for a in h.alerts(out)]
    kinds = [(a["kind"], a["status"], a.get("reason")) for _, a in after]
    assert kinds == [("traffic", "firing", None), ("data_drift", "resolved", "stopped")]
    assert after[0][0] <= 150.0  # traffic: within period + one bucket (defaults)
    assert after[1][0] == 300.0  # stopped: at silence_after
    resolved = after[1][1]
    key = (AlertKind.DATA_DRIFT, "m", "1", None, "x", resolved["detector"])
    assert resolved["alert_id"] == alert_id(key, firing[0]["window"]["index"], AlertStatus.RESOLVED)
    assert h.processor.tick(0) == [] and len(h.out) > seen


# waiting predictions leave the join after prediction_ttl (event time), whatever the version
SHORT_TTL = """
[defaults]
reference = { mode = "first", size = 500 }
window = { kind = "count", size = 500 }
performance = { prediction_ttl = 1000, feedback_ttl = 1000 }
"""


def test_50_versions_deployed_in_turn_leave_memory_and_checkpoints_bounded(
    make_harness: Any,
) -> None:
    def deploy(retire_after: float) -> list[tuple[int, int]]:
        h = make_harness(
            SHORT_TTL,
            retire_after=retire_after,
            silence_after=120.0,
            traffic_period=0.0,
            max_versions=100,
        )
        sizes = []
        for v in range(50):
            h.send(batch(1200, start=T0 + 2000.0 * v, version=str(v), seed=v))
            state = h.processor.states[0]
            sizes.append(
                (len(state.fleet.monitors), len(encode_checkpoint(h.processor.snapshot(0))))
            )
            for _ in range(4):
                h.tick(100.0)  # 400 s of processing time until the next version
        return sizes

    bounded = deploy(retire_after=300.0)
    assert {monitors for monitors, _ in bounded} == {1}  # only the live version
    assert max(size for _, size in bounded[10:]) <= 1.05 * bounded[9][1]
    kept = deploy(retire_after=86400.0)  # the default: nothing retires within the test
    assert kept[-1][0] == 50 and kept[-1][1] > 10 * bounded[-1][1]  # measured: 14x


def test_a_version_retired_before_it_counts_as_stopped_resolves_as_retired(
    make_harness: Any,
) -> None:
    h = make_harness(retire_after=300.0, silence_after=1000.0, traffic_period=0.0)
    h.send(batch(1000))
    h.send(batch(500, start=T0 + 20.0, shift=2.0, seed=1))
    assert [a["status"] for a in h.alerts()] == ["firing"]
    out = h.tick(301.0)
    assert [(a["status"], a["reason"]) for a in h.alerts(out)] == [("resolved", "retired")]
    assert h.processor.states[0].fleet.monitors == {}
    assert h.processor.states[0].runtime.streams == {}
    h.send(batch(600, start=T0 + 5000.0, seed=2))  # the version comes back: a fresh reference
    (monitor,) = h.processor.states[0].fleet.monitors.values()
    assert (monitor.events_seen, monitor.windows_closed) == (600, 0)
