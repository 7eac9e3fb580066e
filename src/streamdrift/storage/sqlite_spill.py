"""The SQLite file of the join's on-disk tier (one per input partition); see
:mod:`streamdrift.labels.spill_store` for what it holds and why it is only a cache."""

from __future__ import annotations

import contextlib
import sqlite3
import zlib
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from streamdrift import codec
from streamdrift.labels.spill_store import SegmentRow

__all__ = ["SqliteSpillStore"]

CACHE_KIB = 32 * 1024  # page cache per file (SQLite default: 2 MiB)
_CHUNK = 500  # ids per IN (...) query (SQLite allows 32766 variables; smaller chunks plan faster)

_SCHEMA_VERSION = 3  # PRAGMA user_version; a file of another version is recreated
_SCHEMA = """
CREATE TABLE IF NOT EXISTS rows (
    seq INTEGER NOT NULL, idx INTEGER NOT NULL,
    model_id TEXT NOT NULL, pid TEXT NOT NULL, predicted_at REAL NOT NULL,
    prediction TEXT NOT NULL, version TEXT NOT NULL, segment TEXT,
    PRIMARY KEY (seq, idx)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS segments (seq INTEGER PRIMARY KEY, crc INTEGER, blob BLOB);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
"""
_INDEXES = """
CREATE INDEX IF NOT EXISTS rows_by_id ON rows (model_id, pid);
CREATE INDEX IF NOT EXISTS rows_by_time ON rows (model_id, predicted_at, pid);
"""


def _chunks(items: Sequence[str]) -> Iterator[Sequence[str]]:
    for i in range(0, len(items), _CHUNK):
        yield items[i : i + _CHUNK]


class SqliteSpillStore:
    """The SQLite file at ``path`` (created with its directory when missing)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._db = self._open()
        except sqlite3.DatabaseError:  # a torn file after a machine crash: it is only a cache
            path.unlink(missing_ok=True)
            self._db = self._open()

    def _open(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, isolation_level=None)
        if db.execute("PRAGMA user_version").fetchone()[0] != _SCHEMA_VERSION:
            db.executescript("DROP TABLE IF EXISTS rows; DROP TABLE IF EXISTS segments;")
            db.execute(f"PRAGMA user_version = {_SCHEMA_VERSION}")
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=OFF")
        db.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
        db.executescript(_SCHEMA + _INDEXES)
        return db

    def close(self) -> None:
        self._db.close()

    # -- the checkpoint token: which checkpoint the rows table matches exactly ---------------

    def token(self) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key = 'token'").fetchone()
        return None if row is None else str(row[0])

    def set_token(self, token: str | None) -> None:
        if token is None:
            self._db.execute("DELETE FROM meta WHERE key = 'token'")
        else:
            self._db.execute("INSERT OR REPLACE INTO meta VALUES ('token', ?)", (token,))

    # -- segments ---------------------------------------------------------------------------

    def segment_crcs(self) -> dict[int, int]:
        """``{seq: crc32 of the blob}`` of every cached segment."""
        return {int(s): int(c) for s, c in self._db.execute("SELECT seq, crc FROM segments")}

    def blob(self, seq: int) -> bytes | None:
        row = self._db.execute("SELECT blob FROM segments WHERE seq = ?", (seq,)).fetchone()
        return None if row is None else bytes(row[0])

    def add_segment(self, seq: int, blob: bytes, rows: Sequence[SegmentRow]) -> None:
        """Cache the segment and insert its rows (all of them waiting)."""
        db = self._db
        db.execute("BEGIN")
        db.execute("DELETE FROM meta WHERE key = 'token'")
        db.execute(
            "INSERT OR REPLACE INTO segments VALUES (?, ?, ?)", (seq, zlib.crc32(blob), blob)
        )
        self._insert(seq, rows, range(len(rows)))
        db.execute("COMMIT")

    def load_segment(
        self, seq: int, blob: bytes, rows: Sequence[SegmentRow], keep: Iterable[int]
    ) -> None:
        """Cache the segment (if missing) and insert the rows at indexes ``keep``."""
        db = self._db
        db.execute("BEGIN")
        db.execute(
            "INSERT OR REPLACE INTO segments VALUES (?, ?, ?)", (seq, zlib.crc32(blob), blob)
        )
        self._insert(seq, rows, keep)
        db.execute("COMMIT")

    def _insert(self, seq: int, rows: Sequence[SegmentRow], keep: Iterable[int]) -> None:
        dumps = codec.dumps
        self._db.executemany(
            "INSERT INTO rows VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                (seq, i, r[0], r[1], r[2], dumps(r[3]).decode(), r[4], r[5])
                for i in keep
                for r in (rows[i],)
            ),
        )

    def drop_segments(self, seqs: Iterable[int]) -> None:
        """Forget cached segments (their rows must be gone already)."""
        self._db.executemany("DELETE FROM segments WHERE seq = ?", ((s,) for s in seqs))

    def clear(self) -> None:
        db = self._db
        db.execute("BEGIN")
        db.execute("DELETE FROM rows")
        db.execute("DELETE FROM meta")
        db.execute("COMMIT")

    @contextlib.contextmanager
    def bulk_load(self) -> Iterator[None]:
        """Rebuild: without the indexes while rows are loaded (sorting once afterwards is
        several times faster than maintaining them row by row)."""
        self._db.executescript(
            "DROP INDEX IF EXISTS rows_by_id; DROP INDEX IF EXISTS rows_by_time;"
        )
        try:
            yield
        finally:
            self._db.executescript(_INDEXES)

    # -- rows: spilled rows stay until they expire or their segment retires; which of them
    # -- were joined or evicted meanwhile is the tier's bitmaps' business (no write here)

    def find(self, model_id: str, pids: Sequence[str]) -> list[tuple[Any, ...]]:
        """Rows of ``pids``: ``(pid, predicted_at, prediction JSON, version, segment, seq,
        idx)``, removed ones included; absent ids are skipped."""
        out: list[tuple[Any, ...]] = []
        for chunk in _chunks(pids):
            marks = ",".join("?" * len(chunk))
            out.extend(
                self._db.execute(
                    "SELECT pid, predicted_at, prediction, version, segment, seq, idx FROM rows "
                    "WHERE model_id = ? AND pid IN (" + marks + ")",
                    (model_id, *chunk),
                )
            )
        return out

    def where(self, model_id: str, pids: Sequence[str]) -> list[tuple[str, int, int]]:
        """``(pid, seq, idx)`` of the rows of ``pids``, removed ones included."""
        out: list[tuple[str, int, int]] = []
        for chunk in _chunks(pids):
            marks = ",".join("?" * len(chunk))
            out.extend(
                self._db.execute(
                    "SELECT pid, seq, idx FROM rows WHERE model_id = ? AND pid IN (" + marks + ")",
                    (model_id, *chunk),
                )
            )
        return out

    def by_time(self, model_id: str, limit: int, offset: int) -> list[tuple[float, str, int, int]]:
        """Rows of ``model_id`` as ``(predicted_at, pid, seq, idx)``, oldest first, one page."""
        return self._db.execute(
            "SELECT predicted_at, pid, seq, idx FROM rows WHERE model_id = ? "
            "ORDER BY predicted_at, pid LIMIT ? OFFSET ?",
            (model_id, limit, offset),
        ).fetchall()

    def expire(self, model_id: str, cutoff: float) -> list[tuple[int, int]]:
        """Delete the rows of ``model_id`` older than ``cutoff``; return ``(seq, idx)`` of
        each."""
        db = self._db
        db.execute("BEGIN")
        db.execute("DELETE FROM meta WHERE key = 'token'")
        out = [
            (int(s), int(i))
            for s, i in db.execute(
                "DELETE FROM rows WHERE model_id = ? AND predicted_at < ? RETURNING seq, idx",
                (model_id, cutoff),
            )
        ]
        db.execute("COMMIT")
        return out

    def drop_rows(self, seqs: Iterable[int]) -> None:
        """Delete the rows of retired segments."""
        db = self._db
        db.execute("BEGIN")
        db.execute("DELETE FROM meta WHERE key = 'token'")
        db.executemany("DELETE FROM rows WHERE seq = ?", ((s,) for s in seqs))
        db.execute("COMMIT")

    def min_time(self, model_id: str) -> float | None:
        row = self._db.execute(
            "SELECT min(predicted_at) FROM rows WHERE model_id = ?", (model_id,)
        ).fetchone()
        return None if row[0] is None else float(row[0])

    def min_times(self) -> dict[str, float]:
        """``{model_id: its oldest row's predicted_at}``."""
        rows = self._db.execute("SELECT model_id, min(predicted_at) FROM rows GROUP BY model_id")
        return {str(m): float(t) for m, t in rows}

    def count(self) -> int:
        return int(self._db.execute("SELECT count(*) FROM rows").fetchone()[0])
