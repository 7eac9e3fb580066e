"""Window buffers: contents vs brute force, lateness, batch-split invariance, state round trip."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from itertools import pairwise
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streamdrift.drift.windows import (
    ClosedWindow,
    CountWindows,
    TimeWindows,
    WindowBuffer,
    WindowSpec,
    make_windows,
)
from streamdrift.records import Scalar

Row = tuple[float, dict[str, Scalar]]
Flat = tuple[int, float, float, list[float], dict[str, list[Scalar]]]


def _stream(timestamps: Sequence[float]) -> list[Row]:
    """Events with two columns whose values identify the event."""
    return [(t, {"i": i, "s": f"e{i}"}) for i, t in enumerate(timestamps)]


def _feed(buf: WindowBuffer, rows: list[Row], cuts: Sequence[int] = ()) -> list[ClosedWindow]:
    """Add ``rows`` cut at ``cuts`` (row slices of one columnar batch)."""
    bounds = [0, *sorted(set(cuts)), len(rows)]
    out: list[ClosedWindow] = []
    for a, b in pairwise(bounds):
        part = rows[a:b]
        names = rows[0][1].keys() if rows else []
        cols = {name: [r[1][name] for r in part] for name in names}
        out.extend(buf.add([r[0] for r in part], cols))
    return out


def _flat(windows: Sequence[ClosedWindow]) -> list[Flat]:
    return [(w.index, w.start, w.end, w.timestamps, w.columns) for w in windows]


def _window_of(index: int, rows: list[Row], start: float, end: float) -> Flat:
    names = rows[0][1].keys()
    return (index, start, end, [r[0] for r in rows], {n: [r[1][n] for r in rows] for n in names})


# --- brute-force references ---------------------------------------------------------------


def _count_reference(rows: list[Row], size: int, step: int) -> list[Flat]:
    out = []
    j = 0
    while j * step + size <= len(rows):
        part = rows[j * step : j * step + size]
        stamps = [r[0] for r in part]
        out.append(_window_of(j, part, min(stamps), max(stamps)))
        j += 1
    return out


def _time_reference(
    rows: list[Row], size: float, step: float, lateness: float
) -> tuple[list[Flat], int, dict[int, list[Row]]]:
    """One event at a time: (closed windows, late count, open windows). Exact for dyadic values."""
    open_: dict[int, list[Row]] = {}
    closed: list[Flat] = []
    late = 0
    mark = -math.inf
    max_ts = -math.inf
    for row in rows:
        t = row[0]
        ks = [
            k
            for k in range(math.floor((t - size) / step) - 2, math.floor(t / step) + 3)
            if k * step <= t < k * step + size and k * step + size > mark
        ]
        if not ks:
            late += 1
        for k in ks:
            open_.setdefault(k, []).append(row)
        max_ts = max(max_ts, t)
        mark = max_ts - lateness
        for k in sorted(open_):
            if k * step + size <= mark:
                closed.append(_window_of(k, open_.pop(k), k * step, k * step + size))
    return closed, late, open_


# --- WindowSpec -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"kind": "session"}, "kind"),
        ({"size": 0}, "size"),
        ({"size": -5}, "size"),
        ({"size": math.inf}, "size"),
        ({"size": "10"}, "size"),
        ({"size": True}, "size"),
        ({"kind": "count", "size": 10.5}, "size"),
        ({"kind": "count", "size": 10, "slide": 2.5}, "slide"),
        ({"size": 10, "slide": 0}, "slide"),
        ({"size": 10, "slide": 11}, "slide"),
        ({"kind": "time", "size": 10, "slide": -1.0}, "slide"),
        ({"kind": "time", "size": 60.0, "allowed_lateness": -1.0}, "allowed_lateness"),
        ({"kind": "time", "size": 60.0, "allowed_lateness": math.nan}, "allowed_lateness"),
    ],
)
def test_spec_validation_names_the_field(kwargs: dict[str, Any], field: str) -> None:
    with pytest.raises(ValueError, match=f"^{field} "):
        WindowSpec(**kwargs)


def test_spec_normalises_and_round_trips() -> None:
    spec = WindowSpec(kind="count", size=10.0, slide=5.0)
    assert (spec.size, spec.slide, type(spec.size), type(spec.slide)) == (10, 5, int, int)
    assert spec.step == 5 and WindowSpec(size=7).step == 7
    tspec = WindowSpec(kind="time", size=60, slide=15, allowed_lateness=5)
    assert WindowSpec.from_dict(json.loads(json.dumps(tspec.to_dict()))) == tspec
    assert isinstance(make_windows(spec), CountWindows)
    assert isinstance(make_windows(tspec), TimeWindows)


# --- count windows --------------------------------------------------------------------------


@pytest.mark.parametrize(("size", "slide"), [(5, None), (1, None), (7, 3), (6, 1), (4, 4)])
def test_count_windows_match_brute_force(size: int, slide: int | None) -> None:
    rng = np.random.default_rng(size * 10 + (slide or 0))
    rows = _stream(rng.normal(100.0, 10.0, size=53).tolist())
    cuts = rng.choice(np.arange(1, 53), size=12, replace=False).tolist()
    buf = make_windows(WindowSpec(kind="count", size=size, slide=slide))
    got = _feed(buf, rows, cuts)
    step = size if slide is None else slide
    assert _flat(got) == _count_reference(rows, size, step)
    seen = len(rows)
    closed = (seen - size) // step + 1
    assert buf.buffered == seen - closed * step
    assert buf.buffered < size and buf.late_events == 0
    assert buf.advance(1e12) == []


def test_count_batch_closing_several_windows_leaves_remainder() -> None:
    buf = make_windows(WindowSpec(kind="count", size=3))
    out = buf.add([float(t) for t in range(8)], {"x": list(range(8))})
    assert [w.columns["x"] for w in out] == [[0, 1, 2], [3, 4, 5]]
    assert [(w.index, w.start, w.end, w.count) for w in out] == [(0, 0.0, 2.0, 3), (1, 3.0, 5.0, 3)]
    assert buf.buffered == 2


def test_count_columns_new_and_absent_are_padded_with_none() -> None:
    buf = make_windows(WindowSpec(kind="count", size=6))
    assert buf.add([1, 2], {"a": [1, 2]}) == []
    assert buf.add([3, 4], {"b": ["x", "y"]}) == []
    (w,) = buf.add([5, 6, 7], {"a": [5, 6, 7], "c": [True, False, None]})
    assert w.columns == {
        "a": [1, 2, None, None, 5, 6],
        "b": [None, None, "x", "y", None, None],
        "c": [None, None, None, None, True, False],
    }
    assert w.timestamps == [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
    assert buf.to_dict()["columns"] == {"a": [7], "b": [None], "c": [None]}


def test_numpy_columns_become_python_scalars() -> None:
    for spec in (WindowSpec(kind="count", size=2), WindowSpec(kind="time", size=10.0)):
        buf = make_windows(spec)
        out = buf.add(np.array([1.0, 2.0]), {"x": np.array([1, 2]), "y": np.array([0.5, 1.5])})
        out += buf.advance(100.0)
        (w,) = out
        assert w.columns == {"x": [1, 2], "y": [0.5, 1.5]}
        assert [type(v) for v in w.columns["x"]] == [int, int]
        json.dumps(buf.to_dict())


def test_mismatched_column_length_is_rejected() -> None:
    for spec in (WindowSpec(kind="count", size=2), WindowSpec(kind="time", size=10.0)):
        with pytest.raises(ValueError, match="'x' has 1 values for 2"):
            make_windows(spec).add([1.0, 2.0], {"x": [1]})


# --- time windows ---------------------------------------------------------------------------


def test_time_tumbling_assigns_by_timestamp() -> None:
    buf = make_windows(WindowSpec(kind="time", size=10.0))
    assert buf.add([1.0, 9.5, 3.0, 9.99], {"x": ["a", "b", "c", "d"]}) == []
    (w,) = buf.add([10.0, 12.0], {"x": ["e", "f"]})  # watermark 10 reaches the end of [0, 10)
    assert (w.index, w.start, w.end) == (0, 0.0, 10.0)
    assert w.timestamps == [1.0, 9.5, 3.0, 9.99] and w.columns == {"x": ["a", "b", "c", "d"]}
    assert buf.buffered == 2 and buf.late_events == 0
    assert buf.add([9.0], {"x": ["g"]}) == [] and buf.late_events == 1


def test_time_sliding_event_is_in_every_covering_window() -> None:
    buf = make_windows(WindowSpec(kind="time", size=30.0, slide=10.0))
    buf.add([25.0], {"x": [1]})
    assert buf.buffered == 3  # windows starting at 0, 10, 20
    out = buf.advance(60.0)
    assert [(w.index, w.start, w.end, w.columns["x"]) for w in out] == [
        (0, 0.0, 30.0, [1]),
        (1, 10.0, 40.0, [1]),
        (2, 20.0, 50.0, [1]),
    ]


def test_index_is_start_over_slide_including_negative_time() -> None:
    buf = make_windows(WindowSpec(kind="time", size=4.0, slide=2.0))
    out = buf.add([-3.0, 100.0], {"x": [0, 1]})
    assert [(w.index, w.start, w.end) for w in out] == [(-3, -6.0, -2.0), (-2, -4.0, 0.0)]
    assert all(w.start == w.index * 2.0 for w in out)


@pytest.mark.parametrize(
    ("size", "slide", "lateness"),
    [(4.0, None, 0.0), (4.0, None, 3.0), (6.0, 2.0, 0.0), (6.0, 2.0, 2.5), (3.0, 1.5, 1.0)],
)
def test_time_windows_match_brute_force(size: float, slide: float | None, lateness: float) -> None:
    rng = np.random.default_rng(int(size * 100 + lateness * 10))
    # drifting clock with jitter: some events out of order, some beyond the lateness
    stamps = (np.arange(200) * 0.25 + rng.integers(-40, 3, size=200) * 0.25).tolist()
    rows = _stream(stamps)
    cuts = rng.choice(np.arange(1, 200), size=30, replace=False).tolist()
    buf = make_windows(WindowSpec(kind="time", size=size, slide=slide, allowed_lateness=lateness))
    got = _feed(buf, rows, cuts)
    ref, late, open_ = _time_reference(rows, size, slide or size, lateness)
    assert _flat(got) == ref
    assert buf.late_events == late
    assert buf.buffered == sum(len(v) for v in open_.values())
    if lateness == 0.0:
        assert late > 0  # the case is exercised


def test_out_of_order_within_lateness_is_kept() -> None:
    buf = make_windows(WindowSpec(kind="time", size=10.0, allowed_lateness=5.0))
    assert buf.add([8.0, 14.0, 2.0], {"x": [1, 2, 3]}) == []  # watermark 9: [0, 10) open
    (w,) = buf.add([7.0, 15.0], {"x": [4, 5]})  # watermark 10: [0, 10) closes after 7 joined
    assert w.columns == {"x": [1, 3, 4]} and buf.late_events == 0


def test_beyond_lateness_is_counted_late_and_excluded() -> None:
    buf = make_windows(WindowSpec(kind="time", size=10.0, allowed_lateness=5.0))
    (w,) = buf.add([3.0, 16.0, 4.0], {"x": [1, 2, 3]})  # 16 closes [0, 10) before 4 arrives
    assert w.columns == {"x": [1]}
    assert buf.add([9.9, 12.0], {"x": [4, 5]}) == []
    assert buf.late_events == 2 and buf.buffered == 2
    # the same events one at a time: the same windows and the same late count
    one = make_windows(WindowSpec(kind="time", size=10.0, allowed_lateness=5.0))
    out = [w for i, t in enumerate([3.0, 16.0, 4.0, 9.9, 12.0]) for w in one.add([t], {"x": [i]})]
    assert [x.columns for x in out] == [{"x": [0]}] and one.late_events == 2


def test_sliding_event_partly_late_joins_its_open_windows_only() -> None:
    buf = make_windows(WindowSpec(kind="time", size=20.0, slide=10.0))
    out = buf.add([5.0, 25.0, 15.0], {"x": [1, 2, 3]})  # 25 closes [0, 20); [10, 30) is open
    assert [(w.start, w.columns["x"]) for w in out] == [(-10.0, [1]), (0.0, [1])]
    assert buf.late_events == 0
    out = buf.advance(40.0)
    assert [(w.start, w.columns["x"]) for w in out] == [(10.0, [2, 3]), (20.0, [2])]


def test_advance_closes_windows_of_an_idle_stream() -> None:
    buf = make_windows(WindowSpec(kind="time", size=60.0, allowed_lateness=30.0))
    assert buf.add([10.0, 70.0], {"x": [1, 2]}) == []  # watermark 40
    assert buf.advance(59.0) == []
    (w,) = buf.advance(60.0)  # no lateness subtracted from an external watermark
    assert (w.start, w.end, w.columns) == (0.0, 60.0, {"x": [1]})
    assert buf.advance(30.0) == [] and buf.to_dict()["external"] == 60.0  # never goes back
    assert buf.add([59.0], {"x": [3]}) == [] and buf.late_events == 1
    assert [w.columns for w in buf.advance(1e9)] == [{"x": [2]}]
    assert buf.buffered == 0
    with pytest.raises(ValueError, match="watermark"):
        buf.advance(math.nan)


def test_time_gaps_emit_no_empty_windows() -> None:
    buf = make_windows(WindowSpec(kind="time", size=1.0))
    out = buf.add([0.5, 1e6 + 0.5, 2e6], {"x": [1, 2, 3]})
    assert [(w.index, w.columns["x"]) for w in out] == [(0, [1]), (1_000_000, [2])]


def test_time_columns_new_and_absent_are_padded_with_none() -> None:
    buf = make_windows(WindowSpec(kind="time", size=10.0, slide=5.0, allowed_lateness=10.0))
    buf.add([1.0, 6.0], {"a": [1, 2]})  # windows -5, 0, 5 open
    buf.add([7.0], {"b": ["x"]})
    out = buf.advance(100.0)
    assert [(w.start, w.columns) for w in out] == [
        (-5.0, {"a": [1], "b": [None]}),
        (0.0, {"a": [1, 2, None], "b": [None, None, "x"]}),
        (5.0, {"a": [2, None], "b": [None, "x"]}),
    ]


def test_out_of_order_batch_gathers_scattered_rows() -> None:
    buf = make_windows(WindowSpec(kind="time", size=10.0, allowed_lateness=100.0))
    stamps = [1.0, 15.0, 2.0, 25.0, 3.0, 16.0]
    buf.add(stamps, {"x": list(range(6)), "y": [str(i) for i in range(6)]})
    out = buf.advance(1e9)
    assert [w.columns["x"] for w in out] == [[0, 2, 4], [1, 5], [3]]
    assert [w.columns["y"] for w in out] == [["0", "2", "4"], ["1", "5"], ["3"]]
    assert [w.timestamps for w in out] == [[1.0, 2.0, 3.0], [15.0, 16.0], [25.0]]


def test_non_finite_timestamps_are_rejected() -> None:
    with pytest.raises(ValueError, match="finite"):
        make_windows(WindowSpec(kind="time", size=10.0)).add([1.0, math.nan], {})


def test_float_slides_tile_without_gaps() -> None:
    # 0.1 is not exact in binary: tumbling windows still put each event in exactly one window
    buf = make_windows(WindowSpec(kind="time", size=0.1))
    stamps = [round(i * 0.01, 2) for i in range(1000)]
    out = buf.add(stamps, {}) + buf.advance(1e9)
    assert sum(w.count for w in out) == 1000 and buf.late_events == 0
    assert all(w.start <= t < w.end for w in out for t in w.timestamps)
    assert all(a.end == b.start for a, b in pairwise(out))


# --- invariance and state --------------------------------------------------------------------

_TIME_SPECS = [
    WindowSpec(kind="time", size=4.0),
    WindowSpec(kind="time", size=4.0, allowed_lateness=2.0),
    WindowSpec(kind="time", size=6.0, slide=2.0, allowed_lateness=1.5),
    WindowSpec(kind="time", size=3.0, slide=2.0, allowed_lateness=0.5),  # size/slide not whole
]
_COUNT_SPECS = [
    WindowSpec(kind="count", size=5),
    WindowSpec(kind="count", size=7, slide=3),
    WindowSpec(kind="count", size=1),
]


@st.composite
def _streams(draw: st.DrawFn) -> tuple[WindowSpec, list[Row], list[int], list[int]]:
    spec = draw(st.sampled_from(_TIME_SPECS + _COUNT_SPECS))
    steps = draw(st.lists(st.integers(-10, 6), min_size=0, max_size=80))
    stamps = np.cumsum(steps, dtype=np.float64) * 0.25
    rows = _stream(stamps.tolist())
    n = len(rows)
    cut = st.lists(st.integers(1, max(n - 1, 1)), max_size=12) if n > 1 else st.just([])
    return spec, rows, draw(cut), draw(cut)


@settings(max_examples=150, deadline=None)
@given(_streams())
def test_batch_split_invariance(case: tuple[WindowSpec, list[Row], list[int], list[int]]) -> None:
    spec, rows, cuts_a, cuts_b = case
    whole, a, b = make_windows(spec), make_windows(spec), make_windows(spec)
    got = [_flat(_feed(whole, rows)), _flat(_feed(a, rows, cuts_a)), _flat(_feed(b, rows, cuts_b))]
    assert got[0] == got[1] == got[2]
    assert whole.to_dict() == a.to_dict() == b.to_dict()
    if spec.kind == "count":
        assert got[0] == _count_reference(rows, int(spec.size), int(spec.step))
    else:
        assert got[0] == _time_reference(rows, spec.size, spec.step, spec.allowed_lateness)[0]
        tail = [_flat(x.advance(1e9)) for x in (whole, a, b)]
        assert tail[0] == tail[1] == tail[2] and whole.buffered == 0


@settings(max_examples=100, deadline=None)
@given(_streams(), st.integers(0, 80))
def test_state_round_trip_mid_stream(
    case: tuple[WindowSpec, list[Row], list[int], list[int]], at: int
) -> None:
    spec, rows, cuts, _ = case
    at = min(at, len(rows))
    original = make_windows(spec)
    _feed(original, rows[:at], [c for c in cuts if c < at])
    snapshot = json.dumps(original.to_dict(), allow_nan=False)
    restored = WindowBuffer.from_dict(json.loads(snapshot))
    assert type(restored) is type(original) and restored.to_dict() == original.to_dict()
    assert (restored.buffered, restored.late_events) == (original.buffered, original.late_events)
    rest = rows[at:]
    later = [c - at for c in cuts if c > at]
    assert _flat(_feed(original, rest, later)) == _flat(_feed(restored, rest, later))
    assert _flat(original.advance(1e9)) == _flat(restored.advance(1e9))
    assert original.to_dict() == restored.to_dict()


def test_from_dict_checks_the_kind() -> None:
    state = make_windows(WindowSpec(kind="time", size=5.0)).to_dict()
    assert isinstance(TimeWindows.from_dict(state), TimeWindows)
    with pytest.raises(TypeError, match="TimeWindows"):
        CountWindows.from_dict(state)
    with pytest.raises(ValueError, match="kind"):
        CountWindows(WindowSpec(kind="time", size=5.0))
