"""One-vs-rest calibration and multiclass CBPE against independent oracles (scikit-learn,
simulated label draws)."""

from __future__ import annotations

import numpy as np
import pytest
from load import cbpe_multiclass as data
from sklearn.isotonic import IsotonicRegression
from sklearn.metrics import accuracy_score, f1_score, precision_score, recall_score, roc_auc_score

from streamdrift.stats.calibration_ovr import OneVsRestCalibration
from streamdrift.stats.cbpe import METRICS
from streamdrift.stats.cbpe_multiclass import estimate_multiclass, realized_multiclass

K = len(data.CLASSES)


def sklearn_metrics(y: np.ndarray, yhat: np.ndarray, raw: np.ndarray) -> dict[str, float]:
    labels = list(range(K))
    macro = {"average": "macro", "zero_division": 0}
    return {
        "accuracy": accuracy_score(y, yhat),
        "precision": precision_score(y, yhat, **macro),  # type: ignore[arg-type]
        "recall": recall_score(y, yhat, **macro),  # type: ignore[arg-type]
        "f1": f1_score(y, yhat, **macro),  # type: ignore[arg-type]
        # multi_class="ovr" needs rows summing to 1; rounded outputs do not, and
        # renormalising them would move ties: its definition, class by class
        "roc_auc": float(np.mean([roc_auc_score(y == k, raw[:, k]) for k in labels])),
    }


def test_each_class_map_is_scikit_learns_isotonic_fit_and_rows_are_renormalised() -> None:
    rng = np.random.default_rng(0)
    z = data.logits_of(rng, 5000)
    raw, y = data.outputs_of(z), data.labels_of(rng, z)
    cal = OneVsRestCalibration.fit(data.CLASSES, raw, y)
    grid = data.outputs_of(data.logits_of(rng, 2000))
    oracle = np.column_stack(
        [
            IsotonicRegression(out_of_bounds="clip").fit(raw[:, k], y == k).predict(grid[:, k])
            for k in range(K)
        ]
    )
    q = cal.predict(grid)
    np.testing.assert_allclose(q, oracle / oracle.sum(axis=1, keepdims=True), atol=1e-12)
    np.testing.assert_allclose(q.sum(axis=1), 1.0, atol=1e-12)
    assert OneVsRestCalibration.from_dict(cal.to_dict()) == cal


@pytest.mark.parametrize("seed", [1, 2])
def test_realized_metrics_are_scikit_learns_macro_metrics(seed: int) -> None:
    rng = np.random.default_rng(seed)
    z = data.logits_of(rng, 800, shift=0.5)
    raw = data.outputs_of(z)
    y, yhat = data.labels_of(rng, z), raw.argmax(axis=1)
    yhat[:40] = 3  # a class decided more often than it is right, to exercise precision
    ours, oracle = realized_multiclass(y, yhat, raw), sklearn_metrics(y, yhat, raw)
    for name in METRICS:
        assert ours[name] == pytest.approx(oracle[name], abs=1e-12), name


def test_point_estimates_match_the_mean_of_simulated_label_draws() -> None:
    """Labels drawn from the calibrated distributions, macro metrics by scikit-learn,
    averaged over draws (ratios of expectations vs expectations of ratios: O(1/n))."""
    rng = np.random.default_rng(5)
    z = data.logits_of(rng, 2000, shift=0.3)
    raw = data.outputs_of(z)
    q = data.true_probabilities(z)
    yhat = raw.argmax(axis=1)
    est = estimate_multiclass(q, yhat, raw, 0.95, np.random.default_rng(0))
    cum = np.cumsum(q, axis=1)[:, :-1]
    draws = [(rng.random(len(q))[:, None] >= cum).sum(axis=1) for _ in range(150)]
    per_draw = [sklearn_metrics(y, yhat, raw) for y in draws]
    oracle = {m: float(np.mean([d[m] for d in per_draw])) for m in METRICS}
    for name, value in oracle.items():
        assert est.value[name] == pytest.approx(value, abs=0.005), name
        assert est.lower[name] < value < est.upper[name], name


def test_the_interval_covers_the_realized_metric_in_at_least_95_percent_of_windows() -> None:
    """Seeded data whose calibration is known and one-vs-rest (``affine``): 100 windows of
    1,000 rows, 99 % intervals."""
    cov = data.coverage(windows=100, size=1000)
    for name in METRICS:
        assert cov[name] >= 0.95, (name, cov[name])
    assert cov["ece_calibrated"] < cov["ece_raw"]


def test_the_same_seed_gives_the_same_interval() -> None:
    rng = np.random.default_rng(7)
    z = data.logits_of(rng, 500)
    raw = data.outputs_of(z)
    q, yhat = data.true_probabilities(z), raw.argmax(axis=1)
    a = estimate_multiclass(q, yhat, raw, 0.99, np.random.default_rng(3))
    b = estimate_multiclass(q, yhat, raw, 0.99, np.random.default_rng(3))
    assert a.lower == b.lower and a.upper == b.upper
    np.testing.assert_array_equal(a.accuracy_draws, b.accuracy_draws)
