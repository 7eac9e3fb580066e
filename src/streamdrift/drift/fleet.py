"""All drift monitors of one input partition: routes batches to per-(model, version,
segment) monitors and turns their window results into alerts.

The number of segments tracked per model version is bounded (``max_segments`` of the
model's spec); rows of further segments are monitored together under the segment
``"__other__"`` and counted, so a flood of new segment values cannot grow memory without
bound. The whole fleet serialises to plain data (:meth:`to_dict`) for checkpoints.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from streamdrift.alerts.policy import AlertPolicy
from streamdrift.config.spec import ModelSpecs
from streamdrift.drift.monitor import DriftMonitor
from streamdrift.drift.profiles import Profiles, profiles_from_dict, profiles_to_dict
from streamdrift.records import Alert, PredictionBatch, WindowResult

OTHER_SEGMENT = "__other__"

MonitorKey = tuple[str, str, str | None]


@dataclass(slots=True)
class FleetUpdate:
    """What one call to :meth:`MonitorFleet.observe` produced."""

    windows: list[WindowResult] = field(default_factory=list)
    alerts: list[Alert] = field(default_factory=list)


@dataclass(slots=True)
class MonitorFleet:
    specs: ModelSpecs
    alerts: AlertPolicy = field(default_factory=AlertPolicy)
    monitors: dict[MonitorKey, DriftMonitor] = field(default_factory=dict)
    segments: dict[tuple[str, str], set[str]] = field(default_factory=dict)
    overflow_events: int = 0
    # reference profiles by (model, version), applied to every segment's monitor
    references: dict[tuple[str, str], tuple[Profiles, int]] = field(default_factory=dict)

    def observe(self, batches: Iterable[PredictionBatch]) -> FleetUpdate:
        update = FleetUpdate()
        for batch in batches:
            monitor = self._monitor_for(batch)
            self._decide(monitor.observe(batch), monitor, update)
        return update

    def advance(self, watermark: float) -> FleetUpdate:
        """Close event-time windows up to ``watermark`` in every monitor (idle streams)."""
        update = FleetUpdate()
        for monitor in self.monitors.values():
            self._decide(monitor.advance(watermark), monitor, update)
        return update

    def end_of_input(self, model_id: str, version: str | None = None) -> FleetUpdate:
        """Close the partial windows of every monitor of ``model_id`` (of one ``version``,
        when given), in monitor creation order: the same on every replay."""
        update = FleetUpdate()
        for (m, v, _), monitor in self.monitors.items():
            if m == model_id and version in (None, v):
                self._decide(monitor.flush(), monitor, update)
        return update

    def set_reference(
        self, model_id: str, version: str, profiles: Profiles, count: int
    ) -> FleetUpdate:
        """A reference profile for (model, version): used by its current and future monitors
        and by those whose spec names it (``reference.profile``)."""
        self.references[(model_id, version)] = (profiles, count)
        update = FleetUpdate()
        for (m, v, _), monitor in self.monitors.items():
            reference = monitor.spec.reference
            if reference.mode == "profile" and reference.source(m, v) == (model_id, version):
                self._decide(monitor.set_reference(profiles, count), monitor, update)
        return update

    def _decide(
        self, results: list[WindowResult], monitor: DriftMonitor, update: FleetUpdate
    ) -> None:
        for result in results:
            update.windows.append(result)
            update.alerts.extend(self.alerts.decide(result, monitor.spec.resolve_after))

    def _monitor_for(self, batch: PredictionBatch) -> DriftMonitor:
        spec = self.specs.for_model(batch.model_id)
        segment = batch.segment
        if segment is not None:
            known = self.segments.setdefault((batch.model_id, batch.model_version), set())
            if segment not in known:
                if len(known) >= spec.max_segments:
                    self.overflow_events += len(batch)
                    segment = OTHER_SEGMENT
                else:
                    known.add(segment)
        key = (batch.model_id, batch.model_version, segment)
        monitor = self.monitors.get(key)
        if monitor is None:
            monitor = self.monitors[key] = DriftMonitor(
                batch.model_id, batch.model_version, segment, spec
            )
            source = spec.reference.source(batch.model_id, batch.model_version)
            reference = self.references.get(source)
            if reference is not None and spec.reference.mode == "profile":
                monitor.set_reference(*reference)
        return monitor

    # -- state ------------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        return {
            "monitors": [m.to_dict() for m in self.monitors.values()],
            "segments": [[m, v, sorted(s)] for (m, v), s in self.segments.items()],
            "overflow_events": self.overflow_events,
            "alerts": self.alerts.to_dict(),
            "references": [
                [m, v, profiles_to_dict(p), n] for (m, v), (p, n) in self.references.items()
            ],
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any], specs: ModelSpecs) -> MonitorFleet:
        fleet = cls(specs, AlertPolicy.from_dict(d["alerts"]))
        for state in d["monitors"]:
            monitor = DriftMonitor.from_dict(state, specs.for_model(state["model_id"]))
            fleet.monitors[(monitor.model_id, monitor.model_version, monitor.segment)] = monitor
        fleet.segments = {(m, v): set(s) for m, v, s in d["segments"]}
        fleet.overflow_events = d["overflow_events"]
        fleet.references = {(m, v): (profiles_from_dict(p), n) for m, v, p, n in d["references"]}
        return fleet
