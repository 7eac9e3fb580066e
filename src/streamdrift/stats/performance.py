"""Online model-performance metrics over joined (prediction, label) pairs, per window.

Each window is updated with whole numpy arrays and is mergeable and serialisable like the
sketches in :mod:`streamdrift.stats.sketches`:

- ``update`` on two batches then ``merge`` equals one window of the concatenated input
  (exactly for counts, up to floating point for sums; for the bounded parts see each class).
- ``merge`` returns a new window; neither input changes.
- ``to_dict()`` holds only JSON types and ``from_dict(to_dict())`` restores an equal window.
- A metric of an empty window is NaN.

Degradation against a reference window is tested with :func:`accuracy_drop_test`
(classification) and :func:`mae_increase_test` (regression); both return the effect
(positive = worse now) and a one-sided p-value.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from streamdrift.stats.regression import RegressionWindow, mae_increase_test, upper_tail

__all__ = [
    "OTHER",
    "ClassificationWindow",
    "MulticlassWindow",
    "RegressionWindow",
    "accuracy_drop_test",
    "mae_increase_test",
    "roc_auc",
]

OTHER = "__other__"
"""Stand-in for the labels a :class:`MulticlassWindow` holds beyond ``max_labels``."""

SCORE_CLIP = 1e-15
"""Scores are clipped to [SCORE_CLIP, 1 - SCORE_CLIP] for the log-loss only."""


def _binary(values: np.ndarray, name: str) -> np.ndarray:
    arr = np.asarray(values).ravel()
    if arr.dtype == np.bool_:
        return arr
    if arr.dtype.kind not in "iufO":
        raise ValueError(f"{name} must hold only 0 and 1 (or booleans), not {arr.dtype}")
    ones: np.ndarray = np.equal(arr, 1)
    if not np.all(ones | np.equal(arr, 0)):
        raise ValueError(f"{name} must hold only 0 and 1 (or booleans)")
    return ones


def roc_auc(scores: np.ndarray, labels: np.ndarray) -> float:
    """ROC AUC as the Mann–Whitney statistic, tied scores sharing their average rank.

    ``labels`` are booleans (True = positive class). NaN unless both classes occur.

    >>> roc_auc(np.array([0.1, 0.4, 0.4, 0.8]), np.array([False, False, True, True]))
    0.875
    """
    s = np.asarray(scores, dtype=np.float64).ravel()
    y = np.asarray(labels, dtype=np.bool_).ravel()
    n = s.size
    n_pos = int(np.count_nonzero(y))
    n_neg = n - n_pos
    if n_pos == 0 or n_neg == 0:
        return math.nan
    order = np.argsort(s, kind="mergesort")
    ordered = s[order]
    starts = np.concatenate(([0], np.flatnonzero(np.diff(ordered)) + 1))
    ends = np.append(starts[1:], n)
    # Ranks start + 1 .. end (1-based) share their mean, (start + 1 + end) / 2.
    ranks = np.repeat((starts + ends + 1) / 2.0, ends - starts)
    rank_sum = float(ranks[y[order]].sum())
    return (rank_sum - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg)


class ClassificationWindow:
    """Binary classification metrics: confusion counts, log-loss, Brier score, ROC AUC.

    ``update(y_true, y_pred, y_score)`` takes labels and predictions as 0/1 (or booleans)
    and optionally ``y_score`` = P(class 1). Log-loss and Brier are averaged over the rows
    that had a score (``n_scored``); the log-loss clips scores to [1e-15, 1 - 1e-15].

    Precision, recall and F1 are 0 when undefined (no predicted positives, no actual
    positives, neither), like scikit-learn's ``zero_division=0``; every metric is NaN when
    the window is empty.

    ROC AUC needs the scores themselves, so the window keeps the **first** ``max_scores``
    scored (score, label) pairs, in arrival order, and computes the AUC on them: exact
    while ``n_scored <= max_scores`` (see ``auc_exact``), otherwise an estimate from the
    window's earliest pairs. Keeping the first pairs, rather than a random reservoir, keeps
    the window deterministic under replay and makes ``merge`` equal to ``update`` on the
    concatenation even when the bound is reached.

    >>> w = ClassificationWindow()
    >>> w.update(np.array([1, 0, 1, 1]), np.array([1, 0, 0, 1]), np.array([0.9, 0.2, 0.4, 0.7]))
    >>> w.count, w.accuracy, w.precision, w.recall, w.roc_auc
    (4, 0.75, 1.0, 0.6666666666666666, 1.0)
    """

    __slots__ = (
        "_labels",
        "_scores",
        "fn",
        "fp",
        "max_scores",
        "n_scored",
        "sum_brier",
        "sum_log_loss",
        "tn",
        "tp",
    )

    def __init__(self, max_scores: int = 10_000) -> None:
        if max_scores < 0:
            raise ValueError("max_scores must be non-negative")
        self.max_scores = int(max_scores)
        self.tp = self.fp = self.tn = self.fn = 0
        self.n_scored = 0
        self.sum_log_loss = 0.0
        self.sum_brier = 0.0
        self._scores = np.empty(0, dtype=np.float64)
        self._labels = np.empty(0, dtype=np.bool_)

    def update(
        self, y_true: np.ndarray, y_pred: np.ndarray, y_score: np.ndarray | None = None
    ) -> None:
        """Add a batch of labels, 0/1 predictions and optional P(class 1) scores."""
        t = _binary(y_true, "y_true")
        p = _binary(y_pred, "y_pred")
        if p.size != t.size:
            raise ValueError("y_true and y_pred must have the same length")
        s = None
        if y_score is not None:
            s = np.asarray(y_score, dtype=np.float64).ravel()
            if s.size != t.size:
                raise ValueError("y_score must have the same length as y_true")
            if not np.all(np.isfinite(s)):
                raise ValueError("y_score must be finite")
        tp = int(np.count_nonzero(t & p))
        n_pos_pred = int(np.count_nonzero(p))
        n_pos_true = int(np.count_nonzero(t))
        self.tp += tp
        self.fp += n_pos_pred - tp
        self.fn += n_pos_true - tp
        self.tn += t.size - n_pos_pred - n_pos_true + tp
        if s is None or s.size == 0:
            return
        c = np.clip(s, SCORE_CLIP, 1.0 - SCORE_CLIP)
        self.sum_log_loss -= float(np.sum(np.where(t, np.log(c), np.log1p(-c))))
        self.sum_brier += float(np.sum((s - t) ** 2))
        self.n_scored += s.size
        self._keep(s, t)

    def _keep(self, scores: np.ndarray, labels: np.ndarray) -> None:
        room = self.max_scores - self._scores.size
        if room > 0:
            self._scores = np.concatenate((self._scores, scores[:room]))
            self._labels = np.concatenate((self._labels, labels[:room]))

    def merge(self, other: ClassificationWindow) -> ClassificationWindow:
        """A new window of both inputs (this one's ``max_scores``; its pairs come first)."""
        out = self.copy()
        out.tp += other.tp
        out.fp += other.fp
        out.tn += other.tn
        out.fn += other.fn
        out.n_scored += other.n_scored
        out.sum_log_loss += other.sum_log_loss
        out.sum_brier += other.sum_brier
        out._keep(other._scores, other._labels)
        return out

    def copy(self) -> ClassificationWindow:
        return ClassificationWindow.from_dict(self.to_dict())

    @property
    def count(self) -> int:
        return self.tp + self.fp + self.tn + self.fn

    @property
    def correct(self) -> int:
        return self.tp + self.tn

    @property
    def accuracy(self) -> float:
        n = self.count
        return (self.tp + self.tn) / n if n else math.nan

    @property
    def error_rate(self) -> float:
        n = self.count
        return (self.fp + self.fn) / n if n else math.nan

    @property
    def precision(self) -> float:
        if not self.count:
            return math.nan
        d = self.tp + self.fp
        return self.tp / d if d else 0.0

    @property
    def recall(self) -> float:
        if not self.count:
            return math.nan
        d = self.tp + self.fn
        return self.tp / d if d else 0.0

    @property
    def f1(self) -> float:
        if not self.count:
            return math.nan
        d = 2 * self.tp + self.fp + self.fn
        return 2 * self.tp / d if d else 0.0

    @property
    def log_loss(self) -> float:
        """Mean log-loss (natural log) over the scored rows; NaN without scores."""
        return self.sum_log_loss / self.n_scored if self.n_scored else math.nan

    @property
    def brier(self) -> float:
        """Mean squared difference of score and label over the scored rows."""
        return self.sum_brier / self.n_scored if self.n_scored else math.nan

    @property
    def roc_auc(self) -> float:
        """AUC on the kept pairs (see the class docstring); NaN unless both classes occur."""
        return roc_auc(self._scores, self._labels)

    @property
    def auc_sample_size(self) -> int:
        return int(self._scores.size)

    @property
    def auc_exact(self) -> bool:
        """Whether ``roc_auc`` used every scored row of the window."""
        return self._scores.size == self.n_scored

    def to_dict(self) -> dict[str, Any]:
        return {
            "tp": self.tp,
            "fp": self.fp,
            "tn": self.tn,
            "fn": self.fn,
            "n_scored": self.n_scored,
            "sum_log_loss": self.sum_log_loss,
            "sum_brier": self.sum_brier,
            "max_scores": self.max_scores,
            "scores": self._scores.tolist(),
            "labels": self._labels.astype(np.int8).tolist(),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ClassificationWindow:
        out = cls(int(d["max_scores"]))
        out.tp, out.fp, out.tn, out.fn = (int(d[k]) for k in ("tp", "fp", "tn", "fn"))
        out.n_scored = int(d["n_scored"])
        if min(out.tp, out.fp, out.tn, out.fn, out.n_scored) < 0:
            raise ValueError("counts must be non-negative")
        out.sum_log_loss = float(d["sum_log_loss"])
        out.sum_brier = float(d["sum_brier"])
        out._scores = np.asarray(d["scores"], dtype=np.float64).ravel()
        out._labels = np.asarray(d["labels"], dtype=np.int8).ravel().astype(np.bool_)
        if out._scores.size != out._labels.size or out._scores.size > out.n_scored:
            raise ValueError("inconsistent kept scores")
        return out

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ClassificationWindow):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    __hash__ = None  # type: ignore[assignment]  # mutable

    def __repr__(self) -> str:
        return (
            f"ClassificationWindow(count={self.count}, tp={self.tp}, fp={self.fp}, "
            f"tn={self.tn}, fn={self.fn}, n_scored={self.n_scored})"
        )


class MulticlassWindow:
    """Multiclass accuracy and macro-F1 from a bounded confusion table.

    Labels are compared as the strings of their values after numpy brings ``y_true`` and
    ``y_pred`` to a common type (booleans become ``"True"``/``"False"``, a float 1.0
    ``"1.0"``), so pass labels and predictions in one consistent type. The first ``max_labels``
    distinct labels (in sorted order within a batch) get their own rows; later ones are
    pooled under :data:`OTHER`. Accuracy is always exact. Macro-F1 is the unweighted mean
    of the per-label F1 over every label seen in either ``y_true`` or ``y_pred`` (as
    scikit-learn's default), exact while at most ``max_labels`` labels occurred; OTHER
    itself is not averaged. A label's F1 is 0 when undefined.

    >>> w = MulticlassWindow()
    >>> w.update(np.array(["a", "b", "c", "a"]), np.array(["a", "c", "c", "b"]))
    >>> w.accuracy, round(w.macro_f1, 4)
    (0.5, 0.4444)
    """

    __slots__ = ("_labels", "confusion", "correct", "count", "max_labels")

    def __init__(self, max_labels: int = 100) -> None:
        if max_labels < 1:
            raise ValueError("max_labels must be at least 1")
        self.max_labels = int(max_labels)
        self.count = 0
        self.correct = 0
        self.confusion: dict[tuple[str, str], int] = {}  # (true, predicted) -> count
        self._labels: dict[str, None] = {}  # labels with their own row, in arrival order

    def _name(self, label: str) -> str:
        if label in self._labels or label == OTHER:
            return label
        if len(self._labels) < self.max_labels:
            self._labels[label] = None
            return label
        return OTHER

    def _add(self, true: str, pred: str, n: int) -> None:
        key = (self._name(true), self._name(pred))
        self.confusion[key] = self.confusion.get(key, 0) + n

    def update(self, y_true: np.ndarray, y_pred: np.ndarray) -> None:
        """Add a batch of true and predicted labels (any type; compared as strings)."""
        t = np.asarray(y_true).ravel()
        p = np.asarray(y_pred).ravel()
        n = t.size
        if p.size != n:
            raise ValueError("y_true and y_pred must have the same length")
        if n == 0:
            return
        kinds = {t.dtype.kind, p.dtype.kind}
        if kinds <= set("biuf") or kinds == {"U"}:
            both = np.concatenate((t, p))  # numbers or str: np.unique works on them directly
        else:
            both = np.concatenate((t.astype(str), p.astype(str)))
        names, codes = np.unique(both, return_inverse=True)
        label = [str(name) for name in names.tolist()]
        k = len(label)
        codes = codes.ravel()
        true_codes, pred_codes = codes[:n], codes[n:]
        counts = np.bincount(true_codes * k + pred_codes, minlength=k * k)
        self.count += n
        self.correct += int(np.count_nonzero(true_codes == pred_codes))
        for code in np.flatnonzero(counts).tolist():
            self._add(label[code // k], label[code % k], int(counts[code]))

    def merge(self, other: MulticlassWindow) -> MulticlassWindow:
        out = self.copy()
        out.count += other.count
        out.correct += other.correct
        for (true, pred), n in other.confusion.items():
            out._add(true, pred, n)
        return out

    def copy(self) -> MulticlassWindow:
        return MulticlassWindow.from_dict(self.to_dict())

    @property
    def accuracy(self) -> float:
        return self.correct / self.count if self.count else math.nan

    @property
    def error_rate(self) -> float:
        return 1.0 - self.correct / self.count if self.count else math.nan

    def f1_per_label(self) -> dict[str, float]:
        tp: dict[str, int] = {}
        fp: dict[str, int] = {}
        fn: dict[str, int] = {}
        for (true, pred), n in self.confusion.items():
            if true == pred:
                tp[true] = tp.get(true, 0) + n
            else:
                fn[true] = fn.get(true, 0) + n
                fp[pred] = fp.get(pred, 0) + n
        out: dict[str, float] = {}
        for label in self._labels:
            a = tp.get(label, 0)
            d = 2 * a + fp.get(label, 0) + fn.get(label, 0)
            out[label] = 2 * a / d if d else 0.0
        return out

    @property
    def macro_f1(self) -> float:
        f1 = self.f1_per_label()
        return sum(f1.values()) / len(f1) if f1 else math.nan

    def to_dict(self) -> dict[str, Any]:
        return {
            "max_labels": self.max_labels,
            "count": self.count,
            "correct": self.correct,
            "labels": list(self._labels),
            "confusion": [[t, p, n] for (t, p), n in self.confusion.items()],
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> MulticlassWindow:
        out = cls(int(d["max_labels"]))
        out.count = int(d["count"])
        out.correct = int(d["correct"])
        if not 0 <= out.correct <= out.count:
            raise ValueError("inconsistent counts")
        out._labels = dict.fromkeys(str(label) for label in d["labels"])
        out.confusion = {(str(t), str(p)): int(n) for t, p, n in d["confusion"]}
        return out

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, MulticlassWindow):
            return NotImplemented
        a, b = self.to_dict(), other.to_dict()
        return (
            a["max_labels"] == b["max_labels"]
            and a["count"] == b["count"]
            and a["correct"] == b["correct"]
            and set(a["labels"]) == set(b["labels"])
            and self.confusion == other.confusion
        )

    __hash__ = None  # type: ignore[assignment]  # mutable

    def __repr__(self) -> str:
        return f"MulticlassWindow(count={self.count}, labels={len(self._labels)})"


def accuracy_drop_test(
    ref: ClassificationWindow | MulticlassWindow, cur: ClassificationWindow | MulticlassWindow
) -> tuple[float, float]:
    """(accuracy drop, one-sided p-value) of the current window against the reference.

    The drop is ``ref.accuracy - cur.accuracy`` (positive = worse now). The p-value is
    that of the pooled two-proportion z-test of H0: equal accuracy against H1: the
    current accuracy is lower, P(Z >= drop / se) with
    se = sqrt(p (1 - p) (1/n_ref + 1/n_cur)) and p the pooled accuracy. With se = 0 (both
    windows all correct or all wrong) the drop is 0 and the p-value 1. (NaN, NaN) when
    either window is empty.
    """
    n1, n2 = ref.count, cur.count
    if n1 == 0 or n2 == 0:
        return math.nan, math.nan
    c1, c2 = ref.correct, cur.correct
    drop = c1 / n1 - c2 / n2
    pooled = (c1 + c2) / (n1 + n2)
    se = math.sqrt(pooled * (1.0 - pooled) * (1.0 / n1 + 1.0 / n2))
    if se == 0.0:
        return drop, 1.0
    return drop, upper_tail(drop / se)
