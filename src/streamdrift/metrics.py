"""Prometheus metrics, all in one place.

A :class:`Metrics` owns its own registry (so tests can build several); the worker serves it
at ``http://<metrics_host>:<metrics_port>/metrics``. Label cardinality is bounded: model
labels beyond ``max_models`` distinct values are reported as ``__other__``.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server

OTHER = "__other__"

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


class Metrics:
    def __init__(self, max_models: int = 100, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        self.max_models = max_models
        self._models: set[str] = set()
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
        self.processing_latency = Histogram(
            "streamdrift_processing_latency_seconds",
            "From the newest event's Kafka timestamp to the end of its processing.",
            registry=r,
            buckets=LATENCY_BUCKETS,
        )
        self.worker_up = Gauge("streamdrift_worker_up", "1 while the worker runs.", registry=r)

    def model_label(self, model_id: str) -> str:
        """``model_id`` while fewer than ``max_models`` are known, then ``__other__``."""
        if model_id in self._models:
            return model_id
        if len(self._models) < self.max_models:
            self._models.add(model_id)
            return model_id
        return OTHER

    def serve(self, host: str, port: int) -> None:
        """Serve ``/metrics`` in a background thread (port 0: do not serve)."""
        if port:
            start_http_server(port, addr=host, registry=self.registry)
