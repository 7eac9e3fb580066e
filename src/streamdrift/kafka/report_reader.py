"""Read one model's ``drift-windows`` records and alerts from Kafka, from the beginning of
each topic up to its end at the time of the call (all three topics are keyed by model_id)."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from typing import Any

from streamdrift import codec
from streamdrift.config.settings import ConfigError, Settings
from streamdrift.kafka.security import client_options

_AGO = re.compile(r"^(\d+(?:\.\d+)?)([smhdw])$")
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_since(text: str, now: float | None = None) -> float:
    """``--since``: Unix seconds, an ISO date or time (UTC unless it says otherwise), or an
    age such as ``90m``, ``24h``, ``7d``."""
    text = text.strip()
    ago = _AGO.match(text)
    if ago:
        return (time.time() if now is None else now) - float(ago[1]) * _UNIT[ago[2]]
    try:
        return float(text)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ConfigError(
            f"--since: expected Unix seconds, an ISO date/time or an age like 24h, got {text!r}"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


async def read_topics(
    settings: Settings, topics: list[str], model_id: str, timeout: float = 60.0
) -> dict[str, list[dict[str, Any]]]:
    """The decoded values keyed ``model_id`` in each of ``topics``, oldest first."""
    from aiokafka import AIOKafkaConsumer, TopicPartition

    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.broker_address.bootstrap_servers,
        enable_auto_commit=False,
        group_id=None,
        **client_options(settings),
    )
    await consumer.start()
    out: dict[str, list[dict[str, Any]]] = {t: [] for t in topics}
    key = model_id.encode()
    try:
        partitions = [
            TopicPartition(topic, p)
            for topic in topics
            for p in sorted(await _partitions(consumer, topic))
        ]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        end = await consumer.end_offsets(partitions)
        todo = {tp for tp in partitions if end[tp] > 0}
        deadline = time.monotonic() + timeout
        while todo:
            if time.monotonic() > deadline:
                raise TimeoutError(f"reading {', '.join(topics)} took more than {timeout:g} s")
            batch = await consumer.getmany(*todo, timeout_ms=500)
            for tp, records in batch.items():
                for record in records:
                    if record.key == key and record.value is not None:
                        out[tp.topic].append(codec.loads(record.value))
            for tp in list(todo):
                if await consumer.position(tp) >= end[tp]:
                    todo.discard(tp)
    finally:
        await consumer.stop()
    return out


async def _partitions(consumer: Any, topic: str) -> set[int]:
    """The topic's partitions (empty when it does not exist)."""
    cluster = await consumer._client.fetch_all_metadata()  # aiokafka has no public call
    return set(cluster.partitions_for_topic(topic) or ())


async def read_model(
    settings: Settings, model_id: str, timeout: float = 60.0
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """``(window records, alerts)`` of ``model_id``."""
    alert_topics = [settings.topic_drift_alerts, settings.topic_degradation_alerts]
    found = await read_topics(
        settings, [settings.topic_drift_windows, *alert_topics], model_id, timeout
    )
    alerts = [a for t in alert_topics for a in found[t]]
    return found[settings.topic_drift_windows], alerts
