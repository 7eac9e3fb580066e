"""The end_of_input marker: the codec and topics/prediction.schema.json agree on it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import orjson
import pytest
from jsonschema import Draft202012Validator

from streamdrift import codec
from streamdrift.records import EndOfInput

SCHEMA = Draft202012Validator(
    json.loads(
        (Path(__file__).resolve().parents[2] / "topics" / "prediction.schema.json").read_text()
    )
)

VALID: list[tuple[dict[str, Any], EndOfInput]] = [
    ({"kind": "end_of_input", "model_id": "m"}, EndOfInput("m")),
    ({"kind": "end_of_input", "schema_version": 1, "model_id": "m"}, EndOfInput("m")),
    ({"kind": "end_of_input", "model_id": "m", "model_version": "7"}, EndOfInput("m", "7")),
    ({"kind": "end_of_input", "model_id": "m", "model_version": 7}, EndOfInput("m", "7")),
]
INVALID: list[tuple[dict[str, Any], str]] = [
    ({"kind": "end_of_input"}, "missing_field"),
    ({"kind": "end_of_input", "model_id": 3}, "wrong_type"),
    ({"kind": "end_of_input", "model_id": ""}, "bad_value"),
    ({"kind": "end_of_input", "model_id": "m", "modle_version": "7"}, "unknown_field"),
    ({"kind": "end_of_input", "model_id": "m", "schema_version": 2}, "unknown_schema_version"),
]


@pytest.mark.parametrize(("doc", "expected"), VALID)
def test_valid_markers_decode_and_match_the_schema(doc: dict[str, Any], expected: Any) -> None:
    assert codec.decode_predictions_topic(orjson.dumps(doc)) == expected
    assert SCHEMA.is_valid(doc)


@pytest.mark.parametrize(("doc", "reason"), INVALID)
def test_invalid_markers_are_rejected_by_both(doc: dict[str, Any], reason: str) -> None:
    with pytest.raises(codec.DecodeError) as info:
        codec.decode_predictions_topic(orjson.dumps(doc))
    assert info.value.reason == reason
    assert not SCHEMA.is_valid(doc)


@pytest.mark.parametrize("version", [None, "7"])
def test_encoded_markers_round_trip_and_match_the_schema(version: str | None) -> None:
    raw = codec.encode_end_of_input(EndOfInput("credit-risk", version))
    assert codec.decode_predictions_topic(raw) == EndOfInput("credit-risk", version)
    assert SCHEMA.is_valid(orjson.loads(raw))


def test_decode_prediction_alone_does_not_take_a_marker() -> None:
    with pytest.raises(codec.DecodeError) as info:
        codec.decode_prediction(codec.encode_end_of_input(EndOfInput("m")))
    assert info.value.reason == "wrong_kind"
