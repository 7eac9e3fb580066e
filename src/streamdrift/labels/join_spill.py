"""The on-disk tier of :class:`~streamdrift.labels.join.FeedbackJoin`: spilled segments.

When more than ``memory_pending`` predictions wait in memory, the join moves the oldest
half of them, by event time, into one immutable **segment** (:meth:`SpillTier.write`):
its rows go to a local store (:class:`~streamdrift.labels.spill_store.SpillStore`, SQLite)
and its compressed blob to an outbox that the caller publishes to a durable **segment
sink** (the runner: a compacted Kafka topic) *before* the next checkpoint is written.

Rows leave a segment when they are joined, expire or are evicted; each removal sets the
row's bit in the segment's *removed* bitmap (a join writes nothing to the file: expired
rows are deleted by time, in bulk, and a retired segment's rows at once), and a segment
whose rows are all removed is **retired**: the caller deletes it from the sink once a
checkpoint that no longer references it is written (:meth:`SpillTier.take_retired`). The
checkpoint (:meth:`SpillTier.to_dict`) lists the live segments with their CRC and bitmap:
a few bytes per segment plus one bit per spilled row, however many rows wait on disk.

Restore (:meth:`SpillTier.restore`): the local file is reused as it is when it carries the
token of the checkpoint being restored (nothing changed since it was taken); otherwise its
rows are rebuilt from the referenced segments, read from the file's segment cache when
the CRC matches, else from the **segment source** (the sink's copy: another machine, an
empty state directory), minus the removed rows. The file is opened lazily: a join that
never spills creates no file.
"""

from __future__ import annotations

import base64
import hashlib
import heapq
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from streamdrift import codec
from streamdrift.labels.spill_store import (
    OpenSpillStore,
    SegmentRow,
    SpillStore,
    decode_segment,
    encode_segment,
)

__all__ = ["SegmentSource", "SpillTier"]

SegmentSource = Callable[[int], bytes | None]  # seq -> published blob, None when unknown

_STATE_VERSION = 1
# Rows per segment at most: ~3 MiB compressed for UUID ids and float scores (measured
# ~32 B per row), well within the spill topic's 64 MiB message limit.
MAX_SEGMENT_ROWS = 100_000


@dataclass(slots=True)
class _Segment:
    n: int  # rows written
    crc: int  # zlib.crc32 of the published blob
    live: int  # rows still waiting
    removed: bytearray  # bit i set: row i was joined, expired or evicted


def _pack(bits: bytearray) -> str:
    return base64.b64encode(zlib.compress(bytes(bits), 6)).decode()


def _unpack(text: str, n: int) -> bytearray:
    bits = bytearray(zlib.decompress(base64.b64decode(text)))
    if len(bits) != (n + 7) // 8:
        raise ValueError("spill state: a removed-rows bitmap has the wrong length")
    return bits


class SpillTier:
    """Spilled predictions of one partition: SQLite rows, segment outbox, removal bitmaps."""

    def __init__(self, path: Path, memory_pending: int, open_store: OpenSpillStore) -> None:
        if memory_pending < 2:
            raise ValueError(f"memory_pending must be at least 2, got {memory_pending}")
        self.path = path
        self.open_store = open_store
        self.memory_pending = int(memory_pending)
        self.n = 0  # rows waiting on disk
        self.next_seq = 0
        self.segments: dict[int, _Segment] = {}
        self.segments_written = 0  # by this process (for metrics)
        self._store: SpillStore | None = None
        self._fresh = True  # the file's rows are not ours yet: clear them on first open
        # per model, no row in the file is older (removed ones included; a lower bound)
        self._min: dict[str, float] = {}
        self._outbox: list[tuple[int, bytes]] = []
        self._retired: list[tuple[int, int]] = []  # (seq, crc)

    # -- the file ---------------------------------------------------------------------------

    @property
    def store(self) -> SpillStore:
        if self._store is None:
            self._store = self.open_store(self.path)
        if self._fresh:
            self._fresh = False
            self._store.clear()
            self._store.drop_segments(self._store.segment_crcs())
        return self._store

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None

    # -- writing, lookups, removal ----------------------------------------------------------

    def write(self, rows: Sequence[SegmentRow]) -> list[int]:
        """Spill ``rows`` (oldest first) as new segments of at most ``MAX_SEGMENT_ROWS``
        rows each (one message each in the sink); return their seqs."""
        return [
            self._write(rows[i : i + MAX_SEGMENT_ROWS])
            for i in range(0, len(rows), MAX_SEGMENT_ROWS)
        ]

    def _write(self, rows: Sequence[SegmentRow]) -> int:
        seq = self.next_seq
        self.next_seq += 1
        blob = encode_segment(seq, rows)
        self.store.add_segment(seq, blob, rows)
        n = len(rows)
        self.segments[seq] = _Segment(n, zlib.crc32(blob), n, bytearray((n + 7) // 8))
        self.n += n
        low = self._min
        for r in rows:
            if r[2] < low.get(r[0], float("inf")):
                low[r[0]] = r[2]
        self._outbox.append((seq, blob))
        self.segments_written += 1
        return seq

    def _gone(self, seq: int, idx: int) -> bool:
        seg = self.segments.get(seq)
        return seg is None or bool(seg.removed[idx >> 3] & (1 << (idx & 7)))

    def take(self, model_id: str, pids: Sequence[str]) -> list[tuple[Any, ...]]:
        """Remove the rows of ``pids`` that wait on disk and return them as
        ``(pid, predicted_at, prediction, version, segment)``. Only the bitmaps change: the
        file is written when rows expire or their segment retires, not per join."""
        if not self.n:
            return []
        gone = self._gone
        rows = [r for r in self.store.find(model_id, pids) if not gone(r[5], r[6])]
        self._removed([(r[5], r[6]) for r in rows])
        loads = codec.loads
        return [(pid, ts, loads(pred), version, seg) for pid, ts, pred, version, seg, _, _ in rows]

    def existing(self, model_id: str, pids: Sequence[str]) -> set[str]:
        if not self.n:
            return set()
        gone = self._gone
        return {pid for pid, seq, idx in self.store.where(model_id, pids) if not gone(seq, idx)}

    def oldest(self, k: int) -> list[tuple[float, str, str]]:
        """The ``k`` oldest rows waiting on disk as ``(predicted_at, model_id, pid)``."""
        if not self.n:
            return []
        gone = self._gone
        out: list[tuple[float, str, str]] = []
        for model in self._min:
            offset = 0
            found: list[tuple[float, str, str]] = []
            while len(found) < k:  # the model's k oldest (a merge of every model's follows)
                page = self.store.by_time(model, 2 * k, offset)
                offset += len(page)
                found.extend((ts, model, pid) for ts, pid, seq, idx in page if not gone(seq, idx))
                if len(page) < 2 * k:
                    break
            out.extend(found[:k])
        return heapq.nsmallest(k, out)

    def models(self) -> list[str]:
        """The models that may have rows on disk."""
        return list(self._min)

    def due(self, model_id: str, cutoff: float) -> bool:
        """Whether rows of ``model_id`` older than ``cutoff`` may be on disk (O(1))."""
        return self._min.get(model_id, float("inf")) < cutoff

    def expire(self, model_id: str, cutoff: float) -> int:
        """Remove the rows of ``model_id`` older than ``cutoff``; return how many were
        waiting."""
        gone = self._gone
        expired = [(s, i) for s, i in self.store.expire(model_id, cutoff) if not gone(s, i)]
        self._removed(expired)
        low = self.store.min_time(model_id)
        if low is None:
            self._min.pop(model_id, None)
        else:
            self._min[model_id] = low
        return len(expired)

    def _removed(self, where: Iterable[tuple[int, int]]) -> None:
        segments = self.segments
        retired = []
        for seq, idx in where:
            seg = segments[seq]
            seg.removed[idx >> 3] |= 1 << (idx & 7)
            seg.live -= 1
            self.n -= 1
            if not seg.live:
                del segments[seq]
                retired.append(seq)
                self._retired.append((seq, seg.crc))
        if retired:
            self.store.drop_rows(retired)

    # -- what the caller publishes ----------------------------------------------------------

    def take_segments(self) -> list[tuple[int, bytes]]:
        """New segments ``(seq, blob)`` to publish before the next checkpoint."""
        out, self._outbox = self._outbox, []
        return out

    def take_retired(self) -> list[tuple[int, int]]:
        """``(seq, crc)`` of the segments retired so far. Call when a checkpoint is taken;
        once that checkpoint is durable, delete them from the sink and call :meth:`forget`."""
        out, self._retired = self._retired, []
        return out

    def forget(self, seqs: Sequence[int]) -> None:
        """Drop the local copies of retired segments."""
        if seqs and self._store is not None:
            self._store.drop_segments(seqs)

    # -- state ------------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """The tier's part of a checkpoint. Marks the local file as matching it."""
        segments = [[seq, s.n, s.crc, s.live, _pack(s.removed)] for seq, s in self.segments.items()]
        # The rows on disk are a function of the segments and their bitmaps: equal content,
        # equal token, so a replay that reaches the same state gives the same checkpoint.
        token = hashlib.sha256(repr(segments).encode()).hexdigest()[:32]
        if self._store is not None and not self._fresh:
            self._store.set_token(token)
        return {
            "version": _STATE_VERSION,
            "token": token,
            "next_seq": self.next_seq,
            "segments": segments,
            "retired": [list(r) for r in self._retired],
        }

    def needed(self, state: dict[str, Any]) -> list[tuple[int, int]]:
        """``(seq, crc)`` of the segments of ``state`` the local file cannot provide (read
        them from the sink)."""
        if not state["segments"]:
            return []
        cached: dict[int, int] = {}
        if self.path.exists():
            store = self.open_store(self.path)
            cached = store.segment_crcs()
            store.close()
        return [
            (int(seq), int(crc))
            for seq, _, crc, *_ in state["segments"]
            if cached.get(int(seq)) != crc
        ]

    def restore(self, state: dict[str, Any], source: SegmentSource | None = None) -> None:
        """Become the tier described by ``state`` (see the module docstring)."""
        if state.get("version") != _STATE_VERSION:
            raise ValueError(f"unsupported spill state version {state.get('version')!r}")
        self.next_seq = int(state["next_seq"])
        self._retired = [(int(seq), int(crc)) for seq, crc in state["retired"]]
        self.segments = {
            int(seq): _Segment(int(n), int(crc), int(live), _unpack(bits, int(n)))
            for seq, n, crc, live, bits in state["segments"]
        }
        self.n = sum(s.live for s in self.segments.values())
        if not self.segments:
            self._min = {}
            return  # nothing on disk: the file is cleared when first needed
        store = self._store = self._store or self.open_store(self.path)
        self._fresh = False
        cached = store.segment_crcs()
        if store.token() == state["token"] and all(
            cached.get(seq) == s.crc for seq, s in self.segments.items()
        ):
            pass  # the file is exactly this checkpoint's tier
        else:
            self._rebuild(store, cached, source)
        store.drop_segments(set(cached) - set(self.segments))
        store.set_token(state["token"])
        self._min = store.min_times()

    def _rebuild(
        self, store: SpillStore, cached: dict[int, int], source: SegmentSource | None
    ) -> None:
        store.clear()
        with store.bulk_load():
            self._load(store, cached, source)

    def _load(
        self, store: SpillStore, cached: dict[int, int], source: SegmentSource | None
    ) -> None:
        for seq, seg in self.segments.items():
            blob = store.blob(seq) if cached.get(seq) == seg.crc else None
            if blob is None and source is not None:
                blob = source(seq)
            if blob is None or zlib.crc32(blob) != seg.crc:
                raise ValueError(
                    f"join spill segment {seq} is missing (or differs from the checkpoint's) "
                    "in both the local state directory and the segment topic"
                )
            got, rows = decode_segment(blob)
            if got != seq or len(rows) != seg.n:
                raise ValueError(f"join spill segment {seq}: content does not match its id")
            bits = seg.removed
            keep = [i for i in range(seg.n) if not bits[i >> 3] & (1 << (i & 7))]
            if len(keep) != seg.live:
                raise ValueError(f"join spill segment {seq}: bitmap and live count disagree")
            store.load_segment(seq, blob, rows, keep)
