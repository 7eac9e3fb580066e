"""Label-free performance of one binary model version: CBPE on every window of predictions.

Each window of predictions (the drift spec's ``window``: the same bounds as the drift
monitor's time windows) carries the estimated accuracy, precision, recall, F1 and ROC AUC
of its scores through the version's calibration (:mod:`streamdrift.stats.cbpe`), each
with its bootstrap interval at ``performance.estimate_confidence``. A drop of the
estimated accuracy below the reference's realized accuracy raises
``estimated_performance`` (:func:`estimated_drop_check`). With a binary calibration, rows
whose score is not a number in [0, 1] are left out; with a one-vs-rest one
(:mod:`streamdrift.labels.multiclass_calibration`), rows without class probabilities, and
precision, recall, F1 and ROC AUC are macro averages.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from streamdrift.drift.windows import ClosedWindow, WindowBuffer, WindowSpec, make_windows
from streamdrift.labels.calibration_profile import CalibrationProfile
from streamdrift.labels.multiclass_calibration import Calibration, MulticlassCalibrationProfile
from streamdrift.labels.performance import PerformanceSpec
from streamdrift.records import AlertKind, CheckResult, PredictionBatch, WindowInfo, WindowResult
from streamdrift.stats.cbpe import METRICS, Estimate, estimate

FEATURE = "accuracy"


def estimated_drop_check(
    reference_accuracy: float, est: Estimate, margin: float, confidence: float
) -> CheckResult:
    """The decision on one window: the estimated accuracy is below the reference's by at
    least ``margin`` and the interval's upper bound is below the reference (a one-sided
    test at the estimate's own level). The lead's calibrated threshold replaces ``margin``
    here. ``p_value``: the share of bootstrap draws at or above the reference accuracy."""
    drop = reference_accuracy - est.value["accuracy"]
    draws = est.accuracy_draws
    p = float((np.count_nonzero(draws >= reference_accuracy) + 1) / (draws.size + 1))
    upper = est.upper["accuracy"]
    return CheckResult(
        FEATURE,
        AlertKind.ESTIMATED_PERFORMANCE,
        "cbpe",
        "estimated_accuracy_drop",
        drop,
        margin,
        p,
        drifted=drop >= margin and upper < reference_accuracy,
        detail=f"estimated accuracy {est.value['accuracy']:.3f} "
        f"[{est.lower['accuracy']:.3f}, {upper:.3f}] ({confidence:.0%} bootstrap interval, "
        f"n={est.count}, no labels) vs {reference_accuracy:.3f} on the reference",
    )


def window_seed(model_id: str, version: str, segment: str | None, index: int) -> int:
    """The bootstrap's seed: the same window always gets the same interval (replays)."""
    text = "\x1f".join([model_id, version, segment or "", "cbpe", str(index)])
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "little")


@dataclass(slots=True)
class EstimatedPerformanceMonitor:
    model_id: str
    model_version: str
    segment: str | None
    window: WindowSpec
    spec: PerformanceSpec
    min_count: int
    profile: Calibration | None = None
    windows_closed: int = 0
    latest: dict[str, float] = field(default_factory=dict)
    _windows: WindowBuffer | None = None

    def __post_init__(self) -> None:
        if self._windows is None:
            self._windows = make_windows(self.window)

    @property
    def _buffer(self) -> WindowBuffer:
        assert self._windows is not None
        return self._windows

    def observe(self, batch: PredictionBatch) -> list[WindowResult]:
        """Add a batch's scores (nothing before a calibration is known)."""
        if self.profile is None or not batch.predictions:
            return []
        n = len(batch)
        closed = self._buffer.add(
            batch.timestamps,
            {"score": batch.predictions, "decided": batch.predicted_labels or [None] * n},
        )
        return [r for w in closed if (r := self._close(w)) is not None]

    def _close(self, window: ClosedWindow) -> WindowResult | None:
        assert self.profile is not None
        confidence = self.spec.estimate_confidence
        rng = np.random.default_rng(
            window_seed(self.model_id, self.model_version, self.segment, self.windows_closed)
        )
        if isinstance(self.profile, MulticlassCalibrationProfile):
            est = self.profile.estimate(
                window.columns["score"], window.columns["decided"], confidence, rng,
                self.min_count,
            )  # fmt: skip
        else:
            est = self._binary_estimate(window, self.profile, confidence, rng)
        if est is None:
            return None
        metrics: dict[str, float] = {}
        for name in METRICS:
            metrics[f"estimated_{name}"] = est.value[name]
            metrics[f"estimated_{name}_lower"] = est.lower[name]
            metrics[f"estimated_{name}_upper"] = est.upper[name]
        self.latest = {k: v for k, v in metrics.items() if math.isfinite(v)}
        checks: tuple[CheckResult, ...] = ()
        reference = self.profile.reference.get("accuracy")
        if reference is not None:
            checks = (estimated_drop_check(reference, est, self.spec.estimate_margin, confidence),)
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

    def _binary_estimate(
        self,
        window: ClosedWindow,
        profile: CalibrationProfile,
        confidence: float,
        rng: np.random.Generator,
    ) -> Estimate | None:
        raw = window.columns["score"]
        keep = [
            i
            for i, s in enumerate(raw)
            if isinstance(s, (int, float)) and not isinstance(s, bool) and 0 <= s <= 1
        ]
        if len(keep) < self.min_count:
            return None
        scores = np.array([raw[i] for i in keep], dtype=np.float64)
        decided = [window.columns["decided"][i] for i in keep]
        yhat = profile.decide(scores, decided)
        p = profile.calibration.predict(scores)
        return estimate(p, yhat, scores, confidence, rng)

    def to_dict(self) -> dict[str, Any]:
        return {
            "model_id": self.model_id,
            "model_version": self.model_version,
            "segment": self.segment,
            "windows_closed": self.windows_closed,
            "latest": self.latest,
            "windows": self._buffer.to_dict(),
        }

    @classmethod
    def from_dict(
        cls,
        d: dict[str, Any],
        window: WindowSpec,
        spec: PerformanceSpec,
        min_count: int,
        profile: Calibration | None,
    ) -> EstimatedPerformanceMonitor:
        return cls(
            d["model_id"],
            d["model_version"],
            d["segment"],
            window,
            spec,
            min_count,
            profile,
            d["windows_closed"],
            dict(d["latest"]),
            WindowBuffer.from_dict(d["windows"]),
        )
