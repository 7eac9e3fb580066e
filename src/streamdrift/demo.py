"""``streamdrift demo``: a local broker, the worker and a simulated model server, alerts live.

Everything it starts it stops again on Ctrl-C, on ``--duration`` or on an error: the worker
process, and the broker unless one was already running from the demo's data dir.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

from streamdrift import config, simulator
from streamdrift.broker import LocalBroker, free_port, port_in_use
from streamdrift.worker import ensure_topics


def _say(text: str) -> None:
    print(f"[demo] {text}", flush=True)


def _scrape(port: int) -> dict[str, float]:
    """Sum the worker's metrics by name (and drift statistics by feature/test)."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=1) as resp:
            text = resp.read().decode()
    except OSError:
        return {}
    values: dict[str, float] = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        name, _, value = line.rpartition(" ")
        base = name.split("{", 1)[0]
        if base == "streamdrift_drift_statistic":
            values[name] = float(value)
        else:
            values[base] = values.get(base, 0.0) + float(value)
    return values


def _psi_summary(values: dict[str, float]) -> str:
    parts = []
    for name, value in sorted(values.items()):
        if 'test="psi_' in name:
            feature = name.split('feature="', 1)[1].split('"', 1)[0]
            parts.append(f"{feature}={value:.2f}")
    return " ".join(parts)


async def _live(settings: config.Settings, args: argparse.Namespace, metrics_port: int) -> None:
    from streamdrift.alerts.tail import tail_alerts

    scenario = simulator.Scenario(drift_after=args.drift_after)
    state = {"sent": 0}

    def progress(n: int) -> None:
        state["sent"] = n

    producer = asyncio.create_task(
        simulator.run(
            settings.broker,
            scenario,
            events=None,
            rate=args.rate,
            topic=settings.topic_predictions,
            progress=progress,
        )
    )
    tail = asyncio.create_task(_tail(settings, tail_alerts))
    started = time.monotonic()
    _say(
        f"simulated model server: credit-risk v7 at {args.rate:.0f} events/s; "
        f"'income' shifts by 1 sigma after {args.drift_after} events"
    )
    try:
        while args.duration is None or time.monotonic() - started < args.duration:
            await asyncio.sleep(3.0)
            if producer.done():
                producer.result()  # surface its error
            m = _scrape(metrics_port)
            drift = "drifted" if state["sent"] > args.drift_after else "stationary"
            print(
                f"[{time.monotonic() - started:6.0f}s] published {state['sent']:>8} ({drift}) | "
                f"consumed {m.get('streamdrift_events_consumed_total', 0):>8.0f} | "
                f"windows {m.get('streamdrift_windows_closed_total', 0):>4.0f} | "
                f"alerts {m.get('streamdrift_alerts_total', 0):>2.0f} | PSI {_psi_summary(m)}",
                flush=True,
            )
    finally:
        for task in (producer, tail):
            task.cancel()
        for task in (producer, tail):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task


async def _tail(settings: config.Settings, tail_alerts: Any) -> None:
    class _Out:
        def write(self, text: str) -> None:
            if text.strip():
                sys.stdout.write(f"\n  >>> ALERT {text.strip()}\n\n")

        def flush(self) -> None:
            sys.stdout.flush()

    await tail_alerts(settings, from_beginning=True, out=_Out())


def run_demo(args: argparse.Namespace) -> int:
    # the client logs transient "topic not found" while new topics propagate: not for a demo
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
    data: Path = args.data_dir
    broker = LocalBroker(data_dir=data / "broker", port=args.port)
    already = broker.is_running()
    if not already:
        shutil.rmtree(data, ignore_errors=True)  # a fresh demo every time
        port = args.port if not port_in_use(args.port) else free_port()
        broker = LocalBroker(data_dir=data / "broker", port=port)
    _say("starting Apache Kafka (KRaft, single node; first run resolves the jars with Maven)")
    t0 = time.monotonic()
    url = broker.up()
    _say(f"broker at {url} (up in {time.monotonic() - t0:.1f} s, log {broker.log_file})")
    metrics_port = args.metrics_port if not port_in_use(args.metrics_port) else free_port()
    settings = config.load(
        {
            "broker": url,
            "app_id": "streamdrift-demo",
            "data_dir": str(data / "worker"),
            "metrics_port": metrics_port,
        }
    )
    ensure_topics(settings)
    _say("topics applied")
    log_path = data / "worker.log"
    with log_path.open("ab") as log:
        worker = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "streamdrift",
                "worker",
                "--broker",
                url,
                "--app-id",
                settings.app_id,
                "--data-dir",
                settings.data_dir,
                "--metrics-port",
                str(metrics_port),
                "--log-level",
                "info",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    _say(
        f"worker started (pid {worker.pid}, log {log_path}); "
        f"metrics at http://127.0.0.1:{metrics_port}/metrics"
    )
    _say(
        "Ctrl-C stops the demo"
        + (f"; it stops by itself after {args.duration:.0f} s" if args.duration else "")
    )
    try:
        asyncio.run(_live(settings, args, metrics_port))
    except KeyboardInterrupt:
        pass
    finally:
        _say("stopping the worker")
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
        if not already:
            _say("stopping the broker")
            broker.down()
    return 0
