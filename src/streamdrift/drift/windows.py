"""Windows over one monitor's event stream: buffers that take whole column batches.

A :class:`WindowBuffer` receives batches in arrival order (timestamps plus columns of equal
length) and returns the windows they close as :class:`ClosedWindow` objects, in window order.

* **Count windows** (``WindowSpec(kind="count")``): window ``j`` holds the events with arrival
  numbers ``[j*slide, j*slide + size)`` and closes when its last event arrives. Tumbling
  windows (``slide`` = ``size``) partition the stream; sliding ones overlap by
  ``size - slide`` events. ``start``/``end`` are the smallest/largest event timestamps.
* **Time windows** (``WindowSpec(kind="time")``, seconds of event time): window ``k`` covers
  ``[k*slide, k*slide + size)`` and closes when ``end <= watermark``, the watermark being the
  largest timestamp seen minus ``allowed_lateness`` (or a larger one given to
  :meth:`WindowBuffer.advance`). An event goes to every window covering it that is still
  open; an event all of whose windows have closed is *late*: counted in ``late_events`` and
  left out. Windows that received no event are never emitted.

Invariants: the closed windows depend only on the events' order, timestamps and values, never
on the wall clock or on how the stream is cut into batches (given that a batch's columns are
its rows' columns, e.g. row slices of one columnar batch). ``to_dict``/``from_dict`` capture the
whole state as plain JSON values, so a restored buffer continues exactly like the original.

>>> buf = make_windows(WindowSpec(kind="count", size=2))
>>> [w.columns for w in buf.add([1.0, 2.0, 3.0], {"x": [10, 20, 30]})]
[{'x': [10, 20]}]
>>> buf.buffered
1
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Self

import numpy as np
import numpy.typing as npt

from streamdrift.config.windows import WindowSpec, finite_number
from streamdrift.drift.columns import PackedColumn
from streamdrift.records import Scalar

__all__ = [
    "ClosedWindow",
    "CountWindows",
    "TimeWindows",
    "WindowBuffer",
    "WindowSpec",
    "make_windows",
]

_IntArray = npt.NDArray[np.int64]
_FloatArray = npt.NDArray[np.float64]


@dataclass(slots=True)
class ClosedWindow:
    """A closed window: its events in arrival order, column-wise.

    ``index``: count windows 0, 1, 2 …; time windows ``k`` with ``start == k * slide``.
    ``start``/``end``: count windows, the smallest/largest event timestamp; time windows, the
    bounds ``[start, end)`` in seconds. Every column has ``len(timestamps)`` entries.
    """

    index: int
    start: float
    end: float
    timestamps: list[float]
    columns: dict[str, list[Scalar]]
    # a buffer with ``packed = True`` hands the columns over packed, here, and leaves
    # ``columns`` empty: its reader takes numbers as arrays, categories as counts
    packed: dict[str, PackedColumn] | None = None

    def column(self, name: str) -> list[Scalar] | PackedColumn | None:
        """The column ``name`` as the buffer handed it over (a list, or packed)."""
        return self.columns.get(name) if self.packed is None else self.packed.get(name)

    def all_columns(self) -> Mapping[str, list[Scalar] | PackedColumn]:
        return self.columns if self.packed is None else self.packed

    @property
    def count(self) -> int:
        return len(self.timestamps)


class WindowBuffer(ABC):
    """The open windows of one stream. Feed batches with :meth:`add`."""

    __slots__ = ("late_events", "packed", "spec")

    def __init__(self, spec: WindowSpec) -> None:
        self.spec = spec
        self.late_events = 0  # events left out because all their windows had closed
        self.packed = False  # True: closed windows carry their columns packed

    def _closed(
        self, index: int, start: float, end: float, stamps: list[float],
        columns: Mapping[str, PackedColumn], lo: int = 0, hi: int | None = None,
    ) -> ClosedWindow:  # fmt: skip
        """A closed window of rows ``[lo, hi)`` of ``columns``."""
        if self.packed:
            packed = {name: column.snapshot(lo, hi) for name, column in columns.items()}
            return ClosedWindow(index, start, end, stamps, {}, packed)
        lists = {name: column.to_list(lo, hi) for name, column in columns.items()}
        return ClosedWindow(index, start, end, stamps, lists)

    @abstractmethod
    def add(
        self, timestamps: Sequence[float], columns: Mapping[str, Sequence[Scalar]]
    ) -> list[ClosedWindow]:
        """Add a batch (rows in arrival order); return the windows it closed, in order."""

    @abstractmethod
    def advance(self, watermark: float) -> list[ClosedWindow]:
        """Close what an external event-time watermark allows (an idle stream)."""

    @abstractmethod
    def flush(self) -> list[ClosedWindow]:
        """The end of the input: close the open, partial windows now (oldest first) and
        return them; later events start new windows (those of a closed time window are
        late)."""

    @property
    @abstractmethod
    def buffered(self) -> int:
        """Events held now (time windows: summed over open windows)."""

    @abstractmethod
    def _state(self) -> dict[str, Any]: ...

    @abstractmethod
    def _load(self, state: Mapping[str, Any]) -> None: ...

    def to_dict(self) -> dict[str, Any]:
        """The whole state as plain JSON values."""
        return {"spec": self.spec.to_dict(), "late_events": self.late_events, **self._state()}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Self:
        buffer = make_windows(WindowSpec.from_dict(d["spec"]))
        if not isinstance(buffer, cls):
            raise TypeError(f"state of a {type(buffer).__name__}, not of a {cls.__name__}")
        buffer.late_events = int(d["late_events"])
        buffer._load(d)
        return buffer


def make_windows(spec: WindowSpec) -> WindowBuffer:
    """The buffer for ``spec``: :class:`CountWindows` or :class:`TimeWindows`."""
    return CountWindows(spec) if spec.kind == "count" else TimeWindows(spec)


def _check_lengths(n: int, columns: Mapping[str, Sequence[Scalar]]) -> None:
    for name, values in columns.items():
        if len(values) != n:
            raise ValueError(f"column {name!r} has {len(values)} values for {n} timestamps")


class CountWindows(WindowBuffer):
    """Windows of ``size`` events, one closing every ``slide`` events once ``size`` were seen.

    Holds fewer than ``size`` events (only those of windows still to close), packed: 9 bytes
    an event and column (:class:`~streamdrift.drift.columns.PackedColumn`), not a list.
    """

    __slots__ = ("_base", "_columns", "_next", "_timestamps")

    def __init__(self, spec: WindowSpec) -> None:
        if spec.kind != "count":
            raise ValueError(f"kind must be 'count' for CountWindows, got {spec.kind!r}")
        super().__init__(spec)
        self._next = 0  # index of the next window to close
        self._base = 0  # arrival number of self._timestamps[0]
        self._timestamps = PackedColumn(capacity=int(spec.size))
        self._columns: dict[str, PackedColumn] = {}

    @property
    def buffered(self) -> int:
        return len(self._timestamps)

    def add(
        self, timestamps: Sequence[float], columns: Mapping[str, Sequence[Scalar]]
    ) -> list[ClosedWindow]:
        n = len(timestamps)
        _check_lengths(n, columns)
        held = len(self._timestamps)
        for name, values in columns.items():
            column = self._columns.get(name)
            if column is None:
                column = self._columns[name] = PackedColumn(capacity=int(self.spec.size))
                column.extend_missing(held)
            column.extend(values)
        for column in self._columns.values():
            if len(column) < held + n:  # absent from this batch
                column.extend_missing(n)
        self._timestamps.extend_floats(np.asarray(timestamps, dtype=np.float64).ravel())

        size, step = int(self.spec.size), int(self.spec.step)
        seen = self._base + len(self._timestamps)
        closed: list[ClosedWindow] = []
        while self._next * step + size <= seen:
            lo = self._next * step - self._base
            stamps = self._timestamps.to_list(lo, lo + size)
            closed.append(
                self._closed(
                    self._next, min(stamps), max(stamps), stamps, self._columns, lo, lo + size
                )
            )
            self._next += 1
        cut = self._next * step - self._base
        if cut > 0:
            self._timestamps.drop_prefix(cut)
            for column in self._columns.values():
                column.drop_prefix(cut)
            self._base += cut
        return closed

    def advance(self, watermark: float) -> list[ClosedWindow]:
        """Count windows do not close by time: always ``[]``."""
        return []

    def flush(self) -> list[ClosedWindow]:
        """Close window ``_next`` with the events it holds (fewer than ``size``); the next
        event is the first of window ``_next + 1`` (arrival numbers skip the gap). Sliding
        windows: only the oldest open window is closed, it holds every buffered event."""
        if not len(self._timestamps):
            return []
        lo = self._next * int(self.spec.step) - self._base
        stamps = self._timestamps.to_list(lo)
        closed = [self._closed(self._next, min(stamps), max(stamps), stamps, self._columns, lo)]
        self._next += 1
        self._base = self._next * int(self.spec.step)
        size = int(self.spec.size)
        self._timestamps = PackedColumn(capacity=size)
        self._columns = {name: PackedColumn(capacity=size) for name in self._columns}
        return closed

    def _state(self) -> dict[str, Any]:
        return {
            "next": self._next,
            "base": self._base,
            "timestamps": self._timestamps.to_list(),
            "columns": {name: column.to_list() for name, column in self._columns.items()},
        }

    def _load(self, state: Mapping[str, Any]) -> None:
        self._next = int(state["next"])
        self._base = int(state["base"])
        size = int(self.spec.size)
        self._timestamps = PackedColumn([float(t) for t in state["timestamps"]], size)
        self._columns = {
            name: PackedColumn(column, size) for name, column in state["columns"].items()
        }


@dataclass(slots=True)
class _OpenWindow:
    timestamps: PackedColumn
    columns: dict[str, PackedColumn]


class TimeWindows(WindowBuffer):
    """Event-time windows ``[k*slide, k*slide + size)``, closed by the watermark.

    Only open windows are kept; an event sits in each open window that covers it (up to
    ``ceil(size / slide)`` of them), packed as in :class:`CountWindows`.
    """

    __slots__ = ("_external", "_max_ts", "_open", "_ratio", "_schema")

    def __init__(self, spec: WindowSpec) -> None:
        if spec.kind != "time":
            raise ValueError(f"kind must be 'time' for TimeWindows, got {spec.kind!r}")
        super().__init__(spec)
        ratio = round(spec.size / spec.step)
        # size == ratio * slide exactly: window k ends where window k + ratio starts, so
        # tumbling windows tile the time axis without float gaps or overlaps
        self._ratio = ratio if ratio >= 1 and float(ratio) * spec.step == spec.size else 0
        self._max_ts: float | None = None  # largest timestamp seen
        self._external: float | None = None  # largest watermark given to advance()
        self._schema: list[str] = []  # every column seen, first-seen order
        self._open: dict[int, _OpenWindow] = {}

    @property
    def buffered(self) -> int:
        return sum(len(w.timestamps) for w in self._open.values())

    @property
    def watermark(self) -> float | None:
        """Windows with ``end <= watermark`` are closed; ``None`` before any event/advance."""
        internal = None if self._max_ts is None else self._max_ts - self.spec.allowed_lateness
        if internal is None or self._external is None:
            return internal if self._external is None else self._external
        return max(internal, self._external)

    def window_end(self, index: int) -> float:
        """The (exclusive) end bound of window ``index``; its start is ``index * slide``."""
        if self._ratio:
            return float(index + self._ratio) * self.spec.step
        return float(index) * self.spec.step + self.spec.size

    # -- window indices (vectorised; the same float expressions as window_end) -----------

    def _last_covering(self, t: _FloatArray) -> _IntArray:
        """Largest k with k*slide <= t."""
        step = self.spec.step
        k = np.floor(t / step).astype(np.int64)
        k -= k * step > t
        k += (k + 1) * step <= t
        return k

    def _first_ending_after(self, t: _FloatArray) -> _IntArray:
        """Smallest k with window_end(k) > t."""
        if self._ratio:
            return self._last_covering(t) - (self._ratio - 1)
        step, size = self.spec.step, self.spec.size
        k = np.floor((t - size) / step).astype(np.int64) + 1
        k += k * step + size <= t
        k -= (k - 1) * step + size > t
        return k

    # -- adding and closing -------------------------------------------------------------

    def add(
        self, timestamps: Sequence[float], columns: Mapping[str, Sequence[Scalar]]
    ) -> list[ClosedWindow]:
        n = len(timestamps)
        _check_lengths(n, columns)
        for name in columns:
            if name not in self._schema:
                self._schema.append(name)
                for window in self._open.values():
                    window.columns[name] = column = PackedColumn()
                    column.extend_missing(len(window.timestamps))
        if n == 0:
            return []
        ts = np.asarray(timestamps, dtype=np.float64)
        if not np.isfinite(ts).all():
            raise ValueError("timestamps must be finite")

        # the watermark each event meets: as if the events came one at a time, so that
        # the result does not depend on how the stream was cut into batches
        prev = -math.inf if self._max_ts is None else self._max_ts
        seen = np.empty(n)
        seen[0] = prev
        np.maximum(np.maximum.accumulate(ts[:-1]), prev, out=seen[1:])
        marks = seen - self.spec.allowed_lateness
        if self._external is not None:
            np.maximum(marks, self._external, out=marks)
        lo = self._first_ending_after(ts)
        known = np.isfinite(marks)
        if known.any():
            lo = np.where(
                known, np.maximum(lo, self._first_ending_after(np.where(known, marks, 0.0))), lo
            )
        hi = self._last_covering(ts)
        counts = np.maximum(hi - lo + 1, 0)
        self.late_events += int(np.count_nonzero(counts == 0))
        self._max_ts = max(prev, float(ts.max()))

        # (window, event) pairs, grouped by window; stable, so rows keep arrival order
        total = int(counts.sum())
        if total:
            events = np.repeat(np.arange(n), counts)
            firsts = np.repeat(lo, counts)
            offsets = np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts)
            keys = firsts + offsets
            if total > 1 and not (keys[1:] >= keys[:-1]).all():
                order = np.argsort(keys, kind="stable")
                keys, events = keys[order], events[order]
            indices, starts = np.unique(keys, return_index=True)
            self._route(indices.tolist(), np.split(events, starts[1:]), ts, columns)
        return self._close()

    def _route(
        self,
        indices: list[int],
        groups: list[_IntArray],
        ts: _FloatArray,
        columns: Mapping[str, Sequence[Scalar]],
    ) -> None:
        packed = {name: PackedColumn(values) for name, values in columns.items()}
        stamps = PackedColumn()
        stamps.extend_floats(ts)
        for k, rows in zip(indices, groups, strict=True):
            window = self._open.get(k)
            if window is None:
                columns_of = {name: PackedColumn() for name in self._schema}
                window = self._open[k] = _OpenWindow(PackedColumn(), columns_of)
            a, b = int(rows[0]), int(rows[-1]) + 1
            picked: slice | _IntArray = slice(a, b) if b - a == rows.size else rows
            window.timestamps.extend_from(stamps, picked)
            for name, column in window.columns.items():
                values = packed.get(name)
                if values is None:
                    column.extend_missing(rows.size)
                else:
                    column.extend_from(values, picked)

    def advance(self, watermark: float) -> list[ClosedWindow]:
        """Raise the watermark to ``watermark`` (no lateness subtracted) and close windows."""
        mark = finite_number("watermark", watermark)
        if self._external is None or mark > self._external:
            self._external = mark
        return self._close()

    def flush(self) -> list[ClosedWindow]:
        """Close every open window; the watermark moves to the end of the last one."""
        if not self._open:
            return []
        self._external = max(self.window_end(max(self._open)), self.watermark or -math.inf)
        return self._close()

    def _close(self) -> list[ClosedWindow]:
        mark = self.watermark
        if mark is None or not self._open:
            return []
        closed: list[ClosedWindow] = []
        for k in sorted(self._open):
            end = self.window_end(k)
            if end > mark:
                break
            window = self._open.pop(k)
            start = float(k) * self.spec.step
            stamps = window.timestamps.to_list()
            closed.append(self._closed(k, start, end, stamps, window.columns))
        return closed

    def _state(self) -> dict[str, Any]:
        return {
            "max_ts": self._max_ts,
            "external": self._external,
            "schema": list(self._schema),
            "open": [
                {
                    "index": k,
                    "timestamps": w.timestamps.to_list(),
                    "columns": {name: column.to_list() for name, column in w.columns.items()},
                }
                for k, w in sorted(self._open.items())
            ],
        }

    def _load(self, state: Mapping[str, Any]) -> None:
        self._max_ts = None if state["max_ts"] is None else float(state["max_ts"])
        self._external = None if state["external"] is None else float(state["external"])
        self._schema = list(state["schema"])
        self._open = {
            int(w["index"]): _OpenWindow(
                PackedColumn([float(t) for t in w["timestamps"]]),
                {name: PackedColumn(column) for name, column in w["columns"].items()},
            )
            for w in state["open"]
        }
