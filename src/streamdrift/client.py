"""What model servers use to publish predictions and feedback (labels) to streamdrift.

Messages are keyed by ``model_id`` and sent with ``acks=all``. Two wire formats:

* single events (``envelopes=False``): one JSON object per prediction or label, the format
  any producer can write (topics/prediction.schema.json, topics/feedback.schema.json);
* batch envelopes (``envelopes=True``): many predictions of one model, version and segment
  (or many labels of one model) in one columnar message, flushed when ``max_batch_size``
  rows are buffered or after ``linger_ms``; far cheaper to produce and to consume.

Buffering is bounded: once ``max_buffered`` rows wait, ``publish`` waits for a flush
(back-pressure instead of unbounded memory). ``flush()`` and ``close()`` return only when
every buffered message has been acknowledged by the broker.

Async::

    async with PredictionClient("kafka://127.0.0.1:9092", envelopes=True) as client:
        await client.publish(PredictionEvent(...))
        await client.publish_feedback(FeedbackEvent(...))

Sync (a background event loop; for WSGI servers and scripts)::

    with SyncPredictionClient("kafka://127.0.0.1:9092", envelopes=True) as client:
        client.publish(PredictionEvent(...))
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Coroutine
from types import TracebackType
from typing import Any, TypeVar

from streamdrift import codec
from streamdrift.config.settings import BrokerAddress
from streamdrift.records import EndOfInput, FeedbackEvent, PredictionEvent, to_batches

T = TypeVar("T")
_BufferKey = tuple[str, str, str, str | None]  # (kind, model, version, segment)


class PredictionClient:
    def __init__(
        self,
        broker: str,
        *,
        topic: str = "predictions",
        feedback_topic: str = "feedback",
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
        self.feedback_topic = feedback_topic
        self.envelopes = envelopes
        self.max_batch_size = max_batch_size
        self.linger = linger_ms / 1000.0
        self.max_buffered = max_buffered
        self._options = producer_options or {}
        self._producer: Any = None
        self._buffers: dict[_BufferKey, list[Any]] = {}
        self._buffered = 0
        self._pending: set[asyncio.Future[Any]] = set()
        self._linger_task: asyncio.Task[None] | None = None
        self.sent_events = 0
        self.sent_messages = 0

    async def start(self) -> None:
        from aiokafka import AIOKafkaProducer

        options: dict[str, Any] = {"linger_ms": 5, "max_batch_size": 1 << 20}
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
            await self._send(self.topic, event.model_id, codec.encode_prediction(event), 1)
            return
        key = ("p", event.model_id, event.model_version, event.segment)
        await self._buffer(key, event)

    async def publish_feedback(self, event: FeedbackEvent) -> None:
        """Queue one label for an earlier (or later) prediction."""
        if not self.envelopes:
            await self._send(self.feedback_topic, event.model_id, codec.encode_feedback(event), 1)
            return
        await self._buffer(("f", event.model_id, "", None), event)

    async def end_of_input(self, model_id: str, model_version: str | None = None) -> None:
        """Say that a finite input of ``model_id`` (a replayed file) has ended: the worker
        closes and tests that model's partial windows (of one version, when given). Sends
        and acknowledges everything published before it first, so the marker follows them."""
        await self.flush()
        await self._send(
            self.topic, model_id, codec.encode_end_of_input(EndOfInput(model_id, model_version)), 0
        )
        await self.flush()

    async def _buffer(self, key: _BufferKey, event: Any) -> None:
        buffer = self._buffers.setdefault(key, [])
        buffer.append(event)
        self._buffered += 1
        if len(buffer) >= self.max_batch_size:
            await self._flush_key(key)
        if self._buffered >= self.max_buffered:
            await self.flush()

    async def _send(self, topic: str, model_id: str, value: bytes, events: int) -> None:
        future = await self._producer.send(topic, value=value, key=model_id.encode())
        self._pending.add(future)
        future.add_done_callback(self._pending.discard)
        self.sent_events += events
        self.sent_messages += 1
        if len(self._pending) >= 10_000:
            await self._drain()

    async def _flush_key(self, key: _BufferKey) -> None:
        events = self._buffers.pop(key, [])
        if not events:
            return
        self._buffered -= len(events)
        if key[0] == "p":
            (batch,) = to_batches(events)
            value = codec.encode_prediction_batch(batch)
            await self._send(self.topic, batch.model_id, value, len(events))
        else:
            value = codec.encode_feedback_batch(events)
            await self._send(self.feedback_topic, key[1], value, len(events))

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
        """Flush everything, then stop; nothing buffered is lost."""
        if self._producer is None:
            return
        await self.flush()
        if self._linger_task is not None:
            self._linger_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._linger_task
            self._linger_task = None
        await self.flush()  # anything the linger task popped before it was cancelled
        await self._producer.stop()
        self._producer = None


class SyncPredictionClient:
    """:class:`PredictionClient` for synchronous code: its event loop runs in a thread."""

    def __init__(self, broker: str, **options: Any) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="streamdrift-client", daemon=True
        )
        self._thread.start()
        self._client = PredictionClient(broker, **options)
        self._run(self._client.start())

    def _run(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result()

    def publish(self, event: PredictionEvent) -> None:
        self._run(self._client.publish(event))

    def publish_feedback(self, event: FeedbackEvent) -> None:
        self._run(self._client.publish_feedback(event))

    def end_of_input(self, model_id: str, model_version: str | None = None) -> None:
        self._run(self._client.end_of_input(model_id, model_version))

    def flush(self) -> None:
        self._run(self._client.flush())

    def close(self) -> None:
        if self._loop.is_running():
            self._run(self._client.close())
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10)
            self._loop.close()

    def __enter__(self) -> SyncPredictionClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def sent_events(self) -> int:
        return self._client.sent_events
