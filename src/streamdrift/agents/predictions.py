"""The predictions agent: decode a batch of Kafka events, hand it to the core, emit alerts.

It stays thin on purpose: everything it calls is pure and tested without a broker. Events
are taken in batches (``Stream.take_events``) so the statistics run on whole arrays and the
per-event cost is one JSON decode and a few list appends.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from streamdrift import codec
from streamdrift.core.fleet import MonitorFleet
from streamdrift.metrics import Metrics
from streamdrift.records import Alert, AlertStatus, PredictionBatch, PredictionEvent, to_batches

log = logging.getLogger(__name__)

SendAlert = Callable[[Alert], Awaitable[None]]


@dataclass(slots=True)
class DecodedBatch:
    items: list[PredictionEvent | PredictionBatch]
    failures: int
    newest_kafka_ts: float | None


def decode_events(events: Sequence[Any], topic: str, metrics: Metrics) -> DecodedBatch:
    """Decode Faust events (raw values); invalid ones are logged and counted, never raised."""
    items: list[PredictionEvent | PredictionBatch] = []
    failures = 0
    newest: float | None = None
    for event in events:
        message = event.message
        newest = message.timestamp if newest is None else max(newest, message.timestamp)
        try:
            items.append(codec.decode_prediction(message.value))
        except codec.DecodeError as exc:
            failures += 1
            metrics.decode_failures.labels(topic, exc.reason).inc()
            log.warning(
                "invalid message at %s[%d]@%d (%s): %s",
                message.topic,
                message.partition,
                message.offset,
                exc.reason,
                exc,
            )
    metrics.messages_consumed.labels(topic).inc(len(events))
    return DecodedBatch(items, failures, newest)


@dataclass(slots=True)
class PredictionsAgent:
    fleet: MonitorFleet
    metrics: Metrics
    send_alert: SendAlert
    topic: str
    batch_max: int
    batch_within: float

    async def __call__(self, stream: Any) -> None:
        async for events in stream.take_events(self.batch_max, within=self.batch_within):
            started = time.perf_counter()
            decoded = decode_events(events, self.topic, self.metrics)
            batches = to_batches(decoded.items)
            for batch in batches:
                self.metrics.events_consumed.labels(
                    self.topic, self.metrics.model_label(batch.model_id)
                ).inc(len(batch))
            update = self.fleet.observe(batches)
            for window in update.windows:
                model = self.metrics.model_label(window.model_id)
                self.metrics.windows_closed.labels(model).inc()
                for check in window.tests:
                    self.metrics.drift_statistic.labels(model, check.feature, check.detector).set(
                        check.value
                    )
            for alert in update.alerts:
                await self.send_alert(alert)
                self._count(alert)
            done = time.time()
            self.metrics.batch_duration.observe(time.perf_counter() - started)
            if decoded.newest_kafka_ts is not None:
                self.metrics.processing_latency.observe(max(0.0, done - decoded.newest_kafka_ts))

    def _count(self, alert: Alert) -> None:
        self.metrics.alerts.labels(alert.kind.value, alert.status.value).inc()
        gauge = self.metrics.alerts_active.labels(alert.kind.value)
        if alert.status is AlertStatus.FIRING:
            gauge.inc()
            log.warning("ALERT %s", alert.message)
        else:
            gauge.dec()
            log.info("resolved: %s", alert.message)
