"""The hot path: a batch consumer of predictions and feedback, checkpoints, rebalances.

Why not a Faust agent here: a Faust stream handles every message through its own event,
message and acknowledgement objects; a Faust agent that only counts events reached 10,927
events/s in ``make bench`` (row (b'), 2026-12-06), while aiokafka's ``getmany`` plus orjson
read 322,163 single-event messages per second and this loop 84,801 with full monitoring.
So the worker's Faust app runs this loop as a service (and holds the reference profiles
in a table, ``service/references.py``), and the loop hands whole fetched batches to the
pure :class:`~streamdrift.engine.processor.Processor`.

Delivery guarantee (checkpoints that record the input offsets they cover):

* the state of partition p (drift sketches, detectors, alert episodes, offsets of p in
  every input topic) is written to the compacted topic ``<app_id>-checkpoints`` every
  ``checkpoint_interval`` seconds, on revocation and on shutdown — but only after every
  alert and dead-letter record produced so far was acknowledged by the brokers;
* on assignment, the latest checkpoint of p is restored and the consumer seeks to its
  offsets; records before them are skipped, records after them are processed again.

The feedback join keeps at most ``memory_pending`` waiting predictions of a partition in
memory; older ones wait in a local SQLite file (a cache) and in *segments* published once
to the compacted topic ``<app_id>-join-spill``. A checkpoint references its segments (ids,
CRCs, a bitmap of the rows removed since), so it stays small: every new segment is
acknowledged before the checkpoint that references it is written, and a segment is deleted
(tombstoned) only after a checkpoint that no longer references it is. On assignment the
local file is reused when it matches the checkpoint, else rebuilt from the segments (read
from the spill topic when the local state directory lacks them: another machine).

So nothing is lost, a replay reproduces the state of an uninterrupted run, and alerts
produced between the last checkpoint and a crash are published again *with the same
alert_id* (ids are deterministic): consumers deduplicate by ``alert_id``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Iterable
from typing import Any, Protocol

from aiokafka.errors import KafkaError

from streamdrift.codec import encode_checkpoint
from streamdrift.config.settings import Settings
from streamdrift.engine.messages import InputRecord, OutputRecord
from streamdrift.engine.processor import Processor
from streamdrift.engine.references import parse_reference
from streamdrift.engine.update import Update
from streamdrift.kafka.checkpoints import (
    CHECKPOINT_MAX_BYTES,
    CheckpointReader,
    checkpoint_topic,
    spill_topic,
)
from streamdrift.kafka.security import client_options
from streamdrift.metrics import Metrics

log = logging.getLogger(__name__)

# a crashed worker's partitions move after this long (Faust's own group uses the same: the
# references table's recovery waits for it; Faust's default, 60 s, made a restart take 60 s)
SESSION_TIMEOUT = 10.0
HEARTBEAT_INTERVAL = 2.0
TICK_INTERVAL = 1.0  # seconds of processing time between ticks of the clock
FETCH_STALE_MS = 10_000  # no fetch response for this long: the broker is away, not the input


class ReferenceSource(Protocol):
    """Where the runner reads reference profiles (``service/references.py``: a Faust
    GlobalTable over the compacted references topic)."""

    async def wait_recovered(self) -> None:
        """Return once every profile published so far can be taken."""

    def take(self) -> list[tuple[str, bytes | None]]:
        """The profiles written since the last call, ``(key, document or None)``."""


class StreamRunner:
    """Consumes the input topics as one consumer group member until :meth:`stop`."""

    def __init__(
        self,
        settings: Settings,
        processor: Processor,
        metrics: Metrics,
        references: ReferenceSource,
    ) -> None:
        self.settings = settings
        self.references = references
        self.processor = processor
        self.metrics = metrics
        self.bootstrap = settings.broker_address.bootstrap_servers
        self.options = client_options(settings)
        self.topics = (settings.topic_predictions, settings.topic_feedback)
        self.checkpoint_topic = checkpoint_topic(settings)
        self.spill_topic = spill_topic(settings)
        self._lock = asyncio.Lock()  # processing a batch and checkpointing never interleave
        self._stopping = asyncio.Event()
        self._consumer: Any = None
        self._producer: Any = None
        self._reader: Any = None
        self.checkpoints: CheckpointReader  # reads with _reader, from run() on
        self._inflight: list[asyncio.Future[Any]] = []
        self._last_checkpoint = time.monotonic()
        self._last_lag = 0.0
        self._last_tick = 0.0
        self.ready = asyncio.Event()  # set once partitions were assigned the first time

    # -- lifecycle --------------------------------------------------------------------------

    async def run(self) -> None:
        from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener
        from aiokafka.coordinator.assignors.range import RangePartitionAssignor

        runner = self

        class _Listener(ConsumerRebalanceListener):  # type: ignore[misc]
            async def on_partitions_revoked(self, revoked: Any) -> None:
                await runner._on_revoked(revoked)

            async def on_partitions_assigned(self, assigned: Any) -> None:
                await runner._on_assigned(assigned)

        self._producer = AIOKafkaProducer(
            bootstrap_servers=self.bootstrap,
            acks="all",
            enable_idempotence=True,
            linger_ms=5,
            max_request_size=CHECKPOINT_MAX_BYTES,
            **self.options,
        )
        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap,
            group_id=f"{self.settings.app_id}.monitor",
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            fetch_max_bytes=64 * 1024 * 1024,
            max_partition_fetch_bytes=8 * 1024 * 1024,
            # Range gives partition p of predictions and of feedback (same partition count,
            # both keyed by model_id) to the same member: the join needs both. aiokafka's
            # default, round robin, does not guarantee that.
            partition_assignment_strategy=(RangePartitionAssignor,),
            session_timeout_ms=int(SESSION_TIMEOUT * 1000),
            heartbeat_interval_ms=int(HEARTBEAT_INTERVAL * 1000),
            **self.options,
        )
        # Reads checkpoints on assignment. Long-lived on purpose: stopping a consumer inside
        # a rebalance callback makes aiokafka 0.14 raise CancelledError out of the callback.
        self._reader = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap,
            group_id=None,
            enable_auto_commit=False,
            max_partition_fetch_bytes=CHECKPOINT_MAX_BYTES,
            fetch_max_bytes=CHECKPOINT_MAX_BYTES,
            **self.options,
        )
        await self._producer.start()
        await self._reader.start()
        self.checkpoints = CheckpointReader(
            self._reader, self.checkpoint_topic, self.spill_topic, self.processor
        )
        # Every profile published so far is applied before the first prediction: a monitor
        # whose spec says reference.mode = "profile" never starts from a missing profile.
        await self.references.wait_recovered()
        await self._poll_references()
        await self._consumer.start()
        self._consumer.subscribe(list(self.topics), listener=_Listener())
        self.metrics.worker_up.set(1)
        clean = False
        try:
            while not self._stopping.is_set():
                try:
                    await self._step()
                except KafkaError as exc:
                    await self._recover(exc)
            clean = True
        finally:
            self.metrics.worker_up.set(0)
            # Only a clean stop checkpoints: after an unexpected error the state may be
            # half-updated, and the last good checkpoint is where a restart must resume.
            if clean:
                with contextlib.suppress(Exception):
                    async with self._lock:
                        await self._checkpoint(self.processor.owned)
            await self._consumer.stop()
            await self._reader.stop()
            await self._producer.stop()

    def stop(self) -> None:
        self._stopping.set()

    async def _poll_references(self) -> None:
        for key, raw in self.references.take():
            if raw is None:
                log.info("reference profile %s deleted; monitors keep the one they hold", key)
                continue
            try:
                ref = parse_reference(raw)
            except Exception as exc:  # a bad profile must not stop (or crash-loop) workers
                log.warning("ignoring an invalid reference profile %s: %s", key, exc)
                continue
            async with self._lock:
                await self._apply(
                    self.processor.set_reference(
                        ref.model_id,
                        ref.model_version,
                        ref.profiles,
                        ref.count,
                        ref.performance,
                        ref.calibration,
                    )
                )

    async def _step(self) -> None:
        settings = self.settings
        await self._poll_references()
        fetched = await self._consumer.getmany(
            timeout_ms=int(settings.batch_within * 1000), max_records=settings.batch_max
        )
        if fetched:
            started = time.perf_counter()
            newest = 0.0
            async with self._lock:
                # predictions before feedback: a model's first predictions make it known to
                # the feedback fetched with them (engine/held_feedback.py)
                for tp, records in sorted(fetched.items(), key=self._feedback_last):
                    inputs = [
                        InputRecord(
                            r.topic, r.partition, r.offset, r.timestamp / 1000.0, r.key, r.value
                        )
                        for r in records
                    ]
                    newest = max(newest, inputs[-1].timestamp)
                    await self._apply(self.processor.process(tp.partition, inputs))
            self.metrics.batch_duration.observe(time.perf_counter() - started)
            self.metrics.processing_latency.observe(max(0.0, time.time() - newest))
        now = time.monotonic()
        if now - self._last_tick >= TICK_INTERVAL:
            self._last_tick = now
            await self._tick()
        if now - self._last_checkpoint >= settings.checkpoint_interval:
            async with self._lock:
                await self._checkpoint(self.processor.owned)
        if now - self._last_lag >= 2.0:
            self._last_lag = now
            self._report_lag()

    def _feedback_last(self, item: tuple[Any, Any]) -> bool:
        return bool(item[0].topic != self.settings.topic_predictions)

    async def _tick(self) -> None:
        """Let processing time move every owned partition (``engine/clock.py``). What a tick
        closes is checkpointed at once, before the next fetch is processed: a restart then
        resumes after the closing, not before it (README, "Time without events")."""
        async with self._lock:
            closed = False
            for p in sorted(self.processor.owned):
                if not await self._caught_up(p):
                    continue  # a backlog is not silence: its events come first
                out = self.processor.tick(p)
                closed = closed or bool(out.records)
                await self._apply(out)
            if closed:
                await self._checkpoint(self.processor.owned)

    async def _caught_up(self, partition: int) -> bool:
        """Whether ``partition`` was read up to the high watermark of every input topic, as
        of a fetch response of the last few seconds (not during a broker outage)."""
        offsets = self.processor.offsets(partition)
        now_ms = time.time() * 1000.0
        for tp in self._consumer.assignment():
            if tp.partition != partition:
                continue
            high = self._consumer.highwater(tp)
            if high is not None:
                done = offsets.get(tp.topic)
                if done is None:  # no record of it processed yet: where the consumer stands
                    done = await self._position(tp)
                if done < high:
                    return False
            fetched = self._consumer.last_poll_timestamp(tp)
            if fetched is not None and now_ms - fetched > FETCH_STALE_MS:
                return False
        return True

    async def _position(self, tp: Any) -> int:
        """The consumer's next offset of ``tp``; -1 while it is not known yet (a reset of
        the position in flight)."""
        try:
            return int(await asyncio.wait_for(self._consumer.position(tp), 0.1))
        except (TimeoutError, KafkaError):
            return -1

    async def _recover(self, exc: Exception) -> None:
        """A send, flush or checkpoint failed (broker down, timeouts): outputs since the last
        checkpoint may be lost, so go back to it. Restoring every owned partition from its
        checkpoint and seeking there replays the input; alerts come again with the same ids."""
        self.metrics.kafka_errors.labels(type(exc).__name__).inc()
        log.warning("Kafka error (%s); going back to the last checkpoint and retrying", exc)
        await asyncio.sleep(1.0)
        owned = self.processor.owned
        while True:
            try:
                snapshots = await self.checkpoints.read(owned)
                segments = await self.checkpoints.segments(snapshots)
                break
            except KafkaError as again:
                if self._stopping.is_set():
                    return
                log.warning("checkpoints not readable yet (%s); retrying in 2 s", again)
                await asyncio.sleep(2.0)
        async with self._lock:
            self._inflight = []  # what they covered is replayed from the checkpoints
            for p in owned:
                self.processor.restore(p, snapshots.get(p), segments.get(p))
            await self._apply(self.processor.take_pending())
            await self._position_all(self._consumer.assignment())
        log.info("resumed from checkpoints of partitions %s", sorted(owned))

    async def _position_all(self, tps: Iterable[Any]) -> None:
        """Seek to each checkpoint's offset, else to the start: the checkpoint is the truth
        (offsets are committed only after one, for lag tools; asking the group for them
        inside the rebalance callback would block it). Partitions that start from the
        beginning are reset in one request (one each took ~0.5 s). aiokafka 0.14 resolved
        positions of a fresh group to the *end* while the callback awaited the checkpoint
        read, despite auto_offset_reset="earliest", silently skipping input: so every
        position is set here."""
        fresh = []
        for tp in tps:
            offset = self.processor.offsets(tp.partition).get(tp.topic)
            if offset is None:
                fresh.append(tp)
            else:
                self._consumer.seek(tp, offset)
        if fresh:
            await self._consumer.seek_to_beginning(*fresh)

    async def _apply(self, update: Update) -> None:
        """Count what the engine did, and publish what it produced."""
        self.metrics.record(update)
        await self._publish(update.records)

    async def _publish(self, records: Iterable[OutputRecord]) -> None:
        for record in records:
            future = await self._producer.send(
                record.topic, record.value, key=record.key, headers=list(record.headers)
            )
            self._inflight.append(future)

    # -- checkpoints ------------------------------------------------------------------------

    async def _checkpoint(self, partitions: Iterable[int]) -> None:
        """Flush outputs, then write the state of ``partitions`` and commit their offsets."""
        from aiokafka import TopicPartition
        from aiokafka.structs import OffsetAndMetadata

        partitions = sorted(partitions)
        self._last_checkpoint = time.monotonic()
        if not partitions:
            return
        started = time.perf_counter()
        # Every alert and dead-letter record so far must be acknowledged before a checkpoint
        # covers its input: a failed send raises here (and the worker rewinds to the last
        # checkpoint) instead of being dropped. producer.flush() alone swallows failures.
        spilled = self.processor.take_spilled(partitions, self.spill_topic)
        self.metrics.join_spill_segments.inc(len(spilled))
        await self._publish(spilled)
        inflight, self._inflight = self._inflight, []
        await asyncio.gather(*inflight)
        futures = []
        size = 0
        for p in partitions:
            payload = encode_checkpoint(self.processor.snapshot(p))
            self.metrics.record_state(self.processor.gauges(p))
            size += len(payload)
            futures.append(
                await self._producer.send(self.checkpoint_topic, payload, key=str(p).encode())
            )
        await asyncio.gather(*futures)
        await self._publish(self.processor.checkpointed(partitions, self.spill_topic))
        offsets = {
            TopicPartition(topic, p): OffsetAndMetadata(offset, "")
            for p in partitions
            for topic, offset in self.processor.offsets(p).items()
        }
        if offsets:
            with contextlib.suppress(Exception):  # informational: the checkpoint is the truth
                await self._consumer.commit(offsets)
        self.metrics.checkpoints.inc()
        self.metrics.checkpoint_bytes.set(size)
        self.metrics.checkpoint_duration.observe(time.perf_counter() - started)

    # -- rebalancing ------------------------------------------------------------------------

    async def _on_revoked(self, revoked: Any) -> None:
        partitions = {tp.partition for tp in revoked} & self.processor.owned
        async with self._lock:
            try:
                await self._checkpoint(partitions)
            finally:
                for p in partitions:
                    self.processor.release(p)
        self.metrics.partitions_owned.set(len(self.processor.owned))

    async def _on_assigned(self, assigned: Any) -> None:
        started = time.perf_counter()
        new = {tp.partition for tp in assigned} - self.processor.owned
        snapshots = await self.checkpoints.read(new) if new else {}
        segments = await self.checkpoints.segments(snapshots)
        async with self._lock:
            for p in new:
                self.processor.restore(p, snapshots.get(p), segments.get(p))
            await self._apply(self.processor.take_pending())
            await self._position_all(assigned)
        self.metrics.rebalances.inc()
        self.metrics.partitions_owned.set(len(self.processor.owned))
        self.metrics.restore_duration.observe(time.perf_counter() - started)
        log.info(
            "assigned partitions %s (%d restored from checkpoints)",
            sorted(new),
            len(snapshots),
        )
        self.ready.set()

    def _report_lag(self) -> None:
        consumer = self._consumer
        for tp in consumer.assignment():
            high = consumer.highwater(tp)
            if high is None:
                continue
            position = (
                self.processor.offsets(tp.partition).get(tp.topic)
                if (tp.partition in self.processor.owned)
                else None
            )
            if position is None:
                continue
            self.metrics.consumer_lag.labels(tp.topic, str(tp.partition)).set(
                max(0, high - position)
            )
