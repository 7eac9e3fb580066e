"""The drift monitor of one model, version and segment: reference, windows, tests.

Life of a :class:`DriftMonitor`:

1. **Reference.** The first ``reference_size`` events of the version are kept; then each
   feature's type is inferred (numeric when every present value is a number, otherwise
   categorical) and a reference profile is fitted. A new version gets a new monitor, so it
   never inherits the previous version's reference.
2. **Windows.** Following events fill count-based tumbling windows of ``window_size``
   events. Counting events, not seconds, makes detection independent of the event rate and
   identical for live traffic and for a replay produced as fast as possible.
3. **Tests.** When a window closes, every feature (and the prediction) is compared with its
   reference on whole numpy arrays: PSI on reference-quantile bins plus the two-sample KS
   test for numeric columns, PSI plus chi-squared for categorical ones, and a two-proportion
   z-test on the share of missing values.

A feature *drifts* in a window when the effect is large (PSI >= ``psi_threshold``, or a
missing-share change of at least ``missing_share_delta``) **and** significant after a
Bonferroni correction over all tests of the window (p < ``alpha`` / m). The effect-size
gate keeps large samples from flagging practically irrelevant differences; the corrected
test keeps noise in small windows from passing the effect gate.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import numpy as np

from streamdrift.records import (
    PREDICTION,
    AlertKind,
    CheckResult,
    PredictionBatch,
    Scalar,
    WindowInfo,
    WindowResult,
)
from streamdrift.stats import (
    CategoricalReference,
    NumericReference,
    compare_categorical,
    compare_numeric,
    proportion_ztest,
)

MIN_PRESENT = 30  # fewer present values than this in a window: distribution tests are skipped


@dataclass(frozen=True, slots=True)
class DriftPolicy:
    """How a monitor decides; built from :class:`~streamdrift.config.Settings`."""

    reference_size: int = 2000
    window_size: int = 1000
    psi_threshold: float = 0.2
    alpha: float = 0.01
    missing_share_delta: float = 0.1
    max_features: int = 200
    n_bins: int = 10
    max_categories: int = 50


class FeatureType(StrEnum):
    NUMERIC = "numeric"
    CATEGORICAL = "categorical"


@dataclass(slots=True)
class _FeatureProfile:
    type: FeatureType
    reference: NumericReference | CategoricalReference


@dataclass(slots=True)
class DriftMonitor:
    """Reference and windows of one (model, version, segment). Feed it with :meth:`observe`."""

    model_id: str
    model_version: str
    segment: str | None
    policy: DriftPolicy
    profiles: dict[str, _FeatureProfile] = field(default_factory=dict)
    reference_count: int = 0
    windows_closed: int = 0
    events_seen: int = 0
    untracked_features: set[str] = field(default_factory=set)
    _columns: dict[str, list[Scalar]] = field(default_factory=dict)
    _timestamps: list[float] = field(default_factory=list)

    @property
    def has_reference(self) -> bool:
        return self.reference_count > 0

    @property
    def buffered(self) -> int:
        return len(self._timestamps)

    def observe(self, batch: PredictionBatch) -> list[WindowResult]:
        """Add a batch; return the results of the windows it closed (often none)."""
        n = len(batch)
        if n == 0:
            return []
        self.events_seen += n
        self._append(batch)
        results: list[WindowResult] = []
        if not self.has_reference:
            if self.buffered < self.policy.reference_size:
                return results
            self._fit_reference(self._take(self.policy.reference_size))
        while self.buffered >= self.policy.window_size:
            stamps, columns = self._take(self.policy.window_size)
            results.append(self._test_window(stamps, columns))
        return results

    # -- buffering ------------------------------------------------------------------------

    def _append(self, batch: PredictionBatch) -> None:
        n = len(batch)
        buffered = self.buffered
        incoming = dict(batch.features)
        if batch.predictions and any(p is not None for p in batch.predictions):
            incoming[PREDICTION] = [_prediction_value(p) for p in batch.predictions]
        for name, values in incoming.items():
            column = self._columns.get(name)
            if column is None:
                if self.has_reference and name not in self.profiles:
                    self.untracked_features.add(name)
                    continue
                if len(self._columns) >= self.policy.max_features:
                    self.untracked_features.add(name)
                    continue
                column = self._columns[name] = [None] * buffered
            column.extend(values)
        for column in self._columns.values():
            if len(column) < buffered + n:  # absent from this batch: missing
                column.extend([None] * (buffered + n - len(column)))
        self._timestamps.extend(batch.timestamps)

    def _take(self, count: int) -> tuple[list[float], dict[str, list[Scalar]]]:
        stamps = self._timestamps[:count]
        del self._timestamps[:count]
        columns = {}
        for name, column in self._columns.items():
            columns[name] = column[:count]
            del column[:count]
        return stamps, columns

    # -- reference ------------------------------------------------------------------------

    def _fit_reference(self, data: tuple[list[float], dict[str, list[Scalar]]]) -> None:
        stamps, columns = data
        for name, values in columns.items():
            numeric = _as_numeric(values)
            if numeric is not None:
                ref: NumericReference | CategoricalReference = NumericReference.fit(
                    numeric, n_bins=self.policy.n_bins
                )
                self.profiles[name] = _FeatureProfile(FeatureType.NUMERIC, ref)
            else:
                ref = CategoricalReference.fit(
                    _as_categories(values), max_categories=self.policy.max_categories
                )
                self.profiles[name] = _FeatureProfile(FeatureType.CATEGORICAL, ref)
        self.reference_count = len(stamps)

    # -- testing --------------------------------------------------------------------------

    def _test_window(self, stamps: list[float], columns: dict[str, list[Scalar]]) -> WindowResult:
        raw: list[CheckResult] = []
        for name, profile in self.profiles.items():
            values = columns.get(name) or [None] * len(stamps)
            raw.extend(self._test_feature(name, profile, values))
        # Bonferroni over every test of this window: P(any false alarm) <= alpha
        m = max(len(raw), 1)
        level = self.policy.alpha / m
        tests = tuple(
            CheckResult(
                t.feature,
                t.kind,
                t.detector,
                t.statistic,
                t.value,
                t.threshold,
                t.p_value,
                drifted=t.drifted and t.p_value < level,
                detail=t.detail,
            )
            for t in raw
        )
        info = WindowInfo(start=min(stamps), end=max(stamps), count=len(stamps))
        result = WindowResult(
            self.model_id,
            self.model_version,
            self.segment,
            self.windows_closed,
            info,
            self.reference_count,
            tests,
        )
        self.windows_closed += 1
        return result

    def _test_feature(
        self, name: str, profile: _FeatureProfile, values: list[Scalar]
    ) -> list[CheckResult]:
        kind = AlertKind.PREDICTION_DRIFT if name == PREDICTION else AlertKind.DATA_DRIFT
        ref = profile.reference
        policy = self.policy
        results: list[CheckResult] = []
        if isinstance(ref, NumericReference):
            array = _coerce_numeric(values)
            present = int(np.count_nonzero(~np.isnan(array)))
            missing_k = len(values) - present
            if present >= MIN_PRESENT:
                cmp = compare_numeric(ref, array)
                results.append(
                    CheckResult(
                        name,
                        kind,
                        "psi_ks",
                        "psi",
                        cmp.psi,
                        policy.psi_threshold,
                        cmp.ks_pvalue,
                        drifted=cmp.psi >= policy.psi_threshold,
                        detail=f"KS D={cmp.ks:.3f}",
                    )
                )
        else:
            categories = _as_categories(values)
            missing_k = sum(1 for v in categories if v is None)
            if len(values) - missing_k >= MIN_PRESENT:
                ccmp = compare_categorical(ref, categories)
                results.append(
                    CheckResult(
                        name,
                        kind,
                        "psi_chi2",
                        "psi",
                        ccmp.psi,
                        policy.psi_threshold,
                        ccmp.chi2_pvalue,
                        drifted=ccmp.psi >= policy.psi_threshold,
                        detail=f"chi2={ccmp.chi2:.1f} dof={ccmp.chi2_dof}",
                    )
                )
        ref_missing_k = round(ref.missing_share * ref.n_total)
        _, p = proportion_ztest(ref_missing_k, ref.n_total, missing_k, len(values))
        delta = abs(missing_k / len(values) - ref.missing_share)
        results.append(
            CheckResult(
                name,
                kind,
                "missing_share",
                "missing_share_delta",
                delta,
                policy.missing_share_delta,
                p,
                drifted=delta >= policy.missing_share_delta,
                detail=f"missing {missing_k}/{len(values)} vs {ref.missing_share:.3f}",
            )
        )
        return results


def _prediction_value(prediction: Any) -> Scalar:
    """The monitored form of a model output: scalars as they are; for class probabilities
    (an object of class -> probability) the predicted class."""
    if isinstance(prediction, dict):
        return max(prediction, key=prediction.__getitem__) if prediction else None
    if isinstance(prediction, (list, tuple)):
        return None
    return prediction  # type: ignore[no-any-return]


def _as_numeric(values: list[Scalar]) -> np.ndarray | None:
    """The column as float64 (None -> NaN) if every present value is a number, else None."""
    present = [v for v in values if v is not None]
    if not present or any(type(v) not in (int, float) for v in present):
        return None
    return np.array(values, dtype=np.float64)


def _coerce_numeric(values: list[Scalar]) -> np.ndarray:
    """A window column of a numeric feature as float64; non-numbers count as missing."""
    try:
        return np.array(values, dtype=np.float64)
    except (TypeError, ValueError):
        return np.array([v if type(v) in (int, float) else None for v in values], dtype=np.float64)


def _as_categories(values: list[Scalar]) -> list[str | None]:
    return [
        None if v is None else ("true" if v is True else "false" if v is False else str(v))
        for v in values
    ]
