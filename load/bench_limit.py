"""(a) The limit: a raw aiokafka consumer that only decodes the messages with orjson.

    python -m load.bench_limit --broker kafka://127.0.0.1:9092 --topic T --messages M [--passes 3]

Same consumer settings as streamdrift's :class:`~streamdrift.kafka.runner.StreamRunner` (a fresh
group, from the beginning, ``getmany`` of up to 2,000 records, 64 MiB fetches), so the
only difference to (c)/(d) is what happens to a record after it was fetched. Events are
rows: 1 per single-event message, ``len(prediction_id)`` per batch envelope. Throughput is
measured from the first fetched record to the M-th message decoded. This pass is short (it
does so little), so it is repeated ``--passes`` times, each with a fresh consumer group,
and the median pass is reported.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Sequence
from typing import Any

import orjson

from load.bench_common import emit, median_pass, say, unique_tag
from streamdrift.config.settings import BrokerAddress


async def consume(bootstrap: str, topic: str, messages: int) -> dict[str, Any]:
    from aiokafka import AIOKafkaConsumer

    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=f"bench-limit-{unique_tag()}",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        fetch_max_bytes=64 * 1024 * 1024,
        max_partition_fetch_bytes=8 * 1024 * 1024,
    )
    await consumer.start()
    seen = events = 0
    first = 0.0
    loads = orjson.loads
    try:
        while seen < messages:
            fetched = await consumer.getmany(timeout_ms=200, max_records=2000)
            if not fetched:
                continue
            if not first:
                first = time.perf_counter()
            for records in fetched.values():
                for r in records:
                    doc = loads(r.value)
                    ids = doc.get("prediction_id")
                    events += len(ids) if type(ids) is list else 1
                seen += len(records)
        elapsed = time.perf_counter() - first
    finally:
        await consumer.stop()
    return {"messages": seen, "events": events, "seconds": elapsed, "rate": events / elapsed}


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m load.bench_limit", description=__doc__)
    p.add_argument("--broker", required=True)
    p.add_argument("--topic", required=True)
    p.add_argument("--messages", type=int, required=True)
    p.add_argument("--passes", type=int, default=3)
    args = p.parse_args(argv)
    bootstrap = BrokerAddress.parse(args.broker).bootstrap_servers
    passes = [
        asyncio.run(consume(bootstrap, args.topic, args.messages)) for _ in range(args.passes)
    ]
    result = median_pass(passes)
    rates = result["rates"]
    say("limit", f"{result['events']:,} events in {result['seconds']:.3f}s (median of {rates})")
    emit(result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
