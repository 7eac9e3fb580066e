"""Decode micro-benchmark: the codec against ``orjson.loads`` alone, no Kafka.

    python -m load.bench_codec [--events 20000] [--repeat 9]

On the benchmark's messages (:mod:`load.bench_data`), single events and envelopes, times
per message: ``orjson.loads`` alone (what the limit (a) does), the codec's
``decode_predictions_topic`` (what the processor calls) and, for comparison, the codec's
orjson path alone (the one every message took before the msgspec fast path). The runs
are interleaved and the best of ``--repeat`` is kept: the machine may be shared.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Sequence
from typing import Any

import orjson

from load import bench_data
from load.bench_common import emit, say
from streamdrift import codec


def orjson_path(raw: bytes) -> Any:
    """decode_predictions_topic as it was before the fast path."""
    doc = codec._parse(raw)
    if doc.get("kind") == codec.END_OF_INPUT:
        return codec._decode_end_of_input(doc)
    return codec._decode_prediction_doc(doc)


DECODERS: dict[str, Callable[[bytes], Any]] = {
    "orjson.loads": orjson.loads,
    "codec": codec.decode_predictions_topic,
    "codec, orjson path": orjson_path,
}


def best_times(messages: list[bytes], repeat: int) -> dict[str, float]:
    """Seconds per message of each decoder: the best of ``repeat`` interleaved passes."""
    best = dict.fromkeys(DECODERS, float("inf"))
    for _ in range(repeat):
        for name, decode in DECODERS.items():
            started = time.perf_counter()
            for raw in messages:
                decode(raw)
            best[name] = min(best[name], (time.perf_counter() - started) / len(messages))
    return best


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m load.bench_codec", description=__doc__)
    p.add_argument("--events", type=int, default=20_000)
    p.add_argument("--repeat", type=int, default=9)
    args = p.parse_args(argv)
    encoded = bench_data.encode(args.events)
    result: dict[str, Any] = {}
    for fmt, messages in (("single", encoded.single), ("envelopes", encoded.envelopes)):
        values = [v for _, v in messages]
        times = best_times(values, args.repeat)
        per_event = len(values) / args.events
        result[fmt] = {
            name: {"us_per_message": t * 1e6, "events_per_s": 1 / (t * per_event)}
            for name, t in times.items()
        }
        limit = times["orjson.loads"]
        for name, t in times.items():
            say("codec", f"{fmt:9s} {name:20s} {t * 1e6:9.2f} µs/message  {limit / t:5.2f}× loads")
    emit(result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
