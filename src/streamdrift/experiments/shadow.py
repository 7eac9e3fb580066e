"""What the partition's label join sees of an experiment: the served predictions only.

In shadow mode the challenger scores the same request as the champion, under the same
``prediction_id``; its prediction is never served. The experiment's own join pairs the two
(``experiments/join.py``); the model's label join, whose rule is one prediction per id,
would count the second as a duplicate and lose a row, so it gets the batches without them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import TypeVar

from streamdrift.config.experiments import ExperimentSpec
from streamdrift.records import PredictionBatch

T = TypeVar("T")


def served(
    batches: Sequence[PredictionBatch], specs: Mapping[str, ExperimentSpec]
) -> list[PredictionBatch]:
    """``batches`` without the rows of shadow challengers (a configured experiment in mode
    ``shadow``, its challenger variant); batches without such rows are returned as they are."""
    shadow = {name: spec.challenger for name, spec in specs.items() if spec.paired}
    if not shadow:
        return list(batches)
    out: list[PredictionBatch] = []
    for batch in batches:
        if batch.experiments is None or batch.variants is None:
            out.append(batch)
            continue
        keep = [
            i
            for i, (name, variant) in enumerate(zip(batch.experiments, batch.variants, strict=True))
            if name is None or shadow.get(name) != variant
        ]
        if len(keep) == len(batch):
            out.append(batch)
        elif keep:
            out.append(_rows(batch, keep))
    return out


def _take(column: list[T] | None, rows: list[int]) -> list[T] | None:
    return None if column is None else [column[i] for i in rows]


def _rows(batch: PredictionBatch, rows: list[int]) -> PredictionBatch:
    return dataclasses.replace(
        batch,
        prediction_ids=[batch.prediction_ids[i] for i in rows],
        timestamps=[batch.timestamps[i] for i in rows],
        features={name: [v[i] for i in rows] for name, v in batch.features.items()},
        predictions=[batch.predictions[i] for i in rows] if batch.predictions else [],
        predicted_labels=_take(batch.predicted_labels, rows),
        experiments=_take(batch.experiments, rows),
        variants=_take(batch.variants, rows),
        row_segments=_take(batch.row_segments, rows),
        rejected=[],
    )
