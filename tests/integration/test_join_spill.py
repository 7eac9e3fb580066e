"""The feedback join's on-disk tier through the real broker: spill, SIGKILL, another machine.

A worker that keeps only 50 waiting predictions per partition in memory spills the rest
(segments published to ``<app_id>-join-spill``), is SIGKILLed mid-run and restarted with
an EMPTY state directory (as on another machine): it must rebuild its spilled predictions
from the spill topic, and end with the join counters of an uninterrupted memory-only run.
"""

from __future__ import annotations

import random
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from streamdrift import config
from streamdrift.config.settings import Settings
from streamdrift.devtools.broker import LocalBroker, free_port
from streamdrift.records import FeedbackEvent, PredictionBatch
from streamdrift.service.worker import ensure_topics
from tests.integration import traffic
from tests.integration.kafka_helpers import scrape, wait_for
from tests.integration.test_recovery import Worker, _run_to_end

pytestmark = pytest.mark.integration

N = 12_000  # predictions per model (0.01 s of event time apart)
MODELS = ("spill-a", "spill-b")


def _settings(broker: str, tmp: Path, tag: str, memory_pending: int, inputs: str) -> Settings:
    return config.load(
        {
            "broker": broker,
            "app_id": f"spill-{tag}-{random.randrange(1 << 30)}",
            "topic_predictions": f"predictions-{inputs}",
            "topic_feedback": f"feedback-{inputs}",
            "topic_drift_alerts": f"drift-alerts-{tag}",
            "topic_degradation_alerts": f"degradation-alerts-{tag}",
            "topic_dead_letter": f"dead-letter-{tag}",
            "data_dir": str(tmp / tag),
            "metrics_port": free_port(),
            "checkpoint_interval": 1.0,
            "memory_pending": memory_pending,
            "config": str(tmp / "models.toml"),
        },
        environ={},
    )


def _input(settings: Settings) -> None:
    """Two classifiers over 120 s of event time; 70% of the predictions get a label 3 s
    later, the others expire 60 s after them (or still wait at the end)."""
    rng = np.random.default_rng(5)
    batches: list[PredictionBatch] = []
    feedback: list[FeedbackEvent] = []
    for i, model in enumerate(MODELS):
        predictions, labels = traffic.classifier(model, N, N // 2, 0.9, 0.7, seed=i)
        batches.append(predictions)
        feedback.extend(e for e in labels if rng.random() < 0.7)
    traffic.run(traffic.publish(settings, batches, envelopes=False))
    traffic.run(traffic.publish_feedback(settings, feedback))


def _on_disk(settings: Settings) -> float:
    return scrape(settings.metrics_port)['streamdrift_pending_joins{kind="predictions_on_disk"}']


def _join_totals(checkpoints: dict[int, dict[str, Any]]) -> dict[str, int]:
    """Join counters summed over partitions and models (``early_feedback`` depends on how
    the two topics interleave in fetches, so it differs between any two runs)."""
    totals: dict[str, int] = {}
    for state in checkpoints.values():
        for name, per_model in state["labels"]["join"]["counters"].items():
            if name != "early_feedback":
                totals[name] = totals.get(name, 0) + sum(per_model.values())
    return totals


def test_spilling_worker_killed_and_moved_ends_like_a_memory_only_run(
    kafka_broker: LocalBroker, tmp_path: Path
) -> None:
    toml = "[defaults.performance]\nprediction_ttl = 60\n"
    for model in MODELS:  # configured: their labels are joined even before any prediction
        toml += f"[models.{model}.performance]\nmin_labels = 200\n"
    (tmp_path / "models.toml").write_text(toml)
    tag = f"{random.randrange(1 << 30)}"
    base = _settings(kafka_broker.url, tmp_path, "memory", 0, tag)
    ensure_topics(base)
    _input(base)
    worker = Worker(base, tmp_path / "memory.log")
    worker.start()
    try:
        want = _join_totals(_run_to_end(worker))
    finally:
        worker.stop()
    assert want["labelled"] > N and want["unlabelled_expired"] > N // 10

    spill = _settings(kafka_broker.url, tmp_path, "spill", 50, tag)
    ensure_topics(spill)
    worker = Worker(spill, tmp_path / "spill.log")
    worker.start()
    try:
        assert wait_for(lambda: worker.consumed() > 0, timeout=90), worker.log.read_text()[-2000:]
        # kill once a checkpoint counted predictions waiting on disk
        assert wait_for(lambda: _on_disk(spill) > 200, timeout=120, interval=0.1), (
            worker.log.read_text()[-2000:]
        )
        time.sleep(0.5)
        worker.kill()
        # another machine: same consumer group and topics, an empty state directory
        moved = spill.replace(data_dir=str(tmp_path / "spill-moved"))
        worker = Worker(moved, tmp_path / "spill.log")
        worker.start()
        # owned, not consumed: the killed worker may have checkpointed all the input already
        # (then nothing is left to consume, but its spilled state must still be rebuilt)
        assert wait_for(lambda: worker.owned() > 0, timeout=90), worker.log.read_text()[-2000:]
        got = _join_totals(_run_to_end(worker))
    finally:
        worker.stop()
    log = (tmp_path / "spill.log").read_text().splitlines()
    read = [line for line in log if "join spill segments from" in line]
    assert any(" read 0 of" not in line for line in read), "no segment read from the topic"
    assert got == want
