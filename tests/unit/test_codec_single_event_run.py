"""A run of single events gathered into columns (``codec.single_event`` then
``records.batches_of_events``) is what ``to_batches`` makes of the same messages decoded
one ``PredictionEvent`` each."""

from __future__ import annotations

import random
from typing import Any

import orjson
import pytest

from streamdrift import codec
from streamdrift.records import PredictionEvent, batches_of_events, to_batches


def docs(seed: int, n: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        features: dict[str, Any] = {"x": rng.random(), "c": rng.choice("abc")}
        if rng.random() < 0.1:
            del features["x"]
        if rng.random() < 0.1:
            features["z"] = rng.randrange(5)
        if rng.random() < 0.2:
            features = dict(reversed(list(features.items())))
        doc: dict[str, Any] = {
            "model_id": rng.choice(["m", "n"]),
            "model_version": rng.choice(["1", "1", 1, "2"]),
            "prediction_id": f"p{i}",
            "timestamp": rng.choice([1.7e9 + i, int(1.7e9) + i]),
            "features": features,
            "prediction": rng.choice([0.5, "yes", {"a": 0.2, "b": 0.8}, None]),
        }
        if rng.random() < 0.3:
            doc["segment"] = rng.choice(["s", "t", None])
        if rng.random() < 0.2:
            doc["predicted_label"] = rng.randrange(2)
        if rng.random() < 0.1:
            doc["experiment"], doc["variant"] = "e", rng.choice(["A", "B", None])
        out.append(doc)
    return out


@pytest.mark.parametrize("seed", range(20))
def test_a_run_gathers_as_to_batches_does(seed: int) -> None:
    raws = [orjson.dumps(d) for d in docs(seed, 1 + seed * 7)]
    events = [codec.single_event(raw) for raw in raws]
    assert all(e is not None for e in events)
    expected = to_batches([codec.decode_prediction(raw) for raw in raws])  # type: ignore[misc]
    assert batches_of_events(events) == expected


def test_a_run_of_one_key_is_one_batch() -> None:
    raws = [orjson.dumps({**d, "model_id": "m", "model_version": 1}) for d in docs(1, 30)]
    raws = [r.replace(b'"segment":', b'"_":') for r in raws if b'"segment"' not in r]
    events = [codec.single_event(raw) for raw in raws]
    batches = batches_of_events(events)
    assert len(batches) == 1 and batches[0].key == ("m", "1", None)
    assert batches == to_batches([codec.decode_prediction(raw) for raw in raws])


def test_int_versions_become_strings() -> None:
    doc = docs(0, 1)[0] | {"model_version": 7}
    event = codec.single_event(orjson.dumps(doc))
    assert event is not None and event.model_version == "7"
    decoded = codec.decode_predictions_topic(orjson.dumps(doc))
    assert isinstance(decoded, PredictionEvent) and decoded.model_version == "7"


@pytest.mark.parametrize(
    "raw",
    [
        b'{"kind": "end_of_input", "model_id": "m"}',
        b"{not json",
        b"[1]",
        orjson.dumps(docs(0, 1)[0] | {"modle_id": "m"}),
        orjson.dumps(docs(0, 1)[0] | {"features": {"x": 2**63 + 5}}),  # past int64: orjson
    ],
)
def test_what_single_event_refuses_the_slow_path_decides(raw: bytes) -> None:
    assert codec.single_event(raw) is None
    try:
        expected: Any = codec.decode_predictions_topic(raw)
    except codec.DecodeError as exc:
        expected = (exc.reason, str(exc))
    try:
        got: Any = codec.decode_predictions_topic_slow(raw)
    except codec.DecodeError as exc:
        got = (exc.reason, str(exc))
    assert got == expected


def test_an_oversize_event_is_left_to_the_slow_path(monkeypatch: pytest.MonkeyPatch) -> None:
    raw = orjson.dumps(docs(0, 1)[0])
    from streamdrift.codec import single

    monkeypatch.setattr(codec, "MAX_MESSAGE_BYTES", len(raw) - 1)
    monkeypatch.setattr(single, "MAX_MESSAGE_BYTES", len(raw) - 1)  # the msgspec path's check
    assert codec.single_event(raw) is None
    with pytest.raises(codec.DecodeError) as exc:
        codec.decode_predictions_topic_slow(raw)
    assert exc.value.reason == "oversize"
