"""Run the Faust worker: make sure the topics exist, then hand over to Faust's Worker."""

from __future__ import annotations

import asyncio
import gc
import logging
from typing import Any

from streamdrift import topics
from streamdrift.config import ConfigError, Settings
from streamdrift.security import client_options

log = logging.getLogger(__name__)


class WorkerStartError(RuntimeError):
    """The worker cannot start (broker unreachable, topics missing …)."""


def internal_topics(settings: Settings) -> list[topics.TopicSpec]:
    """Topics the worker owns, both compacted, one partition, large messages: the
    checkpoint topic of its app id (a checkpoint holds a partition's state) and the feedback
    join's spill topic (segments of waiting predictions the checkpoints reference)."""
    from streamdrift.runner import CHECKPOINT_MAX_BYTES, checkpoint_topic, spill_topic

    config = {
        "max.message.bytes": str(CHECKPOINT_MAX_BYTES),
        "min.cleanable.dirty.ratio": "0.1",
        "segment.ms": "600000",
    }
    return [
        topics.TopicSpec("checkpoints", checkpoint_topic(settings), 1, 1, -1, "compact", config),
        topics.TopicSpec("join-spill", spill_topic(settings), 1, 1, -1, "compact", config),
    ]


def ensure_topics(settings: Settings, timeout: float = 30.0) -> None:
    """Create missing topics (idempotent) so the consumer never subscribes to a void."""
    bootstrap = settings.broker_address.bootstrap_servers
    specs = [*topics.load_specs(None, settings), *internal_topics(settings)]
    options = client_options(settings)  # a ConfigError names the setting
    try:
        asyncio.run(asyncio.wait_for(topics.apply(bootstrap, specs, options=options), timeout))
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
    import faust

    from streamdrift.app import create_app

    settings.model_specs()  # a bad --config fails here, before anything starts
    ensure_topics(settings)
    wiring = create_app(settings)
    tune_gc()  # after start-up: see GC_THRESHOLD
    log.info("streamdrift worker %s on %s", settings.app_id, settings.broker)
    worker = faust.Worker(
        wiring.app, wiring.service, loglevel=settings.log_level.upper(), quiet=True
    )
    worker.execute_from_commandline()  # exits the process when the worker stops
    return 0  # pragma: no cover
