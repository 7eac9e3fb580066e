"""The only package that touches orjson and msgspec: decode and validate input, encode output.

``decode_prediction(raw)`` returns a :class:`PredictionEvent` (single-event message) or a
:class:`PredictionBatch` (batch envelope, ``"kind": "prediction_batch"``);
``decode_predictions_topic`` also an :class:`EndOfInput` marker; both raise
:class:`DecodeError` with a stable ``reason`` code for anything invalid. orjson itself
rejects NaN and Infinity (they are not JSON), so every number that passes is finite.
A field the schemas in topics/ do not define is rejected (``unknown_field``), never dropped.
A single event is decoded and checked in one C pass by msgspec (:mod:`.single`); a
message it does not accept (an envelope, a marker, anything invalid) takes the orjson path,
which alone decides what is rejected and why.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from typing import Any

import orjson

from streamdrift.codec.envelopes import (
    _decode_prediction_batch,
)
from streamdrift.codec.fields import (
    DECODE_REASONS,
    MAX_ID_LENGTH,
    MAX_MESSAGE_BYTES,
    SCHEMA_VERSION,
    DecodeError,
    _column,
    _features,
    _identifier,
    _known_fields,
    _label,
    _optional_id,
    _predicted_label,
    _prediction,
    _segment,
    _timestamp,
)
from streamdrift.codec.single import (
    SingleEvent,
    _fast_event,
    decode_wire_event,
    single_event,
    version_as_string,
)
from streamdrift.records import (
    Alert,
    EndOfInput,
    FeedbackEvent,
    PredictionBatch,
    PredictionEvent,
)

__all__ = [
    "DECODE_REASONS",
    "END_OF_INPUT",
    "END_OF_INPUT_FIELDS",
    "FEEDBACK_BATCH_FIELDS",
    "FEEDBACK_FIELDS",
    "MAX_ID_LENGTH",
    "MAX_MESSAGE_BYTES",
    "PREDICTION_BATCH_FIELDS",
    "PREDICTION_FIELDS",
    "SCHEMA_VERSION",
    "DecodeError",
    "SingleEvent",
    "decode_checkpoint",
    "decode_feedback",
    "decode_prediction",
    "decode_predictions_topic",
    "decode_predictions_topic_slow",
    "decode_wire_event",
    "dumps",
    "encode_alert",
    "encode_checkpoint",
    "encode_end_of_input",
    "encode_experiment_record",
    "encode_feedback",
    "encode_feedback_batch",
    "encode_prediction",
    "encode_prediction_batch",
    "encode_window_record",
    "loads",
    "single_event",
    "version_as_string",
]


def loads(raw: bytes | str) -> Any:
    return orjson.loads(raw)


def dumps(value: Any) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_SERIALIZE_NUMPY)


def _parse(raw: bytes) -> Mapping[str, Any]:
    if len(raw) > MAX_MESSAGE_BYTES:
        raise DecodeError("oversize", f"message of {len(raw)} bytes exceeds {MAX_MESSAGE_BYTES}")
    try:
        doc = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise DecodeError("not_json", f"not valid JSON: {exc}") from None
    if not isinstance(doc, dict):
        raise DecodeError("not_object", f"expected a JSON object, got {type(doc).__name__}")
    version = doc.get("schema_version", SCHEMA_VERSION)
    if type(version) is not int or version != SCHEMA_VERSION:
        raise DecodeError("unknown_schema_version", f"schema_version {version!r} is not 1")
    return doc


# The fields each message may carry (topics/*.schema.json, "additionalProperties": false):
# a field outside them is rejected, not dropped, so a misspelt one is never lost unseen.
PREDICTION_FIELDS = frozenset(
    {
        "schema_version",
        "model_id",
        "model_version",
        "prediction_id",
        "timestamp",
        "features",
        "prediction",
        "predicted_label",
        "segment",
        "experiment",
        "variant",
    }
)
PREDICTION_BATCH_FIELDS = PREDICTION_FIELDS | {"kind"}
FEEDBACK_FIELDS = frozenset({"schema_version", "model_id", "prediction_id", "timestamp", "label"})
FEEDBACK_BATCH_FIELDS = FEEDBACK_FIELDS | {"kind"}


def decode_predictions_topic(raw: bytes) -> PredictionEvent | PredictionBatch | EndOfInput:
    """Any message of the predictions topic: a prediction, an envelope or an end-of-input
    marker; raise :class:`DecodeError` if invalid."""
    event = _fast_event(raw)
    if event is not None:
        return event
    return decode_predictions_topic_slow(raw)


def decode_predictions_topic_slow(raw: bytes) -> PredictionEvent | PredictionBatch | EndOfInput:
    """:func:`decode_predictions_topic` for a message msgspec did not accept as a single
    event (:func:`single_event` gave None): the orjson path, which decides the reason."""
    doc = _parse(raw)
    if doc.get("kind") == END_OF_INPUT:
        return _decode_end_of_input(doc)
    return _decode_prediction_doc(doc)


def decode_prediction(raw: bytes) -> PredictionEvent | PredictionBatch:
    """Decode one prediction or envelope; raise :class:`DecodeError` if invalid."""
    event = _fast_event(raw)
    if event is not None:
        return event
    return _decode_prediction_doc(_parse(raw))


def _decode_prediction_doc(doc: Mapping[str, Any]) -> PredictionEvent | PredictionBatch:
    if "kind" in doc:
        if doc["kind"] != "prediction_batch":
            raise DecodeError("wrong_kind", f"unknown message kind {doc['kind']!r}")
        _known_fields(doc, PREDICTION_BATCH_FIELDS)
        return _decode_prediction_batch(doc)
    if not PREDICTION_FIELDS.issuperset(doc):  # inline, the fastest test: a hot path
        _known_fields(doc, PREDICTION_FIELDS)
    decided = doc.get("predicted_label")
    return PredictionEvent(
        model_id=_identifier(doc, "model_id"),
        model_version=_identifier(doc, "model_version", allow_int=True),
        prediction_id=_identifier(doc, "prediction_id"),
        timestamp=_timestamp(doc.get("timestamp")),
        features=_features(doc.get("features")),
        prediction=_prediction(doc.get("prediction")),
        segment=_segment(doc.get("segment")),
        predicted_label=None if decided is None else _predicted_label(decided),
        experiment=_optional_id(doc, "experiment"),
        variant=_optional_id(doc, "variant"),
    )


END_OF_INPUT = "end_of_input"
END_OF_INPUT_FIELDS = frozenset({"kind", "schema_version", "model_id", "model_version"})


def _decode_end_of_input(doc: Mapping[str, Any]) -> EndOfInput:
    _known_fields(doc, END_OF_INPUT_FIELDS)
    version = doc.get("model_version")
    return EndOfInput(
        _identifier(doc, "model_id"),
        None if version is None else _identifier(doc, "model_version", allow_int=True),
    )


def encode_end_of_input(marker: EndOfInput) -> bytes:
    doc: dict[str, Any] = {"kind": END_OF_INPUT, "schema_version": SCHEMA_VERSION}
    doc["model_id"] = marker.model_id
    if marker.model_version is not None:
        doc["model_version"] = marker.model_version
    return orjson.dumps(doc)


def decode_feedback(raw: bytes) -> list[FeedbackEvent]:
    """Decode one message of the feedback topic: a single label or a ``feedback_batch``."""
    doc = _parse(raw)
    if "kind" not in doc:
        _known_fields(doc, FEEDBACK_FIELDS)
        return [
            FeedbackEvent(
                model_id=_identifier(doc, "model_id"),
                prediction_id=_identifier(doc, "prediction_id"),
                timestamp=_timestamp(doc.get("timestamp")),
                label=_label(doc.get("label")),
            )
        ]
    if doc["kind"] != "feedback_batch":
        raise DecodeError("wrong_kind", f"unknown message kind {doc['kind']!r}")
    _known_fields(doc, FEEDBACK_BATCH_FIELDS)
    model_id = _identifier(doc, "model_id")
    ids = doc.get("prediction_id")
    if not isinstance(ids, list) or not ids:
        raise DecodeError("wrong_type", "batch field 'prediction_id' must be a non-empty array")
    if any(type(i) is not str or not 0 < len(i) <= MAX_ID_LENGTH for i in ids):
        raise DecodeError("wrong_type", "batch 'prediction_id' entries must be non-empty strings")
    n = len(ids)
    stamps = [_timestamp(t) for t in _column(doc, "timestamp", n)]
    labels = [_label(v, "batch 'label' entries") for v in _column(doc, "label", n)]
    return [
        FeedbackEvent(model_id, pid, ts, label)
        for pid, ts, label in zip(ids, stamps, labels, strict=True)
    ]


# numpy scalars (a pandas row's values) are written as the JSON values they hold, as in
# envelopes: an np.bool_ feature is ``true`` on every path
_ENCODE = orjson.OPT_SERIALIZE_NUMPY


def encode_feedback(event: FeedbackEvent) -> bytes:
    return orjson.dumps(
        {
            "model_id": event.model_id,
            "prediction_id": event.prediction_id,
            "timestamp": event.timestamp,
            "label": event.label,
        },
        option=_ENCODE,
    )


def encode_feedback_batch(events: list[FeedbackEvent]) -> bytes:
    """Labels of one model as a ``feedback_batch`` envelope."""
    return orjson.dumps(
        {
            "kind": "feedback_batch",
            "schema_version": SCHEMA_VERSION,
            "model_id": events[0].model_id,
            "prediction_id": [e.prediction_id for e in events],
            "timestamp": [e.timestamp for e in events],
            "label": [e.label for e in events],
        },
        option=_ENCODE,
    )


def encode_checkpoint(snapshot: dict[str, Any]) -> bytes:
    """A partition's state for the checkpoint topic: JSON, zlib-compressed (level 1)."""
    return zlib.compress(orjson.dumps(snapshot), 1)


def decode_checkpoint(raw: bytes) -> dict[str, Any]:
    value: dict[str, Any] = orjson.loads(zlib.decompress(raw))
    return value


def encode_alert(alert: Alert) -> bytes:
    return orjson.dumps(alert.to_dict())


def encode_window_record(record: Mapping[str, Any]) -> bytes:
    """A ``drift-windows`` record (``drift/window_record.py``); keys sorted, so the same
    window always gives the same bytes."""
    return orjson.dumps(record, option=orjson.OPT_SORT_KEYS)


def encode_prediction(event: PredictionEvent) -> bytes:
    doc: dict[str, Any] = {
        "model_id": event.model_id,
        "model_version": event.model_version,
        "prediction_id": event.prediction_id,
        "timestamp": event.timestamp,
        "features": event.features,
        "prediction": event.prediction,
    }
    if event.segment is not None:
        doc["segment"] = event.segment
    if event.predicted_label is not None:
        doc["predicted_label"] = event.predicted_label
    if event.experiment is not None:
        doc["experiment"] = event.experiment
    if event.variant is not None:
        doc["variant"] = event.variant
    return orjson.dumps(doc, option=_ENCODE)


def encode_prediction_batch(batch: PredictionBatch) -> bytes:
    doc: dict[str, Any] = {
        "kind": "prediction_batch",
        "schema_version": SCHEMA_VERSION,
        "model_id": batch.model_id,
        "model_version": batch.model_version,
        "segment": batch.segment if batch.row_segments is None else batch.row_segments,
        "prediction_id": batch.prediction_ids,
        "timestamp": batch.timestamps,
        "features": batch.features,
    }
    if batch.predictions:
        doc["prediction"] = batch.predictions
    if batch.predicted_labels is not None:
        doc["predicted_label"] = batch.predicted_labels
    if batch.experiments is not None:
        doc["experiment"] = batch.experiments
    if batch.variants is not None:
        doc["variant"] = batch.variants
    return orjson.dumps(doc, option=_ENCODE)


def encode_experiment_record(record: Mapping[str, Any]) -> bytes:
    """An ``experiment-decisions`` record (``experiments/experiment.py``); keys sorted, so
    a replay gives the same bytes."""
    return orjson.dumps(record, option=orjson.OPT_SORT_KEYS)
