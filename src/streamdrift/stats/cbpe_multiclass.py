"""CBPE of a multiclass classifier (one-vs-rest), without labels.

``q`` holds each row's calibrated class distribution, ``yhat`` the class index the model
decided, ``raw`` the model's own class probabilities (ROC AUC ranks them). Class k's
expected one-vs-rest confusion counts are ``TP_k = sum q_ik [yhat_i = k]``, ``FP_k =
n_hat_k - TP_k`` (``n_hat_k`` rows decided k) and ``FN_k = sum_i q_ik - TP_k``. Accuracy is
``sum_k TP_k / n``; precision, recall and F1 are macro averages as scikit-learn's
``average="macro"`` with ``zero_division=0`` (over the classes expected in the labels or
decided, a 0 where a denominator is 0); ROC AUC is the mean over classes of the expected
one-vs-rest AUC of class k's raw probability (:func:`~streamdrift.stats.cbpe.expected_auc`).

The interval is the binary case's parametric bootstrap with one class drawn per row from
``q`` (labels independent given the outputs).

>>> q = np.array([[0.8, 0.1, 0.1], [0.2, 0.7, 0.1], [0.1, 0.3, 0.6], [0.6, 0.2, 0.2]])
>>> est = estimate_multiclass(q, q.argmax(axis=1), q, 0.9, np.random.default_rng(0))
>>> round(est.value["accuracy"], 3)
0.675
"""

from __future__ import annotations

import math

import numpy as np

from streamdrift.stats.cbpe import DRAWS, METRICS, Estimate, average_ranks, expected_auc

__all__ = ["estimate_multiclass", "realized_multiclass"]

_CELLS = 4_000_000  # (draw, row, class) cells drawn at a time


def _share(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), 0.0)


def _macro(tp: np.ndarray, decided: np.ndarray, positives: np.ndarray) -> dict[str, np.ndarray]:
    """Macro precision, recall and F1 from per-class counts (last axis: classes)."""
    present = (positives > 0) | (decided > 0)
    classes = present.sum(axis=-1)

    def mean(per_class: np.ndarray) -> np.ndarray:
        return _share(np.sum(per_class * present, axis=-1), classes)

    return {
        "precision": mean(_share(tp, decided)),
        "recall": mean(_share(tp, positives)),
        "f1": mean(_share(2 * tp, decided + positives)),
    }


def _nanmean(values: np.ndarray) -> np.ndarray:
    finite = np.isfinite(values)
    return np.where(
        finite.any(axis=-1),
        _share(np.where(finite, values, 0.0).sum(axis=-1), finite.sum(axis=-1)),
        np.nan,
    )


def _bootstrap(
    q: np.ndarray, onehat: np.ndarray, raw: np.ndarray, rng: np.random.Generator, draws: int
) -> dict[str, np.ndarray]:
    """Each metric realized on ``draws`` label draws (one class per row from ``q``)."""
    n, k_classes = q.shape
    cum = np.cumsum(q, axis=1)[:, :-1]
    ranks = [average_ranks(raw[:, k]) for k in range(k_classes)]
    decided = onehat.sum(axis=0).astype(np.float64)
    hat = onehat.astype(np.float64)
    chunk = max(1, _CELLS // (n * k_classes))
    parts: dict[str, list[np.ndarray]] = {m: [] for m in METRICS}
    done = 0
    while done < draws:
        size = min(chunk, draws - done)
        drawn = (rng.random((size, n))[:, :, None] >= cum[None]).sum(axis=2)
        tp = np.empty((size, k_classes))
        pos = np.empty((size, k_classes))
        auc = np.empty((size, k_classes))
        for k in range(k_classes):
            y = (drawn == k).astype(np.float64)
            tp[:, k] = y @ hat[:, k]
            pos[:, k] = y.sum(axis=1)
            with np.errstate(divide="ignore", invalid="ignore"):
                auc[:, k] = (y @ ranks[k] - pos[:, k] * (pos[:, k] + 1) / 2) / (
                    pos[:, k] * (n - pos[:, k])
                )
        values = {"accuracy": tp.sum(axis=1) / n, **_macro(tp, decided, pos)}
        values["roc_auc"] = _nanmean(auc)
        for name in METRICS:
            parts[name].append(values[name])
        done += size
    return {name: np.concatenate(parts[name]) for name in METRICS}


def estimate_multiclass(
    q: np.ndarray,
    yhat: np.ndarray,
    raw: np.ndarray,
    confidence: float,
    rng: np.random.Generator,
    draws: int = DRAWS,
) -> Estimate:
    """CBPE of one window: ``q`` rows x classes (rows summing to 1), ``yhat`` class indices,
    ``raw`` the model's probabilities (rows x classes); all finite."""
    q = np.asarray(q, dtype=np.float64)
    raw = np.asarray(raw, dtype=np.float64)
    yhat = np.asarray(yhat, dtype=np.intp)
    n, k_classes = q.shape
    if n == 0:
        raise ValueError("an empty window has no estimate")
    onehat = yhat[:, None] == np.arange(k_classes)[None, :]
    tp = np.sum(q * onehat, axis=0)
    macro = _macro(tp, onehat.sum(axis=0).astype(np.float64), q.sum(axis=0))
    value = {"accuracy": float(tp.sum() / n), **{m: float(v) for m, v in macro.items()}}
    value["roc_auc"] = float(_nanmean(np.array([expected_auc(q[:, k], raw[:, k])
                                                for k in range(k_classes)])))  # fmt: skip
    sample = _bootstrap(q, onehat, raw, rng, draws)
    lo_q, hi_q = (1 - confidence) / 2, (1 + confidence) / 2
    lower: dict[str, float] = {}
    upper: dict[str, float] = {}
    for name in METRICS:
        finite = sample[name][np.isfinite(sample[name])]
        if finite.size < draws // 2:  # undefined in most draws: no interval
            lower[name] = upper[name] = math.nan
            continue
        lower[name], upper[name] = (float(v) for v in np.quantile(finite, [lo_q, hi_q]))
    return Estimate(n, value, lower, upper, draws, sample["accuracy"])


def realized_multiclass(y: np.ndarray, yhat: np.ndarray, raw: np.ndarray) -> dict[str, float]:
    """The realized metrics of labels ``y`` (class indices; -1: a class outside the
    columns): the point estimate with each row's distribution all on its label."""
    k_classes = raw.shape[1]
    q = (np.asarray(y)[:, None] == np.arange(k_classes)[None, :]).astype(np.float64)
    return estimate_multiclass(q, yhat, raw, 0.5, np.random.default_rng(0), draws=1).value
