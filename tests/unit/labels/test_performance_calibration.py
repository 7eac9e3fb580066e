"""Performance checks with thresholds from the labelled reference (labels/performance_calibration).

Labelled rows are built directly as ``LabelledPrediction``; windows count 5,000 labels; the
oracle of a stable model's noise is the binomial (scipy), of an unstable one the block
structure written into its errors.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats as sps

from streamdrift.drift.windows import WindowSpec
from streamdrift.labels.join import LabelledPrediction
from streamdrift.labels.performance import PerformanceMonitor, PerformanceSpec
from streamdrift.labels.performance_calibration import calibrate_errors
from streamdrift.records import AlertKind, WindowResult

T0 = 1_764_000_000.0
WINDOW = 5000


def rows_with_accuracy(accuracy: np.ndarray, seed: int) -> list[LabelledPrediction]:
    """One row per entry: the label agrees with the thresholded score with that
    probability; 10 rows per second of event time."""
    rng = np.random.default_rng(seed)
    scores = rng.random(accuracy.size)
    correct = rng.random(accuracy.size) < accuracy
    predicted = (scores >= 0.5).astype(int)
    labels = np.where(correct, predicted, 1 - predicted)
    return [
        LabelledPrediction("m", "1", None, f"p{i:07d}", float(s), int(y), t, t + 1.0)
        for i, (s, y, t) in enumerate(
            zip(scores, labels, T0 + np.arange(accuracy.size) * 0.1, strict=True)
        )
    ]


def monitor(**kw: object) -> PerformanceMonitor:
    spec = PerformanceSpec(window=WindowSpec(kind="count", size=WINDOW), error_detectors=())
    return PerformanceMonitor("m", "1", None, spec, **kw)  # type: ignore[arg-type]


def degradation(results: list[WindowResult]) -> list[bool]:
    return [
        c.drifted for r in results for c in r.tests if c.kind is AlertKind.PERFORMANCE_DEGRADATION
    ]


def test_a_three_point_drop_on_5000_labels_of_a_stable_model_is_caught() -> None:
    accuracy = np.r_[np.full(4 * WINDOW, 0.95), np.full(4 * WINDOW, 0.92)]
    rows = rows_with_accuracy(accuracy, seed=1)
    calibrated = monitor()
    results = calibrated.observe(rows)
    # window 0 is the reference; 1-3 stable; 4-7 three points lower
    assert degradation(results) == [False, False, False, True, True, True, True]
    check = next(c for c in results[4].tests if c.kind is AlertKind.PERFORMANCE_DEGRADATION)
    assert check.threshold_source == "reference" and check.threshold < 0.03
    # the oracle: the one-sided binomial test's z at the threshold is the budget's
    se = np.sqrt(0.935 * 0.065 * 2 / WINDOW)
    assert check.threshold / se > sps.norm.isf(1e-4)
    # the previous default, a fixed 5-point margin, misses it in every window
    fixed = monitor(calibrated=False)
    assert not any(degradation(fixed.observe(rows)))


def test_the_same_drop_is_not_flagged_when_the_reference_is_not_that_stable() -> None:
    """A model whose accuracy swings between 0.92 and 0.98 in runs of 500 rows: windows of
    5,000 vary by about 3 points by themselves, so a 3-point drop is within its noise."""
    swings = np.tile(np.r_[np.full(500, 0.92), np.full(500, 0.98)], 5)[:WINDOW]
    rng = np.random.default_rng(2)
    phase = np.concatenate([np.roll(swings, int(k)) for k in rng.integers(0, 1000, 8)])
    accuracy = phase - np.r_[np.zeros(4 * WINDOW), np.full(4 * WINDOW, 0.03)]
    perf = monitor()
    results = perf.observe(rows_with_accuracy(accuracy, seed=3))
    assert len(degradation(results)) == 7
    assert not any(degradation(results))
    assert perf.reference_calibration is not None
    assert perf.reference_calibration["errors"]["inflation"] > 5


def test_the_reference_error_stream_is_calibrated_in_order() -> None:
    rng = np.random.default_rng(5)
    stable = (rng.random(100_000) > 0.95).astype(float)
    runs = np.repeat(rng.random(40) < 0.5, 500).astype(float) * (rng.random(20_000) < 0.2)
    quiet = calibrate_errors(stable, ("hddm_a", "adwin"), regression=False)
    noisy = calibrate_errors(runs, ("hddm_a", "adwin"), regression=False)
    assert quiet["errors"]["estimate"] == pytest.approx(1.0, abs=0.35)
    assert noisy["errors"]["estimate"] > 10  # runs of 500 rows inside windows of 1,000
    assert quiet["noisy_detectors"] == []
    assert set(noisy["noisy_detectors"]) == {"hddm_a", "adwin"}


def test_a_detector_that_fires_on_the_reference_only_confirms_a_degradation() -> None:
    spec = PerformanceSpec(window=WindowSpec(kind="count", size=WINDOW), error_detectors=("ddm",))
    perf = PerformanceMonitor("m", "1", None, spec)
    # a reference whose errors come in runs: DDM fires on it
    runs = np.repeat(np.random.default_rng(6).random(10) < 0.5, 500)
    accuracy = np.r_[np.where(runs, 0.80, 0.99), np.full(3 * WINDOW, 0.95)]
    results = perf.observe(rows_with_accuracy(accuracy, seed=7))
    assert perf.reference_calibration is not None
    assert perf.reference_calibration["noisy_detectors"] == ["ddm"]
    concept = [c for r in results for c in r.tests if c.kind is AlertKind.CONCEPT_DRIFT]
    assert concept and not any(c.drifted for c in concept)
    assert all("only confirms" in c.detail for c in concept)
    state = PerformanceMonitor.from_dict(perf.to_dict(), spec)
    assert state.reference_calibration == perf.reference_calibration
