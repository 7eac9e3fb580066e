"""Label coverage of one input partition: the share of predictions labelled in time.

Predictions are counted per (model, version) in periods of *prediction* time
(``performance.coverage_period``, default one hour); a joined label counts for the period
of its prediction. A period is judged once no label can still arrive in time for any of
its predictions, that is when the event time of the partition has passed the period's end
plus the join's ``prediction_ttl``:

* normally when **both** streams' watermarks have passed it (the feedback stream read
  ahead of the predictions, or the reverse while catching up, judges nothing early);
* or when the predictions' watermark has passed the period's end plus **twice**
  ``prediction_ttl``: the feedback stream of the partition has stalled, or stopped
  altogether, and its watermark would never get there.

coverage = labelled / predictions of the period. A period with fewer than ``min_labels``
predictions is not judged. Below ``min_coverage`` the check drifts (``label_health``); the
alert resolves after ``resolve_after`` judged periods at or above it. The result's window
index is the period's number (``floor(start / coverage_period)``), so alert ids depend on
event time only.

Labels lost to expiry (:class:`LabelLoss`): per model, in periods of *label* time
(``coverage_period``), the share of the labels received that expired without their
prediction (``orphan_feedback_expired``: the prediction never arrived, or too late, or had
expired itself). A period is judged once the model's label cutoff (see
:meth:`~streamdrift.labels.join.FeedbackJoin.cutoffs`) and its labels' watermark have both
passed its end: every label of it has arrived and has joined or expired. Above
``performance.max_expired_share`` (with at least ``min_labels`` labels) the check drifts
(``label_health``, detector ``label_expiry``, version ``*``: a label names no version).
Labels dropped by the bound ``max_remembered`` (``feedback_evicted``) are a metric only.

Everything is event time and counted per row; labels joined after their period was judged
are counted in ``late_labels`` and do not change the verdict (the join expires a period's
predictions by the same clocks before it is judged, so that takes a restored checkpoint
written before the period was counted). Duplicate predictions (a producer's
retries) are taken off the count of the period of their batch's first row.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from streamdrift.labels.join import LabelledPrediction
from streamdrift.records import AlertKind, CheckResult, WindowInfo, WindowResult

VersionKey = tuple[str, str]  # (model_id, model_version)


ALL_VERSIONS = "*"  # the version of a label_expiry result: labels name none


@dataclass(frozen=True, slots=True)
class LossRule:
    """One model's settings for labels lost to expiry (from its ``performance`` spec)."""

    period: float  # seconds of label time
    min_labels: int
    max_expired_share: float


@dataclass(slots=True)
class LabelLoss:
    """Per model: labels received and labels expired without their prediction, per
    period of label time."""

    # model -> period number -> [labels received, expired unjoined]
    periods: dict[str, dict[int, list[int]]] = field(default_factory=dict)
    judged_to: dict[str, int] = field(default_factory=dict)  # model -> first open period

    def add_labels(self, model: str, stamps: Sequence[float], period: float) -> None:
        self._count(model, stamps, period, 0)

    def add_expired(self, model: str, stamps: Sequence[float], period: float) -> None:
        self._count(model, stamps, period, 1)

    def _count(self, model: str, stamps: Sequence[float], period: float, column: int) -> None:
        if not stamps:
            return
        first_open = self.judged_to.get(model, -(2**62))
        table = self.periods.setdefault(model, {})
        for ts in stamps:
            number = math.floor(ts / period)
            if number >= first_open:
                cell = table.get(number)
                if cell is None:
                    cell = table[number] = [0, 0]
                cell[column] += 1
        if not table:
            del self.periods[model]

    def close(
        self, cutoff_of: Callable[[str], float], rule_of: Callable[[str], LossRule]
    ) -> list[WindowResult]:
        """The results of the periods that every label has left, joined or expired: those
        that end before the model's label cutoff (``cutoff_of(model_id)``)."""
        results: list[WindowResult] = []
        for model in sorted(self.periods):
            table = self.periods[model]
            rule = rule_of(model)
            cutoff = cutoff_of(model)
            if (min(table) + 1) * rule.period > cutoff:
                continue
            for number in sorted(table):
                if (number + 1) * rule.period > cutoff:
                    break
                received, expired = table.pop(number)
                self.judged_to[model] = number + 1
                if received >= rule.min_labels:
                    results.append(_loss_result(model, number, received, expired, rule))
            if not table:
                del self.periods[model]
        return results

    def to_dict(self) -> dict[str, Any]:
        return {
            "periods": [
                [m, [[n, *cell] for n, cell in sorted(table.items())]]
                for m, table in self.periods.items()
            ],
            "judged_to": dict(self.judged_to),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> LabelLoss:
        out = cls()
        for m, rows in d["periods"]:
            out.periods[m] = {int(n): [int(r), int(e)] for n, r, e in rows}
        out.judged_to = {m: int(n) for m, n in d["judged_to"].items()}
        return out


def _loss_result(
    model: str, number: int, received: int, expired: int, rule: LossRule
) -> WindowResult:
    share = min(1.0, expired / received)
    start = number * rule.period
    check = CheckResult(
        "label_expiry",
        AlertKind.LABEL_HEALTH,
        "label_expiry",
        "expired_label_share",
        share,
        rule.max_expired_share,
        None,
        drifted=share > rule.max_expired_share,
        detail=f"{expired} of {received} labels with timestamps in the {rule.period:g} s from "
        f"{start:.0f} expired without their prediction (feedback_ttl passed)",
    )
    info = WindowInfo(start=start, end=start + rule.period, count=received)
    return WindowResult(model, ALL_VERSIONS, None, number, info, 0, (check,))


@dataclass(frozen=True, slots=True)
class CoverageRule:
    """One model's label-coverage settings (from its ``performance`` spec)."""

    period: float  # seconds of prediction time
    min_predictions: int
    min_coverage: float


@dataclass(slots=True)
class LabelCoverage:
    """Per (model, version): predictions and labelled ones per prediction-time period."""

    # key -> period number -> [predictions, labelled]
    periods: dict[VersionKey, dict[int, list[int]]] = field(default_factory=dict)
    # key -> the first period number not judged yet (earlier ones are closed)
    judged_to: dict[VersionKey, int] = field(default_factory=dict)
    late_labels: dict[str, int] = field(default_factory=dict)  # per model
    # key -> no period of it can be due before this deadline (a cache; absent: unknown)
    _due: dict[VersionKey, float] = field(default_factory=dict)

    def add_predictions(
        self,
        key: VersionKey,
        stamps: Sequence[float],
        period: float,
        duplicates: int = 0,
    ) -> None:
        """Count a batch of predictions (``duplicates`` of them repeats of known ids)."""
        if not stamps:
            return
        table = self.periods.setdefault(key, {})
        first_open = self.judged_to.get(key, -(2**62))
        first = math.floor(min(stamps) / period)
        counts: dict[int, int]
        if first == math.floor(max(stamps) / period):  # the usual batch: one period
            counts = {first: len(stamps)}
        else:
            numbers, sizes = np.unique(
                np.floor(np.asarray(stamps, dtype=np.float64) / period), return_counts=True
            )
            counts = dict(zip(numbers.astype(np.int64).tolist(), sizes.tolist(), strict=True))
        for number, n in counts.items():
            if number >= first_open:
                cell = table.get(number)
                if cell is None:
                    table[number] = [n, 0]
                else:
                    cell[0] += n
        if duplicates:
            cell = table.get(first)
            if cell is not None:
                cell[0] = max(cell[1], cell[0] - duplicates)
        if not table:
            del self.periods[key]
        self._due.pop(key, None)  # recompute its next deadline

    def add_labelled(
        self, rows: Iterable[LabelledPrediction], period_of: Callable[[str], float]
    ) -> None:
        """Count joined rows for the periods of their predictions."""
        for row in rows:
            key = (row.model_id, row.model_version)
            number = math.floor(row.predicted_at / period_of(row.model_id))
            cell = self.periods.get(key, {}).get(number)
            if cell is None:  # its period was judged already (or predates the state)
                self.late_labels[row.model_id] = self.late_labels.get(row.model_id, 0) + 1
            else:
                cell[1] += 1

    def close(
        self,
        clock_of: Callable[[str], tuple[float, float, float]],
        rule_of: Callable[[str], CoverageRule],
    ) -> list[WindowResult]:
        """The label-health results of every period no label can reach in time any more,
        oldest first per (model, version). ``clock_of(model_id)`` is the model's
        ``(prediction watermark, feedback watermark, prediction_ttl)``."""
        results: list[WindowResult] = []
        reached: dict[str, tuple[float, float]] = {}  # model -> (judged up to, ttl)
        for key in sorted(self.periods):
            model = key[0]
            if model not in reached:
                p_wm, f_wm, ttl = clock_of(model)
                # feedback stalled: one more TTL of grace
                reached[model] = (max(min(f_wm, p_wm), p_wm - ttl), ttl)
            now, ttl = reached[model]
            if now < self._due.get(key, -math.inf):
                continue
            table = self.periods[key]
            rule = rule_of(model)
            due = math.inf
            for number in sorted(table):
                end = (number + 1) * rule.period
                if now < end + ttl:
                    due = end + ttl
                    break
                predictions, labelled = table.pop(number)
                self.judged_to[key] = number + 1
                if predictions >= rule.min_predictions:
                    results.append(_result(key, number, predictions, labelled, rule, ttl))
            if table:
                self._due[key] = due
            else:
                del self.periods[key]
                self._due.pop(key, None)
        return results

    def forget(self, key: VersionKey) -> None:
        """A retired version (``engine/endings.py``): its periods are no longer judged."""
        self.periods.pop(key, None)
        self.judged_to.pop(key, None)
        self._due.pop(key, None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "periods": [
                [m, v, [[n, *cell] for n, cell in sorted(table.items())]]
                for (m, v), table in self.periods.items()
            ],
            "judged_to": [[m, v, n] for (m, v), n in self.judged_to.items()],
            "late_labels": dict(self.late_labels),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> LabelCoverage:
        out = cls()
        for m, v, rows in d["periods"]:
            out.periods[(m, v)] = {int(n): [int(p), int(k)] for n, p, k in rows}
        out.judged_to = {(m, v): int(n) for m, v, n in d["judged_to"]}
        out.late_labels = {m: int(k) for m, k in d["late_labels"].items()}
        return out


def _result(
    key: VersionKey, number: int, predictions: int, labelled: int, rule: CoverageRule, ttl: float
) -> WindowResult:
    coverage = min(1.0, labelled / predictions)
    start = number * rule.period
    check = CheckResult(
        "label_coverage",
        AlertKind.LABEL_HEALTH,
        "label_coverage",
        "label_coverage",
        coverage,
        rule.min_coverage,
        None,
        drifted=coverage < rule.min_coverage,
        detail=f"{labelled} of {predictions} predictions made in the {rule.period:g} s from "
        f"{start:.0f} labelled within prediction_ttl ({ttl:g} s)",
    )
    info = WindowInfo(start=start, end=start + rule.period, count=predictions)
    measured = (("label_coverage", coverage), ("labelled", float(labelled)))
    return WindowResult(key[0], key[1], None, number, info, 0, (check,), measured)
