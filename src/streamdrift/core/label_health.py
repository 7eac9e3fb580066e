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

Everything is event time and counted per row; labels that arrive after their period was
judged (a prediction stream more than a TTL ahead of the feedback) are counted in
``late_labels`` and do not change the verdict. Duplicate predictions (a producer's
retries) are taken off the count of the period of their batch's first row.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from streamdrift.core.join import LabelledPrediction
from streamdrift.records import AlertKind, CheckResult, WindowInfo, WindowResult

VersionKey = tuple[str, str]  # (model_id, model_version)


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
    _due: float = -math.inf  # no period can be due before this deadline (a cache)

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
        self._due = -math.inf  # recompute the next deadline

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
        feedback_watermark: float,
        prediction_watermark: float,
        ttl: float,
        rule_of: Callable[[str], CoverageRule],
    ) -> list[WindowResult]:
        """The label-health results of every period no label can reach in time any more,
        oldest first per (model, version)."""
        both = min(feedback_watermark, prediction_watermark)
        stalled = prediction_watermark - ttl  # feedback stalled: one more TTL of grace
        if max(both, stalled) < self._due:
            return []
        results: list[WindowResult] = []
        due = math.inf
        for key in sorted(self.periods):
            table = self.periods[key]
            rule = rule_of(key[0])
            for number in sorted(table):
                end = (number + 1) * rule.period
                if max(both, stalled) < end + ttl:
                    due = min(due, end + ttl)
                    break
                predictions, labelled = table.pop(number)
                self.judged_to[key] = number + 1
                if predictions >= rule.min_predictions:
                    results.append(_result(key, number, predictions, labelled, rule, ttl))
            if not table:
                del self.periods[key]
        self._due = due
        return results

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
