"""to_batches: single events and batch envelopes become one column-wise batch per key."""

from __future__ import annotations

from typing import Any

from streamdrift.records import (
    AlertKind,
    CheckResult,
    PredictionBatch,
    PredictionEvent,
    WindowInfo,
    WindowResult,
    to_batches,
)


def event(
    pid: str,
    features: dict[str, Any] | None = None,
    *,
    model: str = "m",
    version: str = "1",
    segment: str | None = None,
    prediction: Any = None,
    t: float = 1.0,
) -> PredictionEvent:
    return PredictionEvent(
        model, version, pid, t, {"x": 1.0} if features is None else features, prediction, segment
    )


def batch(
    pids: list[str],
    features: dict[str, list[Any]],
    *,
    model: str = "m",
    version: str = "1",
    segment: str | None = None,
    predictions: list[Any] | None = None,
) -> PredictionBatch:
    return PredictionBatch(
        model,
        version,
        segment,
        list(pids),
        [float(i) for i in range(len(pids))],
        features,
        [None] * len(pids) if predictions is None else predictions,
    )


def test_empty_input_gives_no_batches() -> None:
    assert to_batches([]) == []


def test_single_events_of_one_key_become_one_batch_in_order() -> None:
    events = [event(f"p{i}", {"x": float(i)}, prediction=i / 10, t=100.0 + i) for i in range(5)]
    (result,) = to_batches(events)
    assert result.key == ("m", "1", None)
    assert len(result) == 5
    assert result.prediction_ids == ["p0", "p1", "p2", "p3", "p4"]
    assert result.timestamps == [100.0, 101.0, 102.0, 103.0, 104.0]
    assert result.features == {"x": [0.0, 1.0, 2.0, 3.0, 4.0]}
    assert result.predictions == [0.0, 0.1, 0.2, 0.3, 0.4]


def test_keys_are_separated_by_model_version_and_segment() -> None:
    items = [
        event("a1", model="a"),
        event("b1", model="b"),
        event("a2", model="a", version="2"),
        event("a3", model="a", segment="eu"),
        event("a4", model="a"),
        event("b2", model="b"),
        event("a5", model="a", segment="eu"),
    ]
    result = to_batches(items)
    by_key = {b.key: b.prediction_ids for b in result}
    assert by_key == {
        ("a", "1", None): ["a1", "a4"],
        ("b", "1", None): ["b1", "b2"],
        ("a", "2", None): ["a2"],
        ("a", "1", "eu"): ["a3", "a5"],
    }
    # batches come out in order of each key's first appearance
    assert [b.key for b in result] == [
        ("a", "1", None),
        ("b", "1", None),
        ("a", "2", None),
        ("a", "1", "eu"),
    ]


def test_missing_features_are_none() -> None:
    events = [
        event("p1", {"x": 1.0}),
        event("p2", {"y": "red"}),
        event("p3", {"x": 3.0, "y": "blue", "z": True}),
    ]
    (result,) = to_batches(events)
    assert result.features == {
        "x": [1.0, None, 3.0],
        "y": [None, "red", "blue"],
        "z": [None, None, True],
    }
    assert all(len(column) == len(result) for column in result.features.values())


def test_events_and_batches_interleave_in_arrival_order() -> None:
    items: list[PredictionEvent | PredictionBatch] = [
        event("e1", {"x": 1.0}, prediction=0.1),
        event("e2", {"x": 2.0}, prediction=0.2),
        batch(["b1", "b2"], {"x": [3.0, 4.0], "y": ["u", "v"]}, predictions=[0.3, 0.4]),
        event("e3", {"y": "w"}, prediction=0.5),
        batch(["b3"], {"z": [True]}, predictions=[0.6]),
        event("e4", {"x": 5.0}, prediction=0.7),
    ]
    (result,) = to_batches(items)
    assert result.prediction_ids == ["e1", "e2", "b1", "b2", "e3", "b3", "e4"]
    assert result.features == {
        "x": [1.0, 2.0, 3.0, 4.0, None, None, 5.0],
        "y": [None, None, "u", "v", "w", None, None],
        "z": [None, None, None, None, None, True, None],
    }
    assert result.predictions == [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7]
    assert len(result.timestamps) == len(result) == 7


def test_interleaved_keys_keep_per_key_order_across_events_and_batches() -> None:
    items: list[PredictionEvent | PredictionBatch] = [
        event("a1", model="a"),
        batch(["b1", "b2"], {"x": [1.0, 2.0]}, model="b"),
        event("b3", model="b"),
        batch(["a2", "a3"], {"x": [1.0, 2.0]}, model="a"),
        event("a4", model="a"),
        event("b4", model="b"),
        batch(["a5"], {"x": [1.0]}, model="a"),
    ]
    result = {b.model_id: b for b in to_batches(items)}
    assert result["a"].prediction_ids == ["a1", "a2", "a3", "a4", "a5"]
    assert result["b"].prediction_ids == ["b1", "b2", "b3", "b4"]
    for merged in result.values():
        assert all(len(column) == len(merged) for column in merged.features.values())
        assert len(merged.predictions) == len(merged.timestamps) == len(merged)


def test_batches_without_predictions_are_padded_with_none() -> None:
    with_preds = batch(["p1"], {"x": [1.0]}, predictions=[0.9])
    without = PredictionBatch("m", "1", None, ["p2", "p3"], [2.0, 3.0], {"x": [2.0, 3.0]})
    (result,) = to_batches([with_preds, without])
    assert result.predictions == [0.9, None, None]


def test_single_batch_passes_through_unchanged() -> None:
    only = batch(["p1", "p2"], {"x": [1.0, 2.0]}, segment="eu")
    (result,) = to_batches([only])
    assert result == only


def test_batch_len_and_key() -> None:
    b = batch(["p1", "p2", "p3"], {"x": [1, 2, 3]}, model="fraud", version="9", segment="s")
    assert len(b) == 3
    assert b.key == ("fraud", "9", "s")


def test_window_result_drifted_lists_only_drifted_checks() -> None:
    clean = CheckResult("x", AlertKind.DATA_DRIFT, "psi_ks", "psi", 0.01, 0.2, 0.9)
    drift = CheckResult("y", AlertKind.DATA_DRIFT, "psi_ks", "psi", 0.5, 0.2, 1e-9, drifted=True)
    result = WindowResult("m", "1", None, 0, WindowInfo(0.0, 1.0, 100), 1000, (clean, drift))
    assert result.drifted == (drift,)


def test_batch_with_a_segment_per_row_is_split_by_segment() -> None:
    from streamdrift import codec

    raw = codec.dumps(
        {
            "kind": "prediction_batch",
            "model_id": "m",
            "model_version": "1",
            "prediction_id": ["a", "b", "c", "d"],
            "timestamp": [1.0, 2.0, 3.0, 4.0],
            "features": {"x": [1, 2, 3, 4]},
            "prediction": [0.1, 0.2, 0.3, 0.4],
            "segment": ["eu", "us", "eu", None],
        }
    )
    batches = {b.segment: b for b in to_batches([codec.decode_prediction(raw)])}
    assert set(batches) == {"eu", "us", None}
    assert batches["eu"].prediction_ids == ["a", "c"]
    assert batches["eu"].features == {"x": [1, 3]}
    assert batches["eu"].predictions == [0.1, 0.3]
    assert batches["us"].timestamps == [2.0] and batches[None].prediction_ids == ["d"]


def test_events_with_the_same_features_in_any_key_order_make_aligned_columns() -> None:
    events = [
        event("p1", {"x": 1.0, "y": "a", "z": None}),
        event("p2", {"z": 2, "x": 2.0, "y": "b"}),
        event("p3", {"y": "c", "z": False, "x": 3.0}),
    ]
    (result,) = to_batches(events)
    assert result.features == {"x": [1.0, 2.0, 3.0], "y": ["a", "b", "c"], "z": [None, 2, False]}
    assert all(type(column) is list for column in result.features.values())
    (one,) = to_batches([event("p1", {"x": 1.0}), event("p2", {"x": 2.0})])
    assert one.features == {"x": [1.0, 2.0]}
    (none,) = to_batches([event("p1", {}), event("p2", {})])
    assert none.features == {}
