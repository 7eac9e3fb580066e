"""Prometheus metrics, all in one place.

They are fed from what the engine returns, never from inside it: :meth:`Metrics.record`
reads each :class:`~streamdrift.engine.update.Update`, :meth:`Metrics.record_state` the
:class:`~streamdrift.engine.update.StateGauges` of a checkpointed partition; the consumer
loop sets its own (lag, batches, checkpoints, rebalances).

A :class:`Metrics` owns its own registry (so tests can build several); the worker serves it
at ``http://<metrics_host>:<metrics_port>/metrics``. Label cardinality is bounded by
configuration: model labels beyond ``max_models`` distinct values are reported as
``__other__``, and per-feature series (drift statistics) exist for at most
``max_features`` features per model; further features are monitored but not exported.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server

from streamdrift.engine.update import StateGauges, Update
from streamdrift.records import AlertKind, AlertStatus

OTHER = "__other__"

# streamdrift_pending_joins{kind}: waiting predictions (all, and where they wait), labels,
# labels held for models their partition does not know yet (engine/held_feedback.py)
PENDING_KINDS = (
    "predictions",
    "feedback",
    "predictions_in_memory",
    "predictions_on_disk",
    "feedback_unknown_model",
)
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


class Metrics:
    def __init__(
        self,
        max_models: int = 100,
        max_features: int = 50,
        registry: CollectorRegistry | None = None,
        *,
        input_topics: Sequence[str] = (),
        decode_reasons: Sequence[str] = (),
        dead_letter_reasons: Sequence[str] = (),
    ) -> None:
        self.registry = registry or CollectorRegistry()
        self.max_models = max_models
        self.max_features = max_features
        self._models: set[str] = set()
        self._features: dict[str, set[str]] = {}
        r = self.registry
        self.events_consumed = Counter(
            "streamdrift_events_consumed",
            "Events decoded from input topics.",
            ["topic", "model"],
            registry=r,
        )
        self.messages_consumed = Counter(
            "streamdrift_messages_consumed",
            "Kafka messages read from input topics.",
            ["topic"],
            registry=r,
        )
        self.decode_failures = Counter(
            "streamdrift_decode_failures",
            "Input messages that failed to decode, by reason.",
            ["topic", "reason"],
            registry=r,
        )
        self.windows_closed = Counter(
            "streamdrift_windows_closed",
            "Drift windows closed and tested.",
            ["model"],
            registry=r,
        )
        self.alerts = Counter(
            "streamdrift_alerts", "Alerts published.", ["kind", "status"], registry=r
        )
        self.alerts_active = Gauge(
            "streamdrift_alerts_active", "Alerts currently firing.", ["kind"], registry=r
        )
        self.drift_statistic = Gauge(
            "streamdrift_drift_statistic",
            "Latest drift statistic of a feature.",
            ["model", "feature", "test"],
            registry=r,
        )
        self.batch_duration = Histogram(
            "streamdrift_batch_duration_seconds",
            "Time to process one batch of messages.",
            registry=r,
            buckets=LATENCY_BUCKETS,
        )
        self.event_time_lag = Histogram(
            "streamdrift_event_time_lag_seconds",
            "Wall clock minus the newest event timestamp of a batch (live traffic: how far "
            "behind the model servers the monitor is; replays show their age).",
            registry=r,
            buckets=(*LATENCY_BUCKETS, 300.0, 3600.0, 86400.0),
        )
        self.late_events = Gauge(
            "streamdrift_late_events",
            "Events that arrived after their windows closed.",
            ["model"],
            registry=r,
        )
        self.processing_latency = Histogram(
            "streamdrift_processing_latency_seconds",
            "From the newest event's Kafka timestamp to the end of its processing.",
            registry=r,
            buckets=LATENCY_BUCKETS,
        )
        self.worker_up = Gauge("streamdrift_worker_up", "1 while the worker runs.", registry=r)
        self.dead_letter = Counter(
            "streamdrift_dead_letter",
            "Messages sent to the dead-letter topic, by reason.",
            ["reason"],
            registry=r,
        )
        self.consumer_lag = Gauge(
            "streamdrift_consumer_lag",
            "Messages behind the end of each input partition.",
            ["topic", "partition"],
            registry=r,
        )
        self.rebalances = Counter(
            "streamdrift_rebalances",
            "Consumer group rebalances (partitions assigned).",
            registry=r,
        )
        self.partitions_owned = Gauge(
            "streamdrift_partitions_owned", "Input partitions this worker owns.", registry=r
        )
        self.checkpoints = Counter(
            "streamdrift_checkpoints", "Checkpoints written (state + input offsets).", registry=r
        )
        self.checkpoint_bytes = Gauge(
            "streamdrift_checkpoint_bytes", "Size of the last checkpoint, compressed.", registry=r
        )
        self.checkpoint_duration = Histogram(
            "streamdrift_checkpoint_duration_seconds",
            "Time to flush outputs and checkpoint.",
            registry=r,
            buckets=LATENCY_BUCKETS,
        )
        self.restore_duration = Histogram(
            "streamdrift_restore_duration_seconds",
            "Time to read checkpoints and restore state on assignment.",
            registry=r,
            buckets=LATENCY_BUCKETS,
        )
        self.labels_joined = Counter(
            "streamdrift_labels_joined",
            "Predictions joined with their label.",
            ["model"],
            registry=r,
        )
        self.label_coverage = Gauge(
            "streamdrift_label_coverage_ratio",
            "Share of predictions labelled within prediction_ttl (latest judged period).",
            ["model"],
            registry=r,
        )
        self.label_delay = Histogram(
            "streamdrift_label_delay_seconds",
            "Event time from prediction to its label.",
            registry=r,
            buckets=(1, 5, 15, 60, 300, 900, 3600, 4 * 3600, 86400, 3 * 86400, 7 * 86400),
        )
        self.pending_joins = Gauge(
            "streamdrift_pending_joins",
            "Predictions and labels waiting to be joined (predictions: also split into "
            "predictions_in_memory and predictions_on_disk; feedback_unknown_model: labels "
            "held until their model's predictions come or the partition is read to its end).",
            ["kind"],
            registry=r,
        )
        self.join_spill_segments = Counter(
            "streamdrift_join_spill_segments",
            "Segments of waiting predictions the feedback join spilled to disk.",
            registry=r,
        )
        self.join_events = Gauge(
            "streamdrift_join_events",
            "Feedback-join counters (expired, duplicates …).",
            ["model", "counter"],
            registry=r,
        )
        self.model_metric = Gauge(
            "streamdrift_model_performance",
            "Latest windowed performance metric of a model.",
            ["model", "metric"],
            registry=r,
        )
        self.estimated_performance = Gauge(
            "streamdrift_estimated_performance",
            "Latest label-free estimate of a model's performance (CBPE; metric: accuracy, "
            "precision, recall, f1, roc_auc, each also _lower and _upper).",
            ["model", "metric"],
            registry=r,
        )
        self.kafka_errors = Counter(
            "streamdrift_kafka_errors",
            "Kafka client errors the worker recovered from.",
            ["operation"],
            registry=r,
        )

        self._declare(input_topics, decode_reasons, dead_letter_reasons)

    def _declare(
        self, topics: Sequence[str], decode_reasons: Sequence[str], dead_reasons: Sequence[str]
    ) -> None:
        """Create the series whose label values are known in advance, at 0, so that the
        first scrape has them and rules such as ``rate(...) > 0`` or ``absent()`` work before
        the first event (Prometheus' instrumentation guidance)."""
        for alert_kind in AlertKind:
            self.alerts_active.labels(alert_kind.value)
            for status in AlertStatus:
                self.alerts.labels(alert_kind.value, status.value)
        for reason in dead_reasons:
            self.dead_letter.labels(reason)
        for topic in topics:
            self.messages_consumed.labels(topic)
            for reason in decode_reasons:
                self.decode_failures.labels(topic, reason)
        for kind in PENDING_KINDS:
            self.pending_joins.labels(kind)

    def model_label(self, model_id: str) -> str:
        """``model_id`` while fewer than ``max_models`` are known, then ``__other__``."""
        if model_id in self._models:
            return model_id
        if len(self._models) < self.max_models:
            self._models.add(model_id)
            return model_id
        return OTHER

    def exports_feature(self, model_label: str, feature: str) -> bool:
        """Whether ``feature`` of the model gets its own series (the first ``max_features``)."""
        known = self._features.setdefault(model_label, set())
        if feature in known:
            return True
        if len(known) < self.max_features:
            known.add(feature)
            return True
        return False

    def record(self, update: Update) -> None:
        """Count what one call into the engine did (see :class:`Update`)."""
        label = self.model_label
        for topic, n in update.messages.items():
            self.messages_consumed.labels(topic).inc(n)
        for (topic, model), n in update.events.items():
            self.events_consumed.labels(topic, label(model)).inc(n)
        for lag in update.event_time_lags:
            self.event_time_lag.observe(lag)
        for reason, n in update.dead_letters.items():
            self.dead_letter.labels(reason).inc(n)
        for (topic, reason), n in update.decode_failures.items():
            self.decode_failures.labels(topic, reason).inc(n)
        for window in update.drift_windows:
            model = label(window.model_id)
            self.windows_closed.labels(model).inc()
            for check in window.tests:
                if self.exports_feature(model, check.feature):
                    self.drift_statistic.labels(model, check.feature, check.detector).set(
                        check.value
                    )
        for delay in update.label_delays:
            self.label_delay.observe(delay)
        for model_id, n in update.labels_joined.items():
            self.labels_joined.labels(label(model_id)).inc(n)
        for window, latest in update.label_windows:
            model = label(window.model_id)
            for name, value in latest.items():
                self.model_metric.labels(model, name).set(value)
            for check in window.tests:
                if check.statistic == "label_coverage":
                    self.label_coverage.labels(model).set(check.value)
        for window in update.estimate_windows:
            model = label(window.model_id)
            for name, value in window.metrics:
                if math.isfinite(value):
                    self.estimated_performance.labels(model, name.removeprefix("estimated_")).set(
                        value
                    )
        for alert in update.alerts:
            self.alerts.labels(alert.kind.value, alert.status.value).inc()
            active = self.alerts_active.labels(alert.kind.value)
            if alert.status is AlertStatus.FIRING:
                active.inc()
            else:
                active.dec()

    def record_state(self, gauges: StateGauges) -> None:
        """Set the slow-moving gauges from a checkpointed partition's state."""
        for model_id, n in gauges.late_events.items():
            self.late_events.labels(self.model_label(model_id)).set(n)
        for kind, n in gauges.pending.items():
            self.pending_joins.labels(kind).set(n)
        for (model_id, counter), n in gauges.join_events.items():
            self.join_events.labels(self.model_label(model_id), counter).set(n)

    def serve(self, host: str, port: int) -> None:
        """Serve ``/metrics`` in a background thread (port 0: do not serve)."""
        if port:
            start_http_server(port, addr=host, registry=self.registry)
