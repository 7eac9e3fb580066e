"""FeedbackJoin with its on-disk tier: same results as memory only, restores, small state."""

from __future__ import annotations

import json
import random
import zlib
from pathlib import Path
from typing import Any

import pytest

from streamdrift.labels import join_spill
from streamdrift.labels.join import Expired, FeedbackEvent, FeedbackJoin, LabelledPrediction
from streamdrift.labels.join_spill import SpillTier
from streamdrift.records import PredictionBatch
from streamdrift.storage.sqlite_spill import SqliteSpillStore

Step = tuple[str, Any]


def _steps(seed: int, n: int) -> list[Step]:
    """Prediction batches (ids re-sent now and then, whole-second stamps so that ties
    happen) and feedback (labels, duplicates, early and orphan labels) of three models."""
    rng = random.Random(seed)
    steps: list[Step] = []
    t = 1000.0
    next_id = 0
    issued: list[tuple[str, str]] = []
    for _ in range(n):
        t += rng.randint(0, 12)
        model = rng.choice(["m1", "m2", "m3"])
        if rng.random() < 0.5:
            k = rng.randint(1, 10)
            ids = [f"p{next_id + i}" for i in range(k)]
            next_id += k
            if issued and rng.random() < 0.3:  # a prediction sent again
                ids.append(rng.choice(issued[-60:])[1])
            stamps = [float(t - rng.randint(0, 40)) for _ in ids]
            preds: list[Any] = [
                rng.choice([rng.random(), rng.randint(0, 3), [0.2, 0.8]]) for _ in ids
            ]
            seg = rng.choice([None, "eu"])
            steps.append(("p", PredictionBatch(model, "v1", seg, ids, stamps, {}, preds)))
            issued.extend((model, pid) for pid in ids)
        else:
            events = []
            for _ in range(rng.randint(1, 12)):
                if issued and rng.random() < 0.85:
                    m, pid = rng.choice(issued)
                else:
                    m, pid = model, f"p{next_id + rng.randint(0, 30)}"
                events.append(
                    FeedbackEvent(m, pid, float(t - rng.randint(-5, 30)), rng.randint(0, 1))
                )
            steps.append(("f", events))
    return steps


def _apply(join: FeedbackJoin, step: Step) -> tuple[list[LabelledPrediction], Expired]:
    kind, payload = step
    out = join.add_predictions(payload) if kind == "p" else join.add_feedback(payload)
    return out, join.expire()


class FakeSink:
    """The segment topic: published blobs by seq; deletes only after a checkpoint."""

    def __init__(self) -> None:
        self.blobs: dict[int, bytes] = {}
        self.tombstoned: list[int] = []

    def publish(self, join: FeedbackJoin) -> None:
        assert join.tier is not None
        self.blobs.update(join.tier.take_segments())

    def checkpoint(self, join: FeedbackJoin) -> dict[str, Any]:
        """Publish, snapshot (as JSON), then delete what the snapshot retired."""
        self.publish(join)
        state: dict[str, Any] = json.loads(json.dumps(join.to_dict(), allow_nan=False))
        assert join.tier is not None
        retired = join.tier.take_retired()
        for seq, crc in retired:  # (a restored join tombstones its checkpoint's again)
            blob = self.blobs.pop(seq, None)
            assert blob is None or zlib.crc32(blob) == crc
        self.tombstoned.extend(seq for seq, _ in retired)
        join.tier.forget([seq for seq, _ in retired])
        return state


def _spilling(path: Path, memory_pending: int, **kw: Any) -> FeedbackJoin:
    join = FeedbackJoin(**kw)
    join.attach_spill(SpillTier(path, memory_pending, SqliteSpillStore))
    return join


JOIN: dict[str, Any] = {"prediction_ttl": 200.0, "feedback_ttl": 40.0}


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize(("memory_pending", "max_pending"), [(2, 10**6), (9, 10**6), (40, 70)])
def test_spilling_join_gives_the_memory_only_results(
    tmp_path: Path, seed: int, memory_pending: int, max_pending: int
) -> None:
    memory = FeedbackJoin(**JOIN, max_pending=max_pending, max_remembered=500)
    disk = _spilling(
        tmp_path / "p0.sqlite", memory_pending, **JOIN, max_pending=max_pending, max_remembered=500
    )
    sink = FakeSink()
    most_on_disk = 0
    for step in _steps(seed, 600):
        assert _apply(disk, step) == _apply(memory, step)
        assert disk.pending_predictions == memory.pending_predictions
        assert disk.pending_in_memory <= memory_pending
        most_on_disk = max(most_on_disk, disk.pending_on_disk)
        sink.publish(disk)
    assert disk.counters() == memory.counters()
    totals = memory.totals()
    assert most_on_disk > memory_pending
    assert totals["labelled"] > 200 and totals["duplicates"] > 0
    assert totals["duplicate_predictions"] > 10 and totals["unlabelled_expired"] > 50
    if max_pending < 10**6:
        assert totals["evicted"] > 0
    assert disk.tier is not None and disk.tier.segments_written > 10
    assert sink.blobs  # segments were published


@pytest.mark.parametrize("other_machine", [False, True])
def test_crash_and_restore_from_checkpoint_and_segments(
    tmp_path: Path, other_machine: bool
) -> None:
    """Checkpoint every 37 steps; crash 20 steps after some of them (the local file has
    moved on), restore the last checkpoint and replay from it."""
    steps = _steps(7, 700)
    uninterrupted = FeedbackJoin(**JOIN, max_pending=300)
    results = [_apply(uninterrupted, step) for step in steps]
    sink = FakeSink()
    path = tmp_path / "a" / "p3.sqlite"
    join = _spilling(path, 6, **JOIN, max_pending=300)
    checkpoint: tuple[int, dict[str, Any]] = (0, sink.checkpoint(join))
    i = 0
    crashes = restored_from_disk = 0
    crash_at = {170, 320, 470, 620}
    while i < len(steps):
        assert _apply(join, steps[i]) == results[i], i
        sink.publish(join)
        i += 1
        if i % 37 == 0:
            checkpoint = (i, sink.checkpoint(join))
        if i in crash_at:
            crash_at.discard(i)
            crashes += 1
            assert join.tier is not None
            join.tier.close()
            if other_machine:
                path = tmp_path / f"machine{crashes}" / "p3.sqlite"  # an empty state dir
            i, state = checkpoint
            join = FeedbackJoin.from_dict(state)
            restored_from_disk += join.pending_on_disk > 0
            join.attach_spill(SpillTier(path, 6, SqliteSpillStore), sink.blobs.get)
    assert join.counters() == uninterrupted.counters()
    assert join.pending_predictions == uninterrupted.pending_predictions
    assert crashes == 4 and restored_from_disk >= 3 and sink.tombstoned


def test_clean_restart_reuses_the_local_file(tmp_path: Path) -> None:
    steps = _steps(3, 300)
    path = tmp_path / "p.sqlite"
    join = _spilling(path, 5, **JOIN)
    sink = FakeSink()
    for step in steps[:200]:
        _apply(join, step)
    state = sink.checkpoint(join)
    assert join.tier is not None
    join.tier.close()
    # no segment source: the file carries this checkpoint's token, nothing to fetch
    restored = FeedbackJoin.from_dict(state)
    tier = SpillTier(path, 5, SqliteSpillStore)
    assert tier.needed(state["spill"]) == []
    restored.attach_spill(tier)
    reference = _spilling(tmp_path / "ref.sqlite", 5, **JOIN)
    for step in steps[:200]:
        _apply(reference, step)
    for step in steps[200:]:
        assert _apply(restored, step) == _apply(reference, step)


def test_missing_segment_is_a_clear_error(tmp_path: Path) -> None:
    join = _spilling(tmp_path / "p.sqlite", 4, **JOIN)
    for step in _steps(5, 60):
        _apply(join, step)
    state = json.loads(json.dumps(join.to_dict()))
    assert state["spill"]["segments"]
    restored = FeedbackJoin.from_dict(state)
    tier = SpillTier(tmp_path / "empty" / "p.sqlite", 4, SqliteSpillStore)
    assert tier.needed(state["spill"]) == [(s[0], s[2]) for s in state["spill"]["segments"]]
    with pytest.raises(RuntimeError, match="attach_spill"):
        restored.add_feedback([FeedbackEvent("m1", "x", 1.0, 1)])
    with pytest.raises(ValueError, match=r"segment \d+ is missing"):
        restored.attach_spill(tier, lambda seq: None)


def test_checkpoint_stays_small_while_predictions_wait_on_disk(tmp_path: Path) -> None:
    ids = [f"prediction-{i:07d}" for i in range(20_000)]
    batch = PredictionBatch(
        "m", "v1", None, ids, [float(i) for i in range(20_000)], {}, [0.5] * 20_000
    )
    memory = FeedbackJoin()
    disk = _spilling(tmp_path / "p.sqlite", 1000)
    memory.add_predictions(batch)
    disk.add_predictions(batch)
    assert disk.pending_predictions == memory.pending_predictions == 20_000
    assert disk.pending_in_memory == 500 and disk.pending_on_disk == 19_500
    small = len(json.dumps(disk.to_dict()))
    large = len(json.dumps(memory.to_dict()))
    assert small * 10 < large
    (row,) = disk.add_feedback([FeedbackEvent("m", ids[5], 30.0, 1)])  # found on disk
    assert (row.prediction_id, row.predicted_at, row.prediction) == (ids[5], 5.0, 0.5)
    assert disk.pending_on_disk == 19_499


def test_in_memory_stores_keep_their_bound_when_max_pending_counts_the_disk(
    tmp_path: Path,
) -> None:
    join = _spilling(tmp_path / "p.sqlite", 10, max_pending=20_000_000)
    assert (join.max_pending, join.max_remembered) == (20_000_000, 1_000_000)
    small = _spilling(tmp_path / "q.sqlite", 10, max_pending=50)
    assert small.max_remembered == 50


def test_a_large_spill_is_cut_into_segments_of_at_most_max_segment_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(join_spill, "MAX_SEGMENT_ROWS", 7)
    join = _spilling(tmp_path / "p.sqlite", 40)
    ids = [f"p{i}" for i in range(41)]
    join.add_predictions(
        PredictionBatch("m", "v", None, ids, [float(i) for i in range(41)], {}, [0.5] * 41)
    )
    assert join.tier is not None
    sizes = [s.n for s in join.tier.segments.values()]
    assert sizes == [7, 7, 7] and join.pending_in_memory == 20
    (row,) = join.add_feedback([FeedbackEvent("m", "p15", 50.0, 1)])
    assert row.predicted_at == 15.0


def test_memory_pending_is_validated(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="memory_pending"):
        SpillTier(tmp_path / "p.sqlite", 1, SqliteSpillStore)
    join = _spilling(tmp_path / "p.sqlite", 2)
    with pytest.raises(RuntimeError, match="already"):
        join.attach_spill(SpillTier(tmp_path / "q.sqlite", 2, SqliteSpillStore))
