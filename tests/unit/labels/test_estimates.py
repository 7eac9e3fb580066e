"""Label-free estimates per window (labels/estimated_performance.py), their check against
labels (labels/estimator_divergence.py) and the partition's fleet of both (labels/estimates.py)."""

from __future__ import annotations

import numpy as np
import pytest
from load import cbpe_eval

from streamdrift import codec
from streamdrift.alerts.policy import AlertPolicy
from streamdrift.config.spec import ModelSpecs, MonitorSpec
from streamdrift.drift.fleet import MonitorFleet
from streamdrift.drift.windows import WindowSpec
from streamdrift.engine.partition import PartitionState
from streamdrift.labels.calibration_profile import CalibrationProfile
from streamdrift.labels.estimated_performance import EstimatedPerformanceMonitor
from streamdrift.labels.estimates import EstimateFleet
from streamdrift.labels.estimator_divergence import EstimatorDivergenceMonitor
from streamdrift.labels.join_records import LabelledPrediction
from streamdrift.labels.performance import PerformanceSpec, PerformanceSpecError
from streamdrift.records import AlertKind, PredictionBatch

WINDOW = 60.0
RATE = 20  # predictions per second


@pytest.fixture(scope="module")
def profile() -> CalibrationProfile:
    return cbpe_eval.reference(np.random.default_rng(0))


def batch(rng: np.random.Generator, k: int, shift: float = 0.0) -> PredictionBatch:
    n = int(WINDOW * RATE)
    stamps = (k * WINDOW + np.sort(rng.random(n)) * WINDOW).tolist()
    s = cbpe_eval.scores_of(rng, n, shift)
    return PredictionBatch("m", "1", None, [f"{k}-{i}" for i in range(n)], stamps, {}, s.tolist())


def labelled(rng: np.random.Generator, k: int, flip: float = 0.0) -> list[LabelledPrediction]:
    n = int(WINDOW * RATE)
    s = cbpe_eval.scores_of(rng, n)
    y = cbpe_eval.labels_of(rng, s, flip)
    at = k * WINDOW + np.sort(rng.random(n)) * WINDOW
    return [
        LabelledPrediction("m", "1", None, f"{k}-{i}", float(s[i]), int(y[i]), at[i] - 5, at[i])
        for i in range(n)
    ]


def estimator(profile: CalibrationProfile) -> EstimatedPerformanceMonitor:
    window = WindowSpec(kind="time", size=WINDOW)
    return EstimatedPerformanceMonitor("m", "1", None, window, PerformanceSpec(), 100, profile)


def test_stationary_scores_never_fire_and_a_shift_toward_half_fires_in_its_first_window(
    profile: CalibrationProfile,
) -> None:
    rng = np.random.default_rng(1)
    monitor = estimator(profile)
    fired = []
    for k in range(151):  # 150 stationary windows close, then shifted ones
        for r in monitor.observe(batch(rng, k, 0.6 if k >= 150 else 0.0)):
            (check,) = r.tests
            assert check.kind is AlertKind.ESTIMATED_PERFORMANCE
            fired.append(check.drifted)
            metrics = dict(r.metrics)
            lo, hi = metrics["estimated_accuracy_lower"], metrics["estimated_accuracy_upper"]
            assert lo <= metrics["estimated_accuracy"] <= hi
    assert len(fired) == 150 and not any(fired)
    closed = monitor.observe(batch(rng, 151, 0.6))
    assert [r.index for r in closed] == [150] and closed[0].tests[0].drifted


def test_a_monitor_without_a_calibration_buffers_nothing() -> None:
    monitor = EstimatedPerformanceMonitor(
        "m", "1", None, WindowSpec(kind="time", size=WINDOW), PerformanceSpec(), 100
    )
    rng = np.random.default_rng(2)
    assert monitor.observe(batch(rng, 0)) == [] and monitor.observe(batch(rng, 1)) == []
    assert monitor.windows_closed == 0


def divergence(profile: CalibrationProfile, flip_from: int, windows: int) -> list[bool]:
    rng = np.random.default_rng(3)
    monitor = EstimatorDivergenceMonitor("m", "1", None, PerformanceSpec(), profile)
    out = []
    for k in range(windows + 1):
        for r in monitor.observe(labelled(rng, k, 0.3 if k >= flip_from else 0.0)):
            out.append(r.tests[0].drifted)
    return out


def test_labels_consistent_with_the_calibration_raise_no_divergence(
    profile: CalibrationProfile,
) -> None:
    assert not any(divergence(profile, flip_from=10**6, windows=100))


def test_flipped_labels_with_unchanged_scores_raise_divergence_after_three_windows(
    profile: CalibrationProfile,
) -> None:
    """Concept shift: the estimate stays, realized accuracy drops; 3 of the last 6
    windows outside the interval (the defaults) take 3 windows."""
    verdicts = divergence(profile, flip_from=20, windows=30)
    assert not any(verdicts[:20])
    assert verdicts[20:23] == [False, False, True] and all(verdicts[22:])


def test_the_fleet_restored_mid_stream_gives_the_same_windows_as_an_uninterrupted_run(
    profile: CalibrationProfile,
) -> None:
    specs = ModelSpecs(MonitorSpec(window=WindowSpec(kind="time", size=WINDOW)))

    def run(restart_at: int | None) -> list[tuple[int, tuple[tuple[str, float], ...]]]:
        rng = np.random.default_rng(4)
        fleet = EstimateFleet(specs, AlertPolicy())
        fleet.set_calibration("m", "1", profile)
        out = []
        for k in range(8):
            if k == restart_at:
                fleet = EstimateFleet.from_dict(
                    codec.loads(codec.dumps(fleet.to_dict())), specs, AlertPolicy()
                )
            for update in (
                fleet.observe([batch(rng, k, 0.6 if k >= 5 else 0.0)]),
                fleet.add_labelled(labelled(rng, k, 0.3)),
            ):
                out.extend((w.index, w.metrics) for w in update.windows)
        return out

    whole = run(None)
    assert len(whole) == 14 and whole == run(4)


def test_partition_state_carries_the_estimates_and_reads_older_checkpoints(
    profile: CalibrationProfile,
) -> None:
    specs = ModelSpecs()
    state = PartitionState.fresh(0, MonitorFleet(specs))
    state.estimates.set_calibration("m", "1", profile)
    doc = codec.loads(codec.dumps(state.to_dict()))
    assert PartitionState.from_dict(doc, specs).estimates.calibrations == {("m", "1"): profile}
    del doc["estimates"]
    assert PartitionState.from_dict(doc, specs).estimates.calibrations == {}


@pytest.mark.parametrize(
    "changes",
    [{"estimate_confidence": 1.0}, {"divergence_hits": 7}, {"divergence_hits": 0}],
)
def test_invalid_estimate_settings_are_rejected(changes: dict[str, float]) -> None:
    with pytest.raises(PerformanceSpecError):
        PerformanceSpec(**changes)  # type: ignore[arg-type]


def test_window_records_and_alerts_of_both_monitors_match_their_schemas(
    profile: CalibrationProfile,
) -> None:
    import json
    from pathlib import Path

    from jsonschema import Draft202012Validator

    from streamdrift.drift.window_record import window_record

    topics = Path(__file__).resolve().parents[3] / "topics"
    windows = Draft202012Validator(json.loads((topics / "window.schema.json").read_text()))
    alerts = Draft202012Validator(json.loads((topics / "alert.schema.json").read_text()))
    specs = ModelSpecs(MonitorSpec(window=WindowSpec(kind="time", size=WINDOW)))
    fleet = EstimateFleet(specs, AlertPolicy())
    fleet.set_calibration("m", "1", profile)
    rng = np.random.default_rng(9)
    seen = {"estimated_performance": 0, "estimator_divergence": 0}
    fired = set()
    for k in range(6):
        for monitor, update in (
            ("estimated_performance", fleet.observe([batch(rng, k, 0.6 if k >= 2 else 0.0)])),
            ("estimator_divergence", fleet.add_labelled(labelled(rng, k, 0.3))),
        ):
            for w in update.windows:
                windows.validate(codec.loads(codec.dumps(window_record(w, monitor))))
                seen[monitor] += 1
            for alert in update.alerts:
                alerts.validate(codec.loads(codec.encode_alert(alert)))
                fired.add(alert.kind)
    assert seen == {"estimated_performance": 5, "estimator_divergence": 5}
    assert fired == {AlertKind.ESTIMATED_PERFORMANCE, AlertKind.ESTIMATOR_DIVERGENCE}
