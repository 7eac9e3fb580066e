"""Estimate against realized accuracy, once labels arrive: has P(y | x) moved?

The labelled rows fill the same windows as the performance monitor's (``performance.window``
by ``performance.by``), so each comparison is that window's. On exactly those rows the
calibration expects row i to be right with probability ``c_i`` (``p_i`` when the model
decided 1, ``1 - p_i`` else; for a multiclass model the calibrated probability of the
class it decided); the realized number right has mean ``sum c_i`` and, rows
independent, the Poisson-binomial variance ``sum c_i (1 - c_i)``. A window is *outside*
when ``|z| = |right - sum c| / sqrt(sum c (1 - c))`` exceeds the normal quantile of
``performance.estimate_confidence`` *and* the gap between realized and estimated accuracy
is at least ``performance.margin`` (an isotonic map fitted on a finite reference is itself
off by a point or two where the reference had few scores; a gap smaller than the margin
would not matter to the degradation check either). ``estimator_divergence`` fires while at least
``divergence_hits`` of the last ``divergence_windows`` tested windows were outside: scores
that no longer mean what they meant on the reference (concept shift), which an estimate
from scores alone cannot see.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from statistics import NormalDist
from typing import Any

import numpy as np

from streamdrift.drift.windows import ClosedWindow, WindowBuffer, make_windows
from streamdrift.labels.calibration_profile import CalibrationProfile, binary_rows
from streamdrift.labels.join import LabelledPrediction
from streamdrift.labels.labelled_metrics import split_decided
from streamdrift.labels.multiclass_calibration import Calibration, MulticlassCalibrationProfile
from streamdrift.labels.performance import PerformanceSpec
from streamdrift.records import AlertKind, CheckResult, WindowInfo, WindowResult


def divergence_z(correct: np.ndarray, expected: np.ndarray) -> float:
    """z of the realized number right against the calibration's Poisson-binomial law."""
    variance = float(np.sum(expected * (1.0 - expected)))
    gap = float(correct.sum() - expected.sum())
    if variance <= 0:
        return 0.0 if gap == 0 else math.copysign(math.inf, gap)
    return gap / math.sqrt(variance)


def _binary_expected(
    profile: CalibrationProfile,
    labels: Sequence[Any],
    scores: Sequence[Any],
    decided: Sequence[Any] | None,
) -> tuple[np.ndarray, np.ndarray]:
    """(1 where the decided class is the label, the calibration's probability of that)."""
    y, s, rows = binary_rows(labels, list(scores))
    kept = None if decided is None else [decided[i] for i in rows]
    yhat = profile.decide(s, kept)
    p = profile.calibration.predict(s)
    return (y == yhat).astype(np.float64), np.where(yhat == 1, p, 1.0 - p)


@dataclass(slots=True)
class EstimatorDivergenceMonitor:
    model_id: str
    model_version: str
    segment: str | None
    spec: PerformanceSpec
    profile: Calibration | None = None
    windows_closed: int = 0
    outside: list[bool] = field(default_factory=list)  # the last divergence_windows tested
    _windows: WindowBuffer | None = None

    def __post_init__(self) -> None:
        if self._windows is None:
            self._windows = make_windows(self.spec.window)

    @property
    def _buffer(self) -> WindowBuffer:
        assert self._windows is not None
        return self._windows

    def observe(self, rows: Sequence[LabelledPrediction]) -> list[WindowResult]:
        if self.profile is None or not rows:
            return []
        by_label = self.spec.by == "label_time"
        closed = self._buffer.add(
            [r.labelled_at if by_label else r.predicted_at for r in rows],
            {"label": [r.label for r in rows], "prediction": [r.prediction for r in rows]},
        )
        return [r for w in closed if (r := self._close(w)) is not None]

    def _close(self, window: ClosedWindow) -> WindowResult | None:
        assert self.profile is not None
        scores, decided = split_decided(window.columns["prediction"])
        if isinstance(self.profile, MulticlassCalibrationProfile):
            labels = window.columns["label"]
            correct, expected = self.profile.expected_correct(labels, scores, decided)
        else:
            correct, expected = _binary_expected(
                self.profile, window.columns["label"], scores, decided
            )
        n = correct.size
        if n == 0:
            return None
        estimated, realized = float(expected.mean()), float(correct.mean())
        half = NormalDist().inv_cdf((1 + self.spec.estimate_confidence) / 2)
        sd = math.sqrt(float(np.sum(expected * (1 - expected)))) / n
        metrics = {
            "realized_accuracy": realized,
            "estimated_accuracy": estimated,
            "estimated_accuracy_lower": estimated - half * sd,
            "estimated_accuracy_upper": estimated + half * sd,
        }
        checks: tuple[CheckResult, ...] = ()
        if n >= self.spec.min_labels:
            z = divergence_z(correct, expected)
            out = abs(z) > half and abs(realized - estimated) >= self.spec.estimate_margin
            self.outside = [*self.outside, out][-self.spec.divergence_windows :]
            hits = sum(self.outside)
            checks = (
                CheckResult(
                    "accuracy",
                    AlertKind.ESTIMATOR_DIVERGENCE,
                    "cbpe_divergence",
                    "windows_outside_interval",
                    float(hits),
                    float(self.spec.divergence_hits),
                    None,
                    drifted=hits >= self.spec.divergence_hits,
                    detail=f"realized accuracy {realized:.3f} vs estimated {estimated:.3f} "
                    f"[{metrics['estimated_accuracy_lower']:.3f}, "
                    f"{metrics['estimated_accuracy_upper']:.3f}] on the same {n} labelled rows "
                    f"(z={z:.1f}); {hits} of the last {len(self.outside)} windows outside",
                    threshold_source="configured",
                ),
            )
        result = WindowResult(
            self.model_id,
            self.model_version,
            self.segment,
            self.windows_closed,
            WindowInfo(window.start, window.end, len(window.timestamps)),
            int(self.profile.reference.get("rows", 0)),
            checks,
            tuple(metrics.items()),
        )
        self.windows_closed += 1
        return result

    def to_dict(self) -> dict[str, Any]:
        return {
            "model_id": self.model_id,
            "model_version": self.model_version,
            "segment": self.segment,
            "windows_closed": self.windows_closed,
            "outside": list(self.outside),
            "windows": self._buffer.to_dict(),
        }

    @classmethod
    def from_dict(
        cls, d: dict[str, Any], spec: PerformanceSpec, profile: Calibration | None
    ) -> EstimatorDivergenceMonitor:
        return cls(
            d["model_id"],
            d["model_version"],
            d["segment"],
            spec,
            profile,
            d["windows_closed"],
            list(d["outside"]),
            WindowBuffer.from_dict(d["windows"]),
        )
