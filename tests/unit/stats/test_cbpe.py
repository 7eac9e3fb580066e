"""Isotonic calibration and CBPE against independent oracles (scikit-learn, scipy, simulation)."""

from __future__ import annotations

import numpy as np
import pytest
from load import cbpe_eval
from scipy.stats import rankdata
from sklearn.isotonic import IsotonicRegression
from sklearn.metrics import accuracy_score, f1_score, precision_score, recall_score, roc_auc_score

from streamdrift.stats.calibration import IsotonicCalibration, expected_calibration_error
from streamdrift.stats.cbpe import average_ranks, estimate, expected_auc


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_isotonic_fit_matches_scikit_learn_with_ties_and_outside_points(seed: int) -> None:
    rng = np.random.default_rng(seed)
    scores = np.round(rng.random(5000), 2)  # many ties
    labels = (rng.random(5000) < scores**2).astype(int)
    ours = IsotonicCalibration.fit(scores, labels)
    oracle = IsotonicRegression(out_of_bounds="clip").fit(scores, labels)
    grid = np.linspace(-0.1, 1.1, 2001)
    np.testing.assert_allclose(ours.predict(grid), oracle.predict(grid), atol=1e-12)
    assert ours.x.size < np.unique(scores).size  # only block ends are kept
    again = IsotonicCalibration.from_dict(ours.to_dict())
    np.testing.assert_array_equal(again.predict(grid), ours.predict(grid))


def test_expected_calibration_error_matches_a_histogram_computation() -> None:
    rng = np.random.default_rng(3)
    p = rng.random(10_000)
    y = (rng.random(10_000) < p**1.5).astype(float)
    edges = np.linspace(0, 1, 11)
    which = np.clip(np.digitize(p, edges[1:-1]), 0, 9)
    oracle = sum(
        (which == b).mean() * abs(y[which == b].mean() - p[which == b].mean())
        for b in range(10)
        if (which == b).any()
    )
    assert expected_calibration_error(p, y) == pytest.approx(oracle, abs=1e-12)


def test_average_ranks_match_scipy() -> None:
    values = np.round(np.random.default_rng(4).random(1000), 2)
    np.testing.assert_array_equal(average_ranks(values), rankdata(values))


def test_point_estimates_match_the_mean_of_simulated_label_draws() -> None:
    """The expected confusion matrix against brute force: labels drawn from p, metrics by
    scikit-learn, averaged over draws (ratios of expectations vs expectations of ratios
    differ by O(1/n): tolerance 0.005 at n = 2000)."""
    rng = np.random.default_rng(5)
    s = cbpe_eval.scores_of(rng, 2000)
    p = cbpe_eval.true_probability(s)
    yhat = (s >= 0.5).astype(np.int8)
    est = estimate(p, yhat, s, 0.95, np.random.default_rng(0))
    draws = [(rng.random(s.size) < p).astype(int) for _ in range(300)]
    oracle = {
        "accuracy": np.mean([accuracy_score(y, yhat) for y in draws]),
        "precision": np.mean([precision_score(y, yhat) for y in draws]),
        "recall": np.mean([recall_score(y, yhat) for y in draws]),
        "f1": np.mean([f1_score(y, yhat) for y in draws]),
        "roc_auc": np.mean([roc_auc_score(y, s) for y in draws]),
    }
    for name, value in oracle.items():
        assert est.value[name] == pytest.approx(value, abs=0.005), name
        assert est.lower[name] < value < est.upper[name], name


def test_expected_auc_with_ties_matches_brute_force_pairs() -> None:
    rng = np.random.default_rng(6)
    s = np.round(rng.random(300), 1)
    p = rng.random(300)
    i, j = np.meshgrid(np.arange(300), np.arange(300), indexing="ij")
    off = i != j
    pair = p[i] * (1 - p[j]) * off
    numerator = np.sum(pair * ((s[i] > s[j]) + 0.5 * (s[i] == s[j])))
    assert expected_auc(p, s) == pytest.approx(numerator / pair.sum(), rel=1e-12)


def test_interval_covers_the_realized_metric_in_at_least_95_percent_of_windows() -> None:
    """Seeded data with a known calibration: 200 windows of 1000 rows, 99 % intervals."""
    covered = cbpe_eval.coverage(seed=11, windows=200, size=1000, confidence=0.99)
    for name in ("accuracy", "precision", "recall", "f1", "roc_auc"):
        assert covered[name] >= 0.95, (name, covered)
    assert covered["accuracy_mean_abs_error"] < 0.02


def test_the_same_seed_gives_the_same_interval() -> None:
    rng = np.random.default_rng(7)
    s = cbpe_eval.scores_of(rng, 500)
    p = cbpe_eval.true_probability(s)
    yhat = (s >= 0.5).astype(np.int8)
    a = estimate(p, yhat, s, 0.99, np.random.default_rng(42))
    b = estimate(p, yhat, s, 0.99, np.random.default_rng(42))
    assert a.lower == b.lower and a.upper == b.upper
