"""Label-free estimates of a multiclass model (one-vs-rest calibration) through the
monitors: estimated_performance, estimator_divergence, the fleet's state."""

from __future__ import annotations

import numpy as np
import pytest
from load import cbpe_multiclass as data

from streamdrift import codec
from streamdrift.alerts.policy import AlertPolicy
from streamdrift.config.spec import ModelSpecs, MonitorSpec
from streamdrift.drift.windows import WindowSpec
from streamdrift.labels.estimated_performance import EstimatedPerformanceMonitor
from streamdrift.labels.estimates import EstimateFleet
from streamdrift.labels.estimator_divergence import EstimatorDivergenceMonitor
from streamdrift.labels.join_records import LabelledPrediction
from streamdrift.labels.multiclass_calibration import MulticlassCalibrationProfile
from streamdrift.labels.performance import PerformanceSpec
from streamdrift.records import AlertKind, PredictionBatch

WINDOW = 60.0
RATE = 20  # predictions per second
N = int(WINDOW * RATE)


@pytest.fixture(scope="module")
def profile() -> MulticlassCalibrationProfile:
    return data.reference(np.random.default_rng(0))


def batch(rng: np.random.Generator, k: int, shift: float = 0.0) -> PredictionBatch:
    stamps = (k * WINDOW + np.sort(rng.random(N)) * WINDOW).tolist()
    outputs = data.as_dicts(data.outputs_of(data.logits_of(rng, N, shift)))
    return PredictionBatch("m", "1", None, [f"{k}-{i}" for i in range(N)], stamps, {}, outputs)


def labelled(rng: np.random.Generator, k: int, relabel: float = 0.0) -> list[LabelledPrediction]:
    z = data.logits_of(rng, N)
    outputs = data.as_dicts(data.outputs_of(z))
    y = data.labels_of(rng, z, relabel)
    at = k * WINDOW + np.sort(rng.random(N)) * WINDOW
    return [
        LabelledPrediction(
            "m", "1", None, f"{k}-{i}", outputs[i], data.CLASSES[y[i]], at[i] - 5, at[i]
        )
        for i in range(N)
    ]


def test_stationary_outputs_never_fire_and_a_shift_toward_uncertain_fires_at_once(
    profile: MulticlassCalibrationProfile,
) -> None:
    window = WindowSpec(kind="time", size=WINDOW)
    monitor = EstimatedPerformanceMonitor("m", "1", None, window, PerformanceSpec(), 100, profile)
    rng = np.random.default_rng(1)
    fired, accuracy = [], []
    for k in range(41):  # 40 stationary windows close, then shifted ones
        for r in monitor.observe(batch(rng, k, 0.5 if k >= 40 else 0.0)):
            (check,) = r.tests
            assert check.kind is AlertKind.ESTIMATED_PERFORMANCE
            fired.append(check.drifted)
            metrics = dict(r.metrics)
            accuracy.append(metrics["estimated_accuracy"])
            for name in ("accuracy", "precision", "recall", "f1", "roc_auc"):
                lo, hi = metrics[f"estimated_{name}_lower"], metrics[f"estimated_{name}_upper"]
                assert lo <= metrics[f"estimated_{name}"] <= hi, name
    assert len(fired) == 40 and not any(fired)
    assert abs(np.mean(accuracy) - profile.reference["accuracy"]) < 0.01
    closed = monitor.observe(batch(rng, 41, 0.5))
    assert [r.index for r in closed] == [40] and closed[0].tests[0].drifted
    assert dict(closed[0].metrics)["estimated_accuracy"] < profile.reference["accuracy"] - 0.05


def divergence(
    profile: MulticlassCalibrationProfile, relabel_from: int, windows: int
) -> list[bool]:
    rng = np.random.default_rng(3)
    monitor = EstimatorDivergenceMonitor("m", "1", None, PerformanceSpec(), profile)
    out = []
    for k in range(windows + 1):
        for r in monitor.observe(labelled(rng, k, 0.3 if k >= relabel_from else 0.0)):
            out.append(r.tests[0].drifted)
    return out


def test_relabelled_rows_with_unchanged_outputs_raise_divergence_and_consistent_ones_do_not(
    profile: MulticlassCalibrationProfile,
) -> None:
    verdicts = divergence(profile, relabel_from=30, windows=40)
    assert len(verdicts) == 40 and not any(verdicts[:30])
    assert verdicts[30:33] == [False, False, True] and all(verdicts[32:])


def test_the_fleet_keeps_a_multiclass_calibration_across_a_restart(
    profile: MulticlassCalibrationProfile,
) -> None:
    specs = ModelSpecs(MonitorSpec(window=WindowSpec(kind="time", size=WINDOW)))

    def run(restart_at: int | None) -> list[tuple[int, tuple[tuple[str, float], ...]]]:
        rng = np.random.default_rng(4)
        fleet = EstimateFleet(specs, AlertPolicy())
        fleet.set_calibration("m", "1", profile)
        out = []
        for k in range(6):
            if k == restart_at:
                fleet = EstimateFleet.from_dict(
                    codec.loads(codec.dumps(fleet.to_dict())), specs, AlertPolicy()
                )
                assert fleet.calibrations[("m", "1")] == profile
            for update in (fleet.observe([batch(rng, k)]), fleet.add_labelled(labelled(rng, k))):
                out.extend((w.index, w.metrics) for w in update.windows)
        return out

    whole = run(None)
    assert len(whole) == 10 and whole == run(3)


def test_rows_without_class_probabilities_or_with_an_unknown_class_are_left_out(
    profile: MulticlassCalibrationProfile,
) -> None:
    preds = [{"cat": 0.7, "dog": 0.3}, 0.4, {"cat": 0.2, "eel": 0.8}, {"cat": 1.5}, "dog"]
    got = profile.rows(preds, None)
    assert got.rows.tolist() == [0]
    decided = profile.rows(preds, [None, None, "dog", None, None])
    assert decided.rows.tolist() == [0, 2]
    assert decided.raw[1].tolist() == [0.0, 0.2, 0.0, 0.0]  # bird cat dog fish; eel ignored
