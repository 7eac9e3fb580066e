"""WindowBuffer.flush: the end of the input closes the open, partial windows."""

from __future__ import annotations

from streamdrift.drift.windows import CountWindows, TimeWindows, WindowSpec, make_windows


def test_count_flush_closes_the_partial_window_and_the_next_event_starts_a_new_one() -> None:
    buf = make_windows(WindowSpec(kind="count", size=4))
    assert [
        w.index for w in buf.add([1.0, 2.0, 3.0, 4.0, 5.0, 6.0], {"x": [1, 2, 3, 4, 5, 6]})
    ] == [0]
    (partial,) = buf.flush()
    assert (partial.index, partial.timestamps, partial.columns) == (1, [5.0, 6.0], {"x": [5, 6]})
    assert buf.buffered == 0
    assert buf.flush() == []
    closed = buf.add([7.0, 8.0, 9.0, 10.0], {"x": [7, 8, 9, 10]})
    assert [(w.index, w.columns["x"]) for w in closed] == [(2, [7, 8, 9, 10])]


def test_count_flush_state_round_trips() -> None:
    buf = make_windows(WindowSpec(kind="count", size=3, slide=2))
    buf.add([1.0, 2.0, 3.0, 4.0], {"x": [1, 2, 3, 4]})
    buf.flush()
    restored = CountWindows.from_dict(buf.to_dict())
    batch = ([5.0, 6.0, 7.0], {"x": [5, 6, 7]})
    assert [(w.index, w.columns) for w in restored.add(*batch)] == [
        (w.index, w.columns) for w in buf.add(*batch)
    ]


def test_time_flush_closes_every_open_window_and_later_events_of_them_are_late() -> None:
    buf = make_windows(WindowSpec(kind="time", size=10.0, slide=5.0, allowed_lateness=30.0))
    assert buf.add([1.0, 6.0, 12.0], {"x": [1, 2, 3]}) == []
    closed = buf.flush()
    assert [(w.index, w.columns["x"]) for w in closed] == [
        (-1, [1]),
        (0, [1, 2]),
        (1, [2, 3]),
        (2, [3]),
    ]
    assert buf.add([13.0], {"x": [4]}) == []
    assert buf.late_events == 1
    restored = TimeWindows.from_dict(buf.to_dict())
    assert restored.to_dict() == buf.to_dict()
    assert buf.flush() == []
