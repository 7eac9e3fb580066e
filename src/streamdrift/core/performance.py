"""Online model performance of one (model, version, segment): degradation and concept drift.

Labelled predictions (from :class:`~streamdrift.core.join.FeedbackJoin`) fill windows of
the same machinery as drift (:mod:`streamdrift.core.windows`), by label time or by
prediction time. Everything is decided when a window closes, on the window's rows sorted
by (time, prediction id), so the verdicts depend only on the input, never on how the
predictions and feedback topics happened to interleave in a fetch: a replay after a
crash reproduces them.

* **Task** is inferred from the first labelled rows unless configured: ``binary`` (labels
  0/1, predictions are scores in [0, 1] or 0/1), ``multiclass`` (labels and predictions
  are classes; an object of class probabilities counts as its arg-max), ``regression``.
* **Reference performance** is the first window with at least ``min_labels`` labels.
* **Degradation** (``performance_degradation``): a window's accuracy (classification) or
  MAE (regression) is worse than the reference by at least ``margin`` *and* a one-sided
  test says so at ``alpha`` (pooled two-proportion z-test; Welch z-test for MAE).
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

from streamdrift.core.join import LabelledPrediction
from streamdrift.core.windows import WindowBuffer, WindowSpec, make_windows
from streamdrift.detectors import DriftDetector, from_state, make_detector
from streamdrift.records import AlertKind, CheckResult, WindowInfo, WindowResult, predicted_class
from streamdrift.stats.performance import (
    ClassificationWindow,
    MulticlassWindow,
    RegressionWindow,
    accuracy_drop_test,
    mae_increase_test,
)

TASKS = ("auto", "binary", "multiclass", "regression")
ERROR_DETECTORS = ("ddm", "eddm", "hddm_a", "hddm_w", "adwin")
Metrics = ClassificationWindow | MulticlassWindow | RegressionWindow


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
    margin: float = 0.05  # accuracy points, or relative MAE increase for regression
    alpha: float = 0.01
    error_detectors: tuple[str, ...] = ("hddm_a",)
    prediction_ttl: float = 7 * 86400.0
    feedback_ttl: float = 3600.0
    max_pending: int = 1_000_000
    min_coverage: float = 0.0  # label_health alert below this share of labelled predictions

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
        if not self.margin > 0:
            raise PerformanceSpecError(f"performance.margin: must be > 0, got {self.margin}")
        if self.min_labels < 10:
            raise PerformanceSpecError(f"performance.min_labels: >= 10, got {self.min_labels}")
        if not 0 <= self.min_coverage <= 1:
            raise PerformanceSpecError(
                f"performance.min_coverage: in [0,1], got {self.min_coverage}"
            )
        for name in ("prediction_ttl", "feedback_ttl"):
            value = getattr(self, name)
            if not (value > 0 and math.isfinite(value)):
                raise PerformanceSpecError(f"performance.{name}: seconds > 0, got {value}")
        if self.max_pending < 1:
            raise PerformanceSpecError(f"performance.max_pending: >= 1, got {self.max_pending}")
        if not 0 <= self.score_threshold <= 1:
            raise PerformanceSpecError(
                f"performance.score_threshold: in [0, 1], got {self.score_threshold}"
            )


def infer_task(rows: Sequence[LabelledPrediction]) -> str:
    """binary, multiclass or regression, from labels and predictions."""
    return infer_task_of([r.label for r in rows], [r.prediction for r in rows])


def infer_task_of(labels: Sequence[Any], preds: Sequence[Any]) -> str:
    """binary, multiclass or regression, from labels and predictions."""
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


@dataclass(slots=True)
class PerformanceMonitor:
    model_id: str
    model_version: str
    segment: str | None
    spec: PerformanceSpec
    task: str = ""
    reference: dict[str, Any] | None = None  # to_dict() of the reference window's metrics
    reference_count: int = 0
    windows_closed: int = 0
    labelled: int = 0
    rejected: int = 0  # labels whose type does not fit the task
    latest: dict[str, float] = field(default_factory=dict)
    _windows: WindowBuffer | None = None
    _detectors: dict[str, DriftDetector] = field(default_factory=dict)

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
        self.latest = _summary(metrics)
        checks: list[CheckResult] = []
        if self.reference is None:
            if metrics.count >= self.spec.min_labels:
                self.reference = metrics.to_dict()
                self.reference_count = metrics.count
        elif metrics.count >= self.spec.min_labels:
            checks.append(self._degradation(metrics))
        checks.extend(self._concept_drift(errors))
        info = WindowInfo(start=start, end=end, count=len(stamps))
        result = WindowResult(
            self.model_id,
            self.model_version,
            self.segment,
            self.windows_closed,
            info,
            self.reference_count,
            tuple(checks),
        )
        self.windows_closed += 1
        return result

    def _metrics(self, labels: list[Any], preds: list[Any]) -> tuple[Metrics, np.ndarray]:
        if self.task == "binary":
            keep = [
                i
                for i, (y, p) in enumerate(zip(labels, preds, strict=True))
                if (isinstance(y, bool) or y in (0, 1)) and isinstance(p, (int, float))
            ]
            self.rejected += len(labels) - len(keep)
            y = np.array([int(labels[i]) for i in keep], dtype=np.int64)
            score = np.array([float(preds[i]) for i in keep], dtype=np.float64)
            binary = (score >= self.spec.score_threshold).astype(np.int64)
            window = ClassificationWindow()
            has_scores = bool(np.all((score >= 0) & (score <= 1)))
            if keep:
                window.update(y, binary, score if has_scores else None)
            return window, (binary != y).astype(np.float64)
        if self.task == "regression":
            keep = [
                i
                for i, (y, p) in enumerate(zip(labels, preds, strict=True))
                if isinstance(y, (int, float)) and isinstance(p, (int, float))
            ]
            self.rejected += len(labels) - len(keep)
            yt = np.array([float(labels[i]) for i in keep], dtype=np.float64)
            yp = np.array([float(preds[i]) for i in keep], dtype=np.float64)
            reg = RegressionWindow()
            if keep:
                reg.update(yt, yp)
            return reg, np.abs(yp - yt)
        truth = np.array([_label_class(v) for v in labels], dtype=object)
        guess = np.array([_predicted_class(v) for v in preds], dtype=object)
        multi = MulticlassWindow()
        if len(truth):
            multi.update(truth, guess)
        return multi, (truth != guess).astype(np.float64)

    def _degradation(self, metrics: Metrics) -> CheckResult:
        assert self.reference is not None
        spec = self.spec
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
                spec.margin,
                p,
                drifted=relative >= spec.margin and p < spec.alpha,
                detail=f"MAE {metrics.mae:.4g} vs {ref.mae:.4g} in the reference (Welch z-test)",
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
            spec.margin,
            p,
            drifted=drop >= spec.margin and p < spec.alpha,
            detail=f"accuracy {metrics.accuracy:.3f} vs {ref_window.accuracy:.3f} in the "
            f"reference (n={metrics.count}, one-sided two-proportion z-test)",
        )

    def _concept_drift(self, errors: np.ndarray) -> list[CheckResult]:
        out = []
        for name, detector in self._detectors.items():
            if detector.name != "adwin" and self.task == "regression":
                continue  # the binary detectors need 0/1 errors
            before = detector.n_seen
            hits = detector.update_many(errors) if errors.size else []
            rate = float(errors.mean()) if errors.size else math.nan
            where = f"fired at labelled row {before + hits[0] + 1}, " if hits else ""
            out.append(
                CheckResult(
                    "error_rate" if self.task != "regression" else "abs_error",
                    AlertKind.CONCEPT_DRIFT,
                    name,
                    "error_rate" if self.task != "regression" else "mean_abs_error",
                    rate,
                    0.0,
                    None,
                    drifted=bool(hits),
                    detail=f"{name} on the per-row error stream: {where}"
                    f"{detector.n_seen} rows seen",
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
            "windows_closed": self.windows_closed,
            "labelled": self.labelled,
            "rejected": self.rejected,
            "latest": self.latest,
            "windows": self._buffer.to_dict(),
            "detectors": {k: d.to_dict() for k, d in self._detectors.items()},
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any], spec: PerformanceSpec) -> PerformanceMonitor:
        return cls(
            model_id=d["model_id"],
            model_version=d["model_version"],
            segment=d["segment"],
            spec=spec,
            task=d["task"],
            reference=d["reference"],
            reference_count=d["reference_count"],
            windows_closed=d["windows_closed"],
            labelled=d["labelled"],
            rejected=d["rejected"],
            latest=dict(d["latest"]),
            _windows=WindowBuffer.from_dict(d["windows"]),
            _detectors={k: from_state(v) for k, v in d["detectors"].items()},
        )


def _summary(metrics: Metrics) -> dict[str, float]:
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


def _json_value(value: Any) -> Any:
    """Labels and predictions are kept in window state as JSON values."""
    if isinstance(value, (np.generic,)):
        return value.item()
    return value
