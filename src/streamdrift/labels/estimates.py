"""Label-free performance estimates of one input partition, and their check against labels.

One :class:`~streamdrift.labels.estimated_performance.EstimatedPerformanceMonitor` and one
:class:`~streamdrift.labels.estimator_divergence.EstimatorDivergenceMonitor` per model
version that has a calibration (from its reference profile, :meth:`set_calibration`);
segments are estimated together (``segment`` null). Window results become alerts through
the partition's alert policy.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from streamdrift.alerts.policy import AlertPolicy
from streamdrift.config.spec import ModelSpecs
from streamdrift.drift.fleet import FleetUpdate
from streamdrift.labels.estimated_performance import EstimatedPerformanceMonitor
from streamdrift.labels.estimator_divergence import EstimatorDivergenceMonitor
from streamdrift.labels.join import LabelledPrediction
from streamdrift.labels.multiclass_calibration import Calibration, calibration_from_dict
from streamdrift.records import PredictionBatch, WindowResult

VersionKey = tuple[str, str]


@dataclass(slots=True)
class EstimateFleet:
    specs: ModelSpecs
    alerts: AlertPolicy
    calibrations: dict[VersionKey, Calibration] = field(default_factory=dict)
    estimators: dict[VersionKey, EstimatedPerformanceMonitor] = field(default_factory=dict)
    divergence: dict[VersionKey, EstimatorDivergenceMonitor] = field(default_factory=dict)

    def set_calibration(self, model_id: str, version: str, profile: Calibration) -> None:
        key = (model_id, version)
        self.calibrations[key] = profile
        for monitors in (self.estimators, self.divergence):
            monitor = monitors.get(key)
            if monitor is not None:
                monitor.profile = profile

    def observe(self, batches: Iterable[PredictionBatch]) -> FleetUpdate:
        update = FleetUpdate()
        for batch in batches:
            key = (batch.model_id, batch.model_version)
            if key not in self.calibrations:
                continue
            self._decide(batch.model_id, self._estimator(key).observe(batch), update)
        return update

    def add_labelled(self, rows: Sequence[LabelledPrediction]) -> FleetUpdate:
        update = FleetUpdate()
        groups: dict[VersionKey, list[LabelledPrediction]] = {}
        for row in rows:
            key = (row.model_id, row.model_version)
            if key in self.calibrations:
                groups.setdefault(key, []).append(row)
        for key, group in groups.items():
            self._decide(key[0], self._divergence(key).observe(group), update)
        return update

    def _decide(self, model_id: str, results: list[WindowResult], update: FleetUpdate) -> None:
        resolve_after = self.specs.for_model(model_id).resolve_after
        for result in results:
            update.windows.append(result)
            update.alerts.extend(self.alerts.decide(result, resolve_after))

    def _estimator(self, key: VersionKey) -> EstimatedPerformanceMonitor:
        monitor = self.estimators.get(key)
        if monitor is None:
            spec = self.specs.for_model(key[0])
            monitor = self.estimators[key] = EstimatedPerformanceMonitor(
                *key, None, spec.window, spec.performance, spec.min_window_count,
                self.calibrations[key],
            )  # fmt: skip
        return monitor

    def _divergence(self, key: VersionKey) -> EstimatorDivergenceMonitor:
        monitor = self.divergence.get(key)
        if monitor is None:
            spec = self.specs.for_model(key[0]).performance
            monitor = self.divergence[key] = EstimatorDivergenceMonitor(
                *key, None, spec, self.calibrations[key]
            )
        return monitor

    # -- state ------------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        return {
            "calibrations": [[m, v, c.to_dict()] for (m, v), c in self.calibrations.items()],
            "estimators": [m.to_dict() for m in self.estimators.values()],
            "divergence": [m.to_dict() for m in self.divergence.values()],
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any], specs: ModelSpecs, alerts: AlertPolicy) -> EstimateFleet:
        fleet = cls(specs, alerts)
        for m, v, c in d["calibrations"]:
            fleet.calibrations[(m, v)] = calibration_from_dict(c)
        for state in d["estimators"]:
            key = (state["model_id"], state["model_version"])
            spec = specs.for_model(key[0])
            fleet.estimators[key] = EstimatedPerformanceMonitor.from_dict(
                state, spec.window, spec.performance, spec.min_window_count,
                fleet.calibrations.get(key),
            )  # fmt: skip
        for state in d["divergence"]:
            key = (state["model_id"], state["model_version"])
            fleet.divergence[key] = EstimatorDivergenceMonitor.from_dict(
                state, specs.for_model(key[0]).performance, fleet.calibrations.get(key)
            )
        return fleet
