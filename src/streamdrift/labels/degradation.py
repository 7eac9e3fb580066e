"""Labels of one input partition: the feedback join, performance monitors, label health.

:class:`DegradationFleet` feeds predictions and feedback to the partition's
:class:`~streamdrift.labels.join.FeedbackJoin`, routes the joined rows to one
:class:`~streamdrift.labels.performance.PerformanceMonitor` per (model, version, segment),
and turns their window results into alerts with the partition's alert policy.

Reference performance: a model version's reference profile may carry its performance on
labelled data (:meth:`DegradationFleet.set_reference`); its monitors, current and future,
test against it instead of against their first labelled window.

Label health (:mod:`streamdrift.labels.label_health`): the share of a model version's
predictions labelled in time, judged per period of prediction time, also when no label
arrives at all. Below the model's ``performance.min_coverage`` it raises a
``label_health`` alert. The label delay distribution is reported by the caller from the
joined rows.

Feedback for a model that is neither configured nor has sent a prediction to this
partition is *unknown* (:meth:`DegradationFleet.knows`): by default the caller holds it and
rejects it once the partition's predictions were read to their end without one of its
model (``performance.unknown_model_feedback = "reject"``, ``engine/held_feedback.py``)
instead of letting it wait and expire.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from streamdrift.alerts.policy import AlertPolicy
from streamdrift.config.spec import ModelSpecs
from streamdrift.drift.fleet import FleetUpdate
from streamdrift.labels.join import FeedbackEvent, FeedbackJoin, LabelledPrediction
from streamdrift.labels.label_health import (
    CoverageRule,
    LabelCoverage,
    LabelLoss,
    LossRule,
    VersionKey,
)
from streamdrift.labels.labelled_metrics import with_decided
from streamdrift.labels.performance import (
    PerformanceMonitor,
    PerformanceSpec,
    ReferencePerformance,
)
from streamdrift.records import PredictionBatch, WindowResult

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
    coverage: LabelCoverage = field(default_factory=LabelCoverage)
    loss: LabelLoss = field(default_factory=LabelLoss)
    # reference performance from reference profiles, by (model, version)
    references: dict[VersionKey, ReferencePerformance] = field(default_factory=dict)

    def __post_init__(self) -> None:
        perf = self.specs.default.performance  # the join's bound is partition-wide
        self.join = FeedbackJoin(perf.prediction_ttl, perf.feedback_ttl, perf.max_pending)
        self._configure_join()

    def _configure_join(self) -> None:
        """The TTLs of the configuration (not those of a restored checkpoint): the
        defaults', and each model's own where they differ."""
        join = self.join
        perf = self.specs.default.performance
        join.prediction_ttl, join.feedback_ttl = perf.prediction_ttl, perf.feedback_ttl
        own = {}
        for model, spec in self.specs.models.items():
            ttls = (spec.performance.prediction_ttl, spec.performance.feedback_ttl)
            if ttls != (perf.prediction_ttl, perf.feedback_ttl):
                own[model] = ttls
        join.set_model_ttls(own)

    def knows(self, model_id: str) -> bool:
        """Whether feedback for ``model_id`` can be expected to join: the model is
        configured, or this partition has seen a prediction of it."""
        return model_id in self.specs.models or model_id in self.join.predictions_seen

    @property
    def rejects_unknown(self) -> bool:
        """Whether feedback of an unknown model is held and then goes to dead-letter
        (``performance.unknown_model_feedback = "reject"``, ``engine/held_feedback.py``)
        rather than waiting in the join."""
        return self.specs.default.performance.unknown_model_feedback == "reject"

    def set_reference(
        self, model_id: str, version: str, performance: ReferencePerformance
    ) -> DegradationUpdate:
        """Reference performance for (model, version): its monitors test against it."""
        self.references[(model_id, version)] = performance
        for (m, v, _), monitor in self.monitors.items():
            if (m, v) == (model_id, version):
                monitor.use_reference(performance)
        return DegradationUpdate()

    def add_predictions(self, batches: Iterable[PredictionBatch]) -> DegradationUpdate:
        labelled: list[LabelledPrediction] = []
        join = self.join
        for batch in batches:
            model = batch.model_id
            duplicates = join.duplicate_predictions.get(model, 0)
            if batch.predicted_labels is not None:  # the join keeps [prediction, class]
                batch = dataclasses.replace(
                    batch,
                    predictions=with_decided(
                        batch.predictions or [None] * len(batch), batch.predicted_labels
                    ),
                    predicted_labels=None,
                )
            labelled.extend(join.add_predictions(batch))
            self.coverage.add_predictions(
                (model, batch.model_version),
                batch.timestamps,
                self._perf(model).coverage_period,
                join.duplicate_predictions.get(model, 0) - duplicates,
            )
        return self._after(labelled)

    def add_feedback(self, events: Sequence[FeedbackEvent]) -> DegradationUpdate:
        stamps: dict[str, list[float]] = {}
        for ev in events:
            stamps.setdefault(ev.model_id, []).append(ev.timestamp)
        for model, times in stamps.items():
            self.loss.add_labels(model, times, self._perf(model).coverage_period)
        return self._after(self.join.add_feedback(events))

    def _after(self, labelled: list[LabelledPrediction]) -> DegradationUpdate:
        join = self.join
        expired = join.expire()
        for model, times in expired.orphan_feedback_at.items():
            self.loss.add_expired(model, times, self._perf(model).coverage_period)
        update = DegradationUpdate(labelled=labelled)
        self.coverage.add_labelled(labelled, lambda m: self._perf(m).coverage_period)
        groups: dict[Key, list[LabelledPrediction]] = {}
        for row in labelled:
            groups.setdefault((row.model_id, row.model_version, row.segment), []).append(row)
        for key, rows in groups.items():
            monitor = self._monitor(key)
            self._decide(monitor, monitor.observe(rows), update)
        health = self.coverage.close(self._clock, self._rule)
        health += self.loss.close(self._loss_cutoff, self._loss_rule)
        for result in health:
            update.windows.append(result)
            resolve_after = self.specs.for_model(result.model_id).resolve_after
            update.alerts.extend(self.alerts.decide(result, resolve_after))
        return update

    def _clock(self, model_id: str) -> tuple[float, float, float]:
        """The model's (prediction watermark, feedback watermark, prediction_ttl)."""
        join = self.join
        return (
            join.prediction_watermarks.get(model_id, -math.inf),
            join.feedback_watermarks.get(model_id, -math.inf),
            join.ttls(model_id)[0],
        )

    def _perf(self, model_id: str) -> PerformanceSpec:
        return self.specs.for_model(model_id).performance

    def _loss_cutoff(self, model_id: str) -> float:
        """Labels before this have all arrived (the model's feedback watermark) and all
        joined or expired (its label cutoff)."""
        join = self.join
        return min(join.cutoffs(model_id)[1], join.feedback_watermarks.get(model_id, -math.inf))

    def _loss_rule(self, model_id: str) -> LossRule:
        perf = self._perf(model_id)
        return LossRule(perf.coverage_period, perf.min_labels, perf.max_expired_share)

    def _rule(self, model_id: str) -> CoverageRule:
        perf = self._perf(model_id)
        return CoverageRule(perf.coverage_period, perf.min_labels, perf.min_coverage)

    def advance(self, watermark: float) -> DegradationUpdate:
        update = DegradationUpdate()
        for monitor in self.monitors.values():
            self._decide(monitor, monitor.advance(watermark), update)
        return update

    def _monitor(self, key: Key) -> PerformanceMonitor:
        monitor = self.monitors.get(key)
        if monitor is None:
            model_spec = self.specs.for_model(key[0])
            monitor = self.monitors[key] = PerformanceMonitor(
                *key,
                model_spec.performance,
                calibrated=model_spec.threshold_mode == "reference",
                budget=model_spec.budget,
                max_segments=model_spec.max_segments,
            )
            reference = self.references.get((key[0], key[1]))
            if reference is not None:
                monitor.use_reference(reference)
        return monitor

    def _decide(
        self, monitor: PerformanceMonitor, results: list[WindowResult], update: FleetUpdate
    ) -> None:
        resolve_after = self.specs.for_model(monitor.model_id).resolve_after
        for result in results:
            update.windows.append(result)
            update.alerts.extend(self.alerts.decide(result, resolve_after))

    # -- state ------------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        return {
            "join": self.join.to_dict(),
            "monitors": [m.to_dict() for m in self.monitors.values()],
            "coverage": self.coverage.to_dict(),
            "loss": self.loss.to_dict(),
            "references": [[m, v, p.to_dict()] for (m, v), p in self.references.items()],
        }

    @classmethod
    def from_dict(
        cls, d: dict[str, Any], specs: ModelSpecs, alerts: AlertPolicy
    ) -> DegradationFleet:
        fleet = cls(specs, alerts)
        fleet.join = FeedbackJoin.from_dict(d["join"])
        fleet._configure_join()
        for state in d["monitors"]:
            model_spec = specs.for_model(state["model_id"])
            monitor = PerformanceMonitor.from_dict(
                state, model_spec.performance, model_spec.budget, model_spec.max_segments
            )
            fleet.monitors[(monitor.model_id, monitor.model_version, monitor.segment)] = monitor
        if "coverage" in d:  # checkpoints before coverage periods: start counting afresh
            fleet.coverage = LabelCoverage.from_dict(d["coverage"])
        if "loss" in d:  # checkpoints before label loss periods: start counting afresh
            fleet.loss = LabelLoss.from_dict(d["loss"])
        fleet.references = {
            (m, v): ReferencePerformance.from_dict(p) for m, v, p in d.get("references", [])
        }
        return fleet
