"""Publishing reference profiles to the compacted references topic (``reference build``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from aiokafka import AIOKafkaProducer

from streamdrift import codec
from streamdrift.engine.references import profile_key

__all__ = ["publish"]


async def publish(
    bootstrap: str,
    topic: str,
    profiles: Mapping[str, Any] | Sequence[Mapping[str, Any]],
    options: Mapping[str, Any],
) -> None:
    """Publish one profile document, or several (one per model/version), and wait for
    the broker's acknowledgement of each."""
    docs = [profiles] if isinstance(profiles, Mapping) else list(profiles)
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, acks="all", max_request_size=16 * 1024 * 1024, **options
    )
    await producer.start()
    try:
        for doc in docs:
            await producer.send_and_wait(
                topic, codec.dumps(doc), key=profile_key(doc["model_id"], doc["model_version"])
            )
    finally:
        await producer.stop()
