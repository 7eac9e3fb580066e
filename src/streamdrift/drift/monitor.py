"""The drift monitor of one model, version and segment: reference, windows, tests.

Life of a :class:`DriftMonitor`:

1. **Reference.** ``first`` mode keeps the version's first ``reference.size`` events, then
   infers each feature's type (numeric when every present value is a number, unless the
   spec says otherwise) and fits a reference profile. A new version gets a new monitor, so
   it never inherits the previous version's reference. ``profile`` mode takes a profile
   built offline (:meth:`set_reference`); ``rolling`` mode compares window k with window
   k − lag.
2. **Windows.** Later events fill windows (:mod:`streamdrift.drift.windows`): by count or
   by event time, tumbling or sliding. Windows depend on event order and event time only,
   so live traffic and a replay produced as fast as possible give the same windows.
3. **Tests.** Each closed window is compared with the reference, feature by feature, on
   whole numpy arrays (:mod:`streamdrift.config.spec` lists the tests). With
   ``threshold_mode = "reference"`` (default) each threshold is calibrated on the
   reference's own windows at the model's false-alarm budget
   (:mod:`streamdrift.drift.threshold_calibration`) and a CUSUM accumulates the windows' evidence;
   with ``"fixed"`` a check drifts when its effect reaches its threshold **and** its
   p-value is rejected by Benjamini–Hochberg at ``alpha`` over all checks of the window.
   River detectors can also watch each feature's per-window PSI series and the per-event
   prediction scores.
"""

from __future__ import annotations

import dataclasses
import math
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from streamdrift.config.spec import MonitorSpec
from streamdrift.detectors import DriftDetector, from_state, make_detector
from streamdrift.detectors.registry import DECISION_PARAM, describe
from streamdrift.drift.budget import DRIFT_SHARE, WindowRate, per_check_level
from streamdrift.drift.columns import (
    Column,
    PackedColumn,
    as_numeric,
    category_tally,
    coerce_numeric,
    prediction_values,
)
from streamdrift.drift.fixed_checks import correct, fixed_checks
from streamdrift.drift.profiles import (
    Profiles,
    fit_profiles,
    profiles_from_dict,
    profiles_to_dict,
)
from streamdrift.drift.threshold_calibration import (
    REFERENCE,
    calibrate_profiles,
    calibrated_checks,
    family_of,
    z_of,
)
from streamdrift.drift.windows import ClosedWindow, WindowBuffer, make_windows
from streamdrift.records import (
    PREDICTED_LABEL,
    PREDICTION,
    AlertKind,
    CheckResult,
    PredictionBatch,
    Scalar,
    WindowInfo,
    WindowResult,
)
from streamdrift.stats import (
    NumericReference,
    compare_categorical_tally,
    compare_numeric,
)
from streamdrift.stats.cusum import CUSUM_K, Cusum, cusum_threshold

# the pseudo-features of the model's output: tested as prediction drift
_MODEL_OUTPUTS = frozenset((PREDICTION, PREDICTED_LABEL))


@dataclass(slots=True)
class DriftMonitor:
    """Reference, windows and detectors of one (model, version, segment)."""

    model_id: str
    model_version: str
    segment: str | None
    spec: MonitorSpec
    profiles: Profiles = field(default_factory=dict)
    reference_count: int = 0
    reference_source: str = ""
    events_seen: int = 0
    windows_closed: int = 0
    untracked_features: set[str] = field(default_factory=set)
    _features: list[str] = field(default_factory=list)  # tracked columns, in first-seen order
    # the first-events reference while it fills, packed (9 bytes a value, not a list)
    _ref_stamps: PackedColumn = field(default_factory=PackedColumn)
    _ref_columns: dict[str, PackedColumn] = field(default_factory=dict)
    _windows: WindowBuffer | None = None
    _rolling: deque[Profiles] = field(default_factory=deque)
    _sequential: dict[str, DriftDetector] = field(default_factory=dict)  # "feature|detector"
    _prediction: dict[str, DriftDetector] = field(default_factory=dict)
    _rate: WindowRate = field(default_factory=WindowRate)  # the budget's window rate
    _cusums: dict[str, Cusum] = field(default_factory=dict)  # "feature|family"

    def __post_init__(self) -> None:
        if self._windows is None:
            self._windows = make_windows(self.spec.window)
        self._windows.packed = True  # closed windows as packed columns: no lists to test
        if not self._prediction:
            for name in self.spec.prediction_detectors:
                self._prediction[name] = _new_detector(name)

    # -- public -----------------------------------------------------------------------------

    @property
    def has_reference(self) -> bool:
        return bool(self.profiles) or self.spec.reference.mode == "rolling"

    @property
    def late_events(self) -> int:
        return self._buffer.late_events

    @property
    def buffered(self) -> int:
        return len(self._ref_stamps) + self._buffer.buffered

    @property
    def _buffer(self) -> WindowBuffer:
        assert self._windows is not None
        return self._windows

    def set_reference(
        self, profiles: Profiles, count: int, source: str = "profile"
    ) -> list[WindowResult]:
        """Use a reference built elsewhere (``streamdrift reference build``); events held
        for a first-events reference go to the windows instead."""
        self.profiles = {
            k: v for k, v in profiles.items() if k in _MODEL_OUTPUTS or self.spec.watches(k)
        }
        self._features = list(self.profiles)
        self.reference_count = count
        self.reference_source = source
        if not len(self._ref_stamps):
            return []
        stamps = self._ref_stamps.to_list()
        columns = {k: v.to_list() for k, v in self._ref_columns.items() if k in self.profiles}
        self._ref_stamps, self._ref_columns = PackedColumn(), {}
        closed = self._buffer.add(stamps, columns)
        return [r for w in closed if (r := self._test_window(w)) is not None]

    def observe(self, batch: PredictionBatch) -> list[WindowResult]:
        """Add a batch; return the results of the windows it closed (often none)."""
        n = len(batch)
        if n == 0:
            return []
        self.events_seen += n
        columns = self._columns_of(batch)
        stamps = batch.timestamps
        if not self.has_reference:
            need = self.spec.reference.size - len(self._ref_stamps)
            self._append_reference(stamps[:need], {k: v[:need] for k, v in columns.items()})
            if len(self._ref_stamps) < self.spec.reference.size:
                return []
            self._fit_first_reference()
            stamps = stamps[need:]
            columns = {k: v[need:] for k, v in columns.items()}
            if not stamps:
                return []
        closed = self._buffer.add(stamps, columns)
        return [r for w in closed if (r := self._test_window(w)) is not None]

    def advance(self, watermark: float) -> list[WindowResult]:
        """Close the time windows an external event-time watermark allows (idle streams)."""
        if not self.has_reference:
            return []
        return [
            r for w in self._buffer.advance(watermark) if (r := self._test_window(w)) is not None
        ]

    def flush(self) -> list[WindowResult]:
        """The end of the input (an ``end_of_input`` marker): close the open, partial windows
        and test those with at least ``min_window_count`` events (the result says
        ``partial``); smaller ones are dropped untested. Nothing happens while the
        reference is still being collected."""
        if not self.has_reference:
            return []
        return [
            r
            for w in self._buffer.flush()
            if w.count >= self.spec.min_window_count
            and (r := self._test_window(w, partial=True)) is not None
        ]

    # -- columns ----------------------------------------------------------------------------

    def _columns_of(self, batch: PredictionBatch) -> dict[str, list[Scalar]]:
        """The batch's tracked columns; features never seen before are admitted while the
        reference is open (or in rolling mode), within ``max_features``."""
        admit = not self.profiles
        for name in batch.features:
            if name in self._features or name in self.untracked_features:
                continue
            tracked = sum(f not in _MODEL_OUTPUTS for f in self._features)
            if admit and self.spec.watches(name) and tracked < self.spec.max_features:
                self._features.append(name)
            else:
                self.untracked_features.add(name)
        n = len(batch)
        columns = {
            name: batch.features.get(name) or [None] * n
            for name in self._features
            if name not in _MODEL_OUTPUTS
        }
        if self.spec.monitor_prediction and batch.predictions:
            if PREDICTION not in self._features and admit:
                self._features.append(PREDICTION)
            if PREDICTION in self._features:
                columns[PREDICTION] = prediction_values(batch.predictions)
        if self.spec.monitor_prediction:  # the class the model decided, beside its score
            if PREDICTED_LABEL not in self._features and admit and batch.predicted_labels:
                self._features.append(PREDICTED_LABEL)
            if PREDICTED_LABEL in self._features:
                columns[PREDICTED_LABEL] = batch.predicted_labels or [None] * n
        return columns

    def _append_reference(self, stamps: list[float], columns: dict[str, list[Scalar]]) -> None:
        held = len(self._ref_stamps)
        size = self.spec.reference.size
        if not held:
            self._ref_stamps = PackedColumn(capacity=size)
        for name in self._features:
            column = self._ref_columns.get(name)
            if column is None:
                column = self._ref_columns[name] = PackedColumn(capacity=size)
                column.extend_missing(held)
            values = columns.get(name)
            if values:
                column.extend(values)
            else:
                column.extend_missing(len(stamps))
        self._ref_stamps.extend(stamps)

    # -- reference --------------------------------------------------------------------------

    def _fit(self, columns: Mapping[str, Column]) -> Profiles:
        return fit_profiles(columns, self.spec)

    def _fit_first_reference(self) -> None:
        columns = self._ref_columns
        self.profiles = self._fit(columns)
        if self.spec.threshold_mode == "reference":  # the reference's own order calibrates it
            self.profiles = calibrate_profiles(
                self.profiles, columns, self.spec.calibration_window, self.spec.tests
            )
        self.reference_count = len(self._ref_stamps)
        self.reference_source = "first-events"
        self._ref_stamps, self._ref_columns = PackedColumn(), {}

    # -- testing ----------------------------------------------------------------------------

    def _test_window(self, window: ClosedWindow, partial: bool = False) -> WindowResult | None:
        reference = self.profiles
        if self.spec.reference.mode == "rolling":
            self._rolling.append(self._fit(window.all_columns()))
            if len(self._rolling) <= self.spec.reference.lag:
                return None
            reference = self._rolling.popleft()
        checks: list[CheckResult] = []
        psi_values: dict[str, float] = {}
        if self.spec.threshold_mode == "reference":
            checks = self._calibrated(reference, window, psi_values)
        else:
            for name, ref in reference.items():
                values = window.column(name) or [None] * len(window.timestamps)
                kind = (
                    AlertKind.PREDICTION_DRIFT if name in _MODEL_OUTPUTS else AlertKind.DATA_DRIFT
                )
                checks.extend(fixed_checks(name, kind, ref, values, self.spec, psi_values))
            checks = correct(checks, self.spec.alpha)
        checks.extend(self._sequential_checks(psi_values))
        checks.extend(self._prediction_checks(window.column(PREDICTION)))
        info = WindowInfo(window.start, window.end, len(window.timestamps), partial)
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

    def _calibrated(
        self, reference: Profiles, window: ClosedWindow, psi_values: dict[str, float]
    ) -> list[CheckResult]:
        """Every feature's checks against its calibrated thresholds at the budget's level,
        then the accumulated (CUSUM) decision of each feature and statistic family."""
        spec, budget = self.spec, self.spec.budget
        tests = frozenset(spec.tests)
        segments = spec.max_segments if self.segment is not None else 1
        share = DRIFT_SHARE * (1.0 - budget.accumulated_share)
        level = per_check_level(budget, self._rate, share, len(reference) * len(tests), segments)
        why = (
            f"{budget.false_alerts_per_30_days:g} false alert per 30 days at "
            f"{self._rate.describe(budget.min_window_seconds)}"
        )
        checks: list[CheckResult] = []
        evidence: list[tuple[str, AlertKind, str, float, float]] = []
        n = len(window.timestamps)
        for name, ref in reference.items():
            values = window.column(name) or [None] * n
            kind = AlertKind.PREDICTION_DRIFT if name in _MODEL_OUTPUTS else AlertKind.DATA_DRIFT
            if isinstance(ref, NumericReference):
                cmp: Any = compare_numeric(
                    ref, coerce_numeric(values), wasserstein="wasserstein" in tests,
                    js="js" in tests, bins=True, ks="ks" in tests,
                )  # fmt: skip
            else:
                cmp = compare_categorical_tally(
                    ref, category_tally(values), len(values), js="js" in tests, pvalue=False
                )
            if cmp.count < spec.min_window_count:
                cmp = dataclasses.replace(cmp, count=0)  # too few values: only missingness
            else:
                psi_values[name] = cmp.psi
            found, pvalues = calibrated_checks(
                name, kind, ref, cmp, tests, cmp.n_missing, n, level, spec.min_effect, why
            )
            checks.extend(found)
            shared = cmp.count / (cmp.count + ref.count)  # the reference's share of the noise
            evidence.extend((name, kind, fam, p, shared) for fam, p in pvalues.items())
        if budget.accumulated_share > 0:
            flagged = {(c.feature, family_of(c.detector)) for c in checks if c.drifted}
            checks.extend(self._accumulated(evidence, segments, why, flagged))
        self._rate.add(window.end - window.start)
        return checks

    def _accumulated(
        self,
        evidence: list[tuple[str, AlertKind, str, float, float]],
        segments: int,
        why: str,
        flagged: set[tuple[str, str]],
    ) -> list[CheckResult]:
        """Each window is compared with the same reference, whose own sampling error is a
        persistent shift of the z-scores (a share ``shared`` of their variance): the CUSUM's
        allowance grows by three of its standard deviations, so a reference's chance
        offset does not accumulate into an alert. A CUSUM that reaches its threshold in a
        window whose own checks of the same family drifted raises no second alert; it stays
        at its threshold, so the next window alerts if the shift persists below the
        per-window threshold."""
        budget = self.spec.budget
        share = DRIFT_SHARE * budget.accumulated_share
        level = per_check_level(budget, self._rate, share, len(evidence), segments)
        out = []
        for name, kind, family, p, shared in evidence:
            k = CUSUM_K + 3.0 * math.sqrt(shared)
            h = cusum_threshold(level, k)
            key = f"{name}|{family}"
            cusum = self._cusums.setdefault(key, Cusum())
            fired = cusum.update(z_of(p), h, k)
            over = f"{cusum.windows} window{'s' * (cusum.windows != 1)}"
            out.append(
                CheckResult(
                    name,
                    kind,
                    f"cusum_{family}",
                    "cusum",
                    cusum.s,
                    h,
                    p,
                    drifted=fired and (name, family) not in flagged,
                    detail=f"accumulated over {over}: the CUSUM of the "
                    f"{family} test's calibrated z-scores, the threshold for {why}",
                    threshold_source=REFERENCE,
                )
            )
            if fired and (name, family) in flagged:
                cusum.s = h  # the window said it already: keep the evidence, no second alert
            elif fired:
                cusum.restart()
        return out

    def _sequential_checks(self, psi_values: dict[str, float]) -> list[CheckResult]:
        out = []
        for name, value in psi_values.items():
            for det_name in self.spec.sequential:
                key = f"{name}|{det_name}"
                detector = self._sequential.get(key)
                if detector is None:
                    detector = self._sequential[key] = _new_detector(det_name)
                detector.update(value)
                kind = (
                    AlertKind.PREDICTION_DRIFT if name in _MODEL_OUTPUTS else AlertKind.DATA_DRIFT
                )
                out.append(
                    CheckResult(
                        name,
                        kind,
                        det_name,
                        "psi_series",
                        value,
                        float(detector.params[DECISION_PARAM[det_name]]),
                        None,
                        drifted=detector.drift_detected,
                        detail=f"in this window; {describe(detector)} watches the per-window "
                        f"PSI series ({detector.n_seen} windows)",
                        threshold_source="detector",
                    )
                )
        return out

    def _prediction_checks(self, predictions: Column | None) -> list[CheckResult]:
        """Per-event detectors see the window's scores in order when the window closes, so
        a detection always belongs to the window that holds it, however batches were cut."""
        if not self._prediction:
            return []
        scores = as_numeric(predictions, None) if predictions else None
        if scores is not None:
            scores = scores[np.isfinite(scores)]
        out = []
        for name, detector in self._prediction.items():
            hit = scores is not None and bool(detector.update_many(scores))
            out.append(
                CheckResult(
                    PREDICTION,
                    AlertKind.PREDICTION_DRIFT,
                    f"{name}_scores",
                    "score_change",
                    1.0 if hit else 0.0,
                    float(detector.params[DECISION_PARAM[name]]),
                    None,
                    drifted=hit,
                    detail=f"in this window (1: fired, 0: not); {describe(detector)} watches "
                    f"the per-event prediction scores ({detector.n_seen} seen)",
                    threshold_source="detector",
                )
            )
        return out

    # -- state ------------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        return {
            "model_id": self.model_id,
            "model_version": self.model_version,
            "segment": self.segment,
            "profiles": profiles_to_dict(self.profiles),
            "reference_count": self.reference_count,
            "reference_source": self.reference_source,
            "events_seen": self.events_seen,
            "windows_closed": self.windows_closed,
            "untracked_features": sorted(self.untracked_features),
            "features": list(self._features),
            "ref_stamps": self._ref_stamps.to_list(),
            "ref_columns": {k: v.to_list() for k, v in self._ref_columns.items()},
            "windows": self._buffer.to_dict(),
            "rolling": [profiles_to_dict(p) for p in self._rolling],
            "sequential": {k: d.to_dict() for k, d in self._sequential.items()},
            "prediction": {k: d.to_dict() for k, d in self._prediction.items()},
            "rate": self._rate.to_dict(),
            "cusums": {k: c.to_dict() for k, c in self._cusums.items()},
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any], spec: MonitorSpec) -> DriftMonitor:
        windows = make_windows(spec.window)
        return cls(
            model_id=d["model_id"],
            model_version=d["model_version"],
            segment=d["segment"],
            spec=spec,
            profiles=profiles_from_dict(d["profiles"]),
            reference_count=d["reference_count"],
            reference_source=d["reference_source"],
            events_seen=d["events_seen"],
            windows_closed=d["windows_closed"],
            untracked_features=set(d["untracked_features"]),
            _features=list(d["features"]),
            _ref_stamps=PackedColumn(d["ref_stamps"]),
            _ref_columns={k: PackedColumn(v) for k, v in d["ref_columns"].items()},
            _windows=type(windows).from_dict(d["windows"]),
            _rolling=deque(profiles_from_dict(p) for p in d["rolling"]),
            _sequential={k: from_state(v) for k, v in d["sequential"].items()},
            _prediction={k: from_state(v) for k, v in d["prediction"].items()},
            _rate=WindowRate.from_dict(d.get("rate", {})),
            _cusums={k: Cusum.from_dict(v) for k, v in d.get("cusums", {}).items()},
        )


def _new_detector(name: str) -> DriftDetector:
    # KSWIN samples its reference at random: a fixed seed keeps a replay identical
    return make_detector(name, seed=7) if name == "kswin" else make_detector(name)
