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

from streamdrift import config
from streamdrift.devtools import simulator
from streamdrift.devtools.broker import LocalBroker, free_port, port_in_use
from streamdrift.kafka.tail import format_alert
from streamdrift.service.worker import ensure_topics


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
    return " ".join(f"{k}={v:.2f}" for k, v in sorted(_psi_values(values).items()))


class LiveView:
    """What the demo shows: a screen redrawn in place on a terminal (events/s, models, drift
    statistics, latest alerts), or one status line every few seconds when piped to a file."""

    def __init__(self, metrics_port: int, drift_after: int, tty: bool) -> None:
        self.metrics_port = metrics_port
        self.drift_after = drift_after
        self.tty = tty
        self.started = time.monotonic()
        self.alerts: list[str] = []
        self.sent = 0
        self._last = (self.started, 0.0)
        self._rate = 0.0

    def on_alert(self, alert: dict[str, Any]) -> None:
        line = format_alert(alert)
        self.alerts.append(time.strftime("%H:%M:%S ") + line)
        if not self.tty:
            print(f"  >>> ALERT {line}", flush=True)

    def render(self) -> str:
        m = _scrape(self.metrics_port)
        now = time.monotonic()
        consumed = m.get("streamdrift_events_consumed_total", 0.0)
        then, before = self._last
        if now > then:
            self._rate = (consumed - before) / (now - then)
        self._last = (now, consumed)
        phase = "drifted" if self.sent > self.drift_after else "stationary"
        head = (
            f"[{now - self.started:5.0f}s] published {self.sent:>8} ({phase}) | consumed "
            f"{consumed:>8.0f} ({self._rate:>6.0f}/s) | windows "
            f"{m.get('streamdrift_windows_closed_total', 0):>4.0f} | alerts "
            f"{m.get('streamdrift_alerts_total', 0):>2.0f}"
        )
        if not self.tty:
            return f"{head} | PSI {_psi_summary(m)}"
        rows = [
            "streamdrift demo — credit-risk v7 (Ctrl-C stops)",
            "",
            head,
            "",
            f"{'feature':<16}{'PSI':>8}   (drift when >= 0.2 and significant)",
        ]
        for name, value in sorted(_psi_values(m).items()):
            bar = "#" * min(40, int(value * 40))
            rows.append(f"{name:<16}{value:>8.3f}   {bar}")
        rows += ["", "latest alerts:"]
        rows += [f"  {a}" for a in self.alerts[-6:]] or ["  (none yet)"]
        return "\x1b[H\x1b[2J" + "\n".join(rows)


def _psi_values(values: dict[str, float]) -> dict[str, float]:
    out = {}
    for name, value in values.items():
        if 'test="psi"' in name:
            feature = name.split('feature="', 1)[1].split('"', 1)[0]
            out["prediction" if feature == "__prediction__" else feature] = value
    return out


async def _live(settings: config.Settings, args: argparse.Namespace, metrics_port: int) -> None:
    from streamdrift.kafka.tail import tail_alerts

    view = LiveView(metrics_port, args.drift_after, tty=sys.stdout.isatty())

    def progress(n: int) -> None:
        view.sent = n

    producer = asyncio.create_task(
        simulator.run(
            settings.broker,
            simulator.Scenario(drift_after=args.drift_after),
            events=None,
            rate=args.rate,
            topic=settings.topic_predictions,
            progress=progress,
        )
    )
    tail = asyncio.create_task(
        tail_alerts(settings, from_beginning=True, out=None, on_alert=view.on_alert)
    )
    _say(
        f"simulated model server: credit-risk v7 at {args.rate:.0f} events/s; "
        f"'income' shifts by 1 sigma after {args.drift_after} events"
    )
    interval = 1.0 if view.tty else 3.0
    try:
        while args.duration is None or time.monotonic() - view.started < args.duration:
            await asyncio.sleep(interval)
            if producer.done():
                producer.result()  # surface its error
            print(view.render(), flush=True)
    finally:
        for task in (producer, tail):
            task.cancel()
        for task in (producer, tail):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if view.tty:
            print(f"\n{len(view.alerts)} alerts.", flush=True)


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
    try:
        _run_with_broker(url, data, args)
    except KeyboardInterrupt:
        pass
    finally:
        if not already:
            _say("stopping the broker")
            broker.down()
    return 0


def _run_with_broker(url: str, data: Path, args: argparse.Namespace) -> None:
    # the live view reads the worker's /metrics: 0 or a port in use means a free one
    wanted = args.metrics_port
    metrics_port = wanted if wanted and not port_in_use(wanted) else free_port()
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
    command = [
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
    ]
    with log_path.open("ab") as log:
        worker = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
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
    finally:
        _say("stopping the worker")
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
