"""Labels of one input partition: the feedback join, performance monitors, label health.

:class:`DegradationFleet` feeds predictions and feedback to the partition's
:class:`~streamdrift.core.join.FeedbackJoin`, routes the joined rows to one
:class:`~streamdrift.core.performance.PerformanceMonitor` per (model, version, segment),
and turns their window results into alerts with the partition's alert policy.

Label health is judged when a model's performance window closes: the share of its
predictions that received a label before they expired since the previous window (label
coverage). Below the model's ``performance.min_coverage`` it raises a ``label_health``
alert. The label delay distribution is reported by the caller from the joined rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from streamdrift.alerts.policy import AlertPolicy
from streamdrift.core.fleet import FleetUpdate
from streamdrift.core.join import FeedbackEvent, FeedbackJoin, LabelledPrediction
from streamdrift.core.performance import PerformanceMonitor
from streamdrift.core.spec import ModelSpecs
from streamdrift.records import AlertKind, CheckResult, PredictionBatch, WindowResult

Key = tuple[str, str, str | None]


@dataclass(slots=True)
class DegradationUpdate(FleetUpdate):
    labelled: list[LabelledPrediction] = field(default_factory=list)


@dataclass(slots=True)
class DegradationFleet:
    specs: ModelSpecs
    alerts: AlertPolicy
    join: FeedbackJoin = field(init=False)
    monitors: dict[Key, PerformanceMonitor] = field(default_factory=dict)
    # per model: (labelled, unlabelled_expired) totals at the last label-health check
    coverage_marks: dict[str, tuple[int, int]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        perf = self.specs.default.performance  # the join's TTLs and bound are partition-wide
        self.join = FeedbackJoin(perf.prediction_ttl, perf.feedback_ttl, perf.max_pending)

    def add_predictions(self, batches: Iterable[PredictionBatch]) -> DegradationUpdate:
        labelled: list[LabelledPrediction] = []
        for batch in batches:
            labelled.extend(self.join.add_predictions(batch))
        return self._after(labelled)

    def add_feedback(self, events: Sequence[FeedbackEvent]) -> DegradationUpdate:
        return self._after(self.join.add_feedback(events))

    def _after(self, labelled: list[LabelledPrediction]) -> DegradationUpdate:
        self.join.expire()
        update = DegradationUpdate(labelled=labelled)
        groups: dict[Key, list[LabelledPrediction]] = {}
        for row in labelled:
            groups.setdefault((row.model_id, row.model_version, row.segment), []).append(row)
        for key, rows in groups.items():
            monitor = self._monitor(key)
            self._decide(monitor, monitor.observe(rows), update)
        return update

    def advance(self, watermark: float) -> DegradationUpdate:
        update = DegradationUpdate()
        for monitor in self.monitors.values():
            self._decide(monitor, monitor.advance(watermark), update)
        return update

    def _monitor(self, key: Key) -> PerformanceMonitor:
        monitor = self.monitors.get(key)
        if monitor is None:
            spec = self.specs.for_model(key[0]).performance
            monitor = self.monitors[key] = PerformanceMonitor(*key, spec)
        return monitor

    def _decide(
        self, monitor: PerformanceMonitor, results: list[WindowResult], update: FleetUpdate
    ) -> None:
        resolve_after = self.specs.for_model(monitor.model_id).resolve_after
        for result in results:
            health = self._label_health(monitor)
            if health is not None:
                result = WindowResult(
                    result.model_id,
                    result.model_version,
                    result.segment,
                    result.index,
                    result.window,
                    result.reference_count,
                    (*result.tests, health),
                )
            update.windows.append(result)
            update.alerts.extend(self.alerts.decide(result, resolve_after))

    def _label_health(self, monitor: PerformanceMonitor) -> CheckResult | None:
        model = monitor.model_id
        labelled = self.join.labelled.get(model, 0)
        expired = self.join.unlabelled_expired.get(model, 0)
        last_labelled, last_expired = self.coverage_marks.get(model, (0, 0))
        done = (labelled - last_labelled) + (expired - last_expired)
        if done < monitor.spec.min_labels:
            return None
        self.coverage_marks[model] = (labelled, expired)
        coverage = (labelled - last_labelled) / done
        threshold = monitor.spec.min_coverage
        return CheckResult(
            "label_coverage",
            AlertKind.LABEL_HEALTH,
            "label_coverage",
            "label_coverage",
            coverage,
            threshold,
            None,
            drifted=coverage < threshold,
            detail=f"{labelled - last_labelled} of {done} predictions labelled before expiry",
        )

    # -- state ------------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        return {
            "join": self.join.to_dict(),
            "monitors": [m.to_dict() for m in self.monitors.values()],
            "coverage_marks": {k: list(v) for k, v in self.coverage_marks.items()},
        }

    @classmethod
    def from_dict(
        cls, d: dict[str, Any], specs: ModelSpecs, alerts: AlertPolicy
    ) -> DegradationFleet:
        fleet = cls(specs, alerts)
        fleet.join = FeedbackJoin.from_dict(d["join"])
        for state in d["monitors"]:
            spec = specs.for_model(state["model_id"]).performance
            monitor = PerformanceMonitor.from_dict(state, spec)
            fleet.monitors[(monitor.model_id, monitor.model_version, monitor.segment)] = monitor
        fleet.coverage_marks = {k: (int(a), int(b)) for k, (a, b) in d["coverage_marks"].items()}
        return fleet
