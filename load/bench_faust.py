"""(b) The baseline: a plain Faust agent with River detectors updated per event, the way a
user following the Faust and River documentation would write it.

    python -m load.bench_faust --broker kafka://127.0.0.1:9092 --topic T --events N

A ``faust.App`` (``value_serializer="json"``; everything else Faust's defaults, but its web
server off), one agent over the single-event topic that, for every event, updates one
``river.drift.ADWIN`` per (model, numeric feature) and counts events per model and
categories per (model, categorical feature). It runs under ``faust.Worker`` (what
``faust -A app worker`` does) in a consumer group of its own, from the beginning of the
topic. Throughput: from the first event the agent sees to the N-th; then it prints its
result line and exits.

``--bare``: the same agent doing nothing but count the events it is given: Faust's own
cost per event (deserialising, its event and message objects, acknowledgement), the most
any per-event Faust agent can reach on this machine (README, "Development").
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import Counter
from collections.abc import Sequence
from typing import Any

from load.bench_common import emit, say, unique_tag


def build_app(broker: str, topic_name: str, events: int, app_id: str, bare: bool = False) -> Any:
    import faust
    from river import drift

    app = faust.App(app_id, broker=broker, value_serializer="json", web_enabled=False)
    topic = app.topic(topic_name)

    detectors: dict[tuple[str, str], Any] = {}
    per_model: Counter[str] = Counter()
    categories: dict[tuple[str, str], Counter[str]] = {}
    drifts: Counter[tuple[str, str]] = Counter()
    state = {"seen": 0, "first": 0.0}

    @app.agent(topic)
    async def monitor(stream: Any) -> None:
        async for event in stream:
            if not state["seen"]:
                state["first"] = time.perf_counter()
            if bare:
                state["seen"] += 1
                if state["seen"] >= events:
                    finish()
                continue
            model = event["model_id"]
            per_model[model] += 1
            for name, value in event["features"].items():
                if isinstance(value, (int, float)) and not isinstance(value, bool):
                    key = (model, name)
                    adwin = detectors.get(key)
                    if adwin is None:
                        adwin = detectors[key] = drift.ADWIN()  # type: ignore[no-untyped-call]
                    adwin.update(value)
                    if adwin.drift_detected:
                        drifts[key] += 1
                elif value is not None:
                    categories.setdefault((model, name), Counter())[str(value)] += 1
            state["seen"] += 1
            if state["seen"] >= events:
                finish()

    def finish() -> None:
        elapsed = time.perf_counter() - state["first"]
        say("faust", f"{state['seen']:,} events in {elapsed:.2f}s")
        emit(
            {
                "events": state["seen"],
                "seconds": elapsed,
                "rate": state["seen"] / elapsed,
                "detectors": len(detectors),
                "adwin_drifts": sum(drifts.values()),
            }
        )
        sys.stderr.flush()
        os._exit(0)  # the measurement is over; no need for a graceful shutdown

    return app


def main(argv: Sequence[str] | None = None) -> int:
    import faust

    p = argparse.ArgumentParser(prog="python -m load.bench_faust", description=__doc__)
    p.add_argument("--broker", required=True)
    p.add_argument("--topic", required=True)
    p.add_argument("--events", type=int, required=True)
    p.add_argument("--bare", action="store_true", help="an agent that only counts events")
    args = p.parse_args(argv)
    app = build_app(args.broker, args.topic, args.events, f"bench-faust-{unique_tag()}", args.bare)
    worker = faust.Worker(app, loglevel="WARNING", quiet=True, redirect_stdouts=False)
    worker.execute_from_commandline()
    return 1  # pragma: no cover  (the agent exits the process)


if __name__ == "__main__":
    raise SystemExit(main())
