"""Where the time goes: cProfile of ``Processor.process`` on pre-built input records.

    python -m load.bench_profile --events 50000 [--top 8]

No Kafka: the benchmark's events are encoded as single-event messages and as batch
envelopes, wrapped in :class:`~streamdrift.engine.messages.InputRecord` objects per
partition (as the runner builds them from fetched records) and handed to a fresh
:class:`~streamdrift.engine.processor.Processor` (default settings) in slices of 2,000
records (``batch_max``). Each format is run on fresh processors: without the profiler
(events/s of the processor alone; ``--repeat N``: the best of N runs) and under cProfile.
Reported per format: the inclusive time of each stage of ``Processor.process`` as a share
of the profiled total, and the functions with the most own time. Last, for comparison,
the events/s of the floor work alone (:func:`load.bench_floor.offline`: ``orjson.loads``
plus the least numpy work any monitor must do) on the same envelopes.

The garbage collector is tuned as the worker tunes it after start-up
(:func:`streamdrift.service.worker.tune_gc`), so the profile measures what the worker runs;
``--gc-default`` keeps Python's defaults.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import time
from collections.abc import Callable, Sequence
from typing import Any

from load import bench_data, bench_floor
from load.bench_common import emit, say
from streamdrift import config
from streamdrift.engine.messages import InputRecord
from streamdrift.engine.processor import Processor
from streamdrift.metrics import Metrics
from streamdrift.service.worker import tune_gc
from streamdrift.storage.sqlite_spill import SqliteSpillStore

TOPIC = "predictions"

# (label, file suffix, function names separated by "|"): inclusive (cumulative) time of these
# calls. engine/intake.py's Intake.take sorts a fetch's records: it decodes and validates
# them (runs of single events through msgspec, inside C, so no codec function of their own
# shows; anything else with codec.decode_predictions_topic_slow), admits them and regroups
# runs of single events with records.batches_of_events
STAGES: tuple[tuple[str, str, str], ...] = (
    ("intake: decode, validate, admit, regroup", "streamdrift/engine/intake.py", "take"),
    (
        "  of which regroup into batches (records)",
        "streamdrift/records.py",
        "batches_of_events|to_batches",
    ),
    ("drift monitors (MonitorFleet.observe)", "streamdrift/drift/fleet.py", "observe"),
    ("  of which window tests (_test_window)", "streamdrift/drift/monitor.py", "_test_window"),
    (
        "label join buffer (labels.add_predictions)",
        "streamdrift/labels/degradation.py",
        "add_predictions",
    ),
)
METRICS_FILES = "prometheus_client/"


def records_of(messages: list[bench_data.Message]) -> dict[int, list[InputRecord]]:
    out: dict[int, list[InputRecord]] = {}
    for key, value in messages:
        p = bench_data.murmur2_partition(key)
        rows = out.setdefault(p, [])
        rows.append(InputRecord(TOPIC, p, len(rows), time.time(), key, value))
    return out


def run(records: dict[int, list[InputRecord]], batch: int = 2000) -> Callable[[], None]:
    settings = config.load({"topic_predictions": TOPIC, "metrics_port": 0}, environ={})
    processor = Processor(settings, spill_store=SqliteSpillStore)
    metrics = Metrics()  # fed as the runner feeds it
    for p in records:
        processor.restore(p, None)

    def go() -> None:
        for p, rows in records.items():
            for lo in range(0, len(rows), batch):
                metrics.record(processor.process(p, rows[lo : lo + batch]))

    return go


def _short(key: tuple[str, int, str]) -> str:
    filename, line, func = key
    if filename == "~":
        return func
    parts = filename.split("/")
    for root in ("streamdrift", "site-packages"):
        if root in parts:
            parts = parts[parts.index(root) + (root == "site-packages") :]
            break
    return f"{'/'.join(parts[-3:])}:{line}({func})"


def analyse(stats: pstats.Stats, top: int) -> dict[str, Any]:
    table: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    total = max(stats.total_tt, 1e-9)  # type: ignore[attr-defined]
    stages: list[dict[str, Any]] = []
    for label, suffix, funcs in STAGES:
        names = funcs.split("|")
        cum = sum(
            ct
            for (f, _, fn), (_, _, _, ct, _) in table.items()
            if f.endswith(suffix) and fn in names
        )
        stages.append({"stage": label, "seconds": cum, "share": cum / total})
    metrics = sum(tt for (f, _, _), (_, _, tt, _, _) in table.items() if METRICS_FILES in f)
    stages.append(
        {"stage": "Prometheus metrics (own time)", "seconds": metrics, "share": metrics / total}
    )
    ranked = sorted(table.items(), key=lambda item: item[1][2], reverse=True)[:top]
    functions = [
        {"function": _short(key), "calls": nc, "seconds": tt, "share": tt / total}
        for key, (_, nc, tt, _, _) in ranked
    ]
    return {"total": total, "stages": stages, "functions": functions}


def profile(
    name: str, messages: list[bench_data.Message], events: int, top: int, repeat: int = 1
) -> dict[str, Any]:
    records = records_of(messages)
    plain = []
    for _ in range(repeat):  # the best of ``repeat`` runs: the machine may be shared
        go = run(records)
        started = time.perf_counter()
        go()
        plain.append(time.perf_counter() - started)
    go = run(records)
    profiler = cProfile.Profile()
    profiler.enable()
    go()
    profiler.disable()
    result = analyse(pstats.Stats(profiler), top)
    rates = [events / seconds for seconds in plain]
    result.update(format=name, events=events, messages=len(messages), rate=max(rates), rates=rates)
    say("profile", f"{name}: processor alone {max(rates):,.0f} events/s (best of {repeat})")
    return result


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m load.bench_profile", description=__doc__)
    p.add_argument("--events", type=int, default=50_000)
    p.add_argument("--top", type=int, default=8)
    p.add_argument("--repeat", type=int, default=1, help="unprofiled runs; the best is reported")
    p.add_argument(
        "--gc-default",
        action="store_true",
        help="keep Python's GC settings (default: tune them as the worker does)",
    )
    args = p.parse_args(argv)
    import logging

    logging.basicConfig(level=logging.ERROR)
    encoded = bench_data.encode(args.events)
    if not args.gc_default:
        tune_gc()  # as streamdrift.service.worker.run_worker does after start-up
    result = {
        "single": profile("single", encoded.single, args.events, args.top, args.repeat),
        "envelopes": profile("envelopes", encoded.envelopes, args.events, args.top, args.repeat),
    }
    values = [v for _, v in encoded.envelopes]
    result["floor"] = bench_floor.offline(args.events, max(args.repeat, 3), values)
    floor = result["floor"]
    say(
        "profile",
        f"(a') floor work alone on envelopes {floor['rate']:,.0f} events/s, (a'') required "
        f"work {floor['required_rate']:,.0f} (orjson.loads alone {floor['loads_rate']:,.0f})",
    )
    fetches = [  # the processor's slices (``run``): per partition, ``batch`` records each
        [r.value for r in rows[lo : lo + 2000] if r.value is not None]
        for rows in records_of(encoded.single).values()
        for lo in range(0, len(rows), 2000)
    ]
    result["required_single"] = bench_floor.offline_single(fetches, max(args.repeat, 3))
    single = result["required_single"]
    say(
        "profile",
        f"(a'') required work alone on single events {single['required_rate']:,.0f} events/s "
        f"(orjson.loads alone {single['loads_rate']:,.0f})",
    )
    emit(result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
