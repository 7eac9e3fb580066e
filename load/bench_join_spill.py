"""Checkpoint size and time of one partition's feedback join, memory only vs spilling.

``python -m load.bench_join_spill [--waiting 900000] [--memory-pending 200000]``

Builds a join with ``--waiting`` predictions waiting for their label (ids like the
simulator's, float scores, one second apart), then measures, for a memory-only join and
for one that keeps ``--memory-pending`` in memory and spills the rest to SQLite:

* the checkpoint: ``codec.encode_checkpoint(join.to_dict())`` — bytes and seconds;
* restore: ``from_dict`` + attaching the tier, reusing the local file (same machine) and
  rebuilding it from the published segments (another machine, empty state directory);
* label lookups: ``add_feedback`` of 500 labels at a time whose predictions wait on disk —
  seconds per label; and ``add_predictions`` of new ids while rows wait on disk (each id
  is also looked up on disk, to recognise a duplicate);
* disk: bytes of the SQLite file per waiting row, and of the published segments.
"""

from __future__ import annotations

import argparse
import random
import shutil
import tempfile
import time
import uuid
from pathlib import Path

from streamdrift import codec
from streamdrift.labels.join import FeedbackEvent, FeedbackJoin
from streamdrift.labels.join_spill import SpillTier
from streamdrift.records import PredictionBatch
from streamdrift.storage.sqlite_spill import SqliteSpillStore

BATCH = 2000
T0 = 1_700_000_000.0


def _ids(n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return [str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in range(n)]


def _batch(ids: list[str], stamps: list[float], scores: list[float]) -> PredictionBatch:
    return PredictionBatch("model-a", "1", None, ids, stamps, {}, scores)


def _fill(join: FeedbackJoin, ids: list[str]) -> float:
    rng = random.Random(1)
    scores = [round(rng.random(), 4) for _ in ids]
    started = time.perf_counter()
    for start in range(0, len(ids), BATCH):
        part = ids[start : start + BATCH]
        stamps = [T0 + i for i in range(start, start + len(part))]
        join.add_predictions(_batch(part, stamps, scores[start : start + BATCH]))
        join.expire()
    return time.perf_counter() - started


def _checkpoint(join: FeedbackJoin) -> tuple[bytes, float]:
    started = time.perf_counter()
    raw = codec.encode_checkpoint(join.to_dict())
    return raw, time.perf_counter() - started


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--waiting", type=int, default=900_000)
    parser.add_argument("--memory-pending", type=int, default=200_000)
    args = parser.parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="join-spill-bench-"))
    try:
        _run(args.waiting, args.memory_pending, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _run(n: int, memory_pending: int, tmp: Path) -> None:
    ids = _ids(n, 0)

    memory = FeedbackJoin(max_pending=10 * n)
    fill_memory = fill = _fill(memory, ids)
    raw, seconds = _checkpoint(memory)
    print(
        f"memory only: fill {fill:.1f} s; checkpoint {len(raw) / 2**20:.1f} MiB in {seconds:.2f} s"
    )

    disk = FeedbackJoin(max_pending=10 * n)
    disk.attach_spill(SpillTier(tmp / "a" / "p0.sqlite", memory_pending, SqliteSpillStore))
    fill = _fill(disk, ids)
    tier = disk.tier
    assert tier is not None
    published = dict(tier.take_segments())
    raw, seconds = _checkpoint(disk)
    print(
        f"spilling: fill {fill:.1f} s ({tier.segments_written} segments, "
        f"{(fill - fill_memory) / disk.pending_on_disk * 1e6:.0f} µs more per spilled row); "
        f"{disk.pending_in_memory} in memory, {disk.pending_on_disk} on disk; "
        f"checkpoint {len(raw) / 2**10:.0f} KiB in {seconds:.2f} s"
    )
    files = sum(p.stat().st_size for p in (tmp / "a").glob("p0.sqlite*"))
    blobs = sum(map(len, published.values()))
    print(
        f"disk: {files / disk.pending_on_disk:.0f} B per spilled row in the SQLite file "
        f"(rows, index, cached segments); published segments {blobs / disk.pending_on_disk:.0f} "
        "B per row"
    )
    state = codec.decode_checkpoint(raw)
    tier.close()

    started = time.perf_counter()
    same = FeedbackJoin.from_dict(state)
    same.attach_spill(SpillTier(tmp / "a" / "p0.sqlite", memory_pending, SqliteSpillStore))
    print(f"restore, same machine (file reused): {time.perf_counter() - started:.2f} s")
    started = time.perf_counter()
    other = FeedbackJoin.from_dict(state)
    other.attach_spill(
        SpillTier(tmp / "b" / "p0.sqlite", memory_pending, SqliteSpillStore), published.get
    )
    print(f"restore, other machine (rebuilt from segments): {time.perf_counter() - started:.2f} s")
    if other.tier is not None:
        other.tier.close()

    hits = min(20_000, same.pending_on_disk // 1000 * 500)
    labelled = random.Random(2).sample(ids[: same.pending_on_disk], hits)  # spilled: oldest
    started = time.perf_counter()
    for start in range(0, hits, 500):
        events = [FeedbackEvent("model-a", p, T0 + n, 1) for p in labelled[start : start + 500]]
        assert len(same.add_feedback(events)) == 500
    per_label = (time.perf_counter() - started) / hits
    print(f"label lookups on disk: {per_label * 1e6:.0f} µs per label (batches of 500)")

    new = min(10_000, memory_pending - same.pending_in_memory - 1)  # no spill meanwhile
    assert same.tier is not None
    written = same.tier.segments_written
    cost = {}
    for name, join in (("disk", same), ("memory", memory)):
        fresh = _ids(new, 3 if name == "disk" else 4)
        started = time.perf_counter()
        for start in range(0, new, BATCH):
            part = fresh[start : start + BATCH]
            join.add_predictions(_batch(part, [T0 + n] * len(part), [0.5] * len(part)))
        cost[name] = (time.perf_counter() - started) / new
    assert same.tier.segments_written == written
    print(
        f"new predictions while {same.pending_on_disk} wait on disk (each id looked up there): "
        f"{cost['disk'] * 1e6:.1f} µs each (memory only: {cost['memory'] * 1e6:.1f} µs)"
    )


if __name__ == "__main__":
    main()
