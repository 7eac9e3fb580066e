"""What model servers use to publish predictions (and later feedback) to streamdrift.

Messages are keyed by ``model_id`` and sent with ``acks=all``. Two wire formats:

* single events (``envelopes=False``): one JSON object per prediction, the format any
  producer can write (topics/prediction.schema.json);
* batch envelopes (``envelopes=True``): many predictions of one model, version and segment
  in one columnar message, flushed when ``max_batch_size`` rows are buffered or after
  ``linger_ms``; far cheaper to produce and to consume.

Buffering is bounded: once ``max_buffered`` rows wait, ``publish`` waits for a flush
(back-pressure instead of unbounded memory). ``flush()`` and ``close()`` return only when
every buffered message has been acknowledged by the broker.

    async with PredictionClient("kafka://127.0.0.1:9092") as client:
        await client.publish(PredictionEvent(...))
"""

from __future__ import annotations

import asyncio
from types import TracebackType
from typing import Any

from streamdrift import codec
from streamdrift.config import BrokerAddress
from streamdrift.records import Key, PredictionEvent, to_batches


class PredictionClient:
    def __init__(
        self,
        broker: str,
        *,
        topic: str = "predictions",
        envelopes: bool = False,
        max_batch_size: int = 500,
        linger_ms: int = 20,
        max_buffered: int = 50_000,
        producer_options: dict[str, Any] | None = None,
    ) -> None:
        if max_batch_size < 1 or max_buffered < max_batch_size:
            raise ValueError("need 1 <= max_batch_size <= max_buffered")
        self.bootstrap = BrokerAddress.parse(broker).bootstrap_servers
        self.topic = topic
        self.envelopes = envelopes
        self.max_batch_size = max_batch_size
        self.linger = linger_ms / 1000.0
        self.max_buffered = max_buffered
        self._options = producer_options or {}
        self._producer: Any = None
        self._buffers: dict[Key, list[PredictionEvent]] = {}
        self._buffered = 0
        self._pending: set[asyncio.Future[Any]] = set()
        self._linger_task: asyncio.Task[None] | None = None
        self.sent_events = 0
        self.sent_messages = 0

    async def start(self) -> None:
        from aiokafka import AIOKafkaProducer

        options = {"linger_ms": 5, "max_batch_size": 1 << 20, "compression_type": None}
        options.update(self._options)
        self._producer = AIOKafkaProducer(bootstrap_servers=self.bootstrap, acks="all", **options)
        await self._producer.start()
        if self.envelopes:
            self._linger_task = asyncio.create_task(self._linger_loop())

    async def __aenter__(self) -> PredictionClient:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def publish(self, event: PredictionEvent) -> None:
        """Queue one prediction; waits only when the buffer is full (back-pressure)."""
        if not self.envelopes:
            await self._send(event.model_id, codec.encode_prediction(event), 1)
            return
        key = (event.model_id, event.model_version, event.segment)
        buffer = self._buffers.setdefault(key, [])
        buffer.append(event)
        self._buffered += 1
        if len(buffer) >= self.max_batch_size:
            await self._flush_key(key)
        if self._buffered >= self.max_buffered:
            await self.flush()

    async def _send(self, model_id: str, value: bytes, events: int) -> None:
        future = await self._producer.send(self.topic, value=value, key=model_id.encode())
        self._pending.add(future)
        future.add_done_callback(self._pending.discard)
        self.sent_events += events
        self.sent_messages += 1
        if len(self._pending) >= 10_000:
            await self._drain()

    async def _flush_key(self, key: Key) -> None:
        events = self._buffers.pop(key, [])
        if not events:
            return
        self._buffered -= len(events)
        (batch,) = to_batches(events)
        await self._send(batch.model_id, codec.encode_prediction_batch(batch), len(events))

    async def _linger_loop(self) -> None:
        while True:
            await asyncio.sleep(self.linger)
            for key in list(self._buffers):
                await self._flush_key(key)

    async def _drain(self) -> None:
        if self._pending:
            await asyncio.gather(*list(self._pending))

    async def flush(self) -> None:
        """Send everything buffered and wait until the broker acknowledged all of it."""
        for key in list(self._buffers):
            await self._flush_key(key)
        await self._drain()
        if self._producer is not None:
            await self._producer.flush()

    async def close(self) -> None:
        if self._linger_task is not None:
            self._linger_task.cancel()
            self._linger_task = None
        if self._producer is not None:
            await self.flush()
            await self._producer.stop()
            self._producer = None
