"""One-vs-rest isotonic calibration of class probabilities, renormalised per row.

Class k's map is an :class:`~streamdrift.stats.calibration.IsotonicCalibration` of the
model's probability of k against "the label is k"; a row's calibrated distribution is
its K mapped values divided by their sum (uniform when every map gives 0).

>>> p = np.array([[0.9, 0.1], [0.8, 0.2], [0.3, 0.7], [0.1, 0.9]])
>>> cal = OneVsRestCalibration.fit(("a", "b"), p, np.array([0, 1, 1, 1]))
>>> cal.predict(p).round(2).tolist()
[[1.0, 0.0], [0.0, 1.0], [0.0, 1.0], [0.0, 1.0]]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from streamdrift.stats.calibration import IsotonicCalibration

__all__ = ["OneVsRestCalibration"]


@dataclass(frozen=True, slots=True, eq=False)
class OneVsRestCalibration:
    """``classes`` (names, in the columns' order) and one isotonic map per class."""

    classes: tuple[str, ...]
    per_class: tuple[IsotonicCalibration, ...]

    @classmethod
    def fit(
        cls, classes: Sequence[str], probabilities: np.ndarray, labels: np.ndarray
    ) -> OneVsRestCalibration:
        """``probabilities``: rows x classes; ``labels``: each row's class index."""
        p = np.asarray(probabilities, dtype=np.float64)
        y = np.asarray(labels)
        if p.ndim != 2 or p.shape[1] != len(classes) or len(classes) < 2:
            raise ValueError("a one-vs-rest calibration needs rows x (2 or more) classes")
        maps = tuple(IsotonicCalibration.fit(p[:, k], y == k) for k in range(len(classes)))
        return cls(tuple(classes), maps)

    def predict(self, probabilities: np.ndarray) -> np.ndarray:
        """Calibrated class distributions (rows x classes, each row summing to 1)."""
        p = np.asarray(probabilities, dtype=np.float64)
        q = np.column_stack([m.predict(p[:, k]) for k, m in enumerate(self.per_class)])
        total = q.sum(axis=1, keepdims=True)
        uniform = np.full_like(q, 1.0 / len(self.classes))
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(total > 0, q / np.where(total > 0, total, 1.0), uniform)

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": "isotonic_ovr",
            "classes": list(self.classes),
            "per_class": [m.to_dict() for m in self.per_class],
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> OneVsRestCalibration:
        if d.get("method") != "isotonic_ovr":
            raise ValueError(f"unknown calibration method {d.get('method')!r}")
        classes = tuple(str(c) for c in d["classes"])
        maps = tuple(IsotonicCalibration.from_dict(m) for m in d["per_class"])
        if len(classes) < 2 or len(maps) != len(classes) or len(set(classes)) != len(classes):
            raise ValueError("a one-vs-rest calibration needs one map per distinct class")
        return cls(classes, maps)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, OneVsRestCalibration):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    __hash__ = None  # type: ignore[assignment]
