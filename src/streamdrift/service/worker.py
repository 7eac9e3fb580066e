"""Run the Faust worker: make sure the topics exist, then hand over to Faust's Worker."""

from __future__ import annotations

import asyncio
import gc
import logging
from typing import Any

from streamdrift.config.settings import ConfigError, Settings
from streamdrift.kafka import topics
from streamdrift.kafka.security import client_options

log = logging.getLogger(__name__)


class WorkerStartError(RuntimeError):
    """The worker cannot start (broker unreachable, topics missing …)."""


def leader_topic(settings: Settings) -> str:
    """Faust's leader-election topic of the app (``faust.assignor.LeaderAssignor``): with
    ``topic_allow_declare=False`` Faust does not create it, and logs an ERROR on every start
    when it is missing."""
    return f"{settings.app_id}-__assignor-__leader"


def consumer_groups(settings: Settings) -> tuple[str, ...]:
    """The worker's consumer groups: the hot path's (runner.py) and Faust's own."""
    return (f"{settings.app_id}.monitor", settings.app_id)


def internal_topics(settings: Settings) -> list[topics.TopicSpec]:
    """Topics the worker owns: the checkpoint topic of its app id (a checkpoint holds a
    partition's state) and the feedback join's spill topic (segments of waiting predictions
    the checkpoints reference), both compacted, one partition, large messages; and Faust's
    leader topic (one partition, nothing is written to it)."""
    from streamdrift.kafka.checkpoints import CHECKPOINT_MAX_BYTES, checkpoint_topic, spill_topic

    config = {
        "max.message.bytes": str(CHECKPOINT_MAX_BYTES),
        "min.cleanable.dirty.ratio": "0.1",
        "segment.ms": "600000",
    }
    week_ms = 7 * 86_400_000
    return [
        topics.TopicSpec("checkpoints", checkpoint_topic(settings), 1, 1, -1, "compact", config),
        topics.TopicSpec("join-spill", spill_topic(settings), 1, 1, -1, "compact", config),
        topics.TopicSpec("faust-leader", leader_topic(settings), 1, 1, week_ms, "delete"),
    ]


async def wait_for_coordinators(
    bootstrap: str, groups: tuple[str, ...], options: dict[str, Any]
) -> None:
    """Return once the broker names a coordinator for each group.

    A fresh broker creates ``__consumer_offsets`` on the first coordinator lookup and answers
    COORDINATOR_NOT_AVAILABLE until it is loaded; aiokafka's consumer logs each such answer
    at ERROR, so the worker asks first (and quietly) until the coordinators are there.
    """
    from aiokafka.admin import AIOKafkaAdminClient
    from aiokafka.errors import KafkaError

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=30000, **options)
    await admin.start()
    try:
        for group in groups:
            while True:
                try:
                    await admin.find_coordinator(group)
                    break
                except KafkaError as exc:
                    if not exc.retriable:
                        raise
                    await asyncio.sleep(0.1)
    finally:
        await admin.close()


def ensure_topics(settings: Settings, timeout: float = 30.0) -> None:
    """Create missing topics (idempotent) so the consumer never subscribes to a void, and
    wait until the broker has a coordinator for the worker's consumer groups."""
    bootstrap = settings.broker_address.bootstrap_servers
    specs = [*topics.load_specs(None, settings), *internal_topics(settings)]
    options = client_options(settings)  # a ConfigError names the setting

    async def prepare() -> None:
        await topics.apply(bootstrap, specs, options=options)
        await wait_for_coordinators(bootstrap, consumer_groups(settings), options)

    try:
        asyncio.run(asyncio.wait_for(prepare(), timeout))
    except ConfigError:
        raise
    except Exception as exc:
        problem = sasl_problem(settings, options) if "sasl_mechanism" in options else None
        raise WorkerStartError(
            problem
            or f"cannot reach Kafka at {settings.broker} to check topics: "
            f"{exc or type(exc).__name__}"
        ) from None


def sasl_problem(settings: Settings, options: dict[str, Any]) -> str | None:
    """Why SASL authentication fails, if that is why the broker cannot be reached.

    aiokafka's bootstrap only logs the cause and raises "Unable to bootstrap", so after a
    failure one plain connection per bootstrap server tells authentication apart from an
    unreachable broker.
    """
    from aiokafka.conn import create_conn
    from aiokafka.errors import SaslAuthenticationFailed, UnsupportedSaslMechanismError

    mechanism = options["sasl_mechanism"]

    async def attempt(host: str, port: int) -> None:
        conn = await asyncio.wait_for(
            create_conn(host, port, request_timeout_ms=10_000, **options), 10.0
        )
        conn.close()

    for host, port in settings.broker_address.hosts:
        try:
            asyncio.run(attempt(host, port))
        except SaslAuthenticationFailed:
            return (
                f"authentication failed for user {settings.sasl_username!r} "
                f"(SASL mechanism {mechanism}) at {host}:{port}: "
                "check STREAMDRIFT_SASL_USERNAME / STREAMDRIFT_SASL_PASSWORD"
            )
        except UnsupportedSaslMechanismError:
            return (
                f"the broker at {host}:{port} does not accept SASL mechanism {mechanism}: "
                "check STREAMDRIFT_SASL_MECHANISM"
            )
        except Exception:
            continue  # unreachable or another problem: the caller's message says so
        else:
            return None  # authentication works; the failure was something else
    return None


# Garbage-collector thresholds of the worker process. A worker holds many long-lived small
# objects (waiting predictions of the label join, window buffers), so with the default
# threshold (700 allocations) the young collections keep running and the older ones
# rescan all of them. Measured (load.bench_profile, processor alone, paired runs): a
# threshold of 100,000 allocations made the processor 17-44% faster.
GC_THRESHOLD = (100_000, 50, 1_000)


def tune_gc() -> None:
    """Raise the collector's thresholds, and move what start-up allocated (modules, the
    app) to the permanent generation so that no collection scans it again."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLD)


def run_worker(settings: Settings) -> int:
    """Run the worker until it is stopped; what fails at start-up raises
    :class:`WorkerStartError` (one line for the CLI), never a logged traceback."""
    from streamdrift.service.app import create_app

    settings.model_specs()  # a bad --config fails here, before anything starts
    ensure_topics(settings)
    try:
        wiring = create_app(settings)  # creates the data directory
    except OSError as exc:
        raise WorkerStartError(
            f"data_dir: cannot create {settings.data_path}: {exc.strerror or exc}"
        ) from None
    host, port = settings.metrics_host, settings.metrics_port
    try:
        wiring.metrics.serve(host, port)
    except OSError as exc:
        raise WorkerStartError(
            f"metrics_port: cannot serve /metrics on {host}:{port}: {exc.strerror or exc} "
            "(another worker on this machine? set --metrics-port, 0: off)"
        ) from None
    if port:
        log.info("metrics at http://%s:%d/metrics", host, port)
    tune_gc()  # after start-up: see GC_THRESHOLD
    log.info("streamdrift worker %s on %s", settings.app_id, settings.broker)
    worker = guarded_worker(wiring.app, wiring.service, loglevel=settings.log_level.upper())
    try:
        worker.execute_from_commandline()  # exits (SystemExit) when the worker stops
    except SystemExit:
        if worker.start_error is not None:
            failure = worker.start_error
            raise WorkerStartError(
                f"the worker stopped: {type(failure).__name__}: {failure}"
                " (run with --log-level debug for the traceback)"
            ) from None
        raise
    return 0  # pragma: no cover


def guarded_worker(*services: Any, loglevel: str) -> Any:
    """Faust's worker, except that an exception out of its start (which lasts as long as the
    worker runs) is kept in ``start_error`` instead of being logged with a traceback by
    mode; the caller turns it into one error line."""
    import faust

    class Worker(faust.Worker):  # the name mode puts in its log lines: [^Worker]
        start_error: Exception | None = None

        async def start(self) -> None:
            try:
                await super().start()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.start_error = exc
                log.debug("the worker stopped", exc_info=True)

    return Worker(*services, loglevel=loglevel, quiet=True)
