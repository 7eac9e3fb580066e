"""Confidence-based performance estimation (CBPE) of a binary classifier, without labels.

Given each row's calibrated probability ``p`` that its label is 1, the decided class
``yhat`` and the raw score (for ranks), the *expected* confusion matrix is
``TP = sum p*yhat``, ``FP = sum (1-p)*yhat``, ``FN = sum p*(1-yhat)``, ``TN`` the rest;
accuracy, precision, recall and F1 are those of the expected matrix, ROC AUC is the
expected number of correctly ranked (positive, negative) pairs over the expected number
of pairs (labels independent given the scores).

The interval is a parametric bootstrap: labels drawn as independent Bernoulli(p) and the
metric recomputed on each draw; its (1-c)/2 and (1+c)/2 quantiles bound where the
*realized* metric of this window falls if the calibration still holds (P(y|x) unchanged).
Draws are seeded by the caller, so a replay gives the same interval.

>>> p = np.array([0.9, 0.8, 0.2, 0.1]); s = p.copy(); yhat = (s >= 0.5).astype(np.int8)
>>> est = estimate(p, yhat, s, 0.9, np.random.default_rng(0))
>>> round(est.value["accuracy"], 3), round(est.value["precision"], 3)
(0.85, 0.85)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["METRICS", "Estimate", "estimate", "expected_auc"]

METRICS = ("accuracy", "precision", "recall", "f1", "roc_auc")
DRAWS = 400
_CELLS = 4_000_000  # bootstrap draws are made this many (draw, row) cells at a time


@dataclass(frozen=True, slots=True)
class Estimate:
    """Point estimates and interval bounds by metric name (:data:`METRICS`); NaN where
    undefined (e.g. no predicted positive for precision); ``draws`` is the bootstrap size."""

    count: int
    value: dict[str, float]
    lower: dict[str, float]
    upper: dict[str, float]
    draws: int
    # bootstrap draws of the accuracy (for one-sided tests against a reference value)
    accuracy_draws: np.ndarray


def _ratio(num: np.ndarray | float, den: np.ndarray | float) -> np.ndarray:
    num_a, den_a = np.asarray(num, dtype=np.float64), np.asarray(den, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den_a > 0, num_a / np.where(den_a > 0, den_a, 1.0), np.nan)


def expected_auc(p: np.ndarray, scores: np.ndarray) -> float:
    """Expected ROC AUC: sum over pairs i != j of p_i (1-p_j) [s_i > s_j] (ties count a
    half) over the expected number of (positive, negative) pairs."""
    order = np.argsort(scores, kind="stable")
    s, pp = scores[order], p[order]
    q = 1.0 - pp
    start = np.unique(s, return_index=True)[1]
    # negatives' mass strictly below each tie group, and inside it
    below = np.concatenate(([0.0], np.cumsum(q)))[start]
    group_q = np.add.reduceat(q, start)
    group_p = np.add.reduceat(pp, start)
    group_pq = np.add.reduceat(pp * q, start)
    pairs = float(np.sum(group_p * below) + 0.5 * np.sum(group_p * group_q - group_pq))
    total = float(pp.sum() * q.sum() - np.sum(pp * q))
    return pairs / total if total > 0 else math.nan


def average_ranks(values: np.ndarray) -> np.ndarray:
    """1-based ranks, tied values sharing their average rank (as scipy's ``rankdata``)."""
    _, inverse, counts = np.unique(values, return_inverse=True, return_counts=True)
    ends = np.cumsum(counts)
    return ((ends - counts + 1 + ends) / 2.0)[inverse]


def _metrics_of(y: np.ndarray, yhat: np.ndarray, ranks: np.ndarray) -> dict[str, np.ndarray]:
    """Realized metrics of label draws ``y`` (draws x rows, 0/1)."""
    n = y.shape[1]
    pos = y.sum(axis=1, dtype=np.float64)
    tp = y @ yhat.astype(np.float64)
    n_hat = float(yhat.sum())
    fp = n_hat - tp
    fn = pos - tp
    tn = n - tp - fp - fn
    neg = n - pos
    auc = _ratio(y @ ranks - pos * (pos + 1) / 2, pos * neg)
    return {
        "accuracy": (tp + tn) / n,
        "precision": _ratio(tp, tp + fp),
        "recall": _ratio(tp, pos),
        "f1": _ratio(2 * tp, 2 * tp + fp + fn),
        "roc_auc": auc,
    }


def estimate(
    p: np.ndarray,
    yhat: np.ndarray,
    scores: np.ndarray,
    confidence: float,
    rng: np.random.Generator,
    draws: int = DRAWS,
) -> Estimate:
    """CBPE of one window: ``p`` calibrated probabilities, ``yhat`` 0/1 decided classes,
    ``scores`` the raw scores (ROC AUC ranks them); all finite, of the same length."""
    p = np.asarray(p, dtype=np.float64)
    yhat = np.asarray(yhat, dtype=np.int8)
    scores = np.asarray(scores, dtype=np.float64)
    n = p.size
    if n == 0:
        raise ValueError("an empty window has no estimate")
    tp = float(np.dot(p, yhat))
    fp = float(yhat.sum()) - tp
    fn = float(p.sum()) - tp
    tn = n - tp - fp - fn
    value = {
        "accuracy": (tp + tn) / n,
        "precision": float(_ratio(tp, tp + fp)),
        "recall": float(_ratio(tp, tp + fn)),
        "f1": float(_ratio(2 * tp, 2 * tp + fp + fn)),
        "roc_auc": expected_auc(p, scores),
    }
    ranks = average_ranks(scores)  # ties count a half, as in ROC AUC
    chunk = max(1, _CELLS // n)
    parts: dict[str, list[np.ndarray]] = {m: [] for m in METRICS}
    done = 0
    while done < draws:
        k = min(chunk, draws - done)
        y = (rng.random((k, n)) < p).astype(np.float64)
        for name, values in _metrics_of(y, yhat, ranks).items():
            parts[name].append(values)
        done += k
    lo_q, hi_q = (1 - confidence) / 2, (1 + confidence) / 2
    lower: dict[str, float] = {}
    upper: dict[str, float] = {}
    for name in METRICS:
        sample = np.concatenate(parts[name])
        sample = sample[np.isfinite(sample)]
        if sample.size < draws // 2:  # undefined in most draws: no interval
            lower[name] = upper[name] = math.nan
            continue
        lower[name], upper[name] = (float(v) for v in np.quantile(sample, [lo_q, hi_q]))
    return Estimate(n, value, lower, upper, draws, np.concatenate(parts["accuracy"]))
