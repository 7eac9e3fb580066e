"""The class a model decided (``predicted_label``) beside its score: accuracy, precision,
recall and F1 use it where a prediction names one, ``score_threshold`` only where it does
not (scikit-learn is the oracle); the decided class is monitored for drift on its own."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from sklearn import metrics as skm

from streamdrift import codec
from streamdrift.alerts.policy import AlertPolicy
from streamdrift.config.spec import ModelSpecs, MonitorSpec, ReferenceSpec
from streamdrift.drift.monitor import DriftMonitor
from streamdrift.drift.profiles import fit_profiles, profiles_from_dict
from streamdrift.drift.windows import WindowSpec
from streamdrift.engine.references import build_profile, read_columns
from streamdrift.labels.degradation import DegradationFleet
from streamdrift.labels.join import FeedbackEvent
from streamdrift.labels.labelled_metrics import infer_task_of, task_metrics, with_decided
from streamdrift.labels.performance import PerformanceSpec
from streamdrift.records import (
    PREDICTED_LABEL,
    PREDICTION,
    AlertKind,
    PredictionBatch,
    PredictionEvent,
    to_batches,
)
from streamdrift.stats import CategoricalReference
from streamdrift.stats.performance import ClassificationWindow, MulticlassWindow

T0 = 1_764_000_000.0


def decided_stream(n: int, seed: int, *, share_decided: float = 0.7) -> dict[str, Any]:
    """Scores, the class each model decided at its own threshold 0.3 (absent on some rows),
    and labels that follow the decided class 90 % of the time."""
    rng = np.random.default_rng(seed)
    scores = rng.random(n).round(4)
    decided = (scores >= 0.3).astype(int)
    labels = np.where(rng.random(n) < 0.9, decided, 1 - decided)
    has = rng.random(n) < share_decided
    return {
        "scores": scores.tolist(),
        "decided": [int(d) if h else None for d, h in zip(decided, has, strict=True)],
        "labels": labels.tolist(),
    }


def test_binary_metrics_use_the_decided_class_and_the_threshold_only_without_one() -> None:
    s = decided_stream(5_000, seed=1)
    preds = with_decided(s["scores"], s["decided"])
    window, errors, rejected = task_metrics("binary", s["labels"], preds, 0.5)
    assert isinstance(window, ClassificationWindow) and rejected == 0
    expected = [
        d if d is not None else int(p >= 0.5)
        for p, d in zip(s["scores"], s["decided"], strict=True)
    ]
    y = s["labels"]
    assert window.accuracy == pytest.approx(skm.accuracy_score(y, expected))
    assert window.precision == pytest.approx(skm.precision_score(y, expected))
    assert window.recall == pytest.approx(skm.recall_score(y, expected))
    assert window.f1 == pytest.approx(skm.f1_score(y, expected))
    # the score still gives the ranking and probability metrics
    assert window.roc_auc == pytest.approx(skm.roc_auc_score(y, s["scores"]))
    assert window.brier == pytest.approx(skm.brier_score_loss(y, s["scores"]))
    assert errors.tolist() == [float(a != b) for a, b in zip(expected, y, strict=True)]
    # thresholding the scores alone would have judged another model
    alone, _, _ = task_metrics("binary", y, s["scores"], 0.5)
    assert alone.accuracy < window.accuracy - 0.1


@pytest.mark.parametrize(
    ("decided", "as_int"),
    [(True, 1), (False, 0), ("1", 1), ("false", 0), (1.0, 1)],
)
def test_binary_decided_classes_in_their_json_forms(decided: Any, as_int: int) -> None:
    window, _, rejected = task_metrics("binary", [as_int], with_decided([0.5], [decided]), 0.9)
    assert (window.accuracy, rejected) == (1.0, 0)


def test_a_decided_class_that_is_not_binary_is_rejected_for_a_binary_task() -> None:
    _, _, rejected = task_metrics("binary", [1, 0], with_decided([0.7, 0.2], ["yes", None]), 0.5)
    assert rejected == 1


def test_multiclass_accuracy_follows_the_decided_class() -> None:
    rng = np.random.default_rng(2)
    classes = ["a", "b", "c"]
    probs = [
        dict(zip(classes, map(float, rng.dirichlet([1, 1, 1])), strict=True)) for _ in range(600)
    ]
    decided = [str(rng.choice(classes)) for _ in probs]  # a business rule, not the arg-max
    labels = [d if rng.random() < 0.8 else str(rng.choice(classes)) for d in decided]
    preds = with_decided(probs, decided)
    assert infer_task_of(labels, preds) == "multiclass"
    window, _, _ = task_metrics("multiclass", labels, preds)
    assert isinstance(window, MulticlassWindow)
    assert window.accuracy == pytest.approx(skm.accuracy_score(labels, decided))
    assert window.macro_f1 == pytest.approx(skm.f1_score(labels, decided, average="macro"))


def test_the_task_of_a_score_with_a_decided_class_is_binary() -> None:
    preds = with_decided([0.2, 0.7, 0.4], [0, 1, True])
    assert infer_task_of([0, 1, 1], preds) == "binary"


def test_the_decided_class_travels_through_the_join_and_decides_the_windows() -> None:
    """Through DegradationFleet: predictions with their decided class wait in the join, and
    the performance window's accuracy is the decided class's, not the thresholded score's."""
    spec = PerformanceSpec(window=WindowSpec(kind="time", size=50.0), min_labels=100)
    fleet = DegradationFleet(ModelSpecs(MonitorSpec(performance=spec)), AlertPolicy())
    s = decided_stream(2_000, seed=3, share_decided=1.0)
    ids = [f"p{i}" for i in range(2_000)]
    stamps = [T0 + i * 0.1 for i in range(2_000)]
    batch = PredictionBatch(
        "m", "1", None, ids, stamps, {}, s["scores"], predicted_labels=s["decided"]
    )
    fleet.add_predictions([batch])
    update = fleet.add_feedback(
        [
            FeedbackEvent("m", pid, ts + 1.0, y)
            for pid, ts, y in zip(ids, stamps, s["labels"], strict=True)
        ]
    )
    monitor = next(iter(fleet.monitors.values()))
    assert monitor.task == "binary" and monitor.rejected == 0
    assert len(update.labelled) == 2_000
    assert monitor.latest["accuracy"] == pytest.approx(0.9, abs=0.04)
    # the state (join and windows) is JSON: it survives a checkpoint
    restored = DegradationFleet.from_dict(
        codec.decode_checkpoint(codec.encode_checkpoint(fleet.to_dict())),
        ModelSpecs(MonitorSpec(performance=spec)),
        AlertPolicy(),
    )
    assert restored.to_dict() == fleet.to_dict()


def test_the_decided_class_is_monitored_for_drift_beside_the_score() -> None:
    """A business rule moves the decided class (threshold 0.5 -> 0.3) while the scores do
    not move: prediction drift on the decided class only, with its own alert feature."""
    rng = np.random.default_rng(4)
    spec = MonitorSpec(reference=ReferenceSpec(size=2_000))
    monitor = DriftMonitor("m", "1", None, spec)
    policy = AlertPolicy()
    results = []
    for start, threshold in ((0, 0.5), (3_000, 0.5), (6_000, 0.3)):
        scores = rng.beta(2, 5, 3_000).round(4).tolist()
        events = [
            PredictionEvent(
                "m",
                "1",
                f"p{start + i}",
                T0 + start + i,
                {"x": float(rng.normal())},
                score,
                predicted_label="approve" if score >= threshold else "reject",
            )
            for i, score in enumerate(scores)
        ]
        raw = [codec.encode_prediction(e) for e in events]
        for batch in to_batches([codec.decode_prediction(r) for r in raw]):
            results.extend(monitor.observe(batch))
    assert PREDICTED_LABEL in monitor.profiles and PREDICTION in monitor.profiles
    alerts = [a for r in results for a in policy.decide(r)]
    drifted = {(c.feature, c.kind) for r in results for c in r.drifted}
    assert drifted == {(PREDICTED_LABEL, AlertKind.PREDICTION_DRIFT)}
    # the first windows after the change, not before
    first = min(r.index for r in results if r.drifted)
    assert results[first].window.start >= T0 + 6_000
    assert {(a.kind, a.feature) for a in alerts} == {
        (AlertKind.PREDICTION_DRIFT, "predicted_label")
    }
    assert alerts[0].message.startswith("the predicted class (predicted_label) of m v1 drifted")


def test_predicted_label_round_trips_through_events_envelopes_and_batches() -> None:
    events = [
        PredictionEvent("m", "1", "a", T0, {"x": 1.0}, 0.8, predicted_label=True),
        PredictionEvent("m", "1", "b", T0 + 1, {"x": 2.0}, 0.2),
        PredictionEvent("m", "1", "c", T0 + 2, {"x": 3.0}, 0.6, predicted_label="approve"),
    ]
    decoded = [codec.decode_prediction(codec.encode_prediction(e)) for e in events]
    assert decoded == events
    (batch,) = to_batches(decoded)
    assert batch.predicted_labels == [True, None, "approve"]
    again = codec.decode_prediction(codec.encode_prediction_batch(batch))
    assert isinstance(again, PredictionBatch)
    assert again.predicted_labels == [True, None, "approve"]
    (plain,) = to_batches([PredictionEvent("m", "1", "d", T0, {}, 0.1)])
    assert plain.predicted_labels is None
    assert b"predicted_label" not in codec.encode_prediction_batch(plain)


def test_reference_build_profiles_the_decided_class_and_measures_with_it(tmp_path: Any) -> None:
    """A training file's ``predicted_label`` column is what events call it: profiled as the
    decided class (categorical) and used for the reference accuracy."""
    s = decided_stream(1_000, seed=5, share_decided=1.0)
    path = tmp_path / "validation.csv"
    path.write_text(
        "prediction,predicted_label,label\n"
        + "".join(
            f"{p},{bool(d)},{y}\n"
            for p, d, y in zip(s["scores"], s["decided"], s["labels"], strict=True)
        )
    )
    spec = MonitorSpec()
    doc = build_profile("m", "1", read_columns(path), spec, label_column="label")
    profile = profiles_from_dict(doc["profiles"])[PREDICTED_LABEL]
    assert isinstance(profile, CategoricalReference)
    assert set(profile.categories) == {"true", "false"}  # as JSON booleans arrive
    expected = s["decided"]
    assert doc["performance"]["summary"]["accuracy"] == pytest.approx(
        skm.accuracy_score(s["labels"], expected)
    )


def test_a_profile_keeps_the_decided_class_whatever_features_the_spec_watches() -> None:
    columns = {"x": [float(i) for i in range(100)], PREDICTED_LABEL: ["a", "b"] * 50}
    spec = MonitorSpec(watch=("x",), reference=ReferenceSpec(mode="profile"))
    monitor = DriftMonitor("m", "1", None, spec)
    monitor.set_reference(fit_profiles(columns, spec), 100)
    assert set(monitor.profiles) == {"x", PREDICTED_LABEL}


def test_rows_without_a_decided_class_are_judged_as_before() -> None:
    """Where no row names a class, or for the rows that do not, the score (a boolean
    counts as 0/1) is thresholded exactly as without predicted_label."""
    labels = [1, 0, 1, 0]
    scores = [True, False, 0.7, 0.6]
    before, errors_before, rejected_before = task_metrics("binary", labels, scores, 0.5)
    mixed, errors, rejected = task_metrics(
        "binary", labels, with_decided(scores, [None, None, None, 0]), 0.5
    )
    assert (rejected_before, rejected) == (0, 0)
    assert errors_before.tolist() == [0.0, 0.0, 0.0, 1.0]
    assert errors.tolist() == [0.0, 0.0, 0.0, 0.0]
    assert before.brier == pytest.approx(mixed.brier)
