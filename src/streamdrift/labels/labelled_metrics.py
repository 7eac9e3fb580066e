"""Performance metrics of labelled predictions, by task: shared by the online monitor
(:mod:`streamdrift.labels.performance`) and the offline reference profile
(``streamdrift reference build``), so both compute the reference the same way.

A prediction that carries the class its model decided (``predicted_label``) reaches these
functions as the pair ``[prediction, predicted_label]`` (:func:`with_decided`; a list, which
no model output can be, so the join keeps it as any other JSON value): accuracy,
precision, recall and F1 use the decided class, ``score_threshold`` applies only to rows
without one, and the score still feeds log-loss, Brier and ROC AUC.

* :func:`infer_task_of`: ``binary`` (labels 0/1, predictions scores in [0, 1] or 0/1),
  ``multiclass`` (classes; an object of class probabilities counts as its arg-max) or
  ``regression``.
* :func:`task_metrics`: the metric window of one task
  (:class:`~streamdrift.stats.performance.ClassificationWindow`,
  :class:`~streamdrift.stats.performance.MulticlassWindow` or
  :class:`~streamdrift.stats.regression.RegressionWindow`) and the per-row error stream.
* :class:`ReferencePerformance`: a task and its metric window, as a reference profile
  carries it (``to_dict()`` of the window, so the significance tests have its counts;
  without the ROC AUC sample of a binary window, which no test needs: that keeps the
  reference a few numbers in every checkpoint), and its headline metrics (``summary``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from streamdrift.records import predicted_class
from streamdrift.stats.performance import ClassificationWindow, MulticlassWindow
from streamdrift.stats.regression import RegressionWindow

TASKS = ("binary", "multiclass", "regression")
Metrics = ClassificationWindow | MulticlassWindow | RegressionWindow


def with_decided(predictions: list[Any], decided: list[Any] | None) -> list[Any]:
    """Each prediction with the class its model decided, where it names one (see above)."""
    if decided is None:
        return predictions
    return [p if c is None else [p, c] for p, c in zip(predictions, decided, strict=True)]


def split_decided(preds: Sequence[Any]) -> tuple[Sequence[Any], list[Any] | None]:
    """(predictions, decided classes or None when no row has one) of :func:`with_decided`."""
    if list not in set(map(type, preds)):
        return preds, None
    scores: list[Any] = []
    decided: list[Any] = []
    for p in preds:
        if type(p) is list and len(p) == 2:
            scores.append(p[0])
            decided.append(p[1])
        else:
            scores.append(p)
            decided.append(None)
    return scores, decided


def infer_task_of(labels: Sequence[Any], preds: Sequence[Any]) -> str:
    """binary, multiclass or regression, from labels and predictions (a decided class
    counts where a prediction has one)."""
    scores, decided = split_decided(preds)
    if decided is not None:
        preds = [s if c is None else c for s, c in zip(scores, decided, strict=True)]
    binary_labels = all(isinstance(v, bool) or v in (0, 1) for v in labels)
    if binary_labels and all(
        isinstance(p, (int, float)) and 0 <= p <= 1 for p in preds if p is not None
    ):
        return "binary"
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in labels) and all(
        isinstance(p, (int, float)) and not isinstance(p, bool) for p in preds
    ):
        return "regression"
    return "multiclass"


def _predicted_class(prediction: Any) -> str:
    if isinstance(prediction, dict):
        return predicted_class(prediction) or ""
    if isinstance(prediction, float) and prediction.is_integer():
        return str(int(prediction))
    return str(prediction)


def _label_class(label: Any) -> str:
    if isinstance(label, bool):
        return str(int(label))
    if isinstance(label, float) and label.is_integer():
        return str(int(label))
    return str(label)


def _binary_class(value: Any) -> int | None:
    """A decided class as 0/1 (booleans, 0/1, their text), None when it is not one."""
    if isinstance(value, (bool, int, float)) and value in (0, 1):
        return int(value)
    if isinstance(value, str):
        return {"0": 0, "1": 1, "false": 0, "true": 1}.get(value.lower())
    return None


def _binary_decided(
    labels: Sequence[Any], scores: Sequence[Any], decided: list[Any], score_threshold: float
) -> tuple[Metrics, np.ndarray, int]:
    """The binary window when some rows carry the class their model decided."""
    y: list[int] = []
    guess: list[int] = []
    kept_scores: list[float | None] = []
    for label, score, cls in zip(labels, scores, decided, strict=True):
        if not (isinstance(label, bool) or label in (0, 1)):
            continue
        numeric = isinstance(score, (int, float))  # as without decided classes: True is 1.0
        if cls is not None:
            decided_class = _binary_class(cls)
            if decided_class is None:
                continue
        elif numeric:
            decided_class = int(score >= score_threshold)
        else:
            continue
        y.append(int(label))
        guess.append(decided_class)
        kept_scores.append(float(score) if numeric and 0 <= score <= 1 else None)
    yt = np.array(y, dtype=np.int64)
    yp = np.array(guess, dtype=np.int64)
    window = ClassificationWindow()
    if y:
        probs = None if None in kept_scores else np.array(kept_scores, dtype=np.float64)
        window.update(yt, yp, probs)
    return window, (yp != yt).astype(np.float64), len(labels) - len(y)


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def task_metrics(
    task: str, labels: Sequence[Any], preds: Sequence[Any], score_threshold: float = 0.5
) -> tuple[Metrics, np.ndarray, int]:
    """(metric window, per-row errors, rows rejected) of labelled predictions.

    Rows whose label or prediction does not fit the task (a label 3 for ``binary``, a text
    for ``regression``) are left out and counted as rejected. Errors are 0/1 for the
    classifiers and absolute errors for regression, one per kept row, in input order.
    A decided class (:func:`with_decided`) is the classifiers' guess where a row has one.
    """
    preds, decided = split_decided(preds)
    if task == "binary" and decided is not None:
        return _binary_decided(labels, preds, decided, score_threshold)
    if task == "binary":
        keep = [
            i
            for i, (y, p) in enumerate(zip(labels, preds, strict=True))
            if (isinstance(y, bool) or y in (0, 1)) and isinstance(p, (int, float))
        ]
        y = np.array([int(labels[i]) for i in keep], dtype=np.int64)
        score = np.array([float(preds[i]) for i in keep], dtype=np.float64)
        binary = (score >= score_threshold).astype(np.int64)
        window = ClassificationWindow()
        has_scores = bool(np.all((score >= 0) & (score <= 1)))
        if keep:
            window.update(y, binary, score if has_scores else None)
        return window, (binary != y).astype(np.float64), len(labels) - len(keep)
    if task == "regression":
        keep = [
            i
            for i, (y, p) in enumerate(zip(labels, preds, strict=True))
            if isinstance(y, (int, float)) and isinstance(p, (int, float))
        ]
        yt = np.array([float(labels[i]) for i in keep], dtype=np.float64)
        yp = np.array([float(preds[i]) for i in keep], dtype=np.float64)
        reg = RegressionWindow()
        if keep:
            reg.update(yt, yp)
        return reg, np.abs(yp - yt), len(labels) - len(keep)
    if task != "multiclass":
        raise ValueError(f"unknown task {task!r}; known: {TASKS}")
    truth = np.array([_label_class(v) for v in labels], dtype=object)
    if decided is not None:
        preds = [p if c is None else c for p, c in zip(preds, decided, strict=True)]
    guess = np.array([_predicted_class(v) for v in preds], dtype=object)
    multi = MulticlassWindow()
    if len(truth):
        multi.update(truth, guess)
    return multi, (truth != guess).astype(np.float64), 0


def summary(metrics: Metrics) -> dict[str, float]:
    """The headline metrics of a window (what the worker exports as gauges)."""
    if isinstance(metrics, ClassificationWindow):
        return {
            "accuracy": metrics.accuracy,
            "precision": metrics.precision,
            "recall": metrics.recall,
            "f1": metrics.f1,
            "log_loss": metrics.log_loss,
            "brier": metrics.brier,
            "roc_auc": metrics.roc_auc,
        }
    if isinstance(metrics, MulticlassWindow):
        return {"accuracy": metrics.accuracy, "macro_f1": metrics.macro_f1}
    return {"mae": metrics.mae, "rmse": metrics.rmse, "mean_error": metrics.mean_error}


def window_from_dict(task: str, d: Mapping[str, Any]) -> Metrics:
    """The metric window of ``task`` saved by its ``to_dict()``."""
    doc = dict(d)
    if task == "binary":
        return ClassificationWindow.from_dict(doc)
    if task == "multiclass":
        return MulticlassWindow.from_dict(doc)
    if task == "regression":
        return RegressionWindow.from_dict(doc)
    raise ValueError(f"unknown task {task!r}; known: {TASKS}")


@dataclass(frozen=True, slots=True)
class ReferencePerformance:
    """A model version's reference performance: its task and metric window (``to_dict()``)."""

    task: str
    metrics: Mapping[str, Any]
    summary: Mapping[str, float | None] = field(default_factory=dict)  # for people: None = NaN
    # the labelled reference's own variation (core.performance_calibration); {}: none
    calibration: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.task not in TASKS:
            raise ValueError(f"performance.task: one of {TASKS}, got {self.task!r}")
        if not isinstance(self.metrics, Mapping):
            raise ValueError("performance.metrics: expected an object")
        try:
            window = window_from_dict(self.task, self.metrics)
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"performance.metrics: not a {self.task} window ({exc})") from None
        if window.count < 1:
            raise ValueError("performance.metrics: no labelled row")

    @property
    def window(self) -> Metrics:
        return window_from_dict(self.task, self.metrics)

    @property
    def count(self) -> int:
        return self.window.count

    @classmethod
    def of(
        cls,
        labels: Sequence[Any],
        preds: Sequence[Any],
        task: str = "auto",
        score_threshold: float = 0.5,
    ) -> ReferencePerformance:
        """The reference performance of labelled predictions (``task`` "auto": inferred)."""
        if task == "auto":
            task = infer_task_of(labels, preds)
        metrics, _, _ = task_metrics(task, labels, preds, score_threshold)
        if metrics.count == 0:
            raise ValueError(f"no row has a label and a prediction that fit the task {task!r}")
        return cls.of_window(task, metrics)

    @classmethod
    def of_window(cls, task: str, window: Metrics) -> ReferencePerformance:
        """The reference of a metric window (a binary one without its ROC AUC sample)."""
        metrics = window.to_dict()
        if isinstance(window, ClassificationWindow):
            metrics.update(max_scores=0, scores=[], labels=[])
        headline = {k: (v if math.isfinite(v) else None) for k, v in summary(window).items()}
        return cls(task, metrics, headline)

    def to_dict(self) -> dict[str, Any]:
        d = {"task": self.task, "metrics": dict(self.metrics), "summary": dict(self.summary)}
        if self.calibration:
            d["calibration"] = dict(self.calibration)
        return d

    @classmethod
    def from_dict(cls, d: Any) -> ReferencePerformance:
        if not isinstance(d, Mapping):
            raise ValueError("performance: expected an object with 'task' and 'metrics'")
        headline = d.get("summary", {})
        if not isinstance(headline, Mapping):
            raise ValueError("performance.summary: expected an object")
        calibration = d.get("calibration") or {}
        if not isinstance(calibration, Mapping):
            raise ValueError("performance.calibration: expected an object")
        return cls(str(d.get("task")), d.get("metrics"), dict(headline), dict(calibration))  # type: ignore[arg-type]
