"""Performance windows against scikit-learn; merge == concatenation; degradation tests."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from sklearn import metrics

from streamdrift.stats.performance import (
    OTHER,
    ClassificationWindow,
    MulticlassWindow,
    RegressionWindow,
    accuracy_drop_test,
    mae_increase_test,
    roc_auc,
)


def _json(d: dict[str, object]) -> dict[str, object]:
    out: dict[str, object] = json.loads(json.dumps(d, allow_nan=False))
    return out


def _binary_data(seed: int, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.random(n) < 0.3
    logit = 1.5 * (y - 0.5) + rng.normal(0.0, 1.0, n)
    score = 1.0 / (1.0 + np.exp(-logit))
    pred = score > 0.45
    return y.astype(np.int64), pred.astype(np.int64), score


# -- binary classification ---------------------------------------------------------------


@pytest.mark.parametrize(("seed", "n"), [(0, 50), (1, 1000), (2, 5000)])
def test_classification_matches_sklearn(seed: int, n: int) -> None:
    y, pred, score = _binary_data(seed, n)
    w = ClassificationWindow()
    w.update(y, pred, score)
    assert w.count == n
    assert w.accuracy == pytest.approx(metrics.accuracy_score(y, pred), rel=1e-12)
    assert w.error_rate == pytest.approx(1.0 - metrics.accuracy_score(y, pred), rel=1e-12)
    assert w.precision == pytest.approx(metrics.precision_score(y, pred), rel=1e-12)
    assert w.recall == pytest.approx(metrics.recall_score(y, pred), rel=1e-12)
    assert w.f1 == pytest.approx(metrics.f1_score(y, pred), rel=1e-12)
    assert w.log_loss == pytest.approx(metrics.log_loss(y, score), rel=1e-9)
    assert w.brier == pytest.approx(metrics.brier_score_loss(y, score), rel=1e-9)
    assert w.auc_exact
    assert w.roc_auc == pytest.approx(metrics.roc_auc_score(y, score), rel=1e-12)
    tn, fp, fn, tp = metrics.confusion_matrix(y, pred).ravel()
    assert (w.tn, w.fp, w.fn, w.tp) == (tn, fp, fn, tp)


def test_roc_auc_averages_ties() -> None:
    rng = np.random.default_rng(3)
    y = rng.random(2000) < 0.4
    score = np.round(rng.random(2000) * 0.5 + 0.3 * y, 1)  # many ties
    assert roc_auc(score, y) == pytest.approx(metrics.roc_auc_score(y, score), rel=1e-12)
    assert roc_auc(np.full(10, 0.5), np.arange(10) < 3) == 0.5  # all tied
    perfect = np.array([0.1, 0.2, 0.8, 0.9])
    assert roc_auc(perfect, np.array([False, False, True, True])) == 1.0
    assert roc_auc(perfect, np.array([True, True, False, False])) == 0.0


def test_empty_window_is_nan() -> None:
    w = ClassificationWindow()
    assert w.count == 0
    for name in ("accuracy", "error_rate", "precision", "recall", "f1", "log_loss", "brier"):
        assert math.isnan(getattr(w, name)), name
    assert math.isnan(w.roc_auc)
    w.update(np.array([], dtype=int), np.array([], dtype=int), np.array([]))
    assert w.count == 0 and math.isnan(w.accuracy)


def test_one_class_only() -> None:
    w = ClassificationWindow()
    y = np.zeros(20, dtype=int)
    pred = np.zeros(20, dtype=int)
    score = np.linspace(0.05, 0.4, 20)
    w.update(y, pred, score)
    assert math.isnan(w.roc_auc)
    assert w.accuracy == 1.0
    # Undefined precision, recall, F1 are 0, like zero_division=0.
    assert w.precision == metrics.precision_score(y, pred, zero_division=0) == 0.0
    assert w.recall == metrics.recall_score(y, pred, zero_division=0) == 0.0
    assert w.f1 == metrics.f1_score(y, pred, zero_division=0) == 0.0
    assert w.log_loss == pytest.approx(metrics.log_loss(y, score, labels=[0, 1]), rel=1e-9)
    assert w.brier == pytest.approx(metrics.brier_score_loss(y, score, pos_label=1), rel=1e-9)


def test_log_loss_clips_scores() -> None:
    w = ClassificationWindow()
    w.update(np.array([1, 0]), np.array([0, 1]), np.array([0.0, 1.0]))
    # 1 - 1e-15 is not exact in float64, hence log1p for the second term.
    expected = (-math.log(1e-15) - math.log1p(-(1.0 - 1e-15))) / 2
    assert w.log_loss == pytest.approx(expected, rel=1e-12)
    assert w.log_loss == pytest.approx(-math.log(1e-15), rel=1e-4)
    assert w.brier == 1.0
    assert w.roc_auc == 0.0


def test_scores_are_optional() -> None:
    w = ClassificationWindow()
    w.update(np.array([True, False]), np.array([True, True]))
    assert w.n_scored == 0 and math.isnan(w.log_loss) and math.isnan(w.brier)
    assert math.isnan(w.roc_auc)
    assert w.accuracy == 0.5
    w.update(np.array([1, 0]), np.array([1, 0]), np.array([0.8, 0.3]))
    assert w.n_scored == 2 and w.count == 4
    assert w.brier == pytest.approx((0.2**2 + 0.3**2) / 2)
    assert w.roc_auc == 1.0


def test_invalid_input() -> None:
    w = ClassificationWindow()
    with pytest.raises(ValueError):
        w.update(np.array([0, 2]), np.array([0, 1]))
    with pytest.raises(ValueError):
        w.update(np.array(["0", "1"]), np.array([0, 1]))
    with pytest.raises(ValueError):
        w.update(np.array([0, 1]), np.array([0, 1, 1]))
    with pytest.raises(ValueError):
        w.update(np.array([0, 1]), np.array([0, 1]), np.array([0.5, np.nan]))
    with pytest.raises(ValueError):
        w.update(np.array([0, 1]), np.array([0, 1]), np.array([0.5]))
    assert w.count == 0


def test_auc_keeps_the_first_max_scores_pairs() -> None:
    y, pred, score = _binary_data(4, 250)
    w = ClassificationWindow(max_scores=100)
    for lo in range(0, 250, 30):
        w.update(y[lo : lo + 30], pred[lo : lo + 30], score[lo : lo + 30])
    assert not w.auc_exact and w.auc_sample_size == 100
    assert w.roc_auc == pytest.approx(metrics.roc_auc_score(y[:100], score[:100]), rel=1e-12)
    assert w.log_loss == pytest.approx(metrics.log_loss(y, score), rel=1e-9)  # all rows


@pytest.mark.parametrize("max_scores", [10_000, 70])
def test_classification_merge_equals_concatenation(max_scores: int) -> None:
    y, pred, score = _binary_data(5, 300)
    whole = ClassificationWindow(max_scores)
    whole.update(y, pred, score)
    parts = []
    for lo, hi in [(0, 40), (40, 41), (41, 200), (200, 300)]:
        part = ClassificationWindow(max_scores)
        part.update(y[lo:hi], pred[lo:hi], score[lo:hi])
        parts.append(part)
    merged = parts[0]
    before = merged.to_dict()
    for part in parts[1:]:
        merged = merged.merge(part)
    assert parts[0].to_dict() == before  # inputs unchanged
    a, b = merged.to_dict(), whole.to_dict()
    for key in ("tp", "fp", "tn", "fn", "n_scored", "scores", "labels", "max_scores"):
        assert a[key] == b[key], key
    assert a["sum_log_loss"] == pytest.approx(b["sum_log_loss"], rel=1e-12)
    assert a["sum_brier"] == pytest.approx(b["sum_brier"], rel=1e-12)
    assert merged.roc_auc == whole.roc_auc


def test_classification_round_trip() -> None:
    y, pred, score = _binary_data(6, 400)
    w = ClassificationWindow(max_scores=300)
    w.update(y, pred, score)
    restored = ClassificationWindow.from_dict(_json(w.to_dict()))
    assert restored == w
    assert restored.roc_auc == w.roc_auc
    assert ClassificationWindow.from_dict(_json(ClassificationWindow().to_dict())) == (
        ClassificationWindow()
    )
    assert w.copy() == w and w.copy() is not w


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.booleans(), st.booleans(), st.floats(0.0, 1.0)), max_size=60),
    st.integers(0, 60),
    st.integers(0, 40),
)
def test_classification_merge_property(
    rows: list[tuple[bool, bool, float]], cut: int, max_scores: int
) -> None:
    arr = np.array(rows, dtype=np.float64).reshape(-1, 3)
    y, pred, score = arr[:, 0], arr[:, 1], arr[:, 2]
    whole = ClassificationWindow(max_scores)
    whole.update(y, pred, score)
    left, right = ClassificationWindow(max_scores), ClassificationWindow(max_scores)
    left.update(y[:cut], pred[:cut], score[:cut])
    right.update(y[cut:], pred[cut:], score[cut:])
    merged = left.merge(right)
    assert (merged.tp, merged.fp, merged.tn, merged.fn) == (whole.tp, whole.fp, whole.tn, whole.fn)
    assert merged.to_dict()["scores"] == whole.to_dict()["scores"]
    assert merged.sum_brier == pytest.approx(whole.sum_brier, rel=1e-9, abs=1e-12)


# -- multiclass --------------------------------------------------------------------------


def _multiclass_data(seed: int, n: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, n)
    pred = np.where(rng.random(n) < 0.6, y, rng.integers(0, k, n))
    return y, pred


@pytest.mark.parametrize(("seed", "k"), [(0, 3), (1, 7)])
def test_multiclass_matches_sklearn(seed: int, k: int) -> None:
    y, pred = _multiclass_data(seed, 2000, k)
    w = MulticlassWindow()
    w.update(y, pred)
    assert w.count == 2000
    assert w.accuracy == pytest.approx(metrics.accuracy_score(y, pred), rel=1e-12)
    assert w.error_rate == pytest.approx(1 - metrics.accuracy_score(y, pred), rel=1e-12)
    assert w.macro_f1 == pytest.approx(metrics.f1_score(y, pred, average="macro"), rel=1e-12)
    per_label = metrics.f1_score(y, pred, average=None, labels=list(range(k)))
    assert w.f1_per_label() == pytest.approx({str(i): per_label[i] for i in range(k)})


def test_multiclass_label_only_predicted() -> None:
    y = np.array(["a", "a", "b"])
    pred = np.array(["a", "c", "b"])  # "c" never true: F1 0, still averaged (as sklearn)
    w = MulticlassWindow()
    w.update(y, pred)
    assert w.macro_f1 == pytest.approx(metrics.f1_score(y, pred, average="macro", zero_division=0))


def test_multiclass_merge_round_trip_and_empty() -> None:
    y, pred = _multiclass_data(2, 900, 5)
    whole = MulticlassWindow()
    whole.update(y, pred)
    merged = MulticlassWindow()
    for lo in range(0, 900, 250):
        part = MulticlassWindow()
        part.update(y[lo : lo + 250], pred[lo : lo + 250])
        merged = merged.merge(part)
    assert merged == whole
    assert merged.macro_f1 == pytest.approx(whole.macro_f1, rel=1e-12)
    assert MulticlassWindow.from_dict(_json(whole.to_dict())) == whole
    empty = MulticlassWindow()
    assert math.isnan(empty.accuracy) and math.isnan(empty.macro_f1)


def test_multiclass_overflow_keeps_accuracy_exact() -> None:
    y, pred = _multiclass_data(3, 1000, 12)
    w = MulticlassWindow(max_labels=4)
    w.update(y, pred)
    assert len(w.f1_per_label()) == 4
    assert any(OTHER in key for key in w.confusion)
    assert sum(w.confusion.values()) == 1000
    assert w.accuracy == pytest.approx(metrics.accuracy_score(y, pred), rel=1e-12)


# -- regression --------------------------------------------------------------------------


def _regression_data(seed: int, n: int, scale: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.normal(50.0, 10.0, n)
    return y, y + rng.normal(0.3, scale, n)


def test_regression_matches_sklearn() -> None:
    y, pred = _regression_data(0, 3000)
    w = RegressionWindow()
    w.update(y, pred)
    assert w.count == 3000
    assert w.mae == pytest.approx(metrics.mean_absolute_error(y, pred), rel=1e-12)
    rmse = math.sqrt(metrics.mean_squared_error(y, pred))
    assert w.rmse == pytest.approx(rmse, rel=1e-12)
    assert w.mean_error == pytest.approx(float(np.mean(pred - y)), rel=1e-12)
    assert w.abs_err_variance == pytest.approx(float(np.var(np.abs(pred - y), ddof=1)), rel=1e-9)


def test_regression_missing_merge_round_trip_empty() -> None:
    y, pred = _regression_data(1, 500)
    pred[[3, 10]] = np.nan
    y[20] = np.inf
    whole = RegressionWindow()
    whole.update(y, pred)
    assert (whole.count, whole.n_missing) == (497, 3)
    keep = np.isfinite(pred - y)
    assert whole.mae == pytest.approx(metrics.mean_absolute_error(y[keep], pred[keep]))
    merged = RegressionWindow()
    for lo in range(0, 500, 120):
        part = RegressionWindow()
        part.update(y[lo : lo + 120], pred[lo : lo + 120])
        merged = merged.merge(part)
    assert (merged.count, merged.n_missing) == (whole.count, whole.n_missing)
    assert merged.mae == pytest.approx(whole.mae, rel=1e-12)
    assert merged.rmse == pytest.approx(whole.rmse, rel=1e-12)
    assert RegressionWindow.from_dict(_json(whole.to_dict())) == whole
    empty = RegressionWindow()
    assert math.isnan(empty.mae) and math.isnan(empty.rmse) and math.isnan(empty.mean_error)
    with pytest.raises(ValueError):
        empty.update(np.ones(2), np.ones(3))


# -- degradation tests -------------------------------------------------------------------


def _classification(correct: int, n: int) -> ClassificationWindow:
    w = ClassificationWindow()
    y = np.ones(n, dtype=int)
    w.update(y, (np.arange(n) < correct).astype(int))
    return w


def test_accuracy_drop_textbook() -> None:
    # 90/100 vs 80/100: pooled p = 0.85, se = sqrt(0.85 * 0.15 * (1/100 + 1/100))
    # = 0.0504975, z = 0.1 / se = 1.98030, one-sided P(Z >= z) = 0.02384.
    drop, p = accuracy_drop_test(_classification(90, 100), _classification(80, 100))
    assert drop == pytest.approx(0.1)
    assert p == pytest.approx(0.02384, abs=5e-6)
    z = 0.1 / math.sqrt(0.85 * 0.15 * 0.02)
    assert p == pytest.approx(stats.norm.sf(z), rel=1e-12)
    drop, p = accuracy_drop_test(_classification(80, 100), _classification(90, 100))
    assert drop == pytest.approx(-0.1)
    assert p == pytest.approx(stats.norm.cdf(z), rel=1e-12)  # current is better: p near 1


@pytest.mark.parametrize(("c1", "n1", "c2", "n2"), [(930, 1000, 4400, 5000), (50, 61, 7, 13)])
def test_accuracy_drop_against_scipy(c1: int, n1: int, c2: int, n2: int) -> None:
    drop, p = accuracy_drop_test(_classification(c1, n1), _classification(c2, n2))
    pooled = (c1 + c2) / (n1 + n2)
    z = (c1 / n1 - c2 / n2) / math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    assert drop == pytest.approx(c1 / n1 - c2 / n2, rel=1e-12)
    assert p == pytest.approx(stats.norm.sf(z), rel=1e-9)


def test_accuracy_drop_edge_cases() -> None:
    assert accuracy_drop_test(_classification(10, 10), _classification(5, 5)) == (0.0, 1.0)
    assert accuracy_drop_test(_classification(0, 10), _classification(0, 5)) == (0.0, 1.0)
    drop, p = accuracy_drop_test(ClassificationWindow(), _classification(5, 5))
    assert math.isnan(drop) and math.isnan(p)
    ref, cur = MulticlassWindow(), MulticlassWindow()
    ref.update(np.array(["a"] * 10), np.array(["a"] * 9 + ["b"]))
    cur.update(np.array(["a"] * 10), np.array(["a"] * 5 + ["b"] * 5))
    drop, p = accuracy_drop_test(ref, cur)
    assert drop == pytest.approx(0.4) and 0.0 < p < 0.05


def test_mae_increase_against_welch() -> None:
    y1, p1 = _regression_data(10, 3000, scale=1.0)
    y2, p2 = _regression_data(11, 2000, scale=1.08)
    ref, cur = RegressionWindow(), RegressionWindow()
    ref.update(y1, p1)
    cur.update(y2, p2)
    increase, p = mae_increase_test(ref, cur)
    a1, a2 = np.abs(p1 - y1), np.abs(p2 - y2)
    assert increase == pytest.approx(a2.mean() - a1.mean(), rel=1e-9)
    welch = stats.ttest_ind(a2, a1, equal_var=False, alternative="greater")
    assert p == pytest.approx(stats.norm.sf(welch.statistic), rel=1e-6)  # same statistic
    assert p == pytest.approx(welch.pvalue, rel=0.02)  # normal tail ~ t tail at these sizes
    assert p < 0.01
    back, p_back = mae_increase_test(cur, ref)
    assert back == pytest.approx(-increase) and p_back == pytest.approx(1 - p, abs=1e-12)


def test_mae_increase_is_calibrated_under_no_change() -> None:
    rng = np.random.default_rng(12)
    p_values = []
    for _ in range(400):
        ref, cur = RegressionWindow(), RegressionWindow()
        ref.update(np.zeros(200), rng.normal(0.0, 1.0, 200))
        cur.update(np.zeros(200), rng.normal(0.0, 1.0, 200))
        p_values.append(mae_increase_test(ref, cur)[1])
    assert 0.02 <= np.mean(np.array(p_values) < 0.05) <= 0.09


def test_mae_increase_edge_cases() -> None:
    empty = RegressionWindow()
    one = RegressionWindow()
    one.update(np.zeros(1), np.ones(1))
    const1, const2 = RegressionWindow(), RegressionWindow()
    const1.update(np.zeros(5), np.ones(5))
    const2.update(np.zeros(5), np.full(5, 2.0))
    assert all(math.isnan(v) for v in mae_increase_test(empty, const1))
    increase, p = mae_increase_test(one, const2)
    assert increase == 1.0 and math.isnan(p)
    assert mae_increase_test(const1, const2) == (1.0, 0.0)
    assert mae_increase_test(const2, const1) == (-1.0, 1.0)
    assert mae_increase_test(const1, const1) == (0.0, 1.0)


def test_multiclass_label_types() -> None:
    w = MulticlassWindow()
    w.update(np.array(["a", "b", None], dtype=object), np.array(["a", "c", None], dtype=object))
    assert w.confusion == {("a", "a"): 1, ("b", "c"): 1, ("None", "None"): 1}
    assert w.correct == 2
    w = MulticlassWindow()
    w.update(np.array([True, False, True]), np.array([True, True, True]))
    assert w.confusion == {("True", "True"): 2, ("False", "True"): 1}
    w = MulticlassWindow()
    w.update(np.array([1, 2, 3]), np.array([1.0, 2.5, 3.0]))  # common type: float
    assert w.correct == 2 and ("1.0", "1.0") in w.confusion
