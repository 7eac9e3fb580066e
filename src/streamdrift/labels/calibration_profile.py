"""The calibration a reference profile carries for label-free performance estimation.

``reference build --label-column`` fits an isotonic map from the model's binary score to
P(y = 1) on the labelled reference rows (:func:`build_calibration`), with its own check:
fitted on 4 rows of 5, the expected calibration error (ECE) of the raw and of the
calibrated scores on the 5th. The stored map is then refitted on every row. ``reference``
holds the realized metrics of the reference rows, what estimates are compared with.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from streamdrift.stats.calibration import IsotonicCalibration, expected_calibration_error
from streamdrift.stats.cbpe import METRICS, estimate

MIN_ROWS = 50  # fewer labelled rows than this: no calibration is fitted


@dataclass(frozen=True, slots=True)
class CalibrationProfile:
    """A fitted calibration, the reference's realized metrics and the held-out check."""

    calibration: IsotonicCalibration
    reference: dict[str, float]
    check: dict[str, float] = field(default_factory=dict)
    score_threshold: float = 0.5

    def decide(self, scores: np.ndarray, decided: Sequence[Any] | None = None) -> np.ndarray:
        """The class each row's model decided: its 0/1 ``predicted_label`` where it has one,
        else score >= ``score_threshold``."""
        yhat = (scores >= self.score_threshold).astype(np.int8)
        if decided is not None:
            for i, cls in enumerate(decided):
                b = binary_class(cls)
                if b is not None:
                    yhat[i] = b
        return yhat

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.calibration.to_dict(),
            "reference": dict(self.reference),
            "check": dict(self.check),
            "score_threshold": self.score_threshold,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> CalibrationProfile:
        return cls(
            IsotonicCalibration.from_dict(d),
            {k: float(v) for k, v in d["reference"].items()},
            {k: float(v) for k, v in d.get("check", {}).items()},
            float(d.get("score_threshold", 0.5)),
        )


def binary_class(value: Any) -> int | None:
    if isinstance(value, (bool, int, float)) and value in (0, 1):
        return int(value)
    if isinstance(value, str):
        return {"0": 0, "1": 1, "false": 0, "true": 1}.get(value.lower())
    return None


def binary_rows(
    labels: Sequence[Any], scores: Sequence[Any]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(0/1 labels, scores, row indices) of the rows with a 0/1 label and a score in [0, 1]."""
    keep = [
        i
        for i, (y, s) in enumerate(zip(labels, scores, strict=True))
        if binary_class(y) is not None
        and not isinstance(y, str)
        and isinstance(s, (int, float))
        and not isinstance(s, bool)
        and 0 <= s <= 1
    ]
    y = np.array([int(labels[i]) for i in keep], dtype=np.int8)
    s = np.array([float(scores[i]) for i in keep], dtype=np.float64)
    return y, s, np.array(keep, dtype=np.intp)


def build_calibration(
    labels: Sequence[Any],
    scores: Sequence[Any],
    decided: Sequence[Any] | None = None,
    score_threshold: float = 0.5,
) -> CalibrationProfile | None:
    """The calibration of a binary classifier's scores on labelled reference rows; None
    when fewer than :data:`MIN_ROWS` rows have a 0/1 label and a score in [0, 1]."""
    y, s, rows = binary_rows(labels, scores)
    if y.size < MIN_ROWS:
        return None
    held = np.arange(y.size) % 5 == 4
    trial = IsotonicCalibration.fit(s[~held], y[~held])
    check = {
        "held_out_rows": float(held.sum()),
        "ece_raw": expected_calibration_error(s[held], y[held]),
        "ece_calibrated": expected_calibration_error(trial.predict(s[held]), y[held]),
    }
    calibration = IsotonicCalibration.fit(s, y)
    kept = None if decided is None else [decided[i] for i in rows]
    profile = CalibrationProfile(calibration, {}, check, score_threshold)
    yhat = profile.decide(s, kept)
    realized = estimate(y.astype(np.float64), yhat, s, 0.5, np.random.default_rng(0), draws=1)
    # with p = y the expected confusion matrix is the realized one
    reference = {m: v for m in METRICS if math.isfinite(v := realized.value[m])}
    reference["rows"] = float(y.size)
    return CalibrationProfile(calibration, reference, check, score_threshold)
