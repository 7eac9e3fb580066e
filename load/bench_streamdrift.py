"""(c)/(d) streamdrift's hot path against a pre-produced topic, and the scale-out runs.

    python -m load.bench_streamdrift --broker kafka://127.0.0.1:9092 --topic T \\
        --counts '{"0": [messages, events], ...}' [--group G]

Runs the worker's real :class:`~streamdrift.kafka.runner.StreamRunner` over a
:class:`~streamdrift.engine.processor.Processor` with default settings, except a unique
app id (a fresh consumer group, so it reads from the beginning), unique names for the
topics it writes, and ``topic_predictions`` pointed at ``T``. ``--counts`` gives the
number of messages and of events in each partition of ``T``; the process is done when it
has processed every message of the partitions it owns.

Protocol (the orchestrator, :mod:`load.bench`, drives it): the process prints ``OWNED
<partitions>`` on stdout whenever its assignment changes, and does not consume before a
line ``go`` arrives on stdin (so that start-up and, with two workers in one group
(``--group``), the first rebalance are not measured). Then it processes, and prints its
``BENCH_RESULT``: messages and events processed, and the wall-clock times of its first
and last processed batch (``time.time()``, comparable between processes). If its
assignment changes after ``go``, it stops at once with ``"rebalanced": true`` (the run is
void: the orchestrator repeats it). On ``go`` the garbage collector is tuned as the worker
tunes it after start-up (:func:`streamdrift.service.worker.tune_gc`); ``--gc-default`` keeps
Python's defaults.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
import threading
import time
from collections.abc import Sequence
from typing import Any

from load.bench_common import bench_settings, cpu_seconds, emit, say, unique_tag
from streamdrift.engine.messages import InputRecord
from streamdrift.engine.processor import Processor
from streamdrift.engine.update import Update
from streamdrift.kafka.runner import StreamRunner
from streamdrift.metrics import Metrics
from streamdrift.service.worker import tune_gc
from streamdrift.storage.sqlite_spill import SqliteSpillStore


class CountingProcessor(Processor):
    """The real processor, counting the input messages it processed per partition."""

    def __init__(self, *args: Any, topic: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.topic = topic
        self.processed: dict[int, int] = {}
        self.first = 0.0
        self.last = 0.0
        self.cpu_first = 0.0  # this process's CPU time at the first processed batch
        self.broker_pid: int | None = None
        self.broker_first: float | None = None  # the broker's CPU time then
        self.busy = 0.0  # seconds spent in process()

    def process(self, partition: int, records: Sequence[InputRecord]) -> Update:
        state = self.states.get(partition)
        if state is None:  # not (yet) ours: the runner drops these and seeks back later
            return super().process(partition, records)
        if not self.first:
            self.first = time.time()
            self.cpu_first = time.process_time()
            self.broker_first = cpu_seconds(self.broker_pid)
        # records the state already covers (re-delivered after a seek) are skipped: not counted
        n = sum(1 for r in records if r.topic == self.topic and state.accepts(r.topic, r.offset))
        started = time.perf_counter()
        out = super().process(partition, records)
        self.busy += time.perf_counter() - started
        self.processed[partition] = self.processed.get(partition, 0) + n
        self.last = time.time()
        return out


class NoReferences:
    """The bench's streams have no reference profiles (every monitor learns its reference
    from its first events), so the runner is given an empty source instead of the worker's
    Faust table (``service/references.py``), which needs a running Faust app."""

    async def wait_recovered(self) -> None:
        return None

    def take(self) -> list[tuple[str, bytes | None]]:
        return []


class GatedRunner(StreamRunner):
    """Joins the group at once, but fetches nothing for processing before ``gate`` opens."""

    def __init__(self, *args: Any, gate: asyncio.Event, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.gate = gate

    async def _step(self) -> None:
        if not self.gate.is_set():
            await asyncio.sleep(0.05)
            return
        await super()._step()


def _checkpoints(metrics: Metrics) -> tuple[float, float]:
    """Checkpoints the runner wrote so far, and the seconds they took."""
    registry = metrics.registry
    count = registry.get_sample_value("streamdrift_checkpoints_total")
    seconds = registry.get_sample_value("streamdrift_checkpoint_duration_seconds_sum")
    return count or 0.0, seconds or 0.0


def _read_stdin(loop: asyncio.AbstractEventLoop, gate: asyncio.Event, gc_default: bool) -> None:
    for line in sys.stdin:
        if line.strip() == "go":
            if not gc_default:
                tune_gc()  # as run_worker does after start-up; before the gate opens
            loop.call_soon_threadsafe(gate.set)
            return


async def run(args: argparse.Namespace) -> dict[str, Any]:
    from streamdrift.service.worker import ensure_topics

    counts = {int(p): (int(m), int(e)) for p, (m, e) in json.loads(args.counts).items()}
    # workers of one group share every topic: their names derive from the group
    tag = args.group or unique_tag()
    overrides: dict[str, Any] = {"topic_predictions": args.topic}
    if args.group:
        overrides["app_id"] = args.group
    settings = bench_settings(args.broker, tag, **overrides)
    await asyncio.to_thread(ensure_topics, settings)
    metrics = Metrics()
    processor = CountingProcessor(settings, topic=args.topic, spill_store=SqliteSpillStore)
    processor.broker_pid = args.broker_pid
    gate = asyncio.Event()
    runner = GatedRunner(settings, processor, metrics, NoReferences(), gate=gate)
    loop = asyncio.get_running_loop()
    threading.Thread(target=_read_stdin, args=(loop, gate, args.gc_default), daemon=True).start()
    task = asyncio.create_task(runner.run())
    owned: set[int] = set()
    done_at = 0.0
    cpu = 0.0
    broker_last: float | None = None
    checkpoints = (0.0, 0.0)
    at_go: set[int] | None = None  # what it owned when the measurement started
    rebalanced = False
    try:
        while True:
            await asyncio.sleep(0.01)
            if task.done():
                task.result()  # raises what stopped the runner
                raise RuntimeError("the runner stopped by itself")
            if processor.owned != owned:
                owned = set(processor.owned)
                print("OWNED " + ",".join(map(str, sorted(owned))), flush=True)
                if at_go is not None:  # a rebalance during the measurement: void
                    rebalanced = True
                    break
            if gate.is_set() and at_go is None:
                at_go = set(owned)
            if gate.is_set() and owned:
                target = sum(counts.get(p, (0, 0))[0] for p in owned)
                if sum(processor.processed.get(p, 0) for p in owned) >= target:
                    done_at = processor.last
                    cpu = time.process_time() - processor.cpu_first
                    broker_last = cpu_seconds(args.broker_pid)
                    checkpoints = _checkpoints(metrics)
                    break
    finally:
        runner.stop()
        try:
            await asyncio.wait_for(task, timeout=20)
        except Exception as exc:  # the result is already measured
            say("streamdrift", f"stopping the runner: {type(exc).__name__}: {exc}")
    messages = sum(processor.processed.values())
    events = sum(counts.get(p, (0, 0))[1] for p in owned)
    seconds = done_at - processor.first
    return {
        "partitions": sorted(owned),
        "messages": messages,
        "events": events,
        "first": processor.first,
        "last": done_at,
        "seconds": seconds,
        "rate": events / seconds if seconds > 0 and not rebalanced else 0.0,
        "rebalanced": rebalanced,
        "in_processor": processor.busy,
        # CPU seconds over the measured span: this worker's, and the broker's readings at
        # its start and end (None without --broker-pid)
        "cpu_seconds": cpu,
        "broker_cpu": [processor.broker_first, broker_last],
        # checkpoints written up to the end of the measurement: count, seconds
        "checkpoints": checkpoints[0],
        "checkpoint_seconds": checkpoints[1],
    }


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m load.bench_streamdrift", description=__doc__)
    p.add_argument("--broker", required=True)
    p.add_argument("--topic", required=True)
    p.add_argument("--counts", required=True, help="JSON: partition -> [messages, events]")
    p.add_argument("--group", help="the app id (consumer group) to share with other workers")
    p.add_argument("--broker-pid", type=int, help="the broker's pid: report its CPU time too")
    p.add_argument(
        "--gc-default",
        action="store_true",
        help="keep Python's GC settings (default: tune them as the worker does)",
    )
    args = p.parse_args(argv)
    # stderr goes to a log file the orchestrator keeps when a step fails: group membership
    # and assignments are logged, alerts (WARNING) too
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("aiokafka.consumer.group_coordinator").setLevel(logging.INFO)
    logging.getLogger("streamdrift.kafka.runner").setLevel(logging.INFO)
    # aiokafka logs an error for topics created a moment ago that its metadata lacks yet
    logging.getLogger("aiokafka.cluster").setLevel(logging.CRITICAL)
    result = asyncio.run(run(args))
    say(
        "streamdrift",
        f"{result['events']:,} events ({result['messages']:,} messages) of partitions "
        f"{result['partitions']} in {result['seconds']:.2f}s",
    )
    emit(result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
