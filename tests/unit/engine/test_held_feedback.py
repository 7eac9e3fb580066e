"""HeldFeedback on its own: order, release, the two-call delay, the bound, the checkpoint form
(the processor's use of it: ``test_unknown_feedback.py``)."""

from __future__ import annotations

import orjson
import pytest

from streamdrift import codec
from streamdrift.engine import held_feedback
from streamdrift.engine.held_feedback import HeldFeedback, model_of
from streamdrift.engine.messages import InputRecord
from streamdrift.records import FeedbackEvent


def message(
    model: str, offset: int, key: bytes | None = b"k"
) -> tuple[InputRecord, list[FeedbackEvent]]:
    events = [FeedbackEvent(model, f"{model}-{offset}-{i}", 1.7e9 + i, i % 2) for i in range(3)]
    value = codec.encode_feedback_batch(events)
    return InputRecord("feedback", 2, offset, 1.7e9 + offset, key, value), events


def test_release_keeps_order_and_take_due_waits_one_call() -> None:
    held = HeldFeedback()
    for offset, model in enumerate(["a", "b", "a", "c"]):
        assert held.hold(*message(model, offset)) == []
    assert held.events == 12 and len(held) == 4
    assert held.take_due() == []  # none was held at a previous call
    held.hold(*message("b", 4))
    released = held.release(lambda m: m == "b")
    assert [r.offset for r, _ in released] == [1, 4]
    assert [r.offset for r, _ in held.take_due()] == [0, 2, 3]
    assert held.take_due() == [] and len(held) == 0


def test_past_the_bound_the_oldest_come_back(monkeypatch: pytest.MonkeyPatch) -> None:
    record, events = message("a", 0)
    assert record.value is not None
    monkeypatch.setattr(held_feedback, "MAX_HELD_BYTES", 2 * len(record.value))
    held = HeldFeedback()
    assert held.hold(record, events) == []
    assert held.hold(*message("a", 1)) == []
    (overflow,) = held.hold(*message("a", 2))
    assert overflow[0].offset == 0
    assert [r.offset for r, _ in held.messages] == [1, 2]


def test_the_checkpoint_form_restores_records_and_labels() -> None:
    held = HeldFeedback()
    held.hold(*message("a", 0, key=None))
    record, events = message("b", 1, key=b"\x00\xff")
    held.hold(record, events)
    rows = orjson.loads(orjson.dumps(held.to_list()))
    back = HeldFeedback.from_list(rows)
    assert back.messages == held.messages
    assert model_of(back.messages[1][1]) == "b"
    assert back.take_due() == []  # a restored message waits two ticks again
