"""The join's on-disk tier as the pure layers see it: the store interface and the segments.

A store (one per input partition; the worker's is the SQLite file of
:mod:`streamdrift.storage.sqlite_spill`) holds the spilled predictions (kept until they
expire or their segment retires: which of them were joined or evicted meanwhile is
recorded in the tier's bitmaps, so a join writes nothing here) and the compressed
immutable segments they were spilled in (the blob of each, byte for byte what was
published). It is only a *cache*: the checkpoint plus the published segments describe the
whole state, so it may be written without syncing and is rebuilt from segments whenever it
does not match the checkpoint being restored (see
:class:`~streamdrift.labels.join_spill.SpillTier`).

A spilled row: ``(model_id, prediction_id, predicted_at, prediction, model_version,
segment)``; inside a segment, row ``i`` is addressed as ``(seq, i)``.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, Protocol

from streamdrift import codec

__all__ = ["OpenSpillStore", "SegmentRow", "SpillStore", "decode_segment", "encode_segment"]

SegmentRow = tuple[str, str, float, Any, str, str | None]

_SEGMENT_VERSION = 1


def encode_segment(seq: int, rows: Sequence[SegmentRow]) -> bytes:
    """A segment as published: zlib-compressed JSON ``{"version", "seq", "rows"}``."""
    doc = {"version": _SEGMENT_VERSION, "seq": seq, "rows": [list(r) for r in rows]}
    return zlib.compress(codec.dumps(doc), 1)


def decode_segment(blob: bytes) -> tuple[int, list[SegmentRow]]:
    """``(seq, rows)`` of a segment written by :func:`encode_segment`."""
    try:
        doc = codec.loads(zlib.decompress(blob))
    except (zlib.error, ValueError) as exc:
        raise ValueError(f"not a join spill segment: {exc}") from None
    if not isinstance(doc, dict) or doc.get("version") != _SEGMENT_VERSION:
        raise ValueError("not a join spill segment of version 1")
    return int(doc["seq"]), [(m, p, float(t), v, ver, s) for m, p, t, v, ver, s in doc["rows"]]


class SpillStore(Protocol):
    """Where a partition's spilled predictions wait: a local cache of the published segments
    (rows, and the segments' bytes). The worker's is SQLite
    (:class:`streamdrift.storage.sqlite_spill.SqliteSpillStore`), opened by the factory the
    engine is given; this layer never opens files of its own.
    """

    def close(self) -> None: ...

    def token(self) -> str | None: ...

    def set_token(self, token: str | None) -> None: ...

    def segment_crcs(self) -> dict[int, int]:
        """``{seq: crc32 of the blob}`` of every cached segment."""
        ...

    def blob(self, seq: int) -> bytes | None: ...

    def add_segment(self, seq: int, blob: bytes, rows: Sequence[SegmentRow]) -> None:
        """Cache the segment and insert its rows (all of them waiting)."""
        ...

    def load_segment(
        self, seq: int, blob: bytes, rows: Sequence[SegmentRow], keep: Iterable[int]
    ) -> None:
        """Cache the segment (if missing) and insert the rows at indexes ``keep``."""
        ...

    def drop_segments(self, seqs: Iterable[int]) -> None:
        """Forget cached segments (their rows must be gone already)."""
        ...

    def clear(self) -> None: ...

    def bulk_load(self) -> AbstractContextManager[None]:
        """Rebuild: without the indexes while rows are loaded (sorting once afterwards is
        several times faster than maintaining them row by row)."""
        ...

    def find(self, model_id: str, pids: Sequence[str]) -> list[tuple[Any, ...]]:
        """Rows of ``pids``: ``(pid, predicted_at, prediction JSON, version, segment, seq,
        idx)``, removed ones included; absent ids are skipped."""
        ...

    def where(self, model_id: str, pids: Sequence[str]) -> list[tuple[str, int, int]]:
        """``(pid, seq, idx)`` of the rows of ``pids``, removed ones included."""
        ...

    def by_time(self, model_id: str, limit: int, offset: int) -> list[tuple[float, str, int, int]]:
        """Rows of ``model_id`` as ``(predicted_at, pid, seq, idx)``, oldest first, one page."""
        ...

    def expire(self, model_id: str, cutoff: float) -> list[tuple[int, int]]:
        """Delete the rows of ``model_id`` older than ``cutoff``; return ``(seq, idx)`` of
        each."""
        ...

    def drop_rows(self, seqs: Iterable[int]) -> None:
        """Delete the rows of retired segments."""
        ...

    def min_time(self, model_id: str) -> float | None: ...

    def min_times(self) -> dict[str, float]:
        """``{model_id: its oldest row's predicted_at}``."""
        ...

    def count(self) -> int: ...


# opens (creating when missing) the store at a path
OpenSpillStore = Callable[[Path], SpillStore]
