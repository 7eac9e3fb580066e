"""The codec: decoding and validating prediction messages, encoding predictions and alerts."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from streamdrift import codec
from streamdrift.codec import DecodeError, decode_prediction
from streamdrift.records import (
    Alert,
    AlertKind,
    AlertStatus,
    PredictionBatch,
    PredictionEvent,
    Severity,
    WindowInfo,
)

TOPICS_DIR = Path(__file__).resolve().parents[2] / "topics"


def _validator(name: str) -> Draft202012Validator:
    schema = json.loads((TOPICS_DIR / f"{name}.schema.json").read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


PREDICTION_SCHEMA = _validator("prediction")
ALERT_SCHEMA = _validator("alert")

EVENT: dict[str, Any] = {
    "model_id": "credit-risk",
    "model_version": "7",
    "prediction_id": "a1b2",
    "timestamp": 1764431400.123,
    "features": {"income": 52000.0, "region": "north", "vip": True, "age": None, "n": 3},
    "prediction": 0.83,
    "segment": "tenant-a",
}
BATCH: dict[str, Any] = {
    "kind": "prediction_batch",
    "schema_version": 1,
    "model_id": "credit-risk",
    "model_version": "7",
    "prediction_id": ["p1", "p2", "p3"],
    "timestamp": [1764431400.2, 1764431400.35, 1764431401],
    "features": {"income": [41000.0, None, 98000.5], "region": ["south", "north", "north"]},
    "prediction": [0.12, 0.55, 0.91],
    "segment": "eu",
}


def raw(doc: Any) -> bytes:
    return orjson.dumps(doc)


def event_with(**changes: Any) -> bytes:
    doc = copy.deepcopy(EVENT)
    doc.update(changes)
    return raw(doc)


def event_without(*names: str) -> bytes:
    return raw({k: v for k, v in EVENT.items() if k not in names})


def batch_with(**changes: Any) -> bytes:
    doc = copy.deepcopy(BATCH)
    doc.update(changes)
    return raw(doc)


def batch_without(*names: str) -> bytes:
    return raw({k: v for k, v in BATCH.items() if k not in names})


def reason_of(message: bytes) -> str:
    with pytest.raises(DecodeError) as info:
        decode_prediction(message)
    assert str(info.value)  # every error carries a human-readable message
    return info.value.reason


# --- single events -----------------------------------------------------------------------


def test_valid_event_decodes() -> None:
    event = decode_prediction(raw(EVENT))
    assert event == PredictionEvent(
        model_id="credit-risk",
        model_version="7",
        prediction_id="a1b2",
        timestamp=1764431400.123,
        features={"income": 52000.0, "region": "north", "vip": True, "age": None, "n": 3},
        prediction=0.83,
        segment="tenant-a",
    )


def test_int_model_version_becomes_str() -> None:
    event = decode_prediction(event_with(model_version=3))
    assert isinstance(event, PredictionEvent)
    assert event.model_version == "3"


def test_int_timestamp_becomes_float() -> None:
    event = decode_prediction(event_with(timestamp=1764431400))
    assert isinstance(event, PredictionEvent)
    assert event.timestamp == 1764431400.0 and type(event.timestamp) is float


@pytest.mark.parametrize("segment", [None, "absent"])
def test_segment_is_optional(segment: str | None) -> None:
    message = event_without("segment") if segment == "absent" else event_with(segment=None)
    event = decode_prediction(message)
    assert isinstance(event, PredictionEvent)
    assert event.segment is None


@pytest.mark.parametrize(
    "prediction", [{"stay": 0.7, "leave": 0.3}, 0.5, 1, "fraud", True, None, "absent"]
)
def test_prediction_may_be_object_number_string_or_null(prediction: Any) -> None:
    if prediction == "absent":
        message, expected = event_without("prediction"), None
    else:
        message, expected = event_with(prediction=prediction), prediction
    event = decode_prediction(message)
    assert isinstance(event, PredictionEvent)
    assert event.prediction == expected


def test_schema_version_1_is_accepted_and_empty_features_are_allowed() -> None:
    event = decode_prediction(event_with(schema_version=1, features={}))
    assert isinstance(event, PredictionEvent)
    assert event.features == {}


def test_str_input_is_accepted() -> None:
    event = decode_prediction(raw(EVENT).decode())  # type: ignore[arg-type]
    assert isinstance(event, PredictionEvent)
    assert event.prediction_id == "a1b2"


# --- every reason code -------------------------------------------------------------------

BAD_MESSAGES: list[tuple[str, bytes]] = [
    ("not_json", b""),
    ("not_json", b"{"),
    ("not_json", b"\xff\xfe{}"),
    ("not_json", b'{"model_id": "m",}'),
    ("not_json", b"[" * 2000),  # deeper than the parser allows
    ("not_object", b"[]"),
    ("not_object", b"42"),
    ("not_object", b'"text"'),
    ("not_object", b"null"),
    ("unknown_schema_version", event_with(schema_version=2)),
    ("unknown_schema_version", event_with(schema_version="1")),
    ("unknown_schema_version", event_with(schema_version=None)),
    ("missing_field", event_without("model_id")),
    ("missing_field", event_without("model_version")),
    ("missing_field", event_without("prediction_id")),
    ("missing_field", event_without("timestamp")),
    ("missing_field", event_without("features")),
    ("missing_field", event_with(model_id=None)),
    ("missing_field", batch_without("model_id")),
    ("wrong_type", event_with(model_id=1)),
    ("wrong_type", event_with(model_version=1.5)),
    ("wrong_type", event_with(model_version=True)),
    ("wrong_type", event_with(prediction_id=["a"])),
    ("wrong_type", event_with(timestamp="2025-11-29T12:00:00Z")),
    ("wrong_type", event_with(timestamp=True)),
    ("wrong_type", event_with(features=[1, 2])),
    ("wrong_type", event_with(features={"x": [1, 2]})),
    ("wrong_type", event_with(features={"x": {"nested": 1}})),
    ("wrong_type", event_with(segment=5)),
    ("wrong_type", batch_with(prediction_id="p1")),
    ("wrong_type", batch_with(prediction_id=[])),
    ("wrong_type", batch_without("timestamp")),
    ("wrong_type", batch_with(features=None)),
    ("wrong_type", batch_with(features={"income": 3.0})),
    ("wrong_type", batch_with(prediction=None)),
    ("wrong_type", batch_with(segment=7)),
    ("wrong_type", batch_with(segment=[1, 1, 1])),
    ("bad_value", event_with(model_id="")),
    ("bad_value", event_with(prediction_id="x" * 201)),
    ("bad_value", event_with(timestamp=-1)),
    ("bad_value", event_with(timestamp=1e11)),
    ("bad_value", event_with(timestamp=1764431400123)),  # milliseconds, not seconds
    ("wrong_kind", event_with(kind="feedback")),
    ("wrong_kind", event_with(kind=None)),
    ("wrong_kind", batch_with(kind="prediction-batch")),
    ("batch_length_mismatch", batch_with(timestamp=[1.0, 2.0])),
    ("batch_length_mismatch", batch_with(prediction=[0.1, 0.2, 0.3, 0.4])),
    ("batch_length_mismatch", batch_with(features={"income": [1.0]})),
    ("batch_length_mismatch", batch_with(segment=["a", "a"])),
]


@pytest.mark.parametrize(
    ("reason", "message"),
    BAD_MESSAGES,
    ids=[f"{reason}-{i}" for i, (reason, _) in enumerate(BAD_MESSAGES)],
)
def test_bad_message_gives_reason(reason: str, message: bytes) -> None:
    assert reason_of(message) == reason


def test_every_reason_code_is_covered() -> None:
    covered = {reason for reason, _ in BAD_MESSAGES} | {"oversize"}
    assert covered == {
        "not_json",
        "not_object",
        "unknown_schema_version",
        "missing_field",
        "wrong_type",
        "bad_value",
        "wrong_kind",
        "oversize",
        "batch_length_mismatch",
    }


def test_oversize_message_is_rejected_before_parsing() -> None:
    padding = b" " * (codec.MAX_MESSAGE_BYTES + 1 - len(raw(EVENT)))
    message = raw(EVENT) + padding  # valid JSON, one byte too long
    assert len(message) == codec.MAX_MESSAGE_BYTES + 1
    assert reason_of(message) == "oversize"
    at_limit = message[:-1]
    assert isinstance(decode_prediction(at_limit), PredictionEvent)


@pytest.mark.parametrize(
    "literal", [b"NaN", b"Infinity", b"-Infinity", b"nan", b"inf", b"1e400", b"-1e400"]
)
def test_nan_and_infinity_are_not_json(literal: bytes) -> None:
    message = raw(EVENT).replace(b"52000.0", literal)
    assert literal in message
    assert reason_of(message) == "not_json"
    timestamp = raw(EVENT).replace(b"1764431400.123", literal)
    assert reason_of(timestamp) == "not_json"


def test_decode_error_is_a_value_error_with_reason() -> None:
    error = DecodeError("bad_value", "boom")
    assert isinstance(error, ValueError)
    assert (error.reason, str(error)) == ("bad_value", "boom")


# --- batch envelopes ---------------------------------------------------------------------


def test_batch_envelope_decodes_to_columns() -> None:
    batch = decode_prediction(raw(BATCH))
    assert isinstance(batch, PredictionBatch)
    assert len(batch) == 3
    assert batch.key == ("credit-risk", "7", "eu")
    assert batch.prediction_ids == ["p1", "p2", "p3"]
    assert batch.timestamps == [1764431400.2, 1764431400.35, 1764431401.0]
    assert all(type(t) is float for t in batch.timestamps)
    assert batch.features == {
        "income": [41000.0, None, 98000.5],
        "region": ["south", "north", "north"],
    }
    assert batch.predictions == [0.12, 0.55, 0.91]


def test_batch_without_predictions_or_segment() -> None:
    doc = {k: v for k, v in BATCH.items() if k not in ("prediction", "segment")}
    doc["model_version"] = 12
    batch = decode_prediction(raw(doc))
    assert isinstance(batch, PredictionBatch)
    assert batch.model_version == "12"
    assert batch.segment is None
    assert batch.predictions == [None, None, None]


def test_batch_with_one_segment_per_row() -> None:
    batch = decode_prediction(batch_with(segment=["eu", "eu", "eu"]))
    assert isinstance(batch, PredictionBatch)
    assert batch.segment == "eu"
    nulls = decode_prediction(batch_with(segment=[None, None, None]))
    assert isinstance(nulls, PredictionBatch)
    assert nulls.segment is None


@pytest.mark.parametrize("segment", [[{}, {}, {}], [["a"], ["a"], ["a"]]])
def test_unhashable_row_segments_are_a_decode_error(segment: list[Any]) -> None:
    assert reason_of(batch_with(segment=segment)) == "wrong_type"


def test_boolean_schema_version_is_rejected() -> None:
    assert not PREDICTION_SCHEMA.is_valid(orjson.loads(event_with(schema_version=True)))
    assert reason_of(event_with(schema_version=True)) == "unknown_schema_version"


# --- encode / decode ---------------------------------------------------------------------


def test_encode_prediction_round_trip() -> None:
    event = PredictionEvent(
        model_id="churn",
        model_version="3",
        prediction_id="c-1",
        timestamp=1764431401.5,
        features={"tenure": 14, "plan": "pro", "discount": True, "last_login": None},
        prediction={"stay": 0.7, "leave": 0.3},
        segment="tenant-b",
    )
    assert decode_prediction(codec.encode_prediction(event)) == event


def test_encode_prediction_without_segment_round_trip() -> None:
    event = PredictionEvent("m", "1", "id", 1.0, {"x": 1.5}, prediction=None, segment=None)
    message = codec.encode_prediction(event)
    assert b"segment" not in message
    assert decode_prediction(message) == event


def test_encode_prediction_batch_round_trip() -> None:
    batch = PredictionBatch(
        model_id="fraud",
        model_version="2025-11-29.1",
        segment=None,
        prediction_ids=["f-1", "f-2"],
        timestamps=[1764431402.0, 1764431402.1],
        features={"amount": [12.5, None], "country": ["de", "fr"]},
        predictions=[True, False],
    )
    assert decode_prediction(codec.encode_prediction_batch(batch)) == batch


def test_encode_prediction_batch_serialises_numpy_columns() -> None:
    np = pytest.importorskip("numpy")
    batch = PredictionBatch(
        "m", "1", "s", ["a", "b"], [1.0, 2.0], {"x": np.array([0.5, 1.5])}, [0.1, 0.2]
    )
    decoded = decode_prediction(codec.encode_prediction_batch(batch))
    assert isinstance(decoded, PredictionBatch)
    assert decoded.features == {"x": [0.5, 1.5]}


def test_batch_without_predictions_round_trips() -> None:
    batch = PredictionBatch("m", "1", None, ["a", "b"], [1.0, 2.0], {"x": [1.0, 2.0]})
    decoded = decode_prediction(codec.encode_prediction_batch(batch))
    assert isinstance(decoded, PredictionBatch)
    assert decoded.predictions == [None, None]


@pytest.mark.parametrize("segment", [None, "eu"])
def test_encoded_predictions_validate_against_schema(segment: str | None) -> None:
    event = PredictionEvent(
        "credit-risk", "7", "a1", 1764431400.5, {"income": 1.0, "r": "n"}, 0.4, segment
    )
    PREDICTION_SCHEMA.validate(orjson.loads(codec.encode_prediction(event)))
    batch = PredictionBatch(
        "credit-risk", "7", segment, ["a1", "a2"], [1.0, 2.0], {"income": [1.0, None]}, [0.1, 0.2]
    )
    PREDICTION_SCHEMA.validate(orjson.loads(codec.encode_prediction_batch(batch)))


SCHEMA_EXAMPLES = PREDICTION_SCHEMA.schema["examples"]


@pytest.mark.parametrize(
    ("example", "kind"),
    [
        pytest.param(SCHEMA_EXAMPLES[0], PredictionEvent, id="event"),
        pytest.param(SCHEMA_EXAMPLES[1], PredictionEvent, id="event-int-version"),
        pytest.param(
            SCHEMA_EXAMPLES[2],
            PredictionBatch,
            id="batch-row-segments",
        ),
        pytest.param(SCHEMA_EXAMPLES[3], PredictionBatch, id="batch"),
    ],
)
def test_schema_examples_decode(example: dict[str, Any], kind: type) -> None:
    PREDICTION_SCHEMA.validate(example)
    assert isinstance(decode_prediction(raw(example)), kind)


def _alert(**changes: Any) -> Alert:
    values: dict[str, Any] = {
        "alert_id": "0123456789abcdef01234567",
        "kind": AlertKind.DATA_DRIFT,
        "status": AlertStatus.FIRING,
        "severity": Severity.WARNING,
        "model_id": "credit-risk",
        "model_version": "7",
        "segment": "tenant-a",
        "feature": "income",
        "detector": "psi_ks",
        "statistic": "psi",
        "value": 0.31,
        "threshold": 0.2,
        "p_value": 1e-6,
        "window": WindowInfo(1764431400.0, 1764435000.0, 1000),
        "reference_count": 2000,
        "detected_at": 1764435000.5,
        "message": "feature 'income' drifted",
    }
    values.update(changes)
    return Alert(**values)


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"status": AlertStatus.RESOLVED, "severity": Severity.INFO},
        {"segment": None, "feature": None, "kind": AlertKind.PREDICTION_DRIFT},
        {"p_value": None, "kind": AlertKind.PERFORMANCE_DEGRADATION, "detector": "ddm"},
        {"severity": Severity.CRITICAL, "kind": AlertKind.LABEL_HEALTH},
    ],
)
def test_encode_alert_validates_against_schema(changes: dict[str, Any]) -> None:
    alert = _alert(**changes)
    doc = orjson.loads(codec.encode_alert(alert))
    ALERT_SCHEMA.validate(doc)
    assert doc == alert.to_dict()
    assert doc["window"] == {"start": 1764431400.0, "end": 1764435000.0, "count": 1000}
    assert doc["reference"] == {"count": 2000}


def test_loads_and_dumps_wrap_orjson() -> None:
    np = pytest.importorskip("numpy")
    assert codec.loads(codec.dumps({"a": np.arange(3)})) == {"a": [0, 1, 2]}


# --- robustness: junk never escapes as anything but DecodeError ---------------------------

FIELD_NAMES = [
    "kind",
    "schema_version",
    "model_id",
    "model_version",
    "prediction_id",
    "timestamp",
    "features",
    "prediction",
    "segment",
]
json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)
json_keys = st.sampled_from(FIELD_NAMES) | st.text(max_size=8)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(json_keys, children, max_size=5)
    ),
    max_leaves=20,
)


def _decodes_or_raises_decode_error(message: bytes) -> None:
    try:
        result = decode_prediction(message)
    except DecodeError as exc:
        assert exc.reason in {
            "not_json",
            "not_object",
            "unknown_schema_version",
            "missing_field",
            "wrong_type",
            "bad_value",
            "wrong_kind",
            "oversize",
            "batch_length_mismatch",
            "unknown_field",
        }
    else:
        assert isinstance(result, (PredictionEvent, PredictionBatch))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(json_values)
def test_any_json_value_decodes_or_raises_decode_error(value: Any) -> None:
    _decodes_or_raises_decode_error(orjson.dumps(value))


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200))
def test_any_bytes_decode_or_raise_decode_error(message: bytes) -> None:
    _decodes_or_raises_decode_error(message)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    base=st.sampled_from([EVENT, BATCH]),
    field=st.sampled_from(FIELD_NAMES),
    value=json_values | st.lists(json_values, min_size=3, max_size=3),  # 3 = rows of BATCH
)
def test_one_bad_field_decodes_or_raises_decode_error(
    base: dict[str, Any], field: str, value: Any
) -> None:
    doc = copy.deepcopy(base)
    doc[field] = value
    _decodes_or_raises_decode_error(orjson.dumps(doc))


def test_feedback_single_and_batch_round_trip() -> None:
    from streamdrift.codec import decode_feedback, encode_feedback, encode_feedback_batch
    from streamdrift.records import FeedbackEvent

    events = [FeedbackEvent("m", f"p{i}", 1.7e9 + i, label) for i, label in enumerate([1, 0, True])]
    assert decode_feedback(encode_feedback(events[0])) == [events[0]]
    assert decode_feedback(encode_feedback_batch(events)) == events


@pytest.mark.parametrize(
    ("doc", "reason"),
    [
        ({"model_id": "m", "prediction_id": "p", "timestamp": 1.7e9}, "missing_field"),
        ({"model_id": "m", "prediction_id": "p", "timestamp": 1.7e9, "label": [1]}, "wrong_type"),
        ({"model_id": "m", "prediction_id": "p", "timestamp": "x", "label": 1}, "wrong_type"),
        (
            {
                "kind": "feedback_batch",
                "model_id": "m",
                "prediction_id": ["a"],
                "timestamp": [1.0],
                "label": [1, 2],
            },
            "batch_length_mismatch",
        ),
        ({"kind": "other", "model_id": "m"}, "wrong_kind"),
    ],
)
def test_bad_feedback_gives_reason(doc: dict[str, Any], reason: str) -> None:
    from streamdrift.codec import decode_feedback

    with pytest.raises(DecodeError) as info:
        decode_feedback(orjson.dumps(doc))
    assert info.value.reason == reason


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (batch_with(prediction_id=["p1", "", "p3"]), "wrong_type"),
        (batch_with(prediction_id=["p1", 2, "p3"]), "wrong_type"),
        (batch_with(features={"income": [1.0, [2.0], 3.0]}), "wrong_type"),
        (batch_with(timestamp=[1.0, "2", 3.0]), "wrong_type"),
        (batch_with(timestamp=[1.0, -2.0, 3.0]), "bad_value"),
    ],
)
def test_a_bad_row_of_an_envelope_rejects_only_that_row(raw: bytes, reason: str) -> None:
    batch = decode_prediction(raw)
    assert isinstance(batch, PredictionBatch)
    assert [(row, why) for row, why, _ in batch.rejected] == [(1, reason)]
    assert len(batch) == 2 and len(batch.timestamps) == 2
    assert all(len(column) == 2 for column in batch.features.values())


def test_an_envelope_whose_every_row_is_bad_is_rejected_whole() -> None:
    with pytest.raises(DecodeError) as info:
        decode_prediction(batch_with(timestamp=["a", "b", "c"]))
    assert info.value.reason == "wrong_type"


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (batch_with(prediction_id=["p1", "x" * (codec.MAX_ID_LENGTH + 1), "p3"]), "wrong_type"),
        (batch_with(timestamp=[1.0, 1e11, 3.0]), "bad_value"),
        (batch_with(timestamp=[1.0, True, 3.0]), "wrong_type"),
        (batch_with(prediction=[0.1, {"a": "x"}, 0.3]), "wrong_type"),
        (batch_with(segment=["eu", 5, "eu"]), "wrong_type"),
    ],
)
def test_whole_column_checks_still_name_the_bad_row(raw: bytes, reason: str) -> None:
    batch = decode_prediction(raw)
    assert isinstance(batch, PredictionBatch)
    assert [(row, why) for row, why, _ in batch.rejected] == [(1, reason)]


def test_envelope_timestamps_are_floats_whatever_the_json_number() -> None:
    for stamps in ([1764431400, 1764431401, 1764431402], [1764431400, 1764431400.5, 0]):
        batch = decode_prediction(batch_with(timestamp=stamps))
        assert isinstance(batch, PredictionBatch)
        assert batch.timestamps == [float(t) for t in stamps]
        assert all(type(t) is float for t in batch.timestamps)


def test_envelope_class_scores_pass_and_keep_their_row() -> None:
    scores = [{"a": 0.2, "b": 0.8}, 0.5, {"a": 1}]
    batch = decode_prediction(batch_with(prediction=scores))
    assert isinstance(batch, PredictionBatch)
    assert batch.predictions == scores and not batch.rejected
