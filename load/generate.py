"""Publish a scenario's synthetic traffic to Kafka: predictions, late labels, bad messages.

    python -m load.generate --scenario load/scenarios/sudden.toml \\
        --broker kafka://127.0.0.1:9092 [--rate 5000 | --max] [--events N] [--envelopes]

Predictions go through :class:`streamdrift.client.PredictionClient` (single events, or
batch envelopes with ``--envelopes``), keyed by model_id, ``acks=all``. Labels (scenarios
with ``[labels]``) go to the feedback topic as ``{"model_id", "prediction_id",
"timestamp", "label"}`` with a plain aiokafka producer (keyed by model_id, ``acks=all``);
malformed messages (scenarios with a ``malformed`` episode) go raw to the predictions topic
through the same producer.

A label is sent once the prediction stream's event time has reached the label's timestamp
(prediction timestamp + the scenario's delay), so labels are delayed in event time; at a
target rate with live timestamps, event time is wall time and the delay is real. Labels
still pending after the last prediction are sent at once (their timestamps unchanged), or,
with ``--wait-labels`` and live timestamps, when their time comes.

The program talks to no host but the broker given, prints progress to stderr every second
and stops by itself after ``--events`` events (default: the scenario's ``events``).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import math
import sys
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from load.scenarios import Chunk, FeedbackBatch, Timing, TrafficGenerator
from load.spec import ScenarioError, load_scenario
from streamdrift import codec
from streamdrift.config.settings import BrokerAddress, ConfigError
from streamdrift.records import PredictionEvent


@dataclass(slots=True)
class Progress:
    """Counters, and the once-a-second status line on stderr."""

    total: int
    quiet: bool = False
    predictions: int = 0
    malformed: int = 0
    labels: int = 0
    started: float = 0.0
    _last: float = 0.0
    _last_count: int = 0

    @property
    def events(self) -> int:
        return self.predictions + self.malformed

    def start(self) -> None:
        self.started = self._last = time.monotonic()

    def tick(self, force: bool = False) -> None:
        now = time.monotonic()
        if self.quiet or (not force and now - self._last < 1.0):
            return
        rate = (self.events - self._last_count) / max(now - self._last, 1e-9)
        overall = self.events / max(now - self.started, 1e-9)
        left = self.total - self.events
        eta = f"{left / overall:,.0f}s" if overall > 0 and left > 0 else "0s"
        print(
            f"generate: {self.events:,}/{self.total:,} events sent ({rate:,.0f}/s now, "
            f"{overall:,.0f}/s overall), {self.labels:,} labels, {self.malformed:,} malformed, "
            f"ETA {eta}",
            file=sys.stderr,
            flush=True,
        )
        self._last, self._last_count = now, self.events


def events_of(chunk: Chunk) -> list[tuple[int, PredictionEvent | bytes, str]]:
    """The chunk's messages in stream order: (event index, event or raw bytes, key)."""
    out: list[tuple[int, PredictionEvent | bytes, str]] = []
    for batch, rows in zip(chunk.batches, chunk.rows, strict=True):
        names = list(batch.features)
        columns = [batch.features[n] for n in names]
        for k, index in enumerate(rows.tolist()):
            event = PredictionEvent(
                model_id=batch.model_id,
                model_version=batch.model_version,
                prediction_id=batch.prediction_ids[k],
                timestamp=batch.timestamps[k],
                features={n: c[k] for n, c in zip(names, columns, strict=True)},
                prediction=batch.predictions[k],
                segment=batch.segment,
            )
            out.append((index, event, batch.model_id))
    out.extend((m.index, m.value, m.key) for m in chunk.malformed)
    if len(chunk.batches) > 1 or chunk.malformed:
        out.sort(key=lambda item: item[0])
    return out


def _labels(batch: FeedbackBatch) -> list[tuple[float, str, bytes]]:
    return [(doc["timestamp"], doc["model_id"], codec.dumps(doc)) for doc in batch.to_dicts()]


async def publish(args: argparse.Namespace) -> Progress:
    """Generate and publish; returns the final counters."""
    from aiokafka import AIOKafkaProducer

    from streamdrift.client import PredictionClient

    scenario = load_scenario(args.scenario)
    events = args.events if args.events is not None else scenario.events
    rate = None if args.max else (args.rate or scenario.timing.rate)
    mode = args.timestamps or scenario.timing.mode
    timing = (
        Timing("replay", start=scenario.timing.start, spacing=scenario.timing.spacing)
        if mode == "replay"
        else Timing("live", rate=rate)
    )
    gen = TrafficGenerator(scenario, seed=args.seed, timing=timing, malformed=not args.no_malformed)
    with_labels = scenario.labels is not None and not args.no_feedback
    bootstrap = BrokerAddress.parse(args.broker).bootstrap_servers
    progress = Progress(events, quiet=args.quiet)
    client = PredictionClient(
        args.broker,
        topic=args.topic_predictions,
        envelopes=args.envelopes,
        max_batch_size=args.batch_size,
    )
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5)
    failures: list[BaseException] = []

    def check(future: asyncio.Future[Any]) -> None:
        if not future.cancelled() and future.exception() is not None:
            failures.append(future.exception())  # type: ignore[arg-type]

    async def send_raw(topic: str, key: str, value: bytes) -> None:
        future = await producer.send(topic, value=value, key=key.encode())
        future.add_done_callback(check)

    try:
        await producer.start()
        try:
            await client.start()
            pending: deque[tuple[float, str, bytes]] = deque()
            step = chunk_step(rate)
            progress.start()
            for chunk in gen.chunks(events):
                if with_labels:
                    pending.extend(_labels(chunk.feedback))
                messages = events_of(chunk)
                for lo in range(0, len(messages), step):
                    part = messages[lo : lo + step]
                    for _, message, key in part:
                        if isinstance(message, bytes):
                            await send_raw(args.topic_predictions, key, message)
                            progress.malformed += 1
                        else:
                            await client.publish(message)
                            progress.predictions += 1
                    now_event_time = float(chunk.timestamps[min(lo + step, len(chunk)) - 1])
                    while pending and pending[0][0] <= now_event_time:
                        _, key, value = pending.popleft()
                        await send_raw(args.topic_feedback, key, value)
                        progress.labels += 1
                    if failures:
                        raise failures[0]
                    if rate:
                        ahead = progress.events / rate - (time.monotonic() - progress.started)
                        await asyncio.sleep(max(ahead, 0.0))
                    else:
                        await asyncio.sleep(0)
                    progress.tick()
            if with_labels:
                pending.extend(_labels(gen.drain_feedback()))
            while pending:
                stamp, key, value = pending.popleft()
                if args.wait_labels and mode == "live":
                    await asyncio.sleep(max(0.0, stamp - time.time()))
                await send_raw(args.topic_feedback, key, value)
                progress.labels += 1
                progress.tick()
            if mode == "replay":  # a finite replay: the worker closes its partial windows
                for model_id in sorted({m.id for m in scenario.models}):
                    await client.end_of_input(model_id)
            await client.flush()
        finally:
            await client.close()
        await producer.flush()
    finally:
        await producer.stop()
    if failures:
        raise failures[0]
    progress.tick(force=True)
    return progress


def chunk_step(rate: float | None) -> int:
    """Messages sent between two pacing points: about 20 ms worth at ``rate``."""
    if not rate:
        return 1000
    return max(1, min(1000, int(rate / 50)))


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m load.generate",
        description="Publish a synthetic traffic scenario (load/scenarios/*.toml) to Kafka: "
        "predictions through streamdrift's PredictionClient, labels to the feedback topic "
        "after their (event-time) delay, and malformed messages if the scenario has them. "
        "Progress goes to stderr every second; it stops by itself after --events events.",
        epilog="examples:\n"
        "  python -m load.generate --scenario load/scenarios/sudden.toml --rate 5000\n"
        "  python -m load.generate --scenario load/scenarios/many_models.toml --max "
        "--envelopes --events 500000\n"
        "  python -m load.generate --scenario load/scenarios/accuracy_drop.toml "
        "--timestamps live --rate 2000 --wait-labels",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--scenario", type=Path, required=True, help="a scenario file (TOML)")
    p.add_argument(
        "--broker",
        default="kafka://127.0.0.1:9092",
        help="the only host talked to: kafka://HOST:PORT[,HOST:PORT…] (default: %(default)s)",
    )
    speed = p.add_mutually_exclusive_group()
    speed.add_argument(
        "--rate",
        type=float,
        help="target events per second (default: the scenario's [timing] rate, else 1000)",
    )
    speed.add_argument("--max", action="store_true", help="as fast as the broker takes them")
    p.add_argument(
        "--events", type=int, help="stop after this many events (default: the scenario's)"
    )
    p.add_argument("--seed", type=int, help="replace the scenario's seed")
    p.add_argument(
        "--timestamps",
        choices=("live", "replay"),
        help="live: the wall clock (start + i / rate); replay: the scenario's [timing] start "
        "and spacing (default: the scenario's [timing] mode)",
    )
    p.add_argument(
        "--envelopes", action="store_true", help="send batch envelopes instead of single events"
    )
    p.add_argument(
        "--batch-size",
        type=int,
        default=500,
        help="rows per batch envelope (default: %(default)s)",
    )
    p.add_argument("--topic-predictions", default="predictions", help="default: %(default)s")
    p.add_argument("--topic-feedback", default="feedback", help="default: %(default)s")
    p.add_argument("--no-feedback", action="store_true", help="send no labels")
    p.add_argument(
        "--no-malformed", action="store_true", help="ignore the scenario's malformed episodes"
    )
    p.add_argument(
        "--wait-labels",
        action="store_true",
        help="with live timestamps, send the labels still pending at the end when their "
        "time comes instead of at once",
    )
    p.add_argument("--quiet", action="store_true", help="no progress lines")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    p = parser()
    args = p.parse_args(argv)
    if args.rate is not None and not (math.isfinite(args.rate) and args.rate > 0):
        p.error("--rate must be a positive number")
    if args.events is not None and args.events < 1:
        p.error("--events must be at least 1")
    if args.batch_size < 1:
        p.error("--batch-size must be at least 1")
    # aiokafka logs an error for every topic the broker is about to auto-create
    logging.getLogger("aiokafka.cluster").setLevel(logging.CRITICAL)
    try:
        BrokerAddress.parse(args.broker)
        progress = asyncio.run(publish(args))
    except (ScenarioError, ConfigError) as exc:
        print(f"generate: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("generate: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a broker that is down, a rejected message
        print(f"generate: error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2
    seconds = time.monotonic() - progress.started
    print(
        f"generate: done: {progress.predictions:,} predictions, {progress.malformed:,} "
        f"malformed, {progress.labels:,} labels in {seconds:.1f}s "
        f"({progress.events / max(seconds, 1e-9):,.0f} events/s)",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
