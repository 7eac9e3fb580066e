"""The JSON Schemas and topic settings in topics/ are valid and say what they mean."""

from __future__ import annotations

import copy
import json
import tomllib
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from streamdrift import codec
from streamdrift.records import AlertKind, PredictionBatch

TOPICS_DIR = Path(__file__).resolve().parents[3] / "topics"
SCHEMA_NAMES = ("prediction", "feedback", "alert", "window", "experiment")
LOGICAL_TOPICS = (
    "predictions",
    "feedback",
    "drift-alerts",
    "degradation-alerts",
    "dead-letter",
    "references",
    "drift-windows",
    "experiment-decisions",
)


def load_schema(name: str) -> dict[str, Any]:
    with (TOPICS_DIR / f"{name}.schema.json").open(encoding="utf-8") as f:
        return json.load(f)


def validator(name: str) -> Draft202012Validator:
    return Draft202012Validator(load_schema(name))


def load_topics() -> dict[str, Any]:
    with (TOPICS_DIR / "topics.toml").open("rb") as f:
        return tomllib.load(f)


PREDICTION = {
    "model_id": "credit-risk",
    "model_version": "7",
    "prediction_id": "a1b2",
    "timestamp": 1764431400.123,
    "features": {"income": 52000.0, "region": "north"},
    "prediction": 0.83,
    "segment": "tenant-a",
}
PREDICTION_BATCH = {
    "kind": "prediction_batch",
    "schema_version": 1,
    "model_id": "credit-risk",
    "model_version": 7,
    "prediction_id": ["a", "b"],
    "timestamp": [1764431400.0, 1764431401.0],
    "features": {"income": [1.0, None], "region": ["north", "south"]},
    "prediction": [0.1, {"yes": 0.4, "no": 0.6}],
    "segment": ["tenant-a", None],
}
FEEDBACK = {"model_id": "credit-risk", "prediction_id": "a1b2", "timestamp": 1.5, "label": 1}
FEEDBACK_BATCH = {
    "kind": "feedback_batch",
    "schema_version": 1,
    "model_id": "credit-risk",
    "prediction_id": ["a", "b"],
    "timestamp": [1.0, 2.0],
    "label": [True, False],
}


def with_changes(base: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """A copy of base with keys replaced; a value of ... removes the key."""
    out = copy.deepcopy(base)
    for key, value in changes.items():
        if value is ...:
            del out[key]
        else:
            out[key] = value
    return out


@pytest.mark.parametrize("name", SCHEMA_NAMES)
def test_schema_is_valid_draft_2020_12(name: str) -> None:
    schema = load_schema(name)
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    for key in ("$id", "title", "description"):
        assert schema.get(key), f"{name}: missing {key}"


@pytest.mark.parametrize("name", SCHEMA_NAMES)
def test_schema_examples_validate(name: str) -> None:
    schema = load_schema(name)
    examples = schema.get("examples")
    assert examples, f"{name}: no examples"
    v = Draft202012Validator(schema)
    for example in examples:
        errors = [e.message for e in v.iter_errors(example)]
        assert not errors, (example, errors)


# messages each schema accepts, and the codec too (test_codec_agrees_with_the_schemas)
VALID_MESSAGES: list[tuple[str, dict[str, Any]]] = [
    ("prediction", PREDICTION),
    ("prediction", with_changes(PREDICTION, prediction=..., segment=..., schema_version=1)),
    ("prediction", with_changes(PREDICTION, prediction={"a": 0.2, "b": 0.8}, segment=None)),
    ("prediction", with_changes(PREDICTION, model_version=7, features={})),
    ("prediction", PREDICTION_BATCH),
    ("prediction", with_changes(PREDICTION_BATCH, prediction=..., segment="eu")),
    # the class the model decided, beside its score
    ("prediction", with_changes(PREDICTION, predicted_label="approve")),
    ("prediction", with_changes(PREDICTION, predicted_label=None)),
    ("prediction", with_changes(PREDICTION_BATCH, predicted_label=[1, None])),
    ("prediction", with_changes(PREDICTION_BATCH, predicted_label=None)),
    # schema_version may be left out of an envelope too (it is 1)
    ("prediction", with_changes(PREDICTION_BATCH, schema_version=...)),
    ("feedback", with_changes(FEEDBACK_BATCH, schema_version=...)),
    ("feedback", FEEDBACK),
    ("feedback", with_changes(FEEDBACK, label="churned", schema_version=1)),
    ("feedback", FEEDBACK_BATCH),
]
# messages each schema rejects, and the codec too
INVALID_MESSAGES: list[tuple[str, dict[str, Any]]] = [
    # missing required fields
    ("prediction", with_changes(PREDICTION, model_id=...)),
    ("prediction", with_changes(PREDICTION, features=...)),
    ("prediction", with_changes(PREDICTION_BATCH, model_id=...)),
    ("feedback", with_changes(FEEDBACK, model_id=...)),
    ("feedback", with_changes(FEEDBACK, label=...)),
    ("feedback", with_changes(FEEDBACK_BATCH, model_id=...)),
    # wrong types
    ("prediction", with_changes(PREDICTION, timestamp="2025-11-29T15:50:00Z")),
    ("prediction", with_changes(PREDICTION, model_id="")),
    ("prediction", with_changes(PREDICTION, model_id="m" * 201)),
    ("prediction", with_changes(PREDICTION, model_version=7.5)),
    ("prediction", with_changes(PREDICTION, features={"income": [1, 2]})),
    ("prediction", with_changes(PREDICTION, prediction={"yes": "high"})),
    ("prediction", with_changes(PREDICTION, schema_version=2)),
    ("prediction", with_changes(PREDICTION, unknown_field=1)),
    ("prediction", with_changes(PREDICTION, predicted_label=[1])),
    ("prediction", with_changes(PREDICTION_BATCH, predicted_label=[{"a": 1}, 1])),
    ("prediction", with_changes(PREDICTION_BATCH, predicted_label="yes")),
    # misspelt fields: rejected, never dropped unseen
    ("prediction", with_changes(PREDICTION, prediction=..., predicton=0.83)),
    ("prediction", with_changes(PREDICTION, segment=..., segmnet="tenant-a")),
    ("prediction", with_changes(PREDICTION_BATCH, predicton=[0.1, 0.2])),
    ("feedback", with_changes(FEEDBACK, lable=0)),
    ("feedback", with_changes(FEEDBACK_BATCH, labels=[1, 0])),
    ("prediction", with_changes(PREDICTION_BATCH, timestamp=["1764431400.0", 1.0])),
    ("prediction", with_changes(PREDICTION_BATCH, prediction_id=[])),
    ("feedback", with_changes(FEEDBACK, timestamp="1764517800")),
    ("feedback", with_changes(FEEDBACK, label=None)),
    ("feedback", with_changes(FEEDBACK_BATCH, label=[1, None])),
    # batch envelopes with a wrong or missing kind
    ("prediction", with_changes(PREDICTION_BATCH, kind="feedback_batch")),
    ("prediction", with_changes(PREDICTION_BATCH, kind="batch")),
    ("prediction", with_changes(PREDICTION_BATCH, kind=...)),
    ("feedback", with_changes(FEEDBACK_BATCH, kind="prediction_batch")),
    ("feedback", with_changes(FEEDBACK_BATCH, kind=...)),
    # a single event must not carry a kind
    ("prediction", with_changes(PREDICTION, kind="prediction_batch")),
    # the other topic's message
    ("prediction", FEEDBACK),
    ("feedback", PREDICTION),
]


@pytest.mark.parametrize(("name", "message"), VALID_MESSAGES)
def test_valid_messages_are_accepted(name: str, message: dict[str, Any]) -> None:
    validator(name).validate(message)


@pytest.mark.parametrize(("name", "message"), INVALID_MESSAGES)
def test_invalid_messages_are_rejected(name: str, message: dict[str, Any]) -> None:
    assert not validator(name).is_valid(message)


def codec_accepts(name: str, message: dict[str, Any]) -> bool:
    """Whether the worker's codec takes the message whole (no row of an envelope rejected)."""
    raw = json.dumps(message).encode()
    try:
        if name == "feedback":
            codec.decode_feedback(raw)
            return True
        decoded = codec.decode_predictions_topic(raw)  # what the worker reads
    except codec.DecodeError:
        return False
    return not isinstance(decoded, PredictionBatch) or not decoded.rejected


def schema_cases() -> list[tuple[str, dict[str, Any]]]:
    examples = [
        (name, e) for name in ("prediction", "feedback") for e in load_schema(name)["examples"]
    ]
    return examples + VALID_MESSAGES + INVALID_MESSAGES


@pytest.mark.parametrize(("name", "message"), schema_cases())
def test_codec_agrees_with_the_schemas(name: str, message: dict[str, Any]) -> None:
    """Every schema example and counter-example is accepted or rejected alike by the JSON
    Schema and by the codec (unknown fields included: both reject them)."""
    assert codec_accepts(name, message) == validator(name).is_valid(message)


def test_a_misspelt_field_is_rejected_naming_it_and_the_closest_known_one() -> None:
    for name, message, wrong, right in [
        (
            "prediction",
            with_changes(PREDICTION, prediction=..., predicton=0.8),
            "predicton",
            "prediction",
        ),
        ("prediction", with_changes(PREDICTION, segment=..., segmnet="a"), "segmnet", "segment"),
        (
            "prediction",
            with_changes(PREDICTION_BATCH, predicted_lable=[1, 0]),
            "predicted_lable",
            "predicted_label",
        ),
        ("feedback", with_changes(FEEDBACK, lable=0), "lable", "label"),
        ("feedback", with_changes(FEEDBACK_BATCH, labels=[1, 0]), "labels", "label"),
    ]:
        decode = codec.decode_feedback if name == "feedback" else codec.decode_prediction
        with pytest.raises(codec.DecodeError) as info:
            decode(json.dumps(message).encode())
        assert info.value.reason == "unknown_field"
        assert str(info.value) == f"unknown field {wrong!r} (did you mean {right!r}?)"


def test_alert_required_fields_and_enums() -> None:
    schema = load_schema("alert")
    v = Draft202012Validator(schema)
    alert = schema["examples"][0]
    assert set(schema["required"]) == set(schema["properties"]) - {"reference", "message", "reason"}
    for field in schema["required"]:
        assert not v.is_valid(with_changes(alert, **{field: ...})), field
    v.validate(with_changes(alert, reference=..., message=...))
    for field, bad in [
        ("kind", "drift"),
        ("status", "open"),
        ("severity", "page"),
        ("value", "0.3"),
        ("p_value", 1.5),
        ("window", {"start": 0.0, "end": 1.0}),
        ("window", {"start": 0.0, "end": 1.0, "count": 1.5}),
        ("model_version", 7),
        ("schema_version", 2),
    ]:
        assert not v.is_valid(with_changes(alert, **{field: bad})), (field, bad)
    assert set(schema["properties"]["kind"]["enum"]) == {
        "data_drift",
        "prediction_drift",
        "concept_drift",
        "performance_degradation",
        "label_health",
        "estimated_performance",
        "estimator_divergence",
        "traffic",
    }
    assert set(schema["properties"]["kind"]["enum"]) == {k.value for k in AlertKind}


def test_topics_toml_defines_every_topic() -> None:
    topics = load_topics()["topics"]
    assert set(LOGICAL_TOPICS) <= set(topics)
    names = [t["name"] for t in topics.values()]
    assert len(names) == len(set(names)), "topic names must be unique"
    for logical, t in topics.items():
        assert isinstance(t["name"], str) and t["name"], logical
        assert isinstance(t["partitions"], int) and t["partitions"] >= 1, logical
        assert isinstance(t["replication_factor"], int) and t["replication_factor"] >= 1, logical
        assert isinstance(t["retention_ms"], int), logical
        assert t["retention_ms"] == -1 or t["retention_ms"] > 0, logical
        assert t["cleanup_policy"] in {"delete", "compact"}, logical
        assert set(t) <= {
            "name",
            "partitions",
            "replication_factor",
            "retention_ms",
            "cleanup_policy",
            "config",
        }, logical
        for key, value in t.get("config", {}).items():
            assert isinstance(key, str) and isinstance(value, str), (logical, key)


def test_topics_toml_defaults() -> None:
    topics = load_topics()["topics"]
    day = 24 * 3600 * 1000
    expected = {
        "predictions": (8, "delete", 7 * day),
        "feedback": (8, "delete", 14 * day),
        "drift-alerts": (3, "delete", 30 * day),
        "degradation-alerts": (3, "delete", 30 * day),
        "dead-letter": (3, "delete", 30 * day),
        "references": (1, "compact", -1),
        "drift-windows": (3, "delete", 30 * day),
        "experiment-decisions": (3, "delete", 90 * day),
    }
    for logical, (partitions, policy, retention) in expected.items():
        t = topics[logical]
        assert t["name"] == logical
        assert (t["partitions"], t["cleanup_policy"], t["retention_ms"]) == (
            partitions,
            policy,
            retention,
        ), logical
    # predictions and feedback are joined inside one partition: same partitioning
    assert topics["predictions"]["partitions"] == topics["feedback"]["partitions"]
