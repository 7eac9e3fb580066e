"""What one call into the engine produced: the records to publish and the facts metrics read.

The engine never touches a metric: :class:`~streamdrift.engine.processor.Processor` returns
one :class:`Update` per call (a fetched batch, a tick of the clock, a reference, a restore),
the consumer loop publishes its :attr:`Update.records` and hands the rest to
:meth:`streamdrift.metrics.Metrics.record`. :class:`StateGauges` is the slow-moving part,
read when a partition is checkpointed.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from streamdrift.engine.messages import OutputRecord
from streamdrift.records import Alert, WindowResult

__all__ = ["StateGauges", "Update"]


@dataclass(slots=True)
class Update:
    records: list[OutputRecord] = field(default_factory=list)
    messages: Counter[str] = field(default_factory=Counter)  # consumed, per input topic
    events: Counter[tuple[str, str]] = field(default_factory=Counter)  # per (topic, model)
    event_time_lags: list[float] = field(default_factory=list)  # s, per observed fetch
    dead_letters: Counter[str] = field(default_factory=Counter)  # per reason
    decode_failures: Counter[tuple[str, str]] = field(default_factory=Counter)  # (topic, why)
    drift_windows: list[WindowResult] = field(default_factory=list)
    # closed performance windows, with their monitor's latest metric values
    label_windows: list[tuple[WindowResult, dict[str, float]]] = field(default_factory=list)
    estimate_windows: list[WindowResult] = field(default_factory=list)  # label-free estimates
    label_delays: list[float] = field(default_factory=list)  # s, per joined label
    labels_joined: Counter[str] = field(default_factory=Counter)  # per model
    alerts: list[Alert] = field(default_factory=list)  # firing and resolved, in order

    def extend(self, other: Update) -> None:
        """Append ``other`` (what came after this)."""
        self.records.extend(other.records)
        self.messages.update(other.messages)
        self.events.update(other.events)
        self.event_time_lags.extend(other.event_time_lags)
        self.dead_letters.update(other.dead_letters)
        self.decode_failures.update(other.decode_failures)
        self.drift_windows.extend(other.drift_windows)
        self.label_windows.extend(other.label_windows)
        self.estimate_windows.extend(other.estimate_windows)
        self.label_delays.extend(other.label_delays)
        self.labels_joined.update(other.labels_joined)
        self.alerts.extend(other.alerts)


@dataclass(slots=True)
class StateGauges:
    """The owned partitions' slow-moving state, summed over partitions."""

    late_events: dict[str, int] = field(default_factory=dict)  # per model (those with any)
    pending: dict[str, int] = field(default_factory=dict)  # per kind of waiting row
    join_events: dict[tuple[str, str], int] = field(default_factory=dict)  # (model, counter)
