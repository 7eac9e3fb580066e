"""Isotonic calibration of binary scores: P(y = 1 | score), fitted on labelled reference rows.

Pool-adjacent-violators on the scores' distinct values (weights: rows per value), then
linear interpolation between the fitted points, clipped outside them: the same map as
scikit-learn's ``IsotonicRegression(out_of_bounds="clip")`` (the unit tests' oracle).
Only the ends of each constant block are kept, so a profile stores a few hundred numbers.

>>> cal = IsotonicCalibration.fit([0.1, 0.2, 0.3, 0.4], [0, 1, 0, 1])
>>> cal.predict([0.1, 0.25, 0.4]).tolist()
[0.0, 0.5, 1.0]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["IsotonicCalibration", "expected_calibration_error"]


def _pav(means: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """The non-decreasing fit of ``means`` (weighted least squares), one pass of PAV."""
    value: list[float] = []
    weight: list[float] = []
    size: list[int] = []
    for m, w in zip(means.tolist(), weights.tolist(), strict=True):
        value.append(m)
        weight.append(w)
        size.append(1)
        while len(value) > 1 and value[-2] >= value[-1]:
            w2, v2, s2 = weight.pop(), value.pop(), size.pop()
            total = weight[-1] + w2
            value[-1] = (value[-1] * weight[-1] + v2 * w2) / total
            weight[-1] = total
            size[-1] += s2
    return np.repeat(np.array(value), np.array(size))


@dataclass(frozen=True, slots=True, eq=False)
class IsotonicCalibration:
    """Fitted points (``x`` strictly increasing scores, ``y`` non-decreasing probabilities)."""

    x: np.ndarray
    y: np.ndarray

    @classmethod
    def fit(
        cls, scores: Sequence[float] | np.ndarray, labels: Sequence[Any] | np.ndarray
    ) -> IsotonicCalibration:
        s = np.asarray(scores, dtype=np.float64)
        t = np.asarray(labels, dtype=np.float64)
        keep = np.isfinite(s) & np.isfinite(t)
        s, t = s[keep], t[keep]
        if s.size == 0:
            raise ValueError("no finite score with a label to calibrate on")
        xs, inverse, counts = np.unique(s, return_inverse=True, return_counts=True)
        sums = np.bincount(inverse, weights=t, minlength=xs.size)
        fitted = _pav(sums / counts, counts.astype(np.float64))
        if xs.size > 2:  # keep the ends of constant blocks: np.interp gives the same map
            inner = (fitted[1:-1] != fitted[:-2]) | (fitted[1:-1] != fitted[2:])
            keep_pts = np.concatenate(([True], inner, [True]))
            xs, fitted = xs[keep_pts], fitted[keep_pts]
        return cls(xs, fitted)

    def predict(self, scores: Sequence[float] | np.ndarray) -> np.ndarray:
        """Calibrated P(y = 1) of each score (NaN stays NaN)."""
        s = np.asarray(scores, dtype=np.float64)
        return np.where(np.isfinite(s), np.interp(s, self.x, self.y), np.nan)

    def to_dict(self) -> dict[str, Any]:
        return {"method": "isotonic", "x": self.x.tolist(), "y": self.y.tolist()}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> IsotonicCalibration:
        if d.get("method") != "isotonic":
            raise ValueError(f"unknown calibration method {d.get('method')!r}")
        x = np.asarray(d["x"], dtype=np.float64)
        y = np.asarray(d["y"], dtype=np.float64)
        if x.size == 0 or x.size != y.size or np.any(np.diff(x) <= 0) or np.any(np.diff(y) < 0):
            raise ValueError("a calibration needs increasing x and non-decreasing y")
        return cls(x, y)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, IsotonicCalibration):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    __hash__ = None  # type: ignore[assignment]


def expected_calibration_error(
    probabilities: np.ndarray, labels: np.ndarray, n_bins: int = 10
) -> float:
    """ECE: sum over equal-width probability bins of (share of rows) * |mean label - mean
    probability|; 0 for a perfectly calibrated model."""
    p = np.asarray(probabilities, dtype=np.float64)
    t = np.asarray(labels, dtype=np.float64)
    if p.size == 0:
        return float("nan")
    bins = np.clip((p * n_bins).astype(np.intp), 0, n_bins - 1)
    n = np.bincount(bins, minlength=n_bins)
    gap = np.bincount(bins, weights=t - p, minlength=n_bins)
    return float(np.abs(gap).sum() / p.size) if n.sum() else float("nan")
