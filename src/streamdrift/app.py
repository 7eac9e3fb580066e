"""The Faust app and its wiring, nothing else.

``create_app(settings)`` builds a fresh app (no import-time side effects): input and
output topics, the predictions agent over a :class:`~streamdrift.core.fleet.MonitorFleet`,
and the Prometheus endpoint started with the worker.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import faust

from streamdrift import codec
from streamdrift.agents.predictions import PredictionsAgent
from streamdrift.alerts.policy import AlertPolicy
from streamdrift.config import Settings
from streamdrift.core.fleet import MonitorFleet
from streamdrift.metrics import Metrics
from streamdrift.records import Alert

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Wiring:
    """The Faust app and the core objects its agents drive (for tests and the demo)."""

    app: faust.App
    fleet: MonitorFleet
    metrics: Metrics


def create_app(settings: Settings, metrics: Metrics | None = None) -> Wiring:
    """Build the Faust app for ``settings`` and wire the agents to a fresh core."""
    metrics = metrics or Metrics()
    app = faust.App(
        settings.app_id,
        broker=settings.broker,
        datadir=settings.data_dir,
        store="memory://",
        web_enabled=False,  # Prometheus has its own endpoint; Faust's web UI is not needed
        key_serializer="raw",
        value_serializer="raw",
        topic_allow_declare=False,  # topics come from topics/ (`streamdrift topics apply`)
        topic_disable_leader=True,
        producer_acks=-1,
        consumer_auto_offset_reset="earliest",
    )
    predictions = app.topic(settings.topic_predictions, value_type=bytes, key_type=bytes)
    drift_alerts = app.topic(settings.topic_drift_alerts, value_type=bytes, key_type=bytes)

    async def send_alert(alert: Alert) -> None:
        await drift_alerts.send(key=alert.model_id.encode(), value=codec.encode_alert(alert))

    fleet = MonitorFleet(settings.model_specs(), AlertPolicy(resolve_after=settings.resolve_after))
    agent = PredictionsAgent(
        fleet=fleet,
        metrics=metrics,
        send_alert=send_alert,
        topic=settings.topic_predictions,
        batch_max=settings.batch_max,
        batch_within=settings.batch_within,
    )

    async def predictions_agent(stream: Any) -> None:
        await agent(stream)

    app.agent(predictions, name="streamdrift.predictions")(predictions_agent)

    async def serve_metrics() -> None:
        metrics.serve(settings.metrics_host, settings.metrics_port)
        metrics.worker_up.set(1)
        if settings.metrics_port:
            log.info(
                "metrics at http://%s:%d/metrics", settings.metrics_host, settings.metrics_port
            )

    app.task(serve_metrics)
    return Wiring(app, fleet, metrics)
