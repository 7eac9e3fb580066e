"""A prediction batch goes into the join's store in one piece when none of its ids is known;
an id twice in the batch (or already waiting, labelled, or with its label waiting) sends
it row by row. Either way the stores, their order and the counters are those of adding the
rows one at a time."""

from __future__ import annotations

from typing import Any

import pytest

from streamdrift.labels.join import FeedbackJoin
from streamdrift.records import FeedbackEvent, PredictionBatch


def _batch(ids: list[str], t0: float) -> PredictionBatch:
    stamps = [t0 + i for i in range(len(ids))]
    return PredictionBatch("m", "1", None, ids, stamps, {}, [0.5] * len(ids))


def _state(join: FeedbackJoin) -> dict[str, Any]:
    return join.to_dict()


@pytest.mark.parametrize(
    "ids",
    [
        ["a", "b", "c"],
        ["a", "b", "a"],  # twice in the batch
        ["a", "b", "c", "b", "d"],
        ["w1", "x", "y"],  # already waiting
        ["x", "l1", "y"],  # already labelled
        ["x", "f1", "y"],  # its label is waiting
    ],
)
def test_a_batch_leaves_the_join_as_its_rows_one_by_one(ids: list[str]) -> None:
    def start() -> FeedbackJoin:
        join = FeedbackJoin(prediction_ttl=1e6, feedback_ttl=1e6)
        join.add_predictions(_batch(["w1", "w2", "l1"], 10.0))
        join.add_feedback([FeedbackEvent("m", "l1", 11.0, 1), FeedbackEvent("m", "f1", 12.0, 0)])
        return join

    whole, single = start(), start()
    got = whole.add_predictions(_batch(ids, 100.0))
    want = []
    for i, pid in enumerate(ids):
        want += single.add_predictions(_batch([pid], 100.0 + i))
    assert got == want
    assert _state(whole) == _state(single)
    assert list(_state(whole)["pending"]["m"]) == list(_state(single)["pending"]["m"])
    assert whole.expire() == single.expire()
