"""End-to-end alert latency of a live worker: from producing the first drifted event to the
alert on the drift-alerts topic.

    python -m load.bench_latency --broker kafka://127.0.0.1:9092 [--runs 3] [--rate 2000]

Each run has its own app id and topics (of one partition each) and starts a real
``streamdrift worker`` (a subprocess, default settings: reference = first 2,000 events,
windows of 1,000) and waits until it owns its partitions. Then one model's single-event
messages are produced through :class:`~streamdrift.client.PredictionClient` at ``--rate``
events/s with live timestamps:
2,000 reference events and three stationary windows, then ``income`` shifted by +2σ from
event 5,000 on, which is the first event of a window. The latency is the arrival time of
the first ``firing`` alert for ``income`` minus the time the first drifted event was handed
to the producer. It includes filling the window (1,000 events: 0.5 s at 2,000 events/s);
``after_window`` is the part after the window's last event was produced (what the worker
and Kafka add). ``startup``: from launching the worker to it owning its partitions;
the run starts once no rebalance happened for 2 s (a worker whose first assignment
outlasted the group session timeout is evicted and re-joins at once: ``rebalances_at_start``
counts its assignments by then); ``rebalances``: assignments during the run.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Sequence
from dataclasses import fields
from pathlib import Path
from typing import Any

from load import bench_data
from load.bench_common import bench_settings, emit, percentile, say, unique_tag
from load.scenarios import Timing
from streamdrift import codec
from streamdrift.config.settings import Settings
from streamdrift.devtools.broker import free_port
from streamdrift.kafka import topics

REFERENCE = 2000
WINDOW = 1000
STATIONARY_WINDOWS = 3
DRIFT_AT = REFERENCE + STATIONARY_WINDOWS * WINDOW
EVENTS = DRIFT_AT + 3 * WINDOW
SETTLE_S = 2.0  # no rebalance for this long after the first assignment: steady state


def worker_env(settings: Settings) -> dict[str, str]:
    """The environment that gives ``streamdrift worker`` exactly ``settings``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("STREAMDRIFT_")}
    for f in fields(Settings):
        env[f"STREAMDRIFT_{f.name.upper()}"] = str(getattr(settings, f.name))
    return env


def metric(port: int, name: str) -> float:
    """A label-less sample of the worker's /metrics (0 if absent or not yet served)."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=1) as resp:
            text = resp.read().decode()
    except OSError:
        return 0.0
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return 0.0


def owned_partitions(port: int) -> float:
    """``streamdrift_partitions_owned`` of the worker's /metrics."""
    return metric(port, "streamdrift_partitions_owned")


async def produce_and_watch(settings: Settings, rate: float, timeout: float) -> dict[str, Any]:
    """Produce the run's stream at ``rate`` and wait for the income alert."""
    from aiokafka import AIOKafkaConsumer

    from streamdrift.client import PredictionClient

    bootstrap = settings.broker_address.bootstrap_servers
    alerts = AIOKafkaConsumer(
        settings.topic_drift_alerts,
        bootstrap_servers=bootstrap,
        group_id=None,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await alerts.start()
    arrived: list[tuple[float, dict[str, Any]]] = []

    async def watch() -> None:
        while True:
            fetched = await alerts.getmany(timeout_ms=50)
            now = time.time()
            for records in fetched.values():
                arrived.extend((now, codec.loads(r.value)) for r in records)

    watcher = asyncio.create_task(watch())
    gen = bench_data.generator(1, DRIFT_AT, timing=Timing("live", rate=rate), chunk_size=EVENTS)
    chunk = next(gen.chunks(EVENTS))
    (batch,) = chunk.batches
    events = list(bench_data.rows_of(batch))
    sent_at: dict[int, float] = {}
    step = max(1, int(rate / 100))  # pace every 10 ms
    client = PredictionClient(settings.broker, topic=settings.topic_predictions)
    await client.start()
    started = time.monotonic()
    try:
        for lo in range(0, len(events), step):
            ahead = lo / rate - (time.monotonic() - started)
            if ahead > 0:
                await asyncio.sleep(ahead)
            for i in range(lo, min(lo + step, len(events))):
                if i in (DRIFT_AT, DRIFT_AT + WINDOW - 1):
                    sent_at[i] = time.time()
                await client.publish(events[i])
            if _income_alert(arrived) is not None:
                break
        deadline = time.monotonic() + timeout
        while _income_alert(arrived) is None and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
    finally:
        await client.close()
        watcher.cancel()
        await asyncio.gather(watcher, return_exceptions=True)
        await alerts.stop()
    hit = _income_alert(arrived)
    if hit is None or DRIFT_AT not in sent_at:
        raise RuntimeError("no income alert arrived after the drift")
    at, alert = hit
    early = [a for t, a in arrived if t < sent_at[DRIFT_AT]]
    return {
        "latency": at - sent_at[DRIFT_AT],
        "after_window": at - sent_at.get(DRIFT_AT + WINDOW - 1, at),
        "window_count": alert.get("window", {}).get("count"),
        "false_alarms": len(early),
    }


def _income_alert(
    arrived: list[tuple[float, dict[str, Any]]],
) -> tuple[float, dict[str, Any]] | None:
    for at, alert in arrived:
        if alert.get("feature") == bench_data.DRIFT_FEATURE and alert.get("status") == "firing":
            return at, alert
    return None


def one_run(broker: str, rate: float, logs: Path, k: int) -> dict[str, Any]:
    from streamdrift.service.worker import ensure_topics

    tag = unique_tag()
    port = free_port()
    settings = bench_settings(
        broker, tag, metrics_port=port, log_level="info", data_dir=str(logs / f"data-{k}")
    )
    # one partition per topic: the measured model has one anyway, and the worker's start-up
    # then seeks 2 partitions instead of 16 (see load/bench_startup.py for why that matters)
    specs = topics.load_specs(None, settings)
    bootstrap = settings.broker_address.bootstrap_servers
    asyncio.run(topics.apply(bootstrap, specs, partitions=1))
    ensure_topics(settings)  # the rest: the checkpoint topic
    log = logs / f"worker-{k}.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamdrift", "worker"],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=worker_env(settings),
        )
    launched = time.monotonic()
    try:
        deadline = launched + 90
        while owned_partitions(port) < 1:
            if proc.poll() is not None or time.monotonic() > deadline:
                tail = log.read_text(errors="replace")[-2000:]
                raise RuntimeError(f"the worker did not start:\n{tail}")
            time.sleep(0.05)
        startup = time.monotonic() - launched
        # Steady state first: a worker whose first assignment took longer than the session
        # timeout is evicted from its group and re-joins right after (a second rebalance).
        rebalances = metric(port, "streamdrift_rebalances_total")
        quiet_since = time.monotonic()
        while time.monotonic() - quiet_since < SETTLE_S and time.monotonic() < deadline:
            time.sleep(0.1)
            now = metric(port, "streamdrift_rebalances_total")
            if now != rebalances or owned_partitions(port) < 1:
                rebalances, quiet_since = now, time.monotonic()
        result = asyncio.run(produce_and_watch(settings, rate, timeout=30))
        result["startup"] = startup
        # a rebalance while the run was producing stalls the worker (diagnostic of outliers)
        result["rebalances"] = metric(port, "streamdrift_rebalances_total") - rebalances
        result["rebalances_at_start"] = rebalances
        return result
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m load.bench_latency", description=__doc__)
    p.add_argument("--broker", required=True)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--rate", type=float, default=2000.0)
    args = p.parse_args(argv)
    runs: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="sd-bench-latency-") as tmp:
        for k in range(args.runs):
            run = one_run(args.broker, args.rate, Path(tmp), k)
            runs.append(run)
            say(
                "latency",
                f"run {k + 1}/{args.runs}: {run['latency'] * 1000:,.0f} ms "
                f"({run['after_window'] * 1000:,.0f} ms after the window's last event; "
                f"start-up {run['startup']:.1f}s, {run['rebalances_at_start']:.0f} assignments "
                f"at start, {run['rebalances']:.0f} during the run)",
            )
    latencies = [r["latency"] for r in runs]
    after = [r["after_window"] for r in runs]
    emit(
        {
            "runs": runs,
            "rate": args.rate,
            "p50": percentile(latencies, 50),
            "p99": percentile(latencies, 99),
            "after_window_p50": percentile(after, 50),
            "after_window_p99": percentile(after, 99),
            "false_alarms": sum(r["false_alarms"] for r in runs),
            "startup_p50": percentile([r["startup"] for r in runs], 50),
            "runs_with_rebalance": sum(1 for r in runs if r["rebalances"] > 0),
            "runs_rejoined_at_start": sum(1 for r in runs if r["rebalances_at_start"] > 1),
        }
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
