"""Reference performance from a reference profile (labels/labelled_metrics.py,
PerformanceMonitor.use_reference, DegradationFleet.set_reference, Processor.set_reference).

scikit-learn is the oracle for the metrics of a reference; streams are seeded, event time
``T0 + i * dt``.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sklearn import metrics as skm
from tests.unit.engine.harness import Processor

from streamdrift import codec, config
from streamdrift.alerts.policy import AlertPolicy
from streamdrift.config.spec import ModelSpecs, MonitorSpec
from streamdrift.drift.windows import WindowSpec
from streamdrift.engine.messages import InputRecord
from streamdrift.engine.references import build_profile, parse_reference, read_columns
from streamdrift.labels.degradation import DegradationFleet
from streamdrift.labels.join import FeedbackEvent, LabelledPrediction
from streamdrift.labels.labelled_metrics import ReferencePerformance, task_metrics
from streamdrift.labels.performance import (
    FROM_FIRST_WINDOW,
    FROM_PROFILE,
    PerformanceMonitor,
    PerformanceSpec,
)
from streamdrift.metrics import Metrics
from streamdrift.records import AlertKind, AlertStatus, PredictionBatch
from streamdrift.stats.performance import ClassificationWindow, MulticlassWindow
from streamdrift.stats.regression import RegressionWindow

T0 = 1_764_000_000.0


def binary_data(n: int, accuracy: float, seed: int) -> tuple[list[int], list[float]]:
    """Scores uniform in [0, 1]; the label agrees with score >= 0.5 with ``accuracy``."""
    rng = np.random.default_rng(seed)
    scores = rng.random(n)
    agree = rng.random(n) < accuracy
    labels = np.where(agree, scores >= 0.5, scores < 0.5).astype(int)
    return labels.tolist(), scores.tolist()


# -- the metrics of a reference, against scikit-learn ---------------------------------------


def test_binary_reference_metrics_match_sklearn() -> None:
    labels, scores = binary_data(3000, 0.85, seed=1)
    ref = ReferencePerformance.of(labels, scores)
    assert ref.task == "binary"
    window = ref.window
    assert isinstance(window, ClassificationWindow)
    y, s = np.array(labels), np.array(scores)
    p = (s >= 0.5).astype(int)
    assert window.count == 3000
    assert window.accuracy == pytest.approx(skm.accuracy_score(y, p))
    assert window.precision == pytest.approx(skm.precision_score(y, p))
    assert window.recall == pytest.approx(skm.recall_score(y, p))
    assert window.f1 == pytest.approx(skm.f1_score(y, p))
    assert window.log_loss == pytest.approx(skm.log_loss(y, s))
    assert window.brier == pytest.approx(skm.brier_score_loss(y, s))
    # the AUC sample is left out of the reference (no test needs it); its value stays
    assert window.auc_sample_size == 0 and ref.metrics["scores"] == []
    assert ref.summary["roc_auc"] == pytest.approx(skm.roc_auc_score(y, s))
    assert ref.summary["accuracy"] == pytest.approx(skm.accuracy_score(y, p))


def test_binary_reference_uses_the_score_threshold() -> None:
    labels, scores = binary_data(2000, 0.8, seed=2)
    ref = ReferencePerformance.of(labels, scores, score_threshold=0.7)
    p = (np.array(scores) >= 0.7).astype(int)
    assert ref.window.accuracy == pytest.approx(skm.accuracy_score(labels, p))


def test_multiclass_reference_metrics_match_sklearn() -> None:
    rng = np.random.default_rng(3)
    classes = np.array(["cat", "dog", "bird"])
    truth = rng.choice(classes, 1500)
    guess = np.where(rng.random(1500) < 0.7, truth, rng.choice(classes, 1500))
    preds: list[Any] = [
        {str(g): 0.6, "other": 0.4} if i % 2 else str(g) for i, g in enumerate(guess)
    ]  # probability objects count as their arg-max
    ref = ReferencePerformance.of(truth.tolist(), preds)
    assert ref.task == "multiclass"
    window = ref.window
    assert isinstance(window, MulticlassWindow)
    assert window.accuracy == pytest.approx(skm.accuracy_score(truth, guess))
    assert window.macro_f1 == pytest.approx(skm.f1_score(truth, guess, average="macro"))


def test_regression_reference_metrics_match_sklearn() -> None:
    rng = np.random.default_rng(4)
    y = rng.normal(100.0, 10.0, 2000)
    yhat = y + rng.normal(1.0, 5.0, 2000)
    ref = ReferencePerformance.of(y.tolist(), yhat.tolist())
    assert ref.task == "regression"
    window = ref.window
    assert isinstance(window, RegressionWindow)
    assert window.mae == pytest.approx(skm.mean_absolute_error(y, yhat))
    assert window.rmse == pytest.approx(math.sqrt(skm.mean_squared_error(y, yhat)))
    assert window.mean_error == pytest.approx(float(np.mean(yhat - y)))


def test_task_metrics_count_rows_that_do_not_fit_the_task() -> None:
    window, errors, rejected = task_metrics("binary", [1, 0, 3, 1], [0.9, 0.2, 0.5, "x"])
    assert (window.count, rejected, errors.tolist()) == (2, 2, [0.0, 0.0])
    with pytest.raises(ValueError, match="unknown task"):
        task_metrics("ranking", [1], [1])


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ({"task": "ranking", "metrics": {}}, "performance.task"),
        ({"task": "binary", "metrics": {"tp": 1}}, "not a binary window"),
        ({"task": "regression", "metrics": RegressionWindow().to_dict()}, "no labelled row"),
        ({"task": "binary", "metrics": [1, 2]}, "expected an object"),
        ("binary", "expected an object with 'task' and 'metrics'"),
    ],
)
def test_invalid_reference_performance_is_refused(doc: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ReferencePerformance.from_dict(doc)


def test_reference_performance_round_trips_through_json() -> None:
    labels, scores = binary_data(500, 0.9, seed=5)
    ref = ReferencePerformance.of(labels, scores)
    again = ReferencePerformance.from_dict(json.loads(json.dumps(ref.to_dict())))
    assert again == ref and again.window == ref.window


def test_an_undefined_summary_metric_is_null_and_round_trips() -> None:
    ref = ReferencePerformance.of([1] * 50, [0.9] * 50)  # one class: no ROC AUC
    assert ref.summary["roc_auc"] is None and ref.summary["accuracy"] == 1.0
    assert ReferencePerformance.from_dict(codec.loads(codec.dumps(ref.to_dict()))) == ref


# -- the monitor tests against the profile ---------------------------------------------------


def spec(**kw: Any) -> PerformanceSpec:
    return PerformanceSpec(window=WindowSpec(kind="count", size=400), **kw)


def labelled_rows(n: int, accuracy: float, seed: int) -> list[LabelledPrediction]:
    labels, scores = binary_data(n, accuracy, seed)
    return [
        LabelledPrediction("m", "1", None, f"p{i}", s, y, T0 + i, T0 + i + 1.0)
        for i, (y, s) in enumerate(zip(labels, scores, strict=True))
    ]


def degradation(results: list[Any]) -> list[Any]:
    return [c for r in results for c in r.tests if c.kind is AlertKind.PERFORMANCE_DEGRADATION]


def test_a_profile_reference_tests_from_the_first_window() -> None:
    """The model is worse than in training from the start: against its first labelled
    window nothing degrades, against the profile every window does."""
    profile = ReferencePerformance.of(*binary_data(5000, 0.9, seed=6))
    live = labelled_rows(1600, 0.7, seed=7)

    plain = PerformanceMonitor("m", "1", None, spec())
    plain_checks = degradation(plain.observe(live))
    assert plain.reference_source == FROM_FIRST_WINDOW
    assert len(plain_checks) == 3 and not any(c.drifted for c in plain_checks)
    assert all("in the first labelled window" in c.detail for c in plain_checks)

    monitor = PerformanceMonitor("m", "1", None, spec())
    assert monitor.use_reference(profile)
    results = monitor.observe(live)
    checks = degradation(results)
    assert len(checks) == 4 and all(c.drifted for c in checks)
    assert all("in the reference profile (n=400 vs 5000" in c.detail for c in checks)
    assert monitor.reference_source == FROM_PROFILE
    assert {r.reference_count for r in results} == {5000}
    # the effect is the accuracy drop from the profile's accuracy
    assert checks[0].value == pytest.approx(profile.window.accuracy - 0.7, abs=0.05)


@pytest.mark.parametrize(
    ("monitor_spec", "task_seen", "profile_task"),
    [
        (spec(task="regression"), "", "binary"),  # configured otherwise
        (spec(), "regression", "binary"),  # inferred otherwise already
    ],
)
def test_a_profile_of_another_task_is_ignored(
    monitor_spec: PerformanceSpec, task_seen: str, profile_task: str
) -> None:
    profile = ReferencePerformance.of(*binary_data(500, 0.9, seed=8))
    assert profile.task == profile_task
    monitor = PerformanceMonitor("m", "1", None, monitor_spec, task=task_seen)
    assert not monitor.use_reference(profile)
    assert monitor.reference is None and monitor.reference_source == ""


def test_a_profile_with_fewer_than_min_labels_rows_is_ignored() -> None:
    profile = ReferencePerformance.of(*binary_data(50, 0.9, seed=9))
    monitor = PerformanceMonitor("m", "1", None, spec(min_labels=100))
    assert not monitor.use_reference(profile)
    monitor.observe(labelled_rows(400, 0.9, seed=10))
    assert monitor.reference_source == FROM_FIRST_WINDOW


def test_a_profile_sets_the_task_of_a_monitor_that_has_not_seen_labels() -> None:
    monitor = PerformanceMonitor("m", "1", None, spec())
    assert monitor.use_reference(ReferencePerformance.of(*binary_data(500, 0.9, seed=11)))
    assert monitor.task == "binary"


def test_monitor_state_keeps_the_reference_source() -> None:
    monitor = PerformanceMonitor("m", "1", None, spec())
    monitor.use_reference(ReferencePerformance.of(*binary_data(500, 0.9, seed=12)))
    d = json.loads(json.dumps(monitor.to_dict()))
    assert PerformanceMonitor.from_dict(d, spec()).reference_source == FROM_PROFILE
    del d["reference_source"]  # a checkpoint written before this field
    assert PerformanceMonitor.from_dict(d, spec()).reference_source == FROM_FIRST_WINDOW


# -- the fleet and the processor --------------------------------------------------------------


def fleet() -> DegradationFleet:
    return DegradationFleet(
        ModelSpecs(MonitorSpec(performance=spec())), AlertPolicy(clock=lambda: T0)
    )


def feed(f: DegradationFleet, rows: list[LabelledPrediction]) -> list[Any]:
    alerts = []
    for i in range(0, len(rows), 200):
        part = rows[i : i + 200]
        batch = PredictionBatch(
            "m",
            "1",
            None,
            [r.prediction_id for r in part],
            [r.predicted_at for r in part],
            {},
            [r.prediction for r in part],
        )
        alerts += f.add_predictions([batch]).alerts
        events = [FeedbackEvent("m", r.prediction_id, r.labelled_at, r.label) for r in part]
        alerts += f.add_feedback(events).alerts
    return alerts


def test_fleet_applies_a_reference_to_current_and_future_monitors() -> None:
    profile = ReferencePerformance.of(*binary_data(5000, 0.9, seed=13))
    f = fleet()
    feed(f, labelled_rows(200, 0.7, seed=14))  # a monitor exists, no window closed yet
    f.set_reference("m", "1", profile)
    f.set_reference("m", "2", profile)  # a version not seen yet
    assert f.monitors[("m", "1", None)].reference_source == FROM_PROFILE
    alerts = feed(f, labelled_rows(1400, 0.7, seed=15)[200:])
    firing = [a for a in alerts if a.kind is AlertKind.PERFORMANCE_DEGRADATION]
    assert [a.status for a in firing] == [AlertStatus.FIRING]
    assert "in the reference profile" in firing[0].message
    restored = DegradationFleet.from_dict(json.loads(json.dumps(f.to_dict())), f.specs, f.alerts)
    assert restored.references == f.references
    assert restored.to_dict() == f.to_dict()


def test_processor_applies_a_reference_to_owned_and_later_restored_partitions() -> None:
    profile = ReferencePerformance.of(*binary_data(5000, 0.9, seed=16))
    processor = Processor(config.load({}, environ={}), Metrics(), clock=lambda: T0)
    owned = processor.restore(0, None)
    assert processor.set_reference("m", "1", {}, 5000, profile) == []
    assert owned.labels.references == {("m", "1"): profile}
    fresh = processor.restore(1, None)
    assert fresh.labels.references == {("m", "1"): profile}
    processor.set_reference("other", "1", {}, 10)  # a profile without performance
    assert set(fresh.labels.references) == {("m", "1")}


def test_a_profile_built_from_a_labelled_file_drives_the_degradation_alert(tmp_path: Path) -> None:
    """build_profile (--label-column) → the references-topic bytes → parse_reference →
    Processor.set_reference → predictions and labels through the processor: the model is
    as good as in training at first, then worse; the alert names the profile."""
    labels, scores = binary_data(4000, 0.9, seed=17)
    path = tmp_path / "train.csv"
    path.write_text(
        "x,label,prediction\n"
        + "".join(f"{i % 7},{y},{s}\n" for i, (y, s) in enumerate(zip(labels, scores, strict=True)))
    )
    toml = tmp_path / "models.toml"
    toml.write_text(
        '[models.m.performance]\nwindow = { kind = "count", size = 400 }\nmin_labels = 200\n'
    )
    settings = config.load({"config": str(toml)}, environ={})
    spec_m = settings.model_specs().for_model("m")
    doc = build_profile("m", "1", read_columns(path), spec_m, label_column="label")
    ref = parse_reference(codec.dumps(doc))
    processor = Processor(settings, Metrics(), clock=lambda: T0)
    processor.restore(0, None)
    processor.set_reference(
        ref.model_id, ref.model_version, ref.profiles, ref.count, ref.performance
    )

    good, bad = labelled_rows(800, 0.9, seed=18), labelled_rows(1600, 0.7, seed=19)[800:]
    offsets = {"predictions": 0, "feedback": 0}

    def record(topic: str, raw: bytes) -> InputRecord:
        offsets[topic] += 1
        return InputRecord(topic, 0, offsets[topic] - 1, T0, b"m", raw)

    out = []
    for i in range(0, 1600, 200):
        part = (good + bad)[i : i + 200]
        batch = PredictionBatch(
            "m", "1", None, [r.prediction_id for r in part], [r.predicted_at for r in part],
            {"x": [1.0] * len(part)}, [r.prediction for r in part],
        )  # fmt: skip
        events = [FeedbackEvent("m", r.prediction_id, r.labelled_at, r.label) for r in part]
        out += processor.process(
            0,
            [
                record("predictions", codec.encode_prediction_batch(batch)),
                record("feedback", codec.encode_feedback_batch(events)),
            ],
        )
    alerts = [json.loads(o.value) for o in out if o.topic == "degradation-alerts"]
    firing = [a for a in alerts if a["kind"] == "performance_degradation"]
    assert [a["status"] for a in firing] == ["firing"]
    assert firing[0]["window"]["start"] >= T0 + 800  # not before the model got worse
    assert "in the reference profile" in firing[0]["message"]
    assert firing[0]["reference"]["count"] == ref.performance.count  # type: ignore[union-attr]
