"""``[defaults.performance]``: how labelled predictions are windowed and judged."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from streamdrift.config.windows import WindowSpec

__all__ = [
    "ERROR_DETECTORS",
    "FIXED_MARGIN",
    "TASKS",
    "UNKNOWN_MODEL_FEEDBACK",
    "PerformanceSpec",
    "PerformanceSpecError",
]


TASKS = ("auto", "binary", "multiclass", "regression")
ERROR_DETECTORS = ("ddm", "eddm", "hddm_a", "hddm_w", "adwin")
UNKNOWN_MODEL_FEEDBACK = ("reject", "wait")


FIXED_MARGIN = 0.05  # the degradation gate of threshold_mode = "fixed" without a margin


class PerformanceSpecError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class PerformanceSpec:
    window: WindowSpec = field(
        default_factory=lambda: WindowSpec(kind="time", size=60.0, allowed_lateness=30.0)
    )
    by: str = "label_time"  # or "prediction_time"
    task: str = "auto"
    score_threshold: float = 0.5
    min_labels: int = 100
    # accuracy points, or relative MAE increase for regression: with calibrated thresholds an
    # optional minimum (None: none); with threshold_mode = "fixed" the gate (None: 0.05)
    margin: float | None = None
    alpha: float = 0.01
    error_detectors: tuple[str, ...] = ("hddm_a",)
    prediction_ttl: float = 7 * 86400.0
    feedback_ttl: float = 3600.0
    max_pending: int = 1_000_000
    min_coverage: float = 0.0  # label_health alert below this share of labelled predictions
    coverage_period: float = 3600.0  # s of prediction time per label-coverage judgement
    # label_health alert when more than this share of a period's labels expire unjoined
    max_expired_share: float = 0.1
    unknown_model_feedback: str = "reject"  # or "wait": labels of a model never seen
    # label-free estimates (labels/estimated_performance.py, labels/estimator_divergence.py)
    estimate_confidence: float = 0.99  # level of the estimates' intervals
    divergence_windows: int = 6  # estimator_divergence: of the last this many windows …
    divergence_hits: int = 3  # … at least this many outside the estimate's interval

    @property
    def estimate_margin(self) -> float:
        """The gap the label-free estimates need (``labels/estimates.py``): ``margin``, else
        ``FIXED_MARGIN`` (they have no threshold calibrated on the reference yet)."""
        return FIXED_MARGIN if self.margin is None else self.margin

    def __post_init__(self) -> None:
        if self.by not in ("label_time", "prediction_time"):
            raise PerformanceSpecError(
                f"performance.by: label_time|prediction_time, not {self.by!r}"
            )
        if self.task not in TASKS:
            raise PerformanceSpecError(f"performance.task: one of {TASKS}, got {self.task!r}")
        for name in self.error_detectors:
            if name not in ERROR_DETECTORS:
                raise PerformanceSpecError(
                    f"performance.error_detectors: unknown {name!r}; known: {ERROR_DETECTORS}"
                )
        if not 0 < self.alpha < 1:
            raise PerformanceSpecError(f"performance.alpha: in (0, 1), got {self.alpha}")
        if self.margin is not None and not self.margin > 0:
            raise PerformanceSpecError(f"performance.margin: must be > 0, got {self.margin}")
        if self.min_labels < 10:
            raise PerformanceSpecError(f"performance.min_labels: >= 10, got {self.min_labels}")
        if not 0 <= self.min_coverage <= 1:
            raise PerformanceSpecError(
                f"performance.min_coverage: in [0,1], got {self.min_coverage}"
            )
        if not 0 <= self.max_expired_share <= 1:
            raise PerformanceSpecError(
                f"performance.max_expired_share: in [0,1], got {self.max_expired_share}"
            )
        if self.unknown_model_feedback not in UNKNOWN_MODEL_FEEDBACK:
            raise PerformanceSpecError(
                "performance.unknown_model_feedback: one of "
                f"{UNKNOWN_MODEL_FEEDBACK}, got {self.unknown_model_feedback!r}"
            )
        for name in ("prediction_ttl", "feedback_ttl", "coverage_period"):
            value = getattr(self, name)
            if not (value > 0 and math.isfinite(value)):
                raise PerformanceSpecError(f"performance.{name}: seconds > 0, got {value}")
        if self.max_pending < 1:
            raise PerformanceSpecError(f"performance.max_pending: >= 1, got {self.max_pending}")
        if not 0.5 <= self.estimate_confidence < 1:
            raise PerformanceSpecError(
                f"performance.estimate_confidence: in [0.5, 1), got {self.estimate_confidence}"
            )
        if not 1 <= self.divergence_hits <= self.divergence_windows:
            raise PerformanceSpecError(
                "performance.divergence_hits: between 1 and divergence_windows, got "
                f"{self.divergence_hits} of {self.divergence_windows}"
            )
        if not 0 <= self.score_threshold <= 1:
            raise PerformanceSpecError(
                f"performance.score_threshold: in [0, 1], got {self.score_threshold}"
            )
