"""The single-event fast path (msgspec) decodes exactly what the orjson path decodes.

msgspec only ever accepts a message; the orjson path alone decides rejections. So the
property to hold: whatever the fast path returns, the orjson path returns too, with the
same types (an int feature stays an int, -0.0 stays -0.0), and whatever it rejects the
orjson path still rejects with the same reason and message.
"""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from streamdrift import codec
from streamdrift.codec import DecodeError
from streamdrift.records import EndOfInput, PredictionBatch, PredictionEvent

Decoded = PredictionEvent | PredictionBatch | EndOfInput


def orjson_path(raw: bytes) -> Decoded:
    """decode_predictions_topic without the fast path."""
    doc = codec._parse(raw)
    if doc.get("kind") == codec.END_OF_INPUT:
        return codec._decode_end_of_input(doc)
    return codec._decode_prediction_doc(doc)


def outcome(decode: Any, raw: bytes) -> tuple[str, str]:
    """What a decoder makes of ``raw``: the repr of its result (types included) or the
    reason and message of its DecodeError."""
    try:
        return ("ok", repr(decode(raw)))
    except DecodeError as exc:
        return (exc.reason, str(exc))


def assert_same(raw: bytes) -> None:
    assert outcome(codec.decode_predictions_topic, raw) == outcome(orjson_path, raw)
    expected = outcome(lambda r: codec._decode_prediction_doc(codec._parse(r)), raw)
    assert outcome(codec.decode_prediction, raw) == expected


def test_a_valid_event_takes_the_fast_path() -> None:
    raw = orjson.dumps(
        {"model_id": "m", "model_version": 3, "prediction_id": "p", "timestamp": 5,
         "features": {"n": 3, "x": -0.0, "c": "a", "b": True, "z": None}}
    )  # fmt: skip
    event = codec._fast_event(raw)
    assert event is not None
    assert repr(event) == repr(orjson_path(raw))
    assert event.model_version == "3" and type(event.timestamp) is float


EVENT = (
    b'{"model_id":"m","model_version":"1","prediction_id":"p","timestamp":1.5,'
    b'"features":{"a":1,"b":2.5,"c":"x","d":true,"e":null}'
)
EDGE_CASES: list[bytes] = [
    EVENT + b"}",
    EVENT + b',"prediction":{"a":0.5,"b":1}}',
    EVENT + b',"prediction":{}}',
    EVENT + b',"prediction":{"a":true}}',
    EVENT + b',"prediction":[1]}',
    EVENT + b',"predicted_label":{"a":1}}',
    EVENT + b',"features":{"big":123456789012345678901234567890}}',
    EVENT + b',"features":{"u64":18446744073709551615}}',
    EVENT + b',"features":{"i64":-9223372036854775808}}',
    EVENT + b',"features":{"below":-9223372036854775809}}',
    EVENT + b',"features":{"a":1e400}}',
    EVENT + b',"features":{"a":NaN}}',
    EVENT + b',"features":{"a":1,"a":"dup"}}',
    EVENT + b',"model_id":"second"}',
    EVENT + b',"model_id":5,"model_id":"last"}',
    EVENT + b',"model_version":18446744073709551615}',
    EVENT + b',"model_version":123456789012345678901234567890}',
    EVENT + b',"model_version":true}',
    EVENT + b',"model_version":""}',
    EVENT + b',"timestamp":-0.0}',
    EVENT + b',"timestamp":99999999999.99}',
    EVENT + b',"timestamp":100000000000}',
    EVENT + b',"timestamp":null}',
    EVENT + b',"schema_version":1}',
    EVENT + b',"schema_version":1.0}',
    EVENT + b',"schema_version":true}',
    EVENT + b',"schema_version":null}',
    EVENT + b',"experiment":null,"variant":"b"}',
    EVENT + b',"experiment":""}',
    EVENT + b',"segment":null}',
    EVENT + b',"segment":3}',
    EVENT + b',"predicton":0.5}',
    EVENT + b',"kind":"prediction_batch"}',
    EVENT + b',"kind":"end_of_input"}',
    EVENT + b',"kind":null}',
    EVENT + b"}  \n",
    EVENT + b"}x",
    b"\xef\xbb\xbf" + EVENT + b"}",
    EVENT.replace(b'"m"', '"{}"'.format("\U0001f600" * 200).encode()) + b"}",
    EVENT.replace(b'"m"', '"{}"'.format("\U0001f600" * 201).encode()) + b"}",
    EVENT.replace(b'"m"', b'"\\ud800"') + b"}",
    EVENT.replace(b'"m"', b'"\xff"') + b"}",
    EVENT.replace(b'"c":"x"', b'"c":"a\nb"') + b"}",
    b'{"kind":"end_of_input","model_id":"m"}',
    b'{"kind":"end_of_input","model_id":"m","model_version":2}',
    b'{"kind":"prediction_batch","model_id":"m","model_version":"1","prediction_id":["a"],'
    b'"timestamp":[1],"features":{"x":[1]}}',
    b"[]",
    b"",
    b"null",
    b"[" * 2000,
]


@pytest.mark.parametrize("raw", EDGE_CASES)
def test_edge_cases_decode_as_on_the_orjson_path(raw: bytes) -> None:
    assert_same(raw)


def test_an_oversize_event_is_rejected_as_oversize(monkeypatch: pytest.MonkeyPatch) -> None:
    from streamdrift.codec import single

    monkeypatch.setattr(codec, "MAX_MESSAGE_BYTES", len(EVENT))
    monkeypatch.setattr(single, "MAX_MESSAGE_BYTES", len(EVENT))  # the msgspec path's check
    with pytest.raises(DecodeError) as info:
        codec.decode_predictions_topic(EVENT + b"}")
    assert info.value.reason == "oversize"


scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**64 - 1),  # what orjson writes
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=5),
)
identifiers = st.one_of(
    st.just("m"),
    st.just(7),
    st.text(min_size=0, max_size=3),
    st.text(min_size=199, max_size=202),
    st.integers(min_value=-5, max_value=2**64 - 1),
    st.none(),
    st.booleans(),
    st.floats(allow_nan=False, allow_infinity=False),
)
values = st.one_of(
    scalars,
    st.lists(scalars, max_size=2),
    st.dictionaries(st.text(max_size=3), scalars, max_size=3),
)
FIELDS = (
    "model_id", "model_version", "prediction_id", "timestamp", "features", "prediction",
    "predicted_label", "segment", "experiment", "variant", "schema_version", "kind", "predicton",
)  # fmt: skip
documents = st.fixed_dictionaries(
    {
        "model_id": identifiers,
        "model_version": identifiers,
        "prediction_id": identifiers,
        "timestamp": st.one_of(
            st.just(1.7e9),
            st.floats(min_value=-1, max_value=2e11, allow_nan=False),
            st.integers(-1, 2**64 - 1),
        ),
        "features": st.one_of(st.dictionaries(st.text(max_size=4), scalars, max_size=5), values),
    },
    # an unknown field or a kind sends a message the other way: EDGE_CASES has those
    optional={name: st.one_of(scalars, values) for name in FIELDS[5:-2]},
)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents, st.sets(st.sampled_from(FIELDS), max_size=3))
def test_any_document_decodes_as_on_the_orjson_path(doc: dict[str, Any], drop: set[str]) -> None:
    for name in drop:
        doc.pop(name, None)
    assert_same(orjson.dumps(doc))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.dictionaries(st.text(max_size=4), scalars, max_size=6),
    st.one_of(scalars, st.dictionaries(st.text(max_size=3), scalars, max_size=3)),
)
@example({}, {"a": 2**63})  # past int64 inside class probabilities: the orjson path decides
def test_valid_events_take_the_fast_path_with_the_same_result(
    features: dict[str, Any], prediction: Any
) -> None:
    raw = orjson.dumps(
        {"model_id": "m", "model_version": "1", "prediction_id": "p", "timestamp": 17e8,
         "features": features, "prediction": prediction}
    )  # fmt: skip
    fast = codec._fast_event(raw)
    reference = outcome(orjson_path, raw)
    if fast is None:  # only an invalid message, or an integer outside int64, takes the other path
        values = [*features.values(), prediction]
        if isinstance(prediction, dict):  # class probabilities: their values count too
            values += prediction.values()
        assert reference[0] != "ok" or any(
            type(v) is int and not -(2**63) <= v < 2**63 for v in values
        )
    else:
        assert ("ok", repr(fast)) == reference
