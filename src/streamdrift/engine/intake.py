"""The per-record part of :meth:`Processor.process`: skip what a checkpoint already covers,
decode, admit within the caps, dead-letter what cannot be monitored, and gather the rest
in arrival order (predictions as batches, feedback per message).

A fetch that is only new, non-empty messages of the predictions topic (the usual one) is
decoded a run at a time by msgspec (``map`` over the values, in C); a message it does not
accept ends the run and takes the per-message path, then the next run starts after it.
Either way the result is the same as one message after another.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from itertools import islice
from operator import attrgetter, lt
from typing import Any

from streamdrift import codec
from streamdrift.config.runtime import RuntimeSpec
from streamdrift.engine.dead_letters import DeadLetters
from streamdrift.engine.messages import InputRecord
from streamdrift.engine.runtime import RuntimeState
from streamdrift.engine.update import Update
from streamdrift.records import (
    EndOfInput,
    FeedbackEvent,
    PredictionBatch,
    PredictionEvent,
    batches_of_events,
    event_keys,
)

__all__ = ["Intake"]

_TOPIC = attrgetter("topic")
_OFFSET = attrgetter("offset")
_VALUE = attrgetter("value")

Items = list[PredictionEvent | PredictionBatch]


class Intake:
    """Sorts the records of one :meth:`Processor.process` call. ``observe`` takes the items
    gathered so far when an end-of-input marker arrives (they come before it), then
    ``end`` the marker."""

    def __init__(
        self,
        predictions: str,
        runtime: RuntimeState,
        spec: RuntimeSpec,
        dead: DeadLetters,
        offsets: dict[str, int],
        out: Update,
        observe: Callable[[Items], None],
        end: Callable[[EndOfInput], None],
    ) -> None:
        self.predictions = predictions
        self.runtime = runtime
        self.spec = spec
        self.dead = dead
        self.offsets = offsets
        self.out = out
        self.observe = observe
        self.end = end
        self.items: Items = []
        self.feedback: list[tuple[InputRecord, list[FeedbackEvent]]] = []  # per message
        self.consumed: dict[str, int] = {}  # messages per topic
        self.admitted: set[tuple[str, str]] = set()  # (model, version) admitted in this call
        # single events since the last envelope or marker, as the codec decoded them: put
        # into columns (records.batches_of_events) when the run ends, never one
        # PredictionEvent each; runs and envelopes keep their order in ``items``
        self.run: list[codec.SingleEvent] = []
        # (model, version, segment) of each event of ``run``, when gathered a run at a time
        self.keys: list[Any] | None = None

    def take(self, records: Sequence[InputRecord]) -> Items:
        """Sort ``records``; the predictions gathered since the last marker, in order."""
        values = self._plain(records)
        if values is None:
            for record in records:
                self._one(record)
        else:
            self._runs(records, values)
        self._end_run()
        return self.items

    # -- a fetch of new prediction messages: decoded a run at a time -----------------------

    def _plain(self, records: Sequence[InputRecord]) -> list[bytes] | None:
        """The values of ``records`` if all are new messages of the predictions topic, in
        offset order, each with a value of at most ``codec.MAX_MESSAGE_BYTES``; else None."""
        if not records:
            return None
        topic = self.predictions
        first = records[0]
        if first.topic != topic or first.offset < self.offsets.get(topic, 0):
            return None
        n = len(records)
        if n > 1:
            if list(map(_TOPIC, records)).count(topic) != n:
                return None
            offsets = list(map(_OFFSET, records))
            if not all(map(lt, offsets, islice(offsets, 1, None))):
                return None
        values: list[bytes] = list(map(_VALUE, records))
        try:
            if max(map(len, values)) > codec.MAX_MESSAGE_BYTES:
                return None
        except TypeError:  # a message without a value
            return None
        return values

    def _runs(self, records: Sequence[InputRecord], values: list[bytes]) -> None:
        topic = self.predictions
        n = len(records)
        self.offsets[topic] = records[-1].offset + 1
        self.consumed[topic] = n
        self.keys = []
        decode = codec.decode_wire_event
        start = 0
        while start < n:
            events: list[Any] = []
            # msgspec's errors are ValueErrors; ``events`` keeps those decoded before it
            with contextlib.suppress(ValueError, TypeError):
                events.extend(map(decode, islice(values, start, None)))
            stop = start + len(events)
            if events:
                self._admit_run(records, start, events)
            if stop < n:
                self._other(records[stop], topic, values[stop])
            start = stop + 1

    def _admit_run(self, records: Sequence[InputRecord], start: int, events: list[Any]) -> None:
        """Add decoded single events to the run: as :meth:`_one` would, one after another."""
        keys = event_keys(events)
        distinct = dict.fromkeys(keys)
        if any(type(version) is not str for _, version, _ in distinct):
            codec.version_as_string(events)
            keys = event_keys(events)
            distinct = dict.fromkeys(keys)
        admitted = self.admitted
        refused: dict[tuple[str, str], str] = {}
        for model, version, _ in distinct:  # in the order each is first seen
            key = (model, version)
            if key not in admitted and key not in refused:
                reason = self.runtime.admit(model, version, self.spec)
                if reason is None:
                    admitted.add(key)
                else:
                    refused[key] = reason  # refused for the rest of the call: caps only fill
        assert self.keys is not None
        if not refused:
            self.run.extend(events)
            self.keys.extend(keys)
            return
        for record, event, stream in zip(islice(records, start, None), events, keys, strict=False):
            cause = refused.get((stream[0], stream[1]))
            if cause is None:
                self.run.append(event)
                self.keys.append(stream)
            else:
                self.dead.refuse(record, event.model_id, cause, self.out)

    # -- any other fetch: one message after another ----------------------------------------

    def _one(self, record: InputRecord) -> None:
        topic, offset = record.topic, record.offset
        offsets = self.offsets
        if offset < offsets.get(topic, 0):
            return  # re-delivered after a seek: already covered by the state
        offsets[topic] = offset + 1
        self.consumed[topic] = self.consumed.get(topic, 0) + 1
        value = record.value
        if topic == self.predictions and value is not None:
            event = codec.single_event(value)
            if event is not None:
                key = (event.model_id, event.model_version)
                if key not in self.admitted:  # within one call, an admitted pair stays so
                    refused = self.runtime.admit(*key, self.spec)
                    if refused is not None:
                        self.dead.refuse(record, event.model_id, refused, self.out)
                        return
                    self.admitted.add(key)
                self.run.append(event)
                return
        self._other(record, topic, value)

    def _other(self, record: InputRecord, topic: str, value: bytes | None) -> None:
        """A message that is not a valid single event: an envelope, a marker, feedback, or
        what the codec rejects (to dead-letter)."""
        try:
            if value is None:
                raise codec.DecodeError("empty", "message without a value")
            if topic != self.predictions:
                self.feedback.append((record, codec.decode_feedback(value)))
                return
            item = codec.decode_predictions_topic_slow(value)
            if isinstance(item, EndOfInput):  # after the model's earlier events
                self._end_run()
                self.observe(self.items)
                self.items = []
                self.end(item)
                return
            key = (item.model_id, item.model_version)
            if key not in self.admitted:
                refused = self.runtime.admit(*key, self.spec)
                if refused is not None:
                    self.dead.refuse(record, item.model_id, refused, self.out)
                    return
                self.admitted.add(key)
            if isinstance(item, PredictionBatch) and item.rejected:
                self.dead.reject_rows(record, item.rejected, self.out)
            self._end_run()
            self.items.append(item)
        except codec.DecodeError as exc:
            self.dead.reject(record, exc.reason, str(exc), self.out)

    def _end_run(self) -> None:
        if self.run:
            self.items.extend(batches_of_events(self.run, self.keys))
            self.run = []
            if self.keys is not None:
                self.keys = []
