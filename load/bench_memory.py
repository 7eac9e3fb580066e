"""Resident memory per monitored model-feature, and whether it grows with traffic.

    python -m load.bench_memory --models 32 [--max-pending N]

No Kafka: one :class:`~streamdrift.engine.processor.Processor` with default settings owns
the 8 partitions and is fed batch envelopes (encoded, as they come from Kafka) of
``--models`` models × 8 features (+ the prediction, monitored too). RSS is VmRSS of
/proc/self/status after a garbage collection:

* ``base``: everything imported, the processor created, nothing fed;
* ``filled``: after ``3,000`` events per model (the 2,000-event reference is fitted and a
  1,000-event window is full, every monitor exists);
* ``doubled``: after twice as many events again.

``(filled - base) / (models × 8)`` is the memory per model-feature; ``doubled - filled``
is what more traffic adds. Beside RSS, the bytes the drift monitors and the pending-join
buffers hold at ``filled`` (:func:`state_bytes`, per model-feature): RSS also counts heap
the allocator keeps after transient peaks. Also timed at both points: one checkpoint of
every partition (``Processor.snapshot`` + ``codec.encode_checkpoint``), as the runner
writes it every ``checkpoint_interval`` (5 s). The pending-join buffer (predictions kept
for their late labels, up to ``performance.max_pending`` per partition, for
``prediction_ttl`` of event time) holds every event here, since no label ever comes;
``--max-pending`` sets its bound (through the model spec) to show what it costs, and
``--memory-pending`` how many of them stay in memory before the oldest move to the
on-disk tier (the worker's ``memory_pending``,
default 200,000 per partition; its SQLite files go to a temporary directory here).
"""

from __future__ import annotations

import argparse
import gc
import sys
import tempfile
import time
from collections import deque
from collections.abc import Sequence
from typing import Any

import numpy as np

from load import bench_data
from load.bench_common import emit, rss_bytes, say
from streamdrift import codec, config
from streamdrift.codec import encode_checkpoint
from streamdrift.config.spec import ModelSpecs
from streamdrift.engine.messages import InputRecord
from streamdrift.engine.processor import Processor
from streamdrift.storage.sqlite_spill import SqliteSpillStore

FEATURES = len(bench_data.FEATURES)
CHUNK = 4000  # events generated, encoded and fed at a time


def feed(processor: Processor, gen: Any, events: int, offsets: dict[int, int]) -> None:
    topic = processor.settings.topic_predictions
    for chunk in gen.chunks(events):
        by_partition: dict[int, list[InputRecord]] = {}
        for batch in chunk.batches:
            for part in bench_data.split(batch, 500):
                key = part.model_id.encode()
                p = bench_data.murmur2_partition(key)
                offset = offsets.get(p, 0)
                offsets[p] = offset + 1
                value = codec.encode_prediction_batch(part)
                record = InputRecord(topic, p, offset, part.timestamps[-1], key, value)
                by_partition.setdefault(p, []).append(record)
        for p, records in by_partition.items():
            processor.process(p, records)
        # The runner publishes new spill segments before each checkpoint (every 5 s) and
        # then holds them no more; here they are taken and dropped after every chunk.
        processor.take_spilled(sorted(processor.owned), "join-spill")


def rss_now() -> int:
    gc.collect()
    return rss_bytes()


def checkpoint(processor: Processor) -> tuple[float, int]:
    """Seconds and compressed bytes of one checkpoint of every owned partition (what the
    runner writes every ``checkpoint_interval``, on revocation and at shutdown)."""
    started = time.perf_counter()
    size = sum(len(encode_checkpoint(processor.snapshot(p))) for p in sorted(processor.owned))
    return time.perf_counter() - started, size


def state_bytes(*roots: Any) -> int:
    """Bytes held by the objects reachable from ``roots`` (each counted once): their
    ``sys.getsizeof`` (a numpy array's includes the data it owns), through containers,
    ``__dict__`` and ``__slots__``. Classes, modules and functions are not followed."""
    seen: set[int] = set()
    stack = list(roots)
    total = 0
    while stack:
        obj = stack.pop()
        if id(obj) in seen or isinstance(obj, (type, type(sys), type(state_bytes))):
            continue
        seen.add(id(obj))
        total += sys.getsizeof(obj)
        if isinstance(obj, np.ndarray):
            if obj.base is not None:
                stack.append(obj.base)
        elif isinstance(obj, dict):
            stack.extend(obj.keys())
            stack.extend(obj.values())
        elif isinstance(obj, (list, tuple, set, frozenset, deque)):
            stack.extend(obj)
        elif not isinstance(obj, (str, bytes, int, float, bool, type(None))):
            if hasattr(obj, "__dict__"):
                stack.append(vars(obj))
            for cls in type(obj).__mro__:
                for name in getattr(cls, "__slots__", ()):
                    if hasattr(obj, name):
                        stack.append(getattr(obj, name))
    return total


def pending(processor: Processor) -> int:
    return sum(state.labels.join.pending_predictions for state in processor.states.values())


def on_disk(processor: Processor) -> int:
    return sum(state.labels.join.pending_on_disk for state in processor.states.values())


def measure(
    models: int, max_pending: int | None, memory_pending: int | None = None
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-memory-") as state_dir:
        values: dict[str, Any] = {"metrics_port": 0, "state_dir": state_dir}
        if memory_pending is not None:
            values["memory_pending"] = memory_pending
        return _measure(config.load(values, environ={}), models, max_pending)


def _measure(settings: config.Settings, models: int, max_pending: int | None) -> dict[str, Any]:
    specs = None
    if max_pending is not None:
        specs = ModelSpecs.from_mapping(
            {"defaults": {"performance": {"max_pending": max_pending}}}, settings.base_spec()
        )
    processor = Processor(settings, specs, spill_store=SqliteSpillStore)
    for p in range(bench_data.PARTITIONS):
        processor.restore(p, None)
    gen = bench_data.generator(models, chunk_size=CHUNK)
    next(gen.chunks(CHUNK))  # warm up the generator (its first chunk is not fed)
    offsets: dict[int, int] = {}
    per_model = settings.reference_size + settings.window_size
    base = rss_now()
    feed(processor, gen, per_model * models, offsets)
    filled = rss_now()
    pending_filled = pending(processor)
    disk_filled = on_disk(processor)
    checkpoint_filled = checkpoint(processor)
    states = processor.states.values()
    monitor_bytes = state_bytes([s.fleet.monitors for s in states])
    join_bytes = state_bytes([s.labels.join for s in states])
    say("memory", f"{models} models filled: RSS {filled / 2**20:,.1f} MiB")
    feed(processor, gen, 2 * per_model * models, offsets)
    doubled = rss_now()
    pending_doubled = pending(processor)
    disk_doubled = on_disk(processor)
    checkpoint_doubled = checkpoint(processor)
    say("memory", f"after twice as many events again: RSS {doubled / 2**20:,.1f} MiB")
    monitors = sum(len(s.fleet.monitors) for s in processor.states.values())
    return {
        "models": models,
        "features": FEATURES,
        "monitors": monitors,
        "max_pending": max_pending,
        "events_filled": per_model * models,
        "events_doubled": 3 * per_model * models,
        "rss_base": base,
        "rss_filled": filled,
        "rss_doubled": doubled,
        "pending_filled": pending_filled,
        "pending_doubled": pending_doubled,
        "memory_pending": settings.memory_pending,
        "on_disk_filled": disk_filled,
        "on_disk_doubled": disk_doubled,
        "checkpoint_filled": checkpoint_filled,
        "checkpoint_doubled": checkpoint_doubled,
        "per_model_feature": (filled - base) / (models * FEATURES),
        "monitor_state_per_model_feature": monitor_bytes / (models * FEATURES),
        "join_state_per_model_feature": join_bytes / (models * FEATURES),
        "growth": doubled - filled,
        "growth_per_event": (doubled - filled) / (2 * per_model * models),
    }


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m load.bench_memory", description=__doc__)
    p.add_argument("--models", type=int, default=32)
    p.add_argument("--max-pending", type=int, help="performance.max_pending of the spec")
    p.add_argument(
        "--memory-pending",
        type=int,
        help="waiting predictions per partition kept in memory before the on-disk tier "
        "(the worker's memory_pending; default 200,000)",
    )
    args = p.parse_args(argv)
    import logging

    logging.basicConfig(level=logging.ERROR)
    emit(measure(args.models, args.max_pending, args.memory_pending))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
