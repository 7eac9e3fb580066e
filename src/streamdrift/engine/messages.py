"""What the engine takes and gives: Kafka-shaped records without Kafka, and dead-letter ones.

The consumer loop (:mod:`streamdrift.kafka.runner`) turns fetched messages into
:class:`InputRecord` and produces every :class:`OutputRecord` the engine returns.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from streamdrift import codec
from streamdrift.engine.runtime import REFUSALS

__all__ = ["DEAD_LETTER_REASONS", "InputRecord", "OutputRecord", "dead_letter"]

# dead-letter headers (values are UTF-8 text)
H_REASON = "streamdrift.reason"
H_ERROR = "streamdrift.error"
H_TOPIC = "streamdrift.source.topic"
H_PARTITION = "streamdrift.source.partition"
H_OFFSET = "streamdrift.source.offset"
H_TIMESTAMP = "streamdrift.source.timestamp"
H_ROWS = "streamdrift.rows"  # the rejected rows of a batch envelope (the rest was processed)
# reasons of the dead-letter topic: the codec's, feedback of a model the partition does not
# know, and predictions past the max_models / max_versions caps
DEAD_LETTER_REASONS = (*codec.DECODE_REASONS, "unknown_model", *REFUSALS)

Headers = tuple[tuple[str, bytes], ...]


class InputRecord(NamedTuple):
    """A fetched message (a tuple: one is built per message on the hot path, and a named
    tuple costs about half of a frozen dataclass)."""

    topic: str
    partition: int
    offset: int
    timestamp: float  # the Kafka record timestamp, unix seconds
    key: bytes | None
    value: bytes | None


@dataclass(frozen=True, slots=True)
class OutputRecord:
    topic: str
    key: bytes | None
    value: bytes | None  # None: a tombstone (a retired join spill segment)
    headers: Headers = ()


def dead_letter(topic: str, record: InputRecord, reason: str, error: str) -> OutputRecord:
    """The dead-letter record for ``record``: original key and bytes, why and where in headers."""
    headers: Headers = (
        (H_REASON, reason.encode()),
        (H_ERROR, error[:1000].encode()),
        (H_TOPIC, record.topic.encode()),
        (H_PARTITION, str(record.partition).encode()),
        (H_OFFSET, str(record.offset).encode()),
        (H_TIMESTAMP, repr(record.timestamp).encode()),
    )
    return OutputRecord(topic, record.key, record.value or b"", headers)
