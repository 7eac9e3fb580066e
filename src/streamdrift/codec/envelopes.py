"""Batch envelopes (``"kind": "prediction_batch"``) of a decoded document: each column is
checked whole; a bad value rejects only its row."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from streamdrift.codec.fields import (
    _DECIDED_TYPES,
    _SCALAR_TYPES,
    MAX_ID_LENGTH,
    DecodeError,
    _column,
    _id_column,
    _identifier,
    _prediction,
    _segment,
    _timestamp,
)
from streamdrift.records import PredictionBatch

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
