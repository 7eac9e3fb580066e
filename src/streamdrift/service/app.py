"""The Faust app and its wiring, nothing else.

``create_app(settings)`` builds a fresh app (no import-time side effects) and the service
that runs streamdrift's hot path inside it: a :class:`~streamdrift.kafka.runner.StreamRunner`
over a :class:`~streamdrift.engine.processor.Processor`, plus the Prometheus endpoint.
The Faust worker gives the process its lifecycle (signals, logging, graceful shutdown) and
reads the reference profiles into a GlobalTable (``service/references.py``) that the
runner applies between batches.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

import faust
import mode

from streamdrift import codec
from streamdrift.config.settings import Settings
from streamdrift.engine.messages import DEAD_LETTER_REASONS
from streamdrift.engine.processor import Processor
from streamdrift.kafka.runner import HEARTBEAT_INTERVAL, SESSION_TIMEOUT, StreamRunner
from streamdrift.kafka.security import faust_credentials
from streamdrift.metrics import Metrics
from streamdrift.service.references import ReferenceTable
from streamdrift.storage.sqlite_spill import SqliteSpillStore

log = logging.getLogger(__name__)


class MonitorService(mode.Service):
    """Runs the stream runner for as long as the Faust worker runs; a crash stops the worker."""

    def __init__(self, settings: Settings, runner: StreamRunner, metrics: Metrics) -> None:
        super().__init__()
        self.settings = settings
        self.runner = runner
        self.metrics = metrics
        self._task: asyncio.Task[None] | None = None

    async def on_start(self) -> None:
        self._task = asyncio.ensure_future(self._run())

    async def _run(self) -> None:
        try:
            await self.runner.run()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.error("the monitor stopped: %s", exc)
            await self.crash(exc)

    async def on_stop(self) -> None:
        self.runner.stop()
        if self._task is not None:
            try:
                await asyncio.wait_for(self._task, timeout=30)
            except (TimeoutError, asyncio.CancelledError):
                self._task.cancel()


@dataclass(frozen=True, slots=True)
class Wiring:
    """The Faust app and what it runs (for the worker, tests and the demo)."""

    app: Any
    service: MonitorService
    processor: Processor
    runner: StreamRunner
    metrics: Metrics
    references: ReferenceTable


def create_app(settings: Settings, metrics: Metrics | None = None) -> Wiring:
    """Build the Faust app for ``settings`` and wire the monitor service to a fresh core.

    Creates the data directory (and its parents): Faust creates only the last component.
    """
    settings.data_path.mkdir(parents=True, exist_ok=True)
    metrics = metrics or Metrics(
        settings.metrics_max_models,
        settings.metrics_max_features,
        input_topics=(settings.topic_predictions, settings.topic_feedback),
        decode_reasons=codec.DECODE_REASONS,
        dead_letter_reasons=DEAD_LETTER_REASONS,
    )
    app = faust.App(
        settings.app_id,
        broker=settings.broker,
        datadir=str(settings.data_path),
        store="memory://",
        web_enabled=False,  # Prometheus has its own endpoint; Faust's web UI is not needed
        key_serializer="raw",
        value_serializer="raw",
        topic_allow_declare=False,  # topics come from topics/ (`streamdrift topics apply`)
        producer_acks=-1,
        broker_credentials=faust_credentials(settings),  # Faust's own producer/consumer
        broker_session_timeout=SESSION_TIMEOUT,  # as the runner's group: a restart is quick
        broker_heartbeat_interval=HEARTBEAT_INTERVAL,
    )
    processor = Processor(settings, spill_store=SqliteSpillStore)
    references = ReferenceTable(app, settings)
    runner = StreamRunner(settings, processor, metrics, references)
    service = MonitorService(settings, runner, metrics)
    return Wiring(app, service, processor, runner, metrics, references)
