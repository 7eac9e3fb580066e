"""Online model performance of one (model, version, segment): degradation and concept drift.

Labelled predictions (from :class:`~streamdrift.labels.join.FeedbackJoin`) fill windows of
the same machinery as drift (:mod:`streamdrift.drift.windows`), by label time or by
prediction time. Everything is decided when a window closes, on the window's rows sorted
by (time, prediction id), so the verdicts depend only on the input, never on how the
predictions and feedback topics happened to interleave in a fetch: a replay after a
crash reproduces them.

* **Task** is inferred from the first labelled rows unless configured: ``binary`` (labels
  0/1, predictions are scores in [0, 1] or 0/1), ``multiclass`` (labels and predictions
  are classes; an object of class probabilities counts as its arg-max), ``regression``.
* **Reference performance** is the version's reference profile when it carries one
  (``streamdrift reference build --label-column``, :meth:`PerformanceMonitor.use_reference`),
  else the first window with at least ``min_labels`` labels. The degradation check says
  which one it used.
* **Degradation** (``performance_degradation``): a window's accuracy (classification) or
  MAE (regression) is worse than the reference by the threshold the labelled reference's
  own variation sets at the model's budget (:mod:`streamdrift.labels.performance_calibration`;
  ``margin`` an optional minimum); with ``threshold_mode = "fixed"``, by at least ``margin``
  *and* a one-sided test at ``alpha`` (pooled two-proportion z-test; Welch z-test for MAE).
* **Concept drift** (``concept_drift``): River's error-stream detectors (DDM, EDDM,
  HDDM_A, HDDM_W, ADWIN) see the per-row error (0/1, or the absolute error for ADWIN on
  regression) in the same sorted order.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from streamdrift.config.performance import (
    ERROR_DETECTORS,
    FIXED_MARGIN,
    TASKS,
    UNKNOWN_MODEL_FEEDBACK,
    PerformanceSpec,
    PerformanceSpecError,
)
from streamdrift.detectors import DriftDetector, from_state, make_detector
from streamdrift.detectors.registry import describe
from streamdrift.drift.budget import DRIFT_SHARE, BudgetSpec, WindowRate, per_check_level
from streamdrift.drift.windows import WindowBuffer, make_windows
from streamdrift.labels.join import LabelledPrediction
from streamdrift.labels.labelled_metrics import (
    Metrics,
    ReferencePerformance,
    infer_task_of,
    summary,
    task_metrics,
)
from streamdrift.labels.performance_calibration import (
    calibrate_errors,
    error_inflation,
)
from streamdrift.labels.performance_calibration import (
    describe as describe_calibration,
)
from streamdrift.records import AlertKind, CheckResult, WindowInfo, WindowResult
from streamdrift.stats.performance import (
    ClassificationWindow,
    MulticlassWindow,
    RegressionWindow,
    accuracy_drop_test,
    mae_increase_test,
)
from streamdrift.stats.threshold_calibration import normal_isf

__all__ = [
    "ERROR_DETECTORS",
    "FROM_FIRST_WINDOW",
    "FROM_PROFILE",
    "TASKS",
    "UNKNOWN_MODEL_FEEDBACK",
    "PerformanceMonitor",
    "PerformanceSpec",
    "PerformanceSpecError",
    "ReferencePerformance",
    "infer_task",
    "infer_task_of",
]

# where a monitor's reference performance came from (named in the degradation alert)
FROM_FIRST_WINDOW = "first labelled window"
FROM_PROFILE = "reference profile"


def infer_task(rows: Sequence[LabelledPrediction]) -> str:
    """binary, multiclass or regression, from labels and predictions."""
    return infer_task_of([r.label for r in rows], [r.prediction for r in rows])


@dataclass(slots=True)
class PerformanceMonitor:
    model_id: str
    model_version: str
    segment: str | None
    spec: PerformanceSpec
    task: str = ""
    reference: dict[str, Any] | None = None  # to_dict() of the reference window's metrics
    reference_count: int = 0
    reference_source: str = ""  # FROM_FIRST_WINDOW or FROM_PROFILE
    windows_closed: int = 0
    labelled: int = 0
    rejected: int = 0  # labels whose type does not fit the task
    latest: dict[str, float] = field(default_factory=dict)
    _windows: WindowBuffer | None = None
    _detectors: dict[str, DriftDetector] = field(default_factory=dict)
    # thresholds from the labelled reference at the model's budget (threshold_mode reference)
    calibrated: bool = True
    budget: BudgetSpec = field(default_factory=BudgetSpec)
    max_segments: int = 100  # the model's: a segment's share of the budget (Bonferroni)
    reference_calibration: dict[str, Any] | None = None
    _rate: WindowRate = field(default_factory=WindowRate)

    def __post_init__(self) -> None:
        if not self.task and self.spec.task != "auto":
            self.task = self.spec.task
        if self._windows is None:
            self._windows = make_windows(self.spec.window)
        if not self._detectors:
            self._detectors = {n: make_detector(n) for n in self.spec.error_detectors}

    @property
    def _buffer(self) -> WindowBuffer:
        assert self._windows is not None
        return self._windows

    @property
    def late_events(self) -> int:
        return self._buffer.late_events

    def use_reference(self, profile: ReferencePerformance) -> bool:
        """Test later windows against ``profile`` (built offline from labelled data).

        Ignored (False) when it does not fit: another task than the configured or already
        inferred one, or fewer than ``min_labels`` rows. A monitor that has not seen a
        labelled window yet takes the profile's task.
        """
        if profile.count < self.spec.min_labels:
            return False
        if self.task and self.task != profile.task:
            return False
        if self.spec.task not in ("auto", profile.task):
            return False
        self.task = profile.task
        self.reference = dict(profile.metrics)
        self.reference_count = profile.count
        self.reference_source = FROM_PROFILE
        self.reference_calibration = dict(profile.calibration) or None
        return True

    def observe(self, rows: Sequence[LabelledPrediction]) -> list[WindowResult]:
        if not rows:
            return []
        by_label = self.spec.by == "label_time"
        stamps = [r.labelled_at if by_label else r.predicted_at for r in rows]
        self.labelled += len(rows)
        closed = self._buffer.add(
            stamps,
            {
                "id": [r.prediction_id for r in rows],
                "label": [_json_value(r.label) for r in rows],
                "prediction": [_json_value(r.prediction) for r in rows],
            },
        )
        return [
            res
            for w in closed
            if (res := self._close(w.start, w.end, w.timestamps, w.columns)) is not None
        ]

    def advance(self, watermark: float) -> list[WindowResult]:
        closed = self._buffer.advance(watermark)
        return [
            res
            for w in closed
            if (res := self._close(w.start, w.end, w.timestamps, w.columns)) is not None
        ]

    # -- window evaluation ------------------------------------------------------------------

    def _close(
        self, start: float, end: float, stamps: list[float], columns: dict[str, list[Any]]
    ) -> WindowResult | None:
        order = sorted(range(len(stamps)), key=lambda i: (stamps[i], str(columns["id"][i])))
        labels = [columns["label"][i] for i in order]
        preds = [columns["prediction"][i] for i in order]
        if not self.task:  # from a whole window: independent of how fetches were cut
            self.task = self.spec.task if self.spec.task != "auto" else infer_task_of(labels, preds)
        metrics, errors = self._metrics(labels, preds)
        if metrics.count == 0:
            return None
        self.latest = summary(metrics)
        checks: list[CheckResult] = []
        if self.reference is None:
            if metrics.count >= self.spec.min_labels:
                self.reference = metrics.to_dict()
                self.reference_count = metrics.count
                self.reference_source = FROM_FIRST_WINDOW
                if self.calibrated:  # the window's own rows, in order, calibrate it
                    self.reference_calibration = calibrate_errors(
                        errors, self.spec.error_detectors, self.task == "regression"
                    )
        elif metrics.count >= self.spec.min_labels:
            checks.append(self._degradation(metrics))
        degraded = any(c.drifted for c in checks)
        checks.extend(self._concept_drift(errors, self._reference_error(metrics), degraded))
        self._rate.add(end - start)
        info = WindowInfo(start=start, end=end, count=len(stamps))
        result = WindowResult(
            self.model_id,
            self.model_version,
            self.segment,
            self.windows_closed,
            info,
            self.reference_count,
            tuple(checks),
            tuple(self.latest.items()),
        )
        self.windows_closed += 1
        return result

    def _metrics(self, labels: list[Any], preds: list[Any]) -> tuple[Metrics, np.ndarray]:
        metrics, errors, rejected = task_metrics(
            self.task, labels, preds, self.spec.score_threshold
        )
        self.rejected += rejected
        return metrics, errors

    def _degradation(self, metrics: Metrics) -> CheckResult:
        assert self.reference is not None
        if self.calibrated:
            return self._calibrated_degradation(metrics)
        spec, margin = self.spec, self.spec.margin or FIXED_MARGIN
        if isinstance(metrics, RegressionWindow):
            ref = RegressionWindow.from_dict(self.reference)
            increase, p = mae_increase_test(ref, metrics)
            relative = increase / ref.mae if ref.mae > 0 else math.inf
            return CheckResult(
                "mae",
                AlertKind.PERFORMANCE_DEGRADATION,
                "mae_increase",
                "mae_relative_increase",
                relative,
                margin,
                p,
                drifted=relative >= margin and p < spec.alpha,
                detail=f"MAE {metrics.mae:.4g} vs {ref.mae:.4g} in the {self.reference_source} "
                f"(n={metrics.count} vs {ref.count}, Welch z-test)",
            )
        ref_window: Metrics
        if isinstance(metrics, ClassificationWindow):
            ref_window = ClassificationWindow.from_dict(self.reference)
        else:
            ref_window = MulticlassWindow.from_dict(self.reference)
        drop, p = accuracy_drop_test(ref_window, metrics)
        return CheckResult(
            "accuracy",
            AlertKind.PERFORMANCE_DEGRADATION,
            "accuracy_drop",
            "accuracy_drop",
            drop,
            margin,
            p,
            drifted=drop >= margin and p < spec.alpha,
            detail=f"accuracy {metrics.accuracy:.3f} vs {ref_window.accuracy:.3f} in the "
            f"{self.reference_source} (n={metrics.count} vs {ref_window.count}, one-sided "
            "two-proportion z-test)",
        )

    def _calibrated_degradation(self, metrics: Metrics) -> CheckResult:
        """The drop (relative MAE increase) against the threshold the labelled reference's
        own variation sets at the budget's per-window level (one check per window: the
        performance half of the model's budget)."""
        assert self.reference is not None
        spec, budget = self.spec, self.budget
        segments = 1 if self.segment is None else self.max_segments
        level = per_check_level(budget, self._rate, 1.0 - DRIFT_SHARE, 1, segments)
        z_crit = normal_isf(level)
        infl = error_inflation(self.reference_calibration, metrics.count)
        floor = spec.margin or 0.0
        why = (
            f"the threshold for {budget.false_alerts_per_30_days:g} false alert per 30 days at "
            f"{self._rate.describe(budget.min_window_seconds)} "
            f"({describe_calibration(self.reference_calibration, metrics.count)})"
        )
        if floor > 0:
            why += f", and at least {floor:g} (margin)"
        if isinstance(metrics, RegressionWindow):
            ref = RegressionWindow.from_dict(self.reference)
            increase, p = mae_increase_test(ref, metrics)
            se = math.sqrt(
                infl * (ref.abs_err_variance / max(ref.count, 1)
                        + metrics.abs_err_variance / max(metrics.count, 1))
            )  # fmt: skip
            scale = ref.mae if ref.mae > 0 else 1.0
            relative = increase / scale
            threshold = z_crit * se / scale
            return CheckResult(
                "mae", AlertKind.PERFORMANCE_DEGRADATION, "mae_increase", "mae_relative_increase",
                relative, max(threshold, floor), p,
                drifted=relative >= threshold and relative >= floor and relative > 0,
                detail=f"{why}; MAE {metrics.mae:.4g} vs {ref.mae:.4g} in the "
                f"{self.reference_source} (n={metrics.count} vs {ref.count})",
                threshold_source="reference",
            )  # fmt: skip
        ref_window: Metrics
        if isinstance(metrics, ClassificationWindow):
            ref_window = ClassificationWindow.from_dict(self.reference)
        else:
            ref_window = MulticlassWindow.from_dict(self.reference)
        drop, p = accuracy_drop_test(ref_window, metrics)
        n1, n2 = ref_window.count, metrics.count
        pooled = (ref_window.correct + metrics.correct) / (n1 + n2)
        se = math.sqrt(infl * pooled * (1.0 - pooled) * (1.0 / n1 + 1.0 / n2))
        threshold = z_crit * se
        return CheckResult(
            "accuracy", AlertKind.PERFORMANCE_DEGRADATION, "accuracy_drop", "accuracy_drop",
            drop, max(threshold, floor), p,
            drifted=drop >= threshold and drop >= floor and drop > 0,
            detail=f"{why}; accuracy {metrics.accuracy:.3f} vs {ref_window.accuracy:.3f} in the "
            f"{self.reference_source} (n={n2} vs {n1})",
            threshold_source="reference",
        )  # fmt: skip

    def _reference_error(self, metrics: Metrics) -> float | None:
        """The reference's error rate (MAE for regression), as the error stream measures it."""
        if self.reference is None:
            return None
        if isinstance(metrics, RegressionWindow):
            return RegressionWindow.from_dict(self.reference).mae
        if isinstance(metrics, ClassificationWindow):
            return 1.0 - ClassificationWindow.from_dict(self.reference).accuracy
        return 1.0 - MulticlassWindow.from_dict(self.reference).accuracy

    def _concept_drift(
        self, errors: np.ndarray, reference: float | None, degraded: bool = False
    ) -> list[CheckResult]:
        """A detector that fired on the reference's own error stream only confirms a
        degradation of the same window."""
        noisy = set((self.reference_calibration or {}).get("noisy_detectors", ()))
        out = []
        for name, detector in self._detectors.items():
            if detector.name != "adwin" and self.task == "regression":
                continue  # the binary detectors need 0/1 errors
            before = detector.n_seen
            hits = detector.update_many(errors) if errors.size else []
            rate = float(errors.mean()) if errors.size else math.nan
            where = f"fired at labelled row {before + hits[0] + 1}, " if hits else ""
            against = (
                "" if reference is None else f" vs {reference:.3f} in the {self.reference_source}"
            )
            out.append(
                CheckResult(
                    "error_rate" if self.task != "regression" else "abs_error",
                    AlertKind.CONCEPT_DRIFT,
                    name,
                    "error_rate" if self.task != "regression" else "mean_abs_error",
                    rate,
                    0.0,
                    None,
                    drifted=bool(hits) and (name not in noisy or degraded),
                    detail=f"in this window{against}; {describe(detector)} watches the per-row "
                    f"error stream: {where}{detector.n_seen} rows seen"
                    + (
                        "; it fires on the reference's own errors, so it only confirms a "
                        "degradation"
                        if name in noisy
                        else ""
                    ),
                    threshold_source="none",  # a detector's own test: no threshold
                )
            )
        return out

    # -- state ------------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        return {
            "model_id": self.model_id,
            "model_version": self.model_version,
            "segment": self.segment,
            "task": self.task,
            "reference": self.reference,
            "reference_count": self.reference_count,
            "reference_source": self.reference_source,
            "windows_closed": self.windows_closed,
            "labelled": self.labelled,
            "rejected": self.rejected,
            "latest": self.latest,
            "windows": self._buffer.to_dict(),
            "detectors": {k: d.to_dict() for k, d in self._detectors.items()},
            "calibrated": self.calibrated,
            "reference_calibration": self.reference_calibration,
            "rate": self._rate.to_dict(),
        }

    @classmethod
    def from_dict(
        cls,
        d: dict[str, Any],
        spec: PerformanceSpec,
        budget: BudgetSpec | None = None,
        max_segments: int = 100,
    ) -> PerformanceMonitor:
        return cls(
            model_id=d["model_id"],
            model_version=d["model_version"],
            segment=d["segment"],
            spec=spec,
            task=d["task"],
            reference=d["reference"],
            reference_count=d["reference_count"],
            # checkpoints written before profiles carried performance: the first window
            reference_source=d.get(
                "reference_source", FROM_FIRST_WINDOW if d["reference"] is not None else ""
            ),
            windows_closed=d["windows_closed"],
            labelled=d["labelled"],
            rejected=d["rejected"],
            latest=dict(d["latest"]),
            _windows=WindowBuffer.from_dict(d["windows"]),
            _detectors={k: from_state(v) for k, v in d["detectors"].items()},
            calibrated=d.get("calibrated", False),
            budget=budget or BudgetSpec(),
            max_segments=max_segments,
            reference_calibration=d.get("reference_calibration"),
            _rate=WindowRate.from_dict(d.get("rate", {})),
        )


def _json_value(value: Any) -> Any:
    """Labels and predictions are kept in window state as JSON values."""
    if isinstance(value, (np.generic,)):
        return value.item()
    return value
