"""Single events, decoded and regrouped by ``records.to_batches`` (the single-event path),
give the columns a plain row-by-row regroup gives, whatever names each row carries."""

from __future__ import annotations

from typing import Any

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from streamdrift import codec
from streamdrift.records import PredictionBatch, PredictionEvent, to_batches


def reference(events: list[PredictionEvent]) -> dict[tuple[Any, ...], dict[str, Any]]:
    """Row by row: per (model, version, segment), every column in arrival order; a name
    absent from a row is None there, names in first-seen order."""
    out: dict[tuple[Any, ...], list[PredictionEvent]] = {}
    for e in events:
        out.setdefault((e.model_id, e.model_version, e.segment), []).append(e)
    columns = {}
    for key, rows in out.items():
        names: list[str] = []
        for e in rows:
            names += [n for n in e.features if n not in names]
        decided = [e.predicted_label for e in rows]
        columns[key] = {
            "prediction_ids": [e.prediction_id for e in rows],
            "timestamps": [e.timestamp for e in rows],
            "predictions": [e.prediction for e in rows],
            "predicted_labels": None if all(d is None for d in decided) else decided,
            "variants": None if all(e.variant is None for e in rows) else [e.variant for e in rows],
            "features": {n: [e.features.get(n) for e in rows] for n in names},
        }
    return columns


def columns_of(batch: PredictionBatch) -> dict[str, Any]:
    return {
        "prediction_ids": batch.prediction_ids,
        "timestamps": batch.timestamps,
        "predictions": batch.predictions,
        "predicted_labels": batch.predicted_labels,
        "variants": batch.variants,
        "features": batch.features,
    }


NAMES = ("x", "y", "z", "w")
rows = st.lists(
    st.fixed_dictionaries(
        {
            "model_id": st.sampled_from(("a", "b")),
            "segment": st.sampled_from((None, "eu")),
            "features": st.dictionaries(
                st.sampled_from(NAMES),
                st.one_of(st.none(), st.integers(-(2**63), 2**63 - 1), st.text(max_size=2)),
            ),
            "predicted_label": st.one_of(st.none(), st.booleans()),
            "variant": st.one_of(st.none(), st.just("champion")),
        }
    ),
    min_size=1,
    max_size=30,
)


@settings(max_examples=300, deadline=None)
@given(rows)
def test_decoded_events_regroup_as_row_by_row(docs: list[dict[str, Any]]) -> None:
    events = []
    for i, doc in enumerate(docs):
        doc.update(model_version="1", prediction_id=f"p{i}", timestamp=1.7e9 + i, prediction=0.5)
        event = codec.decode_predictions_topic(orjson.dumps(doc))
        assert isinstance(event, PredictionEvent)
        events.append(event)
    batches = to_batches(events)
    assert {b.key: columns_of(b) for b in batches} == reference(events)
    for batch in batches:
        assert list(batch.features) == list(reference(events)[batch.key]["features"])
        assert all(type(column) is list for column in batch.features.values())


def test_rows_of_one_size_with_other_names_are_not_aligned_by_the_first_row() -> None:
    docs = [{"x": 1, "y": 2}, {"x": 3, "z": 4}, {"y": 5, "x": 6}]
    events = [
        PredictionEvent("m", "1", f"p{i}", 1.0 + i, features) for i, features in enumerate(docs)
    ]
    (batch,) = to_batches(events)
    assert batch.features == {"x": [1, 3, 6], "y": [2, None, 5], "z": [None, 4, None]}
