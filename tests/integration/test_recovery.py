"""Crash recovery through the real broker: SIGKILL, a broker outage, a consumer group change.

The invariant (README, "Delivery guarantee"): after any of these, the monitoring state
equals that of an uninterrupted run over the same input, no alert is lost, and an alert
published again carries the same alert_id. ``make soak`` runs the same tests bigger
(``STREAMDRIFT_SOAK=1``: ten times the events).
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from streamdrift import config
from streamdrift.codec import decode_checkpoint
from streamdrift.config.settings import Settings
from streamdrift.devtools.broker import LocalBroker, free_port
from streamdrift.kafka.checkpoints import checkpoint_topic, spill_topic
from tests.integration import traffic
from tests.integration.kafka_helpers import read_alerts, scrape, settings_args, wait_for

pytestmark = pytest.mark.integration

SCALE = 10 if os.environ.get("STREAMDRIFT_SOAK") else 1
EVENTS = 30_000 * SCALE  # predictions per drifting model
PARTITIONS = 8  # of the input topics (topics/topics.toml)


def _input(settings: Settings, seed: int) -> int:
    """Pre-produce the input: two drifting models and a classifier with late labels."""
    rng = np.random.default_rng(seed)
    batches = []
    for model in ("rec-a", "rec-b"):
        half = EVENTS // 2
        batches.append(traffic.batch(model, 0, half, rng))
        batches.append(traffic.batch(model, half, EVENTS - half, rng, income_shift=1.0))
    predictions, feedback = traffic.classifier("rec-clf", EVENTS, EVENTS // 2, 0.9, 0.65, seed)
    batches.append(predictions)
    # single events: the slow path, so that kills land in the middle of the run
    sent = traffic.run(traffic.publish(settings, batches, envelopes=False))
    traffic.run(traffic.publish_feedback(settings, feedback))
    return sent + len(feedback)


class Worker:
    """A `streamdrift worker` subprocess that can be killed and restarted."""

    def __init__(self, settings: Settings, log: Path) -> None:
        self.settings = settings
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None
        self.recoveries: list[float] = []

    def start(self) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("STREAMDRIFT_")}
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "streamdrift", "worker", *settings_args(self.settings)],
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
            )

    def consumed(self) -> float:
        try:
            metrics = scrape(self.settings.metrics_port)
        except OSError:
            return -1.0
        return sum(
            v for k, v in metrics.items() if k.startswith("streamdrift_messages_consumed_total{")
        )

    def owned(self) -> float:
        try:
            return scrape(self.settings.metrics_port)["streamdrift_partitions_owned"]
        except (OSError, KeyError):
            return 0.0

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def restart_timed(self) -> None:
        """Start again and measure the time until it processes input again."""
        started = time.monotonic()
        self.start()
        assert wait_for(lambda: self.consumed() > 0, timeout=90), self.log.read_text()[-2000:]
        self.recoveries.append(time.monotonic() - started)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=40)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def _checkpoints(settings: Settings) -> dict[int, dict[str, Any]]:
    """The latest checkpoint of every partition, read straight from the checkpoint topic."""
    latest = _read_compacted(checkpoint_topic(settings), settings)
    return {int(key): decode_checkpoint(value) for key, value in latest.items()}


def _end_offsets(settings: Settings) -> dict[str, int]:
    """Total messages in each input topic."""
    import asyncio

    from aiokafka import AIOKafkaConsumer, TopicPartition

    async def read() -> dict[str, int]:
        consumer = AIOKafkaConsumer(
            bootstrap_servers=settings.broker_address.bootstrap_servers, group_id=None
        )
        await consumer.start()
        try:
            totals = {}
            for topic in (settings.topic_predictions, settings.topic_feedback):
                tps = [TopicPartition(topic, p) for p in range(PARTITIONS)]
                totals[topic] = sum((await consumer.end_offsets(tps)).values())
            return totals
        finally:
            await consumer.stop()

    return asyncio.run(read())


def _read_compacted(topic: str, settings: Settings) -> dict[bytes, bytes]:
    """The latest value of every key of a one-partition topic (tombstones remove the key)."""
    import asyncio

    from aiokafka import AIOKafkaConsumer, TopicPartition

    async def read() -> dict[bytes, bytes]:
        consumer = AIOKafkaConsumer(
            bootstrap_servers=settings.broker_address.bootstrap_servers,
            group_id=None,
            max_partition_fetch_bytes=64 * 1024 * 1024,
        )
        await consumer.start()
        tp = TopicPartition(topic, 0)
        consumer.assign([tp])
        await consumer.seek_to_beginning(tp)
        end = (await consumer.end_offsets([tp]))[tp]
        latest: dict[bytes, bytes] = {}
        try:
            while await consumer.position(tp) < end:
                for records in (await consumer.getmany(tp, timeout_ms=1000)).values():
                    for r in records:
                        if r.value is None:
                            latest.pop(r.key, None)
                        else:
                            latest[r.key] = r.value
        finally:
            await consumer.stop()
        return latest

    return asyncio.run(read())


def _with_spilled_rows(
    settings: Settings, checkpoints: dict[int, dict[str, Any]]
) -> dict[int, dict[str, Any]]:
    """Checkpoints whose join holds every waiting prediction under ``pending``: those in
    memory and the live rows of its on-disk segments (read back from the spill topic).
    Which predictions went to disk, and when, depends on fetch boundaries; what waits
    does not."""
    from streamdrift.labels.join_spill import _unpack
    from streamdrift.labels.spill_store import decode_segment

    spilled = [c for c in checkpoints.values() if "spill" in c["labels"]["join"]]
    blobs = _read_compacted(spill_topic(settings), settings) if spilled else {}
    for partition, checkpoint in checkpoints.items():
        join = checkpoint["labels"]["join"]
        spill = join.pop("spill", None)
        if spill is None:
            continue
        pending = join.setdefault("pending", {})
        for seq, n, crc, _live, packed in spill["segments"]:
            key = f"{settings.topic_predictions}/{partition}/{seq}-{crc:08x}".encode()
            assert key in blobs, f"segment {key!r} referenced by a checkpoint is not in the topic"
            removed = _unpack(packed, n)
            _, rows = decode_segment(blobs[key])
            for idx, (model, pid, ts, pred, version, segment) in enumerate(rows):
                if not removed[idx >> 3] & (1 << (idx & 7)):
                    pending.setdefault(model, []).append([pid, ts, pred, version, segment])
    return checkpoints


def _covered(settings: Settings, checkpoints: dict[int, dict[str, Any]]) -> dict[str, int]:
    totals = {settings.topic_predictions: 0, settings.topic_feedback: 0}
    for state in checkpoints.values():
        for topic, offset in state["offsets"].items():
            totals[topic] = totals.get(topic, 0) + offset
    return totals


def _run_to_end(worker: Worker) -> dict[int, dict[str, Any]]:
    """Let the worker finish the input, stop it (a final checkpoint), return checkpoints
    (with the join's spilled predictions under ``pending``, see _with_spilled_rows)."""
    settings = worker.settings
    want = _end_offsets(settings)
    assert wait_for(
        lambda: _covered(settings, _checkpoints(settings)) == want,
        timeout=300 * SCALE,
        interval=2.0 * SCALE,
    ), f"not caught up: {_covered(settings, _checkpoints(settings))} != {want}"
    worker.stop()
    return _with_spilled_rows(settings, _checkpoints(settings))


def _first_difference(a: Any, b: Any, path: str = "") -> str | None:
    """Where two JSON-like values first differ (for a readable assertion message)."""
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b), key=str):
            if key not in a or key not in b:
                return f"{path}/{key}: only in one"
            found = _first_difference(a[key], b[key], f"{path}/{key}")
            if found:
                return found
        return None
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return f"{path}: lengths {len(a)} != {len(b)}"
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            found = _first_difference(x, y, f"{path}[{i}]")
            if found:
                return found
        return None
    return None if a == b else f"{path}: {str(a)[:200]} != {str(b)[:200]}"


def _states(checkpoints: dict[int, dict[str, Any]]) -> dict[int, Any]:
    """What must equal an uninterrupted run: the drift state exactly (one input topic, in
    offset order); for labels, everything that does not depend on how the predictions and
    feedback topics interleaved in fetches — which differs between any two runs: the
    ``early_feedback`` counter, the order of waiting entries and of rows in open windows."""
    return {p: _normalise(c) for p, c in checkpoints.items()}


def _normalise(checkpoint: dict[str, Any]) -> dict[str, Any]:
    labels = checkpoint["labels"]
    join = dict(labels["join"])
    join["counters"] = {k: v for k, v in join["counters"].items() if k != "early_feedback"}
    for store in ("pending", "feedback", "labelled"):
        join[store] = {m: sorted(rows) for m, rows in join[store].items()}
    monitors = []
    for monitor in labels["monitors"]:
        windows = monitor["windows"]
        monitors.append(
            {
                **{k: v for k, v in monitor.items() if k != "windows"},
                "late_events": windows.get("late_events"),
                "buffered_ids": sorted(_values_under(windows, "id")),
            }
        )
    return {
        "fleet": checkpoint["fleet"],
        "labels": {**labels, "join": join, "monitors": monitors},
    }


def _values_under(node: Any, key: str) -> list[Any]:
    found: list[Any] = []
    if isinstance(node, dict):
        for k, v in node.items():
            found.extend(v if k == key and isinstance(v, list) else _values_under(v, key))
    elif isinstance(node, list):
        for item in node:
            found.extend(_values_under(item, key))
    return found


def _alerts(settings: Settings) -> dict[str, dict[str, Any]]:
    """Alerts by id; a repeated id must carry the same alert (apart from detected_at)."""
    topics = (settings.topic_drift_alerts, settings.topic_degradation_alerts)
    found = traffic.run(read_alerts(settings, until=lambda a: False, timeout=5, topics=topics))
    by_id: dict[str, dict[str, Any]] = {}
    for alert in found:
        body = {k: v for k, v in alert.items() if k != "detected_at"}
        assert by_id.setdefault(alert["alert_id"], body) == body, "same id, different alert"
    return by_id


def _settings(broker: str, tmp: Path, tag: str, inputs: Settings | None = None) -> Settings:
    values: dict[str, Any] = {
        "broker": broker,
        "app_id": f"rec-{tag}-{random.randrange(1 << 30)}",
        "topic_drift_alerts": f"drift-alerts-{tag}",
        "topic_degradation_alerts": f"degradation-alerts-{tag}",
        "topic_dead_letter": f"dead-letter-{tag}",
        "data_dir": str(tmp / tag),
        "metrics_port": free_port(),
        "checkpoint_interval": 1.0,
        "config": str(tmp / "models.toml"),
    }
    if inputs is not None:
        values["topic_predictions"] = inputs.topic_predictions
        values["topic_feedback"] = inputs.topic_feedback
    else:
        values["topic_predictions"] = f"predictions-{tag}"
        values["topic_feedback"] = f"feedback-{tag}"
    return config.load(values, environ={})


@pytest.fixture(scope="module")
def baseline(
    kafka_broker: LocalBroker, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Path, Settings, dict[int, dict[str, Any]], dict[str, dict[str, Any]]]]:
    """The input, and the result of one uninterrupted run over it."""
    tmp = tmp_path_factory.mktemp("recovery")
    (tmp / "models.toml").write_text(
        '[models.rec-clf.performance]\nwindow = { kind = "time", size = 20.0 }\nmin_labels = 200\n'
    )
    settings = _settings(kafka_broker.url, tmp, "base")
    from streamdrift.service.worker import ensure_topics

    ensure_topics(settings)
    _input(settings, seed=31)
    worker = Worker(settings, tmp / "base.log")
    worker.start()
    try:
        checkpoints = _run_to_end(worker)
    finally:
        worker.stop()
    alerts = _alerts(settings)
    assert any(a["kind"] == "data_drift" for a in alerts.values())
    assert any(a["kind"] == "performance_degradation" for a in alerts.values())
    yield tmp, settings, checkpoints, alerts


def test_sigkill_three_times_loses_nothing_and_keeps_alert_ids(
    kafka_broker: LocalBroker, baseline: Any
) -> None:
    tmp, inputs, want_checkpoints, want_alerts = baseline
    settings = _settings(kafka_broker.url, tmp, "kill", inputs)
    worker = Worker(settings, tmp / "kill.log")
    rng = random.Random(20261129)
    worker.start()
    try:
        assert wait_for(lambda: worker.consumed() > 0, timeout=90), worker.log.read_text()[-2000:]
        for _ in range(3):
            target = worker.consumed() + rng.randrange(2_000, 12_000) * SCALE
            wait_for(lambda t=target: worker.consumed() >= t, timeout=30, interval=0.05)
            worker.kill()
            worker.restart_timed()
        checkpoints = _run_to_end(worker)
    finally:
        worker.stop()
    print(f"recovery times after SIGKILL (s): {[round(t, 1) for t in worker.recoveries]}")
    got_states, want_states = _states(checkpoints), _states(want_checkpoints)
    assert got_states == want_states, _first_difference(got_states, want_states)
    assert _alerts(settings).keys() == want_alerts.keys()
    got = _alerts(settings)
    for alert_id, alert in want_alerts.items():
        assert {k: v for k, v in got[alert_id].items() if k != "message"} == {
            k: v for k, v in alert.items() if k != "message"
        }


def test_a_worker_leaving_the_group_hands_its_partitions_over(
    kafka_broker: LocalBroker, baseline: Any
) -> None:
    tmp, inputs, want_checkpoints, want_alerts = baseline
    first = _settings(kafka_broker.url, tmp, "pair", inputs)
    second = first.replace(metrics_port=free_port(), data_dir=str(tmp / "pair-2"))
    a, b = Worker(first, tmp / "pair-a.log"), Worker(second, tmp / "pair-b.log")
    a.start()
    b.start()
    try:
        assert wait_for(lambda: a.owned() > 0 and b.owned() > 0, timeout=90), (
            a.log.read_text()[-1500:] + b.log.read_text()[-1500:]
        )
        assert a.owned() + b.owned() == PARTITIONS
        a.kill()  # mid-run; its partitions move to b after the session timeout
        checkpoints = _run_to_end(b)
    finally:
        a.stop()
        b.stop()
    got_states, want_states = _states(checkpoints), _states(want_checkpoints)
    assert got_states == want_states, _first_difference(got_states, want_states)
    assert _alerts(first).keys() == want_alerts.keys()


def test_a_30_second_broker_outage_is_survived(tmp_path: Path) -> None:
    broker = LocalBroker(data_dir=tmp_path / "kafka", port=free_port())
    broker.up(timeout=120)
    try:
        (tmp_path / "models.toml").write_text("")
        settings = _settings(broker.url, tmp_path, "outage")
        from streamdrift.service.worker import ensure_topics

        ensure_topics(settings)
        rng = np.random.default_rng(41)
        half = 10_000 * SCALE
        traffic.run(traffic.publish(settings, [traffic.batch("out", 0, half, rng)]))
        worker = Worker(settings, tmp_path / "outage.log")
        worker.start()
        try:
            assert wait_for(lambda: worker.consumed() > 0, timeout=90)
            broker.down()
            time.sleep(30)
            broker.up(timeout=120)
            traffic.run(
                traffic.publish(settings, [traffic.batch("out", half, half, rng, income_shift=1.0)])
            )
            checkpoints = _run_to_end(worker)
        finally:
            worker.stop()
        seen = sum(m["events_seen"] for c in checkpoints.values() for m in c["fleet"]["monitors"])
        assert seen == 2 * half
        assert any(a["feature"] == "income" for a in _alerts(settings).values())
        log = worker.log.read_text(errors="replace")
        assert "going back to the last checkpoint" in log or "Unable connect" in log
        assert log.count("Traceback") <= 2, "a stack-trace storm during the outage"
    finally:
        broker.down()
