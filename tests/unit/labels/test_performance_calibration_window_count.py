"""The degradation threshold follows the judged window's label count (stats/inflation_ladder.py).

The labelled reference is a long profile (``reference build --label-column``), its error
probability cycling with a period of 1,000 rows (a daily cycle, say). Windows of 1,000 rows
span whole cycles and hardly vary; windows of 500 rows (half a cycle) swing by about six
points. The old rule calibrated on 1,000-row windows only; the ladder reads the design
effect at the window's own count. The oracle of the swing is the cycle written into the
errors (brute-force: the window means of the error probability itself).
"""

from __future__ import annotations

import dataclasses

import numpy as np
from tests.unit.labels.test_performance_calibration import degradation, rows_with_accuracy

from streamdrift.drift.windows import WindowSpec
from streamdrift.labels.labelled_metrics import ReferencePerformance, task_metrics
from streamdrift.labels.performance import PerformanceMonitor, PerformanceSpec
from streamdrift.labels.performance_calibration import calibrate_errors, error_inflation

PERIOD, REFERENCE = 1000, 40_000


def cyclic_accuracy(n: int) -> np.ndarray:
    return 1.0 - (0.12 + 0.10 * np.sin(2 * np.pi * np.arange(n) / PERIOD))


def judged(accuracy: np.ndarray, window: int, calibration: dict[str, object] | None) -> list[bool]:
    """Degradation verdicts of the windows after the reference rows, against a profile of
    the reference rows carrying ``calibration``."""
    rows = rows_with_accuracy(accuracy, seed=11)
    ref, live = rows[:REFERENCE], rows[REFERENCE:]
    spec = PerformanceSpec(window=WindowSpec(kind="count", size=window), error_detectors=())
    perf = PerformanceMonitor("m", "1", None, spec)
    labels, preds = [r.label for r in ref], [r.prediction for r in ref]
    metrics, errors, _ = task_metrics("binary", labels, preds, 0.5)
    cal = calibrate_errors(errors, (), regression=False) if calibration is None else calibration
    profile = ReferencePerformance.of_window("binary", metrics)
    assert perf.use_reference(dataclasses.replace(profile, calibration=cal))
    return degradation(perf.observe(live))


def test_half_cycle_windows_raise_no_false_degradation_where_the_1000_row_rule_did() -> None:
    accuracy = cyclic_accuracy(2 * REFERENCE)
    errors = (np.random.default_rng(0).random(REFERENCE) > accuracy[:REFERENCE]).astype(float)
    new = calibrate_errors(errors, (), regression=False)
    old = calibrate_errors(errors, (), regression=False, window=1000)  # the rule before
    # the oracle: the variance of 500-row means of the error probability itself, over the
    # binomial variance of a 500-row mean, plus one (the binomial part)
    p = 1.0 - accuracy[:REFERENCE]
    halves = p.reshape(-1, 500).mean(axis=1)
    truth = 1.0 + halves.var() / (p.mean() * (1 - p.mean()) / 500)
    assert error_inflation(old, 500) < 2 < truth / 2
    assert truth / 2 < error_inflation(new, 500) < 2 * truth
    assert error_inflation(new, 1000) < error_inflation(new, 500)  # whole cycles vary less
    old_verdicts = judged(accuracy, 500, old)
    new_verdicts = judged(accuracy, 500, new)
    assert len(new_verdicts) == len(old_verdicts) == REFERENCE // 500
    assert sum(old_verdicts) >= 3  # the old rule: false degradations at half-cycle windows
    assert not any(new_verdicts)


def test_a_three_point_drop_on_5000_labels_is_still_caught_against_a_long_reference() -> None:
    accuracy = np.r_[np.full(REFERENCE, 0.95), np.full(4 * 5000, 0.92)]
    verdicts = judged(accuracy, 5000, None)
    assert verdicts == [True] * 4
