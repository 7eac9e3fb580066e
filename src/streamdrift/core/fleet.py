"""All monitors of one worker: routes batches to per-(model, version, segment) monitors.

The number of segments tracked per model version is bounded (``max_segments``); rows of
further segments are monitored together under the segment ``"__other__"`` and counted, so
a flood of new segment values cannot grow memory without bound.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from streamdrift.alerts.policy import AlertPolicy
from streamdrift.core.monitor import DriftMonitor, DriftPolicy
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
    policy: DriftPolicy
    alerts: AlertPolicy
    max_segments: int = 100
    monitors: dict[MonitorKey, DriftMonitor] = field(default_factory=dict)
    segments: dict[tuple[str, str], set[str]] = field(default_factory=dict)
    overflow_events: int = 0

    def observe(self, batches: Iterable[PredictionBatch]) -> FleetUpdate:
        update = FleetUpdate()
        for batch in batches:
            monitor = self._monitor_for(batch)
            for result in monitor.observe(batch):
                update.windows.append(result)
                update.alerts.extend(self.alerts.decide(result))
        return update

    def _monitor_for(self, batch: PredictionBatch) -> DriftMonitor:
        segment = batch.segment
        if segment is not None:
            known = self.segments.setdefault((batch.model_id, batch.model_version), set())
            if segment not in known:
                if len(known) >= self.max_segments:
                    self.overflow_events += len(batch)
                    segment = OTHER_SEGMENT
                else:
                    known.add(segment)
        key = (batch.model_id, batch.model_version, segment)
        monitor = self.monitors.get(key)
        if monitor is None:
            monitor = self.monitors[key] = DriftMonitor(
                batch.model_id, batch.model_version, segment, self.policy
            )
        return monitor
