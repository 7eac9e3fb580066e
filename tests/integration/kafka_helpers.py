"""Helpers for integration tests: a worker subprocess, unique topics, reading alerts."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from streamdrift import codec, config
from streamdrift.devtools.broker import free_port
from streamdrift.service.worker import ensure_topics


def unique_settings(broker_url: str, data_dir: Path, **overrides: Any) -> config.Settings:
    """Settings with topics and a consumer group of their own, so tests never share state."""
    tag = uuid.uuid4().hex[:8]
    values: dict[str, Any] = {
        "broker": broker_url,
        "app_id": f"sd-test-{tag}",
        "topic_predictions": f"predictions-{tag}",
        "topic_feedback": f"feedback-{tag}",
        "topic_drift_alerts": f"drift-alerts-{tag}",
        "topic_degradation_alerts": f"degradation-alerts-{tag}",
        "topic_dead_letter": f"dead-letter-{tag}",
        "topic_drift_windows": f"drift-windows-{tag}",
        "topic_experiment_decisions": f"experiment-decisions-{tag}",
        "topic_retrain_requests": f"retrain-requests-{tag}",
        "data_dir": str(data_dir),
        "metrics_port": free_port(),
    }
    values.update(overrides)
    return config.load(values, environ={})


def settings_args(settings: config.Settings) -> list[str]:
    args = []
    for name in config.Settings.__dataclass_fields__:
        args += ["--" + name.replace("_", "-"), str(getattr(settings, name))]
    return args


@dataclass
class WorkerProcess:
    proc: subprocess.Popen[bytes]
    log: Path

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


@contextlib.contextmanager
def running_worker(settings: config.Settings, log: Path) -> Iterator[WorkerProcess]:
    """Apply the topics, start ``streamdrift worker`` as a subprocess, stop it afterwards."""
    ensure_topics(settings)
    env = {k: v for k, v in os.environ.items() if not k.startswith("STREAMDRIFT_")}
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamdrift", "worker", *settings_args(settings)],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
        )
    worker = WorkerProcess(proc, log)
    try:
        yield worker
    finally:
        worker.stop()


async def read_alerts(
    settings: config.Settings,
    *,
    until: Any,
    timeout: float,
    topics: tuple[str, ...] | None = None,
) -> list[dict[str, Any]]:
    """Read alert topics from the beginning until ``until(alerts)`` is true or ``timeout``."""
    from aiokafka import AIOKafkaConsumer

    consumer = AIOKafkaConsumer(
        *(topics or (settings.topic_drift_alerts,)),
        bootstrap_servers=settings.broker_address.bootstrap_servers,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        group_id=None,
    )
    await consumer.start()
    alerts: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline and not until(alerts):
            batch = await consumer.getmany(timeout_ms=500)
            for records in batch.values():
                alerts.extend(codec.loads(r.value) for r in records)
    finally:
        await consumer.stop()
    return alerts


def scrape(port: int) -> dict[str, float]:
    """The worker's /metrics as {sample name with labels: value}."""
    import urllib.request

    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as resp:
        text = resp.read().decode()
    values = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            values[name] = float(value)
    return values


def wait_for(predicate: Any, timeout: float, interval: float = 0.5) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(Exception):
            if predicate():
                return True
        time.sleep(interval)
    return False


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def firing(alerts: list[dict[str, Any]], model: str, kind: str) -> list[dict[str, Any]]:
    """The firing alerts of one kind of one model."""
    wanted = (model, kind, "firing")
    return [a for a in alerts if (a["model_id"], a["kind"], a["status"]) == wanted]


def model_alerts(
    settings: config.Settings, model: str, until: Any, timeout: float
) -> list[dict[str, Any]]:
    """The drift and degradation alerts of ``model``, read until ``until(its alerts)``."""
    topics = (settings.topic_drift_alerts, settings.topic_degradation_alerts)

    def done(alerts: list[dict[str, Any]]) -> bool:
        return bool(until([a for a in alerts if a["model_id"] == model]))

    found = run(read_alerts(settings, until=done, timeout=timeout, topics=topics))
    return [a for a in found if a["model_id"] == model]


async def read_dead_letter(
    settings: config.Settings, expected: int, timeout: float = 60
) -> list[dict[str, Any]]:
    """The dead-letter topic from its start: ``{"value", "key", "headers"}`` per record."""
    from aiokafka import AIOKafkaConsumer

    consumer = AIOKafkaConsumer(
        settings.topic_dead_letter,
        bootstrap_servers=settings.broker_address.bootstrap_servers,
        auto_offset_reset="earliest",
        group_id=None,
    )
    await consumer.start()
    found: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    try:
        while len(found) < expected and time.monotonic() < deadline:
            for records in (await consumer.getmany(timeout_ms=500)).values():
                found.extend(
                    {"value": r.value, "key": r.key, "headers": dict(r.headers)} for r in records
                )
    finally:
        await consumer.stop()
    return found
