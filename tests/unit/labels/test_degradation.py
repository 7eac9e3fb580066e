"""PerformanceMonitor (labels/performance.py) and DegradationFleet (labels/degradation.py).

Labelled rows are built directly (``LabelledPrediction``) or go through the feedback join;
streams are seeded, event time is ``T0 + i * dt``. River's own detectors are the oracle for
the row at which a concept-drift check fires.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pytest
from river.drift import binary as river_binary

from streamdrift.alerts.policy import AlertPolicy
from streamdrift.config.spec import ModelSpecs, MonitorSpec
from streamdrift.drift.windows import WindowSpec
from streamdrift.labels.degradation import DegradationFleet
from streamdrift.labels.join import FeedbackEvent, LabelledPrediction
from streamdrift.labels.performance import (
    PerformanceMonitor,
    PerformanceSpec,
    PerformanceSpecError,
    infer_task,
)
from streamdrift.records import AlertKind, AlertStatus, PredictionBatch, WindowResult

T0 = 1_764_000_000.0


def clock() -> float:
    return 1_764_100_000.0


def row(
    i: int,
    prediction: Any,
    label: Any,
    *,
    dt: float = 0.1,
    delay: float = 1.0,
    model: str = "m",
    pid: str | None = None,
) -> LabelledPrediction:
    ts = T0 + i * dt
    return LabelledPrediction(
        model, "1", None, pid or f"p{i:06d}", prediction, label, ts, ts + delay
    )


def binary_rows(
    n: int, accuracy: Sequence[tuple[int, float]], *, seed: int = 0
) -> list[LabelledPrediction]:
    """Scores uniform in [0, 1]; from row ``start`` on, the label agrees with the
    thresholded score with probability ``p`` (``accuracy`` = [(start, p), ...])."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        p = next(p for start, p in reversed(accuracy) if i >= start)
        score = float(rng.random())
        predicted = int(score >= 0.5)
        label = predicted if rng.random() < p else 1 - predicted
        out.append(row(i, score, label))
    return out


def regression_rows(n: int, noise: Sequence[tuple[int, float]], *, seed: int = 0) -> list[Any]:
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        sd = next(s for start, s in reversed(noise) if i >= start)
        y = float(rng.normal(100.0, 10.0))
        out.append(row(i, y + float(rng.normal(0.0, sd)), y))
    return out


def count_spec(**kw: Any) -> PerformanceSpec:
    return PerformanceSpec(window=WindowSpec(kind="count", size=400), **kw)


def time_spec(**kw: Any) -> PerformanceSpec:
    return PerformanceSpec(window=WindowSpec(kind="time", size=20.0, allowed_lateness=5.0), **kw)


def feed(monitor: PerformanceMonitor, rows: Sequence[LabelledPrediction], batch: int = 97) -> Any:
    results: list[WindowResult] = []
    for i in range(0, len(rows), batch):
        results.extend(monitor.observe(rows[i : i + batch]))
    return results


def checks(results: Sequence[WindowResult], kind: AlertKind) -> list[Any]:
    return [c for r in results for c in r.tests if c.kind is kind]


def json_round_trip(d: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = json.loads(json.dumps(d, allow_nan=False))
    return out


# -- task inference -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pairs", "task"),
    [
        ([(0.8, 1), (0.1, 0), (0.5, 1)], "binary"),
        ([(1, 1), (0, 0), (1.0, 0)], "binary"),
        ([(0.7, True), (0.2, False)], "binary"),
        ([("cat", "cat"), ("dog", "cat"), ("bird", "bird")], "multiclass"),
        ([({"cat": 0.7, "dog": 0.3}, "cat"), ({"cat": 0.1, "dog": 0.9}, "cat")], "multiclass"),
        ([(2, 2), (0, 1), (1, 1)], "regression"),
        ([(12.5, 10.0), (3.0, 4.5), (100.0, 90.0)], "regression"),
        ([(0.3, 7), (0.9, 2)], "regression"),
    ],
)
def test_infer_task(pairs: list[tuple[Any, Any]], task: str) -> None:
    rows = [row(i, p, y) for i, (p, y) in enumerate(pairs)]
    assert infer_task(rows) == task
    monitor = PerformanceMonitor("m", "1", None, count_spec())
    monitor.observe(rows)
    # decided from the first closed window, never from one fetch's rows (replay-safe)
    assert monitor.task in ("", task)


def test_configured_task_is_not_inferred() -> None:
    monitor = PerformanceMonitor("m", "1", None, count_spec(task="multiclass"))
    monitor.observe([row(0, 1, 1), row(1, 0, 1)])
    assert monitor.task == "multiclass"


def test_multiclass_with_probability_objects_counts_the_arg_max() -> None:
    monitor = PerformanceMonitor("m", "1", None, PerformanceSpec(window=WindowSpec(size=4)))
    rows = [
        row(0, {"cat": 0.7, "dog": 0.3}, "cat"),
        row(1, {"cat": 0.2, "dog": 0.8}, "cat"),
        row(2, "dog", "dog"),
        row(3, {"bird": 0.5, "cat": 0.1, "dog": 0.4}, "bird"),
    ]
    (result,) = monitor.observe(rows)
    assert monitor.task == "multiclass"
    assert monitor.latest["accuracy"] == 0.75
    assert result.window.count == 4


def test_binary_metrics_of_a_window() -> None:
    monitor = PerformanceMonitor("m", "1", None, PerformanceSpec(window=WindowSpec(size=4)))
    rows = [row(0, 0.9, 1), row(1, 0.2, 0), row(2, 0.4, 1), row(3, 0.7, 1)]
    monitor.observe(rows)
    assert monitor.task == "binary"
    assert monitor.latest["accuracy"] == 0.75
    assert monitor.latest["precision"] == 1.0
    assert monitor.latest["recall"] == pytest.approx(2 / 3)
    assert monitor.latest["roc_auc"] == 1.0


def test_labels_that_do_not_fit_the_task_are_counted_as_rejected() -> None:
    monitor = PerformanceMonitor("m", "1", None, PerformanceSpec(window=WindowSpec(size=4)))
    # the first window decides the task: binary
    monitor.observe([row(0, 0.9, 1), row(1, 0.2, 0), row(2, 0.8, 1), row(3, 0.1, 0)])
    monitor.observe([row(4, 0.9, 1), row(5, 0.2, 0)])
    monitor.observe([row(6, 0.4, "yes"), row(7, 0.7, 1)])
    assert monitor.task == "binary"
    assert monitor.rejected == 1
    assert monitor.latest["accuracy"] == 1.0


# -- degradation ------------------------------------------------------------------------------


def test_reference_is_the_first_window_with_enough_labels() -> None:
    monitor = PerformanceMonitor("m", "1", None, count_spec(min_labels=100))
    results = feed(monitor, binary_rows(1200, [(0, 0.9)]))
    assert [r.index for r in results] == [0, 1, 2]
    assert monitor.reference_count == 400
    assert monitor.reference is not None
    assert checks(results[:1], AlertKind.PERFORMANCE_DEGRADATION) == []
    assert len(checks(results[1:], AlertKind.PERFORMANCE_DEGRADATION)) == 2
    assert {r.reference_count for r in results} == {400}


def test_small_windows_are_not_a_reference() -> None:
    spec = PerformanceSpec(window=WindowSpec(kind="count", size=50), min_labels=100)
    monitor = PerformanceMonitor("m", "1", None, spec)
    results = feed(monitor, binary_rows(500, [(0, 0.9)]))
    assert len(results) == 10
    assert monitor.reference is None
    assert checks(results, AlertKind.PERFORMANCE_DEGRADATION) == []


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_an_accuracy_drop_is_flagged_and_a_stable_accuracy_is_not(seed: int) -> None:
    dropped = PerformanceMonitor("m", "1", None, count_spec())
    results = feed(dropped, binary_rows(2800, [(0, 0.9), (1600, 0.65)], seed=seed))
    verdicts = [c.drifted for c in checks(results, AlertKind.PERFORMANCE_DEGRADATION)]
    # windows 1..3 before the drop, 4..6 after
    assert verdicts == [False, False, False, True, True, True]
    drop = checks(results, AlertKind.PERFORMANCE_DEGRADATION)[3]
    assert (drop.feature, drop.detector, drop.statistic) == (
        "accuracy",
        "accuracy_drop",
        "accuracy_drop",
    )
    assert drop.value == pytest.approx(0.25, abs=0.07)
    assert drop.threshold_source == "reference" and 0 < drop.threshold < drop.value
    assert drop.p_value is not None and drop.p_value < 0.01

    stable = PerformanceMonitor("m", "1", None, count_spec())
    results = feed(stable, binary_rows(2800, [(0, 0.9)], seed=seed))
    assert not any(c.drifted for c in checks(results, AlertKind.PERFORMANCE_DEGRADATION))


def test_a_drop_smaller_than_the_margin_is_not_flagged() -> None:
    monitor = PerformanceMonitor("m", "1", None, count_spec(margin=0.2))
    results = feed(monitor, binary_rows(2800, [(0, 0.9), (1600, 0.8)]))
    assert not any(c.drifted for c in checks(results, AlertKind.PERFORMANCE_DEGRADATION))


def test_regression_mae_increase_is_flagged() -> None:
    monitor = PerformanceMonitor("m", "1", None, count_spec(error_detectors=("adwin",)))
    results = feed(monitor, regression_rows(2800, [(0, 2.0), (1600, 4.0)]))
    assert monitor.task == "regression"
    degradation = checks(results, AlertKind.PERFORMANCE_DEGRADATION)
    assert [c.drifted for c in degradation] == [False, False, False, True, True, True]
    first = degradation[3]
    assert (first.feature, first.detector, first.statistic) == (
        "mae",
        "mae_increase",
        "mae_relative_increase",
    )
    assert first.value == pytest.approx(1.0, abs=0.3)  # the MAE doubled
    assert "MAE" in first.detail
    assert {"mae", "rmse", "mean_error"} == set(monitor.latest)
    # ADWIN runs on the absolute error; the binary detectors are skipped for regression
    drift = checks(results, AlertKind.CONCEPT_DRIFT)
    assert {c.detector for c in drift} == {"adwin"}
    assert {c.statistic for c in drift} == {"mean_abs_error"}


def test_binary_detectors_do_not_run_on_regression() -> None:
    monitor = PerformanceMonitor("m", "1", None, count_spec(error_detectors=("ddm", "hddm_a")))
    results = feed(monitor, regression_rows(1200, [(0, 2.0)]))
    assert checks(results, AlertKind.CONCEPT_DRIFT) == []


# -- concept drift ----------------------------------------------------------------------------


def river_first_fire(detector: Any, errors: Sequence[float]) -> int:
    """1-based row at which a River detector first fires on ``errors``."""
    for i, e in enumerate(errors):
        detector.update(e)
        if detector.drift_detected:
            return i + 1
    raise AssertionError("River did not fire")


def test_concept_drift_checks_name_the_detector_and_the_row_where_it_fired() -> None:
    rows = binary_rows(3200, [(0, 0.9), (1600, 0.6)], seed=5)
    spec = count_spec(error_detectors=("ddm", "hddm_a", "hddm_w"))
    monitor = PerformanceMonitor("m", "1", None, spec)
    results = feed(monitor, rows)
    errors = [float(int(r.prediction >= 0.5) != r.label) for r in rows]

    drift = checks(results, AlertKind.CONCEPT_DRIFT)
    assert len(drift) == 3 * len(results)
    assert {c.detector for c in drift} == {"ddm", "hddm_a", "hddm_w"}
    oracles = {
        "ddm": river_binary.DDM(),
        "hddm_a": river_binary.HDDMA(),
        "hddm_w": river_binary.HDDMW(),
    }
    for name, oracle in oracles.items():
        mine = [c for c in drift if c.detector == name]
        assert all(name in c.detail for c in mine)
        assert all(c.statistic == "error_rate" and c.p_value is None for c in mine)
        first = next(i for i, c in enumerate(mine) if c.drifted)
        fired_at = river_first_fire(oracle, errors)
        assert 1600 < fired_at <= 2400, name
        assert first == (fired_at - 1) // 400, name  # the window that holds that row
        assert f"fired at labelled row {fired_at}," in mine[first].detail
        assert not any(c.drifted for c in mine[:first])
        window = results[first]
        assert mine[first].value == pytest.approx(
            np.mean(errors[window.index * 400 : (window.index + 1) * 400])
        )


def test_concept_drift_detail_without_a_detection() -> None:
    monitor = PerformanceMonitor("m", "1", None, count_spec())
    results = feed(monitor, binary_rows(800, [(0, 0.9)]))
    (first, second) = checks(results, AlertKind.CONCEPT_DRIFT)
    assert not first.drifted
    assert first.detail == (
        f"in this window vs {first.value:.3f} in the first labelled window; "
        "hddm_a (drift_confidence=0.001) watches the per-row error stream: 400 rows seen"
    )
    assert second.detail.endswith("800 rows seen")


# -- invariance and state -------------------------------------------------------------------


def splits(rows: list[LabelledPrediction], seed: int) -> list[list[LabelledPrediction]]:
    rng = np.random.default_rng(seed)
    cuts = sorted(set(rng.integers(1, len(rows), size=25).tolist()))
    return [rows[a:b] for a, b in zip([0, *cuts], [*cuts, len(rows)], strict=True)]


def run_batches(spec: PerformanceSpec, batches: Sequence[Sequence[LabelledPrediction]]) -> Any:
    monitor = PerformanceMonitor("m", "1", None, spec)
    results = [r for b in batches for r in monitor.observe(b)]
    results.extend(monitor.advance(T0 + 1e6))
    return results, monitor


@pytest.mark.parametrize("make_spec", [count_spec, time_spec])
def test_window_results_do_not_depend_on_how_rows_are_batched(make_spec: Any) -> None:
    spec = make_spec(error_detectors=("ddm", "hddm_a", "adwin"))
    rows = binary_rows(3000, [(0, 0.9), (1500, 0.6)], seed=11)
    whole, whole_monitor = run_batches(spec, [rows])
    assert len(whole) >= 7
    assert any(c.drifted for r in whole for c in r.tests)
    for seed in range(3):
        again, monitor = run_batches(spec, splits(rows, seed))
        assert again == whole
        assert monitor.to_dict() == whole_monitor.to_dict()
    singles, _ = run_batches(spec, [[r] for r in rows])
    assert singles == whole


def test_time_windows_do_not_depend_on_arrival_order_within_the_lateness() -> None:
    spec = time_spec()
    rows = binary_rows(3000, [(0, 0.9), (1500, 0.6)], seed=11)
    ordered, _ = run_batches(spec, [rows])
    rng = np.random.default_rng(4)
    shuffled = list(rows)
    for start in range(0, len(rows), 20):  # permute within 2 s, lateness is 5 s
        block = shuffled[start : start + 20]
        rng.shuffle(block)  # type: ignore[arg-type]
        shuffled[start : start + 20] = block
    again, _ = run_batches(spec, [shuffled[i : i + 50] for i in range(0, 3000, 50)])
    assert again == ordered


@pytest.mark.parametrize("make_rows", [binary_rows, regression_rows])
def test_state_round_trip_mid_stream(make_rows: Any) -> None:
    spec = time_spec(error_detectors=("adwin",) if make_rows is regression_rows else ("ddm",))
    rows = make_rows(3000, [(0, 1.0 if make_rows is regression_rows else 0.9)], seed=3)
    original = PerformanceMonitor("m", "1", "seg", spec)
    head = feed(original, rows[:1234])
    assert head and original.reference is not None
    restored = PerformanceMonitor.from_dict(json_round_trip(original.to_dict()), spec)
    assert restored.to_dict() == original.to_dict()
    assert feed(restored, rows[1234:]) == feed(original, rows[1234:])
    assert restored.advance(T0 + 1e6) == original.advance(T0 + 1e6)
    assert restored.to_dict() == original.to_dict()
    assert restored.segment == "seg"


def test_state_before_the_first_row_round_trips() -> None:
    spec = count_spec()
    fresh = PerformanceMonitor("m", "1", None, spec)
    restored = PerformanceMonitor.from_dict(json_round_trip(fresh.to_dict()), spec)
    rows = binary_rows(900, [(0, 0.9)])
    assert feed(restored, rows) == feed(fresh, rows)


# -- spec validation --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "setting"),
    [
        ({"by": "arrival_time"}, "performance.by"),
        ({"task": "ranking"}, "performance.task"),
        ({"error_detectors": ("ddm", "page_hinkley")}, "performance.error_detectors"),
        ({"alpha": 0.0}, "performance.alpha"),
        ({"alpha": 1.0}, "performance.alpha"),
        ({"alpha": math.nan}, "performance.alpha"),
        ({"margin": 0.0}, "performance.margin"),
        ({"margin": math.nan}, "performance.margin"),
        ({"min_labels": 9}, "performance.min_labels"),
        ({"min_coverage": -0.1}, "performance.min_coverage"),
        ({"min_coverage": 1.5}, "performance.min_coverage"),
        ({"min_coverage": math.nan}, "performance.min_coverage"),
    ],
)
def test_spec_errors_name_the_setting(kwargs: dict[str, Any], setting: str) -> None:
    with pytest.raises(PerformanceSpecError, match=rf"^{setting}\b"):
        PerformanceSpec(**kwargs)


@pytest.mark.parametrize(
    ("kwargs", "setting"),
    [
        ({"prediction_ttl": 0.0}, "performance.prediction_ttl"),
        ({"feedback_ttl": -1.0}, "performance.feedback_ttl"),
        ({"max_pending": 0}, "performance.max_pending"),
    ],
)
def test_ttl_and_bound_errors_name_the_setting(kwargs: dict[str, Any], setting: str) -> None:
    with pytest.raises(PerformanceSpecError, match=rf"^{setting}\b"):
        PerformanceSpec(**kwargs)


@pytest.mark.parametrize("name", ["prediction_ttl", "feedback_ttl", "score_threshold"])
def test_nan_settings_are_rejected(name: str) -> None:
    with pytest.raises(PerformanceSpecError, match=rf"^performance\.{name}\b"):
        PerformanceSpec(**{name: math.nan})


def test_valid_spec_values_are_accepted() -> None:
    spec = PerformanceSpec(
        by="prediction_time",
        task="regression",
        min_labels=10,
        margin=0.5,
        alpha=0.05,
        error_detectors=("ddm", "eddm", "hddm_a", "hddm_w", "adwin"),
        min_coverage=1.0,
    )
    assert spec.error_detectors == ("ddm", "eddm", "hddm_a", "hddm_w", "adwin")


# -- DegradationFleet -------------------------------------------------------------------------


def fleet_of(spec: PerformanceSpec, policy: AlertPolicy | None = None) -> DegradationFleet:
    specs = ModelSpecs(MonitorSpec(performance=spec))
    return DegradationFleet(specs, policy or AlertPolicy(clock=clock))


def pbatch(ids: list[str], stamps: list[float], preds: list[Any], model: str = "m") -> Any:
    return PredictionBatch(model, "1", None, ids, stamps, {}, preds)


def test_early_feedback_is_joined_when_its_prediction_arrives() -> None:
    fleet = fleet_of(count_spec())
    early = fleet.add_feedback([FeedbackEvent("m", "a", T0 + 5.0, 1)])
    assert early.labelled == [] and early.windows == []
    update = fleet.add_predictions([pbatch(["a", "b"], [T0, T0 + 1.0], [0.9, 0.1])])
    (joined,) = update.labelled
    assert (joined.prediction_id, joined.label, joined.delay) == ("a", 1, 5.0)
    assert fleet.join.early_feedback == {"m": 1}
    assert fleet.monitors[("m", "1", None)].labelled == 1


def test_duplicate_labels_are_not_counted_twice() -> None:
    fleet = fleet_of(PerformanceSpec(window=WindowSpec(kind="count", size=2)))
    fleet.add_predictions([pbatch(["a", "b"], [T0, T0 + 1.0], [0.9, 0.1])])
    first = fleet.add_feedback([FeedbackEvent("m", "a", T0 + 2.0, 1)])
    again = fleet.add_feedback(
        [FeedbackEvent("m", "a", T0 + 3.0, 0), FeedbackEvent("m", "b", T0 + 3.0, 0)]
    )
    assert [r.prediction_id for r in first.labelled] == ["a"]
    assert [r.prediction_id for r in again.labelled] == ["b"]
    assert fleet.join.duplicates == {"m": 1}
    assert fleet.join.labelled == {"m": 2}
    monitor = fleet.monitors[("m", "1", None)]
    assert monitor.labelled == 2
    (window,) = again.windows
    assert window.window.count == 2
    assert monitor.latest["accuracy"] == 1.0  # the duplicate's 0 did not replace the 1


def test_degradation_alerts_from_the_fleet() -> None:
    spec = PerformanceSpec(window=WindowSpec(kind="count", size=400))
    fleet = fleet_of(spec)
    rows = binary_rows(2800, [(0, 0.9), (1600, 0.6)], seed=2)
    updates = []
    for i in range(0, len(rows), 200):
        part = rows[i : i + 200]
        batch = pbatch(
            [r.prediction_id for r in part],
            [r.predicted_at for r in part],
            [r.prediction for r in part],
        )
        updates.append(fleet.add_predictions([batch]))
        updates.append(
            fleet.add_feedback(
                [FeedbackEvent("m", r.prediction_id, r.labelled_at, r.label) for r in part]
            )
        )
    kinds = {a.kind for u in updates for a in u.alerts if a.status is AlertStatus.FIRING}
    assert AlertKind.PERFORMANCE_DEGRADATION in kinds
    assert kinds <= {AlertKind.PERFORMANCE_DEGRADATION, AlertKind.CONCEPT_DRIFT}


def test_concept_drift_alerts_compare_the_error_rate_with_the_reference() -> None:
    # the issue's message: "resolved: the error stream of M v1 is back to normal:
    # error_rate=0.569" said nothing of what 0.569 is compared with
    rows = binary_rows(6000, [(0, 0.9), (1600, 0.6), (2800, 0.9)], seed=5)
    monitor = PerformanceMonitor("m", "1", None, count_spec())
    policy = AlertPolicy(clock=clock)
    alerts = [a for r in feed(monitor, rows) for a in policy.decide(r)]
    concept = [a for a in alerts if a.kind is AlertKind.CONCEPT_DRIFT]
    assert [a.status for a in concept] == [AlertStatus.FIRING, AlertStatus.RESOLVED]
    ref = monitor.to_dict()["reference"]  # the first labelled window's confusion counts
    reference = (ref["fp"] + ref["fn"]) / (ref["tp"] + ref["fp"] + ref["tn"] + ref["fn"])
    for alert in concept:
        assert (
            f"error_rate={alert.value:.3f} in this window vs {reference:.3f} in the first "
            "labelled window; hddm_a (drift_confidence=0.001) watches the per-row error stream"
        ) in alert.message, alert.message
    assert concept[1].message.startswith("the error stream of m v1 is back to normal: ")
