"""The only module that touches orjson and msgspec: decode and validate input, encode output.

``decode_prediction(raw)`` returns a :class:`PredictionEvent` (single-event message) or a
:class:`PredictionBatch` (batch envelope, ``"kind": "prediction_batch"``);
``decode_predictions_topic`` also an :class:`EndOfInput` marker; both raise
:class:`DecodeError` with a stable ``reason`` code for anything invalid. orjson itself
rejects NaN and Infinity (they are not JSON), so every number that passes is finite.
A field the schemas in topics/ do not define is rejected (``unknown_field``), never dropped.
A single event is decoded and checked in one C pass by msgspec (:class:`_WireEvent`); a
message it does not accept (an envelope, a marker, anything invalid) takes the orjson path,
which alone decides what is rejected and why.
"""

from __future__ import annotations

import difflib
import math
import zlib
from collections.abc import Mapping
from typing import Annotated, Any, Literal, Protocol

import msgspec
import orjson

from streamdrift.records import (
    Alert,
    EndOfInput,
    FeedbackEvent,
    PredictionBatch,
    PredictionEvent,
)

MAX_MESSAGE_BYTES = 8 * 1024 * 1024
MAX_ID_LENGTH = 200
SCHEMA_VERSION = 1

_SCALARS = (float, int, str, bool, type(None))
_SCALAR_TYPES = frozenset(_SCALARS)


# every DecodeError reason (a test checks this module raises no other); "empty": a message
# without a value (the processor raises it). Metrics export each at 0 from start-up.
DECODE_REASONS = (
    "not_json",
    "not_object",
    "missing_field",
    "wrong_type",
    "bad_value",
    "wrong_kind",
    "unknown_schema_version",
    "unknown_field",
    "oversize",
    "batch_length_mismatch",
    "empty",
)


class DecodeError(ValueError):
    """An input message is invalid. ``reason`` is a short stable code for metrics and DLQ."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


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


def _known_fields(doc: Mapping[str, Any], known: frozenset[str]) -> None:
    """Reject a message with a field the schema does not define (one set difference)."""
    if known.issuperset(doc):
        return
    name = min(doc.keys() - known)
    close = difflib.get_close_matches(name, sorted(known), n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    raise DecodeError("unknown_field", f"unknown field {name!r}{hint}")


def _identifier(doc: Mapping[str, Any], name: str, *, allow_int: bool = False) -> str:
    value = doc.get(name)
    if value is None:
        raise DecodeError("missing_field", f"missing required field {name!r}")
    if allow_int and type(value) is int:
        return str(value)
    if type(value) is not str:
        raise DecodeError("wrong_type", f"{name!r} must be a string, got {type(value).__name__}")
    if not 0 < len(value) <= MAX_ID_LENGTH:
        raise DecodeError("bad_value", f"{name!r} must have 1..{MAX_ID_LENGTH} characters")
    return value


def _timestamp(value: Any, name: str = "timestamp") -> float:
    if value is None:
        raise DecodeError("missing_field", f"missing required field {name!r}")
    if type(value) not in (float, int):
        raise DecodeError("wrong_type", f"{name!r} must be a number (unix seconds)")
    if not 0 <= value < 1e11 or math.isnan(value):
        raise DecodeError("bad_value", f"{name!r} {value!r} is not a plausible unix time")
    return float(value)


def _segment(value: Any) -> str | None:
    if value is None or type(value) is str:
        return value
    raise DecodeError("wrong_type", "'segment' must be a string or null")


def _prediction(value: Any) -> Any:
    """A model output: a number, string, boolean or null, or an object of class -> number
    (class probabilities or scores)."""
    kind = type(value)
    if kind in _SCALAR_TYPES:
        return value
    if kind is dict and value and all(type(v) in (int, float) for v in value.values()):
        return value
    raise DecodeError(
        "wrong_type",
        "'prediction' must be a number, string, boolean, null or an object of class -> number",
    )


_DECIDED_TYPES = frozenset((float, int, str, bool, type(None)))


def _predicted_label(value: Any) -> Any:
    """The class the model decided: a number, string, boolean or null (none)."""
    if type(value) in _DECIDED_TYPES:
        return value
    raise DecodeError("wrong_type", "'predicted_label' must be a number, string, boolean or null")


def _features(value: Any) -> dict[str, Any]:
    if value is None:
        raise DecodeError("missing_field", "missing required field 'features'")
    if not isinstance(value, dict):
        raise DecodeError("wrong_type", "'features' must be an object of name -> value")
    if set(map(type, value.values())) <= _SCALAR_TYPES:
        return value
    for name, v in value.items():
        if type(v) not in _SCALAR_TYPES:
            raise DecodeError(
                "wrong_type", f"feature {name!r} must be a number, string, boolean or null"
            )
    return value


_Id = Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_ID_LENGTH)]
# orjson reads an integer past int64 as a uint64 or a float, msgspec as an int: a message
# with one takes the orjson path
_Int = Annotated[int, msgspec.Meta(ge=-(2**63), le=2**63 - 1)]
_Scalar = float | _Int | str | bool | None


class _WireEvent(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    """A single-event message as msgspec checks it: no looser than the orjson path's checks
    (a test compares both), so what passes here that path would decode to the same event."""

    model_id: _Id
    model_version: _Id | _Int
    prediction_id: _Id
    timestamp: Annotated[float, msgspec.Meta(ge=0, lt=1e11)]
    features: dict[str, _Scalar]
    prediction: _Scalar | Annotated[dict[str, float | _Int], msgspec.Meta(min_length=1)] = None
    predicted_label: _Scalar = None
    segment: str | None = None
    experiment: _Id | None = None
    variant: _Id | None = None
    schema_version: Literal[1] = 1


_decode_wire_event = msgspec.json.Decoder(_WireEvent).decode
# a single-event message as msgspec checks it, without the size check or the
# ``model_version`` conversion of :func:`single_event` (see :func:`version_as_string`):
# for a caller that decodes a run of messages at once; raises ValueError if not accepted
decode_wire_event = _decode_wire_event


def version_as_string(events: list[Any]) -> None:
    """Make the ``model_version`` of events from :data:`decode_wire_event` a string, as
    :func:`single_event` does (a JSON integer version is read as an int)."""
    for e in events:
        if type(e.model_version) is not str:
            e.model_version = str(e.model_version)


class SingleEvent(Protocol):
    """What :func:`single_event` returns (a :class:`_WireEvent` whose ``model_version`` is
    always a string): the fields of a :class:`PredictionEvent`."""

    model_id: str
    model_version: str
    prediction_id: str
    timestamp: float
    features: dict[str, Any]
    prediction: Any
    predicted_label: Any
    segment: str | None
    experiment: str | None
    variant: str | None


def _fast_event(raw: bytes) -> PredictionEvent | None:
    """The event in ``raw`` if msgspec accepts it as a valid single event, else None."""
    if len(raw) > MAX_MESSAGE_BYTES:
        return None
    try:
        e = _decode_wire_event(raw)
    except (ValueError, TypeError):  # msgspec's errors are ValueErrors
        return None
    version = e.model_version
    return PredictionEvent(
        e.model_id,
        version if type(version) is str else str(version),
        e.prediction_id,
        e.timestamp,
        e.features,
        e.prediction,
        e.segment,
        e.predicted_label,
        e.experiment,
        e.variant,
    )


def single_event(raw: bytes) -> SingleEvent | None:
    """The single event in ``raw`` as msgspec decoded it (the fields of a
    :class:`PredictionEvent`, ``model_version`` a string), if msgspec accepts it as a valid
    single event; else None: then :func:`decode_predictions_topic_slow` decides (an
    envelope, a marker, or what is wrong). No :class:`PredictionEvent` is built: the
    processor gathers a run of these into columns (``records.batches_of_events``)."""
    if len(raw) > MAX_MESSAGE_BYTES:
        return None
    try:
        e = _decode_wire_event(raw)
    except (ValueError, TypeError):  # msgspec's errors are ValueErrors
        return None
    if type(e.model_version) is not str:
        e.model_version = str(e.model_version)
    return e  # type: ignore[return-value]  # a _WireEvent, model_version now a string


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


def _optional_id(doc: Mapping[str, Any], name: str) -> str | None:
    """An optional identifier (``experiment``, ``variant``): absent or null is None."""
    return None if doc.get(name) is None else _identifier(doc, name)


def _id_column(
    doc: Mapping[str, Any], name: str, n: int, bad: dict[int, tuple[str, str]]
) -> list[str | None] | None:
    """An envelope's ``experiment`` or ``variant``: one value for every row, or a column
    (null where a row takes no part)."""
    value = doc.get(name)
    if value is None:
        return None
    if not isinstance(value, list):
        return [_identifier(doc, name)] * n
    column = _column(doc, name, n)
    for i, v in enumerate(column):
        if v is not None and (type(v) is not str or not 0 < len(v) <= MAX_ID_LENGTH):
            bad.setdefault(i, ("wrong_type", f"{name} must be a string of 1..{MAX_ID_LENGTH}"))
    return column


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


def _column(doc: Mapping[str, Any], name: str, n: int) -> list[Any]:
    column = doc.get(name)
    if not isinstance(column, list):
        raise DecodeError("wrong_type", f"batch field {name!r} must be an array")
    if len(column) != n:
        raise DecodeError(
            "batch_length_mismatch", f"batch column {name!r} has {len(column)} rows, expected {n}"
        )
    return column


_STR = frozenset((str,))
_NUMBER_TYPES = frozenset((float, int))
_SEGMENT_TYPES = frozenset((str, type(None)))


def _types(column: list[Any]) -> set[type]:
    return set(map(type, column))


def _timestamps(column: list[Any], bad: dict[int, tuple[str, str]]) -> list[float]:
    """The timestamp column as floats; a bad entry is 0.0 and its row goes to ``bad``.
    orjson yields no NaN, so numbers within [0, 1e11) by min/max are all plausible."""
    types = _types(column)
    if types <= _NUMBER_TYPES and min(column) >= 0 and max(column) < 1e11:
        return column if float in types and int not in types else [float(v) for v in column]
    stamps: list[float] = []
    for i, value in enumerate(column):
        try:
            stamps.append(_timestamp(value))
        except DecodeError as exc:
            bad.setdefault(i, (exc.reason, str(exc)))
            stamps.append(0.0)
    return stamps


def _decode_prediction_batch(doc: Mapping[str, Any]) -> PredictionBatch:
    """A batch envelope. Structural faults (not an array, lengths that differ, no model)
    reject the whole message; a bad value rejects only its row: the rest is processed and
    the rejected rows are listed in ``batch.rejected`` (the caller dead-letters them)."""
    model_id = _identifier(doc, "model_id")
    version = _identifier(doc, "model_version", allow_int=True)
    ids = doc.get("prediction_id")
    if not isinstance(ids, list) or not ids:
        raise DecodeError("wrong_type", "batch field 'prediction_id' must be a non-empty array")
    n = len(ids)
    bad: dict[int, tuple[str, str]] = {}
    # Each column is checked whole first (``set(map(type, column))`` and ``min``/``max``
    # run in C); only a column that fails is walked row by row to name its bad rows.
    if not (_types(ids) == _STR and min(map(len, ids)) > 0 and max(map(len, ids)) <= MAX_ID_LENGTH):
        for i, pid in enumerate(ids):
            if type(pid) is not str or not 0 < len(pid) <= MAX_ID_LENGTH:
                bad[i] = ("wrong_type", f"prediction_id must be a string of 1..{MAX_ID_LENGTH}")
    stamps = _timestamps(_column(doc, "timestamp", n), bad)
    features = doc.get("features")
    if not isinstance(features, dict):
        raise DecodeError("wrong_type", "batch field 'features' must be an object of columns")
    for name in features:
        column = _column(features, name, n)
        if not _types(column) <= _SCALAR_TYPES:
            for i, v in enumerate(column):
                if type(v) not in _SCALAR_TYPES:
                    bad.setdefault(i, ("wrong_type", f"feature {name!r} is not a scalar"))
    predictions: list[Any] = [None] * n
    if "prediction" in doc:
        predictions = _column(doc, "prediction", n)
        if not _types(predictions) <= _SCALAR_TYPES:
            for i, value in enumerate(predictions):
                try:
                    _prediction(value)
                except DecodeError as exc:
                    bad.setdefault(i, (exc.reason, str(exc)))
    decided: list[Any] | None = None
    if doc.get("predicted_label") is not None:
        decided = _column(doc, "predicted_label", n)
        if not _types(decided) <= _DECIDED_TYPES:
            for i, value in enumerate(decided):
                if type(value) not in _DECIDED_TYPES:
                    bad.setdefault(i, ("wrong_type", "predicted_label must be a scalar"))
    experiments = _id_column(doc, "experiment", n, bad)
    variants = _id_column(doc, "variant", n, bad)
    segment = doc.get("segment")
    rows: list[str | None] | None = None
    if isinstance(segment, list):
        rows = _column(doc, "segment", n)
        if not _types(rows) <= _SEGMENT_TYPES:
            for i, s in enumerate(rows):
                if s is not None and type(s) is not str:
                    bad.setdefault(i, ("wrong_type", "segment must be a string or null"))
    if len(bad) == n:
        reason, message = bad[0]
        raise DecodeError(reason, f"every row is invalid; row 0: {message}")
    batch = PredictionBatch(
        model_id=model_id,
        model_version=version,
        segment=None,
        prediction_ids=ids,
        timestamps=stamps,
        features=features,
        predictions=predictions,
        predicted_labels=decided,
        experiments=experiments,
        variants=variants,
    )
    if bad:
        keep = [i for i in range(n) if i not in bad]
        batch.prediction_ids = [ids[i] for i in keep]
        batch.timestamps = [stamps[i] for i in keep]
        batch.features = {k: [v[i] for i in keep] for k, v in features.items()}
        batch.predictions = [predictions[i] for i in keep]
        if decided is not None:
            batch.predicted_labels = [decided[i] for i in keep]
        if experiments is not None:
            batch.experiments = [experiments[i] for i in keep]
        if variants is not None:
            batch.variants = [variants[i] for i in keep]
        rows = [rows[i] for i in keep] if rows is not None else None
        batch.rejected = [(i, *bad[i]) for i in sorted(bad)]
    if rows is not None:
        if len(set(rows)) == 1:
            segment, rows = rows[0], None  # one segment for every row: nothing to split
        else:
            segment = None
    batch.segment = _segment(segment)
    batch.row_segments = rows
    return batch


_LABEL_TYPES = frozenset((float, int, str, bool))


def _label(value: Any, where: str = "'label'") -> Any:
    if value is None:
        raise DecodeError("missing_field", f"missing required field {where}")
    if type(value) not in _LABEL_TYPES:
        raise DecodeError("wrong_type", f"{where} must be a number, string or boolean")
    return value


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
