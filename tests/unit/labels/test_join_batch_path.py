"""MemoryJoin's fast path for a prediction batch (PendingStore.extend: a few C loops) leaves
exactly what the row-by-row loop leaves: same results, counters, stores (in the same
order), heaps (entry for entry) and state."""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

import pytest

from streamdrift.labels.join import FeedbackEvent, FeedbackJoin
from streamdrift.records import PredictionBatch

Step = tuple[str, Any]


class RowByRow(FeedbackJoin):
    """Always takes the row-by-row loop: an id "on disk" that no batch holds turns the
    fast path off and changes nothing else."""

    def _ids_on_disk(
        self, model: str, pids: Sequence[str], pend: dict[str, int], lab: dict[str, float]
    ) -> set[str]:
        return {"\0 never an id"}


def _steps(seed: int, n: int) -> list[Step]:
    """Batches of new ids (the fast path), some with an id again (of the same batch, of a
    waiting, labelled or expired prediction) or with an id whose label came first;
    feedback (joins, duplicates, early and orphan labels); three models; whole-second
    stamps so that ties happen, out of order within a batch."""
    rng = random.Random(seed)
    steps: list[Step] = []
    t = 1000.0
    next_id = 0
    issued: list[tuple[str, str]] = []
    for _ in range(n):
        t += rng.randint(0, 12)
        model = rng.choice(["m1", "m2", "m3"])
        if rng.random() < 0.6:
            k = rng.randint(1, 25)
            ids = [f"p{next_id + i}" for i in range(k)]
            next_id += k
            r = rng.random()
            if r < 0.1:
                ids.append(rng.choice(ids))  # twice in one batch
            elif r < 0.25 and issued:
                ids.append(rng.choice(issued[-80:])[1])  # sent again
            stamps = [float(t - rng.randint(0, 40)) for _ in ids]
            preds: list[Any] = [rng.choice([rng.random(), rng.randint(0, 3), None]) for _ in ids]
            if rng.random() < 0.1:
                preds = []  # no prediction column
            seg = rng.choice([None, "eu"])
            steps.append(("p", PredictionBatch(model, "v1", seg, ids, stamps, {}, preds)))
            issued.extend((model, pid) for pid in ids)
        else:
            events = []
            for _ in range(rng.randint(1, 12)):
                if issued and rng.random() < 0.7:
                    m, pid = rng.choice(issued)
                else:  # a label ahead of its prediction (or of none)
                    m, pid = model, f"p{next_id + rng.randint(0, 40)}"
                events.append(
                    FeedbackEvent(m, pid, float(t - rng.randint(-5, 30)), rng.randint(0, 1))
                )
            steps.append(("f", events))
    return steps


def _state(join: FeedbackJoin) -> Any:
    return (
        join.to_dict(),
        join.counters(),
        [list(d.items()) for d in join._pending.values()],
        [list(d.items()) for d in join._labelled.values()],
        {m: list(h) for m, h in join._lheap.items() if h},
        {m: list(h) for m, h in join._fheap.items() if h},
        (join.pending_predictions, join.pending_feedback, join.remembered_labels),
        (join.watermark, join.prediction_watermark, join.feedback_watermark),
        join.model_watermarks(),
    )


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
@pytest.mark.parametrize(("max_pending", "max_remembered"), [(10**6, None), (60, 500), (25, 30)])
def test_batch_fast_path_equals_row_by_row(
    seed: int, max_pending: int, max_remembered: int | None
) -> None:
    kw: dict[str, Any] = {
        "prediction_ttl": 200.0,
        "feedback_ttl": 40.0,
        "max_pending": max_pending,
        "max_remembered": max_remembered,
    }
    fast, slow = FeedbackJoin(**kw), RowByRow(**kw)
    for kind, payload in _steps(seed, 700):
        if kind == "p":
            assert fast.add_predictions(payload) == slow.add_predictions(payload)
        else:
            assert fast.add_feedback(payload) == slow.add_feedback(payload)
        assert fast.expire() == slow.expire()
        assert _state(fast) == _state(slow)
    totals = fast.totals()
    assert totals["labelled"] > 100 and totals["early_feedback"] > 5
    assert totals["duplicate_predictions"] > 10
    if max_pending < 10**6:
        assert totals["evicted"] > 0
    else:
        assert totals["unlabelled_expired"] > 20
    assert FeedbackJoin.from_dict(fast.to_dict()).to_dict() == slow.to_dict()
