"""Reading what a worker wrote for recovery: the latest checkpoint of each partition from
the compacted checkpoint topic, and the join spill segments those checkpoints reference
(see ``kafka/runner.py`` for when they are written and why)."""

from __future__ import annotations

import logging
from typing import Any

from streamdrift.codec import decode_checkpoint
from streamdrift.config.settings import Settings
from streamdrift.engine.processor import Processor

log = logging.getLogger(__name__)

__all__ = ["CHECKPOINT_MAX_BYTES", "CheckpointReader", "checkpoint_topic", "spill_topic"]

CHECKPOINT_MAX_BYTES = 64 * 1024 * 1024


def checkpoint_topic(settings: Settings) -> str:
    return f"{settings.app_id}-checkpoints"


def spill_topic(settings: Settings) -> str:
    return f"{settings.app_id}-join-spill"


class CheckpointReader:
    """Reads with ``consumer``, a long-lived consumer outside the group (stopping a consumer
    inside a rebalance callback makes aiokafka 0.14 raise CancelledError out of it)."""

    def __init__(
        self, consumer: Any, checkpoint_topic: str, spill_topic: str, processor: Processor
    ) -> None:
        self.consumer = consumer
        self.checkpoint_topic = checkpoint_topic
        self.spill_topic = spill_topic
        self.processor = processor

    async def read(self, partitions: set[int]) -> dict[int, dict[str, Any]]:
        """The latest checkpoint of each of ``partitions`` (absent: none was written)."""
        from aiokafka import TopicPartition

        reader = self.consumer
        latest: dict[int, bytes] = {}
        tps = [TopicPartition(self.checkpoint_topic, 0)]  # created with one partition
        reader.assign(tps)
        await reader.seek_to_beginning(*tps)
        end = await reader.end_offsets(tps)
        remaining = {tp for tp in tps if end[tp] > 0}
        while remaining:
            fetched = await reader.getmany(*remaining, timeout_ms=1000)
            for records in fetched.values():
                for r in records:
                    key = int(r.key)
                    if key in partitions:
                        latest[key] = r.value
            for tp in list(remaining):
                if await reader.position(tp) >= end[tp]:
                    remaining.discard(tp)
        return {p: decode_checkpoint(raw) for p, raw in latest.items() if raw}

    async def segments(self, snapshots: dict[int, dict[str, Any]]) -> dict[int, dict[int, bytes]]:
        """The join spill segments the checkpoints reference and the local state directory
        lacks, from the spill topic: ``{partition: {seq: blob}}`` (read only when needed)."""
        from aiokafka import TopicPartition

        wanted: dict[bytes, tuple[int, int]] = {}
        for p, snapshot in snapshots.items():
            for seq, crc in self.processor.needed_segments(p, snapshot):
                wanted[self.processor.spill_key(p, seq, crc)] = (p, seq)
        out: dict[int, dict[int, bytes]] = {}
        if not wanted:
            return out
        reader = self.consumer
        tp = TopicPartition(self.spill_topic, 0)  # created with one partition
        reader.assign([tp])
        await reader.seek_to_beginning(tp)
        end = (await reader.end_offsets([tp]))[tp]
        while await reader.position(tp) < end:
            fetched = await reader.getmany(tp, timeout_ms=1000)
            for r in fetched.get(tp, []):
                where = wanted.get(r.key)
                if where is None:
                    continue
                p, seq = where
                if r.value is None:
                    out.get(p, {}).pop(seq, None)
                else:
                    out.setdefault(p, {})[seq] = r.value
        log.info(
            "read %d of %d join spill segments from %s",
            sum(len(v) for v in out.values()),
            len(wanted),
            self.spill_topic,
        )
        return out
