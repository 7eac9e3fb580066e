"""Feedback of models a partition does not know yet, held until the partition can tell
whether their predictions are coming (``performance.unknown_model_feedback = "reject"``,
the default).

A feedback message (one label, or a batch of one model's labels) is *unknown* while its
model is neither configured nor has sent a prediction to the partition
(``DegradationFleet.knows``). It is held, not joined, until

* its model has sent a prediction: it is released into the join, before the feedback read
  with that prediction (:meth:`HeldFeedback.release`); or
* the partition was read to the end of its predictions topic after the message was read
  and its model is still unknown: it goes to dead-letter as ``unknown_model``
  (:meth:`HeldFeedback.take_due`, on ``Processor.tick``, which the runner calls about once
  a second, only for partitions read to the high watermark of both topics). A prediction
  published before its label would have been read by then. A message is rejected on the
  second such tick after it was read, not the first, so the high watermark the runner
  compared with came from a fetch that began after the message was read.

Neither the order in which a fetch returns the two topics nor another model's clock on the
same partition decides. (Until 2026-12-07 a label was rejected at once when the
partition's prediction *event time* had passed it: the labels of a new model read in the
fetch before its first prediction, or beside a model whose clock ran ahead, went to
dead-letter although their predictions came.)

Held messages are part of the partition's checkpoint, since their offsets are consumed;
at most :data:`MAX_HELD_BYTES` of message values per partition. Past that the oldest are
released to wait in the join, as with ``unknown_model_feedback = "wait"`` (they join if
their predictions come, else expire as orphans, counted).
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterable
from typing import Any

from streamdrift import codec
from streamdrift.engine.messages import InputRecord
from streamdrift.records import FeedbackEvent

__all__ = ["MAX_HELD_BYTES", "HeldFeedback", "Message", "model_of"]

MAX_HELD_BYTES = 4 * 1024 * 1024  # of held message values, per partition
Message = tuple[InputRecord, list[FeedbackEvent]]


class HeldFeedback:
    """The held feedback messages of one partition, by model (a release looks at each held
    model once, not at each message); all from the partition's feedback topic, so their
    offsets order them."""

    __slots__ = ("_bytes", "_mark", "by_model")

    def __init__(self) -> None:
        self.by_model: dict[str, list[Message]] = {}
        self._bytes = 0
        self._mark = 0  # messages below this offset were held at the last take_due()

    def __len__(self) -> int:
        return sum(map(len, self.by_model.values()))

    @property
    def messages(self) -> list[Message]:
        """Every held message, oldest first."""
        return _in_order(m for held in self.by_model.values() for m in held)

    @property
    def events(self) -> int:
        """Labels held."""
        return sum(len(events) for held in self.by_model.values() for _, events in held)

    def hold(self, record: InputRecord, events: list[FeedbackEvent]) -> list[Message]:
        """Hold a message; returns the oldest ones past :data:`MAX_HELD_BYTES` (to wait in
        the join instead)."""
        self.by_model.setdefault(model_of(events), []).append((record, events))
        self._bytes += _size(record)
        overflow: list[Message] = []
        while self._bytes > MAX_HELD_BYTES and self.by_model:
            model = min(self.by_model, key=lambda m: self.by_model[m][0][0].offset)
            held = self.by_model[model]
            oldest = held.pop(0)
            if not held:
                del self.by_model[model]
            self._bytes -= _size(oldest[0])
            overflow.append(oldest)
        return overflow

    def release(self, knows: Callable[[str], bool]) -> list[Message]:
        """The held messages whose model is known now, oldest first."""
        known = [model for model in self.by_model if knows(model)]
        if not known:
            return []
        released = _in_order(m for model in known for m in self.by_model.pop(model))
        self._bytes -= sum(_size(record) for record, _ in released)
        return released

    def take_due(self) -> list[Message]:
        """The messages held already at the last call, oldest first; the others are due at
        the next call."""
        mark, due = self._mark, []
        for model in list(self.by_model):
            held = self.by_model[model]
            n = sum(1 for record, _ in held if record.offset < mark)
            if n:
                due.extend(held[:n])
                del held[:n]
                if not held:
                    del self.by_model[model]
            if held:
                self._mark = max(self._mark, held[-1][0].offset + 1)
        self._bytes -= sum(_size(record) for record, _ in due)
        return _in_order(due)

    # -- checkpoint form ------------------------------------------------------------------

    def to_list(self) -> list[list[Any]]:
        """``[topic, partition, offset, timestamp, key, value]`` each, bytes in base64."""
        return [
            [r.topic, r.partition, r.offset, r.timestamp, _b64(r.key), _b64(r.value)]
            for r, _ in self.messages
        ]

    @classmethod
    def from_list(cls, rows: Iterable[list[Any]]) -> HeldFeedback:
        held = cls()
        for topic, partition, offset, timestamp, key, value in rows:
            record = InputRecord(
                str(topic),
                int(partition),
                int(offset),
                float(timestamp),
                _bytes(key),
                _bytes(value),
            )
            events = codec.decode_feedback(record.value or b"")
            held.by_model.setdefault(model_of(events), []).append((record, events))
            held._bytes += _size(record)
        return held


def model_of(events: list[FeedbackEvent]) -> str:
    """The model of a feedback message's labels (the codec gives one model per message, and
    never an empty one)."""
    return events[0].model_id


def _in_order(messages: Iterable[Message]) -> list[Message]:
    return sorted(messages, key=lambda m: m[0].offset)


def _size(record: InputRecord) -> int:
    return len(record.value or b"")


def _b64(raw: bytes | None) -> str | None:
    return None if raw is None else base64.b64encode(raw).decode("ascii")


def _bytes(text: str | None) -> bytes | None:
    return None if text is None else base64.b64decode(text)
