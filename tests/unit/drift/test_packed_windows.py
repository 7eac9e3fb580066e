"""Window buffers hold their events packed: the values given back (types included) are the
values added, and what a buffer holds is bounded by its window, not by the traffic."""

from __future__ import annotations

import random
from typing import Any

from streamdrift.drift.windows import CountWindows, TimeWindows, WindowSpec, make_windows


def _batch(rng: random.Random, start: float, n: int) -> tuple[list[float], dict[str, list[Any]]]:
    stamps = [start + i * 0.5 for i in range(n)]
    mixed = [rng.choice([1, 2.5, None, True, "x", 2**60]) for _ in range(n)]
    ids = [f"user-{rng.random()}" for _ in range(n)]
    return stamps, {"mixed": mixed, "id": ids, "x": [rng.random() for _ in range(n)]}


def test_count_windows_give_back_the_values_added() -> None:
    rng = random.Random(5)
    buf = make_windows(WindowSpec(kind="count", size=100, slide=40))
    added: list[Any] = []
    closed = []
    for b in range(30):
        stamps, cols = _batch(rng, b * 100.0, rng.randint(1, 90))
        added += cols["mixed"]
        closed += buf.add(stamps, cols)
    for w in closed:
        lo = w.index * 40
        assert w.columns["mixed"] == added[lo : lo + 100]
        assert [type(v) for v in w.columns["mixed"]] == [type(v) for v in added[lo : lo + 100]]


def test_count_windows_hold_memory_for_one_window_however_long_the_stream() -> None:
    rng = random.Random(6)
    buf = make_windows(WindowSpec(kind="count", size=500))
    assert isinstance(buf, CountWindows)
    for b in range(200):
        buf.add(*_batch(rng, b * 100.0, 137))
    for column in [buf._timestamps, *buf._columns.values()]:
        assert column.nbytes <= 9 * 4 * 500
        assert len(column._strings) <= 2 * 500 + 137


def test_time_windows_give_back_the_values_added_to_each_window() -> None:
    rng = random.Random(7)
    buf = make_windows(WindowSpec(kind="time", size=30.0, slide=10.0, allowed_lateness=20.0))
    assert isinstance(buf, TimeWindows)
    rows: list[tuple[float, Any]] = []
    closed = []
    for b in range(20):
        stamps, cols = _batch(rng, b * 12.5, 25)
        rng.shuffle(stamps)  # out of order within the lateness: rows scattered over windows
        rows += list(zip(stamps, cols["mixed"], strict=True))
        closed += buf.add(stamps, cols)
    closed += buf.flush()
    assert len(closed) > 20 and buf.late_events == 0
    for w in closed:
        expected = [v for t, v in rows if w.start <= t < w.end]
        assert w.columns["mixed"] == expected
        assert [type(v) for v in w.columns["mixed"]] == [type(v) for v in expected]
