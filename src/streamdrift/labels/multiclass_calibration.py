"""The calibration a multiclass reference profile carries for label-free estimates.

``reference build --label-column`` on predictions that are objects of class
probabilities fits one isotonic map per class, one-vs-rest
(:class:`~streamdrift.stats.calibration_ovr.OneVsRestCalibration`), with its check as for
binary scores: fitted on 4 rows of 5, the expected calibration error on the 5th, per
class (one-vs-rest, ``ece_raw_<class>`` / ``ece_calibrated_<class>``) and overall (of the
probability given to the decided class against being right, ``ece_raw`` /
``ece_calibrated``). ``reference`` holds the realized accuracy and macro metrics.

A row enters an estimate when its prediction is an object of class -> probability in
[0, 1] and its decided class (its ``predicted_label``, else its arg-max as the
performance monitor takes it) is one of the calibration's classes; a class the object
lacks has probability 0.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from streamdrift.labels.calibration_profile import MIN_ROWS, CalibrationProfile
from streamdrift.records import predicted_class
from streamdrift.stats.calibration import expected_calibration_error
from streamdrift.stats.calibration_ovr import OneVsRestCalibration
from streamdrift.stats.cbpe import Estimate
from streamdrift.stats.cbpe_multiclass import estimate_multiclass, realized_multiclass

__all__ = [
    "Calibration",
    "MulticlassCalibrationProfile",
    "build_multiclass_calibration",
    "calibration_from_dict",
    "class_name",
]


def class_name(value: Any) -> str | None:
    """A label or decided class as the keys of class probabilities name it (1 and 1.0 and
    True are "1"); None for no class."""
    if value is None:
        return None
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _is_distribution(value: Any) -> bool:
    return isinstance(value, dict) and all(
        type(v) in (int, float) and 0 <= v <= 1 for v in value.values()
    )


@dataclass(frozen=True, slots=True)
class ClassRows:
    """The rows of a window an estimate uses: model probabilities, decided class index and
    each row's position in the window."""

    raw: np.ndarray
    yhat: np.ndarray
    rows: np.ndarray


def class_rows(
    classes: Sequence[str], predictions: Sequence[Any], decided: Sequence[Any] | None
) -> ClassRows:
    """The rows with class probabilities and a decided class among ``classes``."""
    index = {c: k for k, c in enumerate(classes)}
    raw: list[list[float]] = []
    yhat: list[int] = []
    rows: list[int] = []
    for i, pred in enumerate(predictions):
        if not _is_distribution(pred):
            continue
        chosen = None if decided is None else class_name(decided[i])
        k = index.get((predicted_class(pred) if chosen is None else chosen) or "")
        if k is None:
            continue
        raw.append([float(pred.get(c, 0.0)) for c in classes])
        yhat.append(k)
        rows.append(i)
    return ClassRows(
        np.array(raw, dtype=np.float64).reshape(len(rows), len(classes)),
        np.array(yhat, dtype=np.intp),
        np.array(rows, dtype=np.intp),
    )


@dataclass(frozen=True, slots=True)
class MulticlassCalibrationProfile:
    calibration: OneVsRestCalibration
    reference: dict[str, float]
    check: dict[str, float] = field(default_factory=dict)

    def rows(self, predictions: Sequence[Any], decided: Sequence[Any] | None) -> ClassRows:
        return class_rows(self.calibration.classes, predictions, decided)

    def estimate(
        self,
        predictions: Sequence[Any],
        decided: Sequence[Any] | None,
        confidence: float,
        rng: np.random.Generator,
        min_count: int,
    ) -> Estimate | None:
        """The window's estimate (None below ``min_count`` usable rows)."""
        got = self.rows(predictions, decided)
        if got.rows.size < max(1, min_count):
            return None
        q = self.calibration.predict(got.raw)
        return estimate_multiclass(q, got.yhat, got.raw, confidence, rng)

    def expected_correct(
        self, labels: Sequence[Any], predictions: Sequence[Any], decided: Sequence[Any] | None
    ) -> tuple[np.ndarray, np.ndarray]:
        """(1 where the decided class is the label, the calibrated probability of the decided
        class) of the labelled rows an estimate would use."""
        got = self.rows(predictions, decided)
        q = self.calibration.predict(got.raw)
        names = [class_name(labels[i]) for i in got.rows]
        correct = np.array(
            [n == self.calibration.classes[k] for n, k in zip(names, got.yhat, strict=True)],
            dtype=np.float64,
        )
        return correct, q[np.arange(got.yhat.size), got.yhat]

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.calibration.to_dict(),
            "reference": dict(self.reference),
            "check": dict(self.check),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> MulticlassCalibrationProfile:
        return cls(
            OneVsRestCalibration.from_dict(d),
            {k: float(v) for k, v in d["reference"].items()},
            {k: float(v) for k, v in d.get("check", {}).items()},
        )


Calibration = CalibrationProfile | MulticlassCalibrationProfile


def calibration_from_dict(d: dict[str, Any]) -> Calibration:
    """A profile's stored calibration, binary or one-vs-rest (by its ``method``)."""
    if d.get("method") == "isotonic_ovr":
        return MulticlassCalibrationProfile.from_dict(d)
    return CalibrationProfile.from_dict(d)


def _check(
    classes: Sequence[str], raw: np.ndarray, yhat: np.ndarray, y: np.ndarray
) -> dict[str, float]:
    held = np.arange(y.size) % 5 == 4
    trial = OneVsRestCalibration.fit(classes, raw[~held], y[~held])
    q = trial.predict(raw[held])
    picked = np.arange(int(held.sum())), yhat[held]
    right = (y[held] == yhat[held]).astype(np.float64)
    check = {
        "held_out_rows": float(held.sum()),
        "ece_raw": expected_calibration_error(raw[held][picked], right),
        "ece_calibrated": expected_calibration_error(q[picked], right),
    }
    for k, c in enumerate(classes):
        is_k = (y[held] == k).astype(np.float64)
        check[f"ece_raw_{c}"] = expected_calibration_error(raw[held][:, k], is_k)
        check[f"ece_calibrated_{c}"] = expected_calibration_error(q[:, k], is_k)
    return check


def build_multiclass_calibration(
    labels: Sequence[Any], predictions: Sequence[Any], decided: Sequence[Any] | None = None
) -> MulticlassCalibrationProfile | None:
    """The one-vs-rest calibration of class probabilities on labelled reference rows; None
    when fewer than :data:`MIN_ROWS` rows have a label and class probabilities, or fewer
    than two classes are seen. Classes: every key of the probabilities and every label."""
    names: set[str] = set()
    for pred, label in zip(predictions, labels, strict=True):
        if _is_distribution(pred) and (name := class_name(label)) is not None:
            names.update(pred)
            names.add(name)
    if len(names) < 2:
        return None
    classes = tuple(sorted(names))
    kept = [i for i, label in enumerate(labels) if class_name(label) is not None]
    got = class_rows(
        classes,
        [predictions[i] for i in kept],
        None if decided is None else [decided[i] for i in kept],
    )
    if got.rows.size < MIN_ROWS:
        return None
    index = {c: k for k, c in enumerate(classes)}
    y = np.array([index[class_name(labels[kept[i]]) or ""] for i in got.rows], dtype=np.intp)
    check = _check(classes, got.raw, got.yhat, y)
    calibration = OneVsRestCalibration.fit(classes, got.raw, y)
    realized = realized_multiclass(y, got.yhat, got.raw)
    reference = {m: v for m, v in realized.items() if math.isfinite(v)}
    reference["rows"] = float(y.size)
    return MulticlassCalibrationProfile(calibration, reference, check)
