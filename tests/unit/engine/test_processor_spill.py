"""Processor with the join's on-disk tier: segments out, tombstones after checkpoints, and a
restore on "another machine" (an empty state directory) from the published segments."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from tests.unit.engine.harness import Processor

from streamdrift import codec, config
from streamdrift.config.settings import Settings
from streamdrift.engine.messages import InputRecord, OutputRecord
from streamdrift.metrics import Metrics
from streamdrift.records import FeedbackEvent, PredictionBatch
from streamdrift.storage.sqlite_spill import SqliteSpillStore

T0 = 1_764_000_000.0
SPILL = "app-join-spill"
TOML = """
[defaults.performance]
prediction_ttl = 30
[models.clf.performance]
window = { kind = "time", size = 10, allowed_lateness = 0 }
min_labels = 50
"""


def _settings(tmp_path: Path, memory_pending: int, state: str) -> Settings:
    (tmp_path / "models.toml").write_text(TOML)
    values = {"config": str(tmp_path / "models.toml"), "memory_pending": memory_pending}
    return config.load({**values, "state_dir": str(tmp_path / state)}, environ={})


def _fetches(seconds: int) -> list[list[InputRecord]]:
    """Per second: 20 predictions, and labels for 80% of those made 5 s earlier (accuracy
    falls from 95% to 55% at 60 s); the others expire after 30 s."""
    rng = np.random.default_rng(4)
    offsets = {"predictions": 0, "feedback": 0}
    made: dict[int, PredictionBatch] = {}
    fetches = []
    for sec in range(seconds):
        ids = [f"c{sec}-{j}" for j in range(20)]
        scores = rng.random(20).round(4).tolist()
        batch = PredictionBatch(
            "clf", "1", None, ids, [T0 + sec + j / 20 for j in range(20)], {}, scores
        )
        made[sec] = batch
        values = [("predictions", codec.encode_prediction_batch(batch))]
        old = made.get(sec - 5)
        if old is not None:
            correct = 0.95 if sec < 60 else 0.55
            labels = [
                FeedbackEvent("clf", pid, ts + 5.0, int((s >= 0.5) == (rng.random() < correct)))
                for pid, ts, s in zip(
                    old.prediction_ids, old.timestamps, old.predictions, strict=True
                )
                if rng.random() < 0.8
            ]
            values.append(("feedback", codec.encode_feedback_batch(labels)))
        records = []
        for topic, value in values:
            records.append(InputRecord(topic, 0, offsets[topic], T0 + sec, b"clf", value))
            offsets[topic] += 1
        fetches.append(records)
    return fetches


class Topic:
    """The spill topic, compacted: latest value per key."""

    def __init__(self) -> None:
        self.values: dict[bytes, bytes] = {}
        self.tombstoned: set[bytes] = set()

    def publish(self, records: list[OutputRecord]) -> None:
        for r in records:
            assert r.topic == SPILL and r.key is not None
            if r.value is None:
                self.values.pop(r.key, None)
                self.tombstoned.add(r.key)
            else:
                self.values[r.key] = r.value


def _checkpoint(processor: Processor, topic: Topic) -> dict[str, Any]:
    topic.publish(processor.take_spilled([0], SPILL))
    snapshot: dict[str, Any] = json.loads(json.dumps(processor.snapshot(0), allow_nan=False))
    topic.publish(processor.checkpointed([0], SPILL))
    return snapshot


def _alerts(out: list[OutputRecord]) -> list[dict[str, Any]]:
    docs = [codec.loads(r.value) for r in out if r.value is not None and r.topic != SPILL]
    return [{k: v for k, v in d.items() if k != "detected_at"} for d in docs]


def test_spilling_processor_restored_elsewhere_matches_the_memory_only_one(tmp_path: Path) -> None:
    fetches = _fetches(150)
    memory = Processor(_settings(tmp_path, 0, "unused"), Metrics(), spill_store=SqliteSpillStore)
    memory.restore(0, None)
    want = [_alerts(memory.process(0, f)) for f in fetches]

    topic = Topic()
    spilling = Processor(
        _settings(tmp_path, 8, "machine-a"), Metrics(), spill_store=SqliteSpillStore
    )
    spilling.restore(0, None)
    got = []
    for i, fetch in enumerate(fetches[:65]):
        got.append(_alerts(spilling.process(0, fetch)))
        if i % 10 == 9:
            snapshot = _checkpoint(spilling, topic)
    spill = snapshot["labels"]["join"]["spill"]
    assert spill["segments"] and len(snapshot["labels"]["join"]["pending"]["clf"]) <= 8
    assert spilling.metrics.join_spill_segments._value.get() > 5
    # "crash" after 65 fetches; the last checkpoint covers 60; another machine takes over
    other = Processor(_settings(tmp_path, 8, "machine-b"), Metrics(), spill_store=SqliteSpillStore)
    needed = other.needed_segments(0, snapshot)
    assert needed == [(s[0], s[2]) for s in spill["segments"]]
    blobs = {seq: topic.values[other.spill_key(0, seq, crc)] for seq, crc in needed}
    other.restore(0, snapshot, blobs)
    got = got[:60]
    for fetch in fetches[60:]:
        got.append(_alerts(other.process(0, fetch)))
    assert got == want
    assert any(doc.get("kind") == "performance_degradation" for alerts in want for doc in alerts)
    join = other.states[0].labels.join
    reference = memory.states[0].labels.join
    assert join.counters() == reference.counters()
    assert join.totals()["unlabelled_expired"] > 100
    # retired segments are tombstoned once a checkpoint no longer references them
    final = _checkpoint(other, topic)
    live = {other.spill_key(0, s[0], s[2]) for s in final["labels"]["join"]["spill"]["segments"]}
    assert live <= set(topic.values) and len(topic.tombstoned) > 5
    assert not live & topic.tombstoned


def test_a_checkpoint_with_spilled_predictions_needs_the_tier(tmp_path: Path) -> None:
    spilling = Processor(
        _settings(tmp_path, 8, "machine-a"), Metrics(), spill_store=SqliteSpillStore
    )
    spilling.restore(0, None)
    for fetch in _fetches(20):
        spilling.process(0, fetch)
    snapshot = _checkpoint(spilling, Topic())
    assert snapshot["labels"]["join"]["spill"]["segments"]
    memory_only = Processor(
        _settings(tmp_path, 0, "machine-b"), Metrics(), spill_store=SqliteSpillStore
    )
    assert memory_only.needed_segments(0, snapshot) == []
    with pytest.raises(ValueError, match="memory_pending > 0"):
        memory_only.restore(0, snapshot)
