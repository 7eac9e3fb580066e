"""FeedbackJoin: every model expires by its own event time and its own TTLs.

The defect (issue #11, item 3): expiry followed one clock per partition, so a model whose
event time runs far ahead of another's (live traffic beside a backfill) expired the other
model's waiting predictions and labels.
"""

from __future__ import annotations

import json

import pytest

from streamdrift.labels.join import FeedbackEvent, FeedbackJoin
from streamdrift.records import PredictionBatch

T2019 = 1_546_300_800.0  # 2019-01-01
T2026 = 1_767_225_600.0  # 2026-01-01


def _traffic(
    join: FeedbackJoin, models: dict[str, float], steps: int, per_step: int, delay_steps: int
) -> None:
    """Each step (60 s of event time per model): ``per_step`` predictions of every model,
    then the labels of the predictions made ``delay_steps`` steps earlier; expire() after
    every call, as the worker does."""
    for step in range(steps + delay_steps):
        for model, t0 in models.items():
            if step < steps:
                ts = t0 + 60.0 * step
                ids = [f"{model}-{step}-{i}" for i in range(per_step)]
                join.add_predictions(
                    PredictionBatch(model, "1", None, ids, [ts] * per_step, {}, [0.5] * per_step)
                )
                join.expire()
            old = step - delay_steps
            if 0 <= old < steps:
                at = t0 + 60.0 * step
                join.add_feedback(
                    [FeedbackEvent(model, f"{model}-{old}-{i}", at, 1) for i in range(per_step)]
                )
                join.expire()


def test_two_models_years_apart_on_one_partition_join_every_label() -> None:
    join = FeedbackJoin(prediction_ttl=3600.0, feedback_ttl=600.0)
    _traffic(join, {"backfill": T2019, "live": T2026}, steps=50, per_step=20, delay_steps=10)
    assert join.labelled == {"backfill": 1000, "live": 1000}
    assert join.unlabelled_expired == {}
    assert join.orphan_feedback_expired == {}
    assert join.pending_predictions == join.pending_feedback == 0


def test_labels_waiting_for_a_backfilled_prediction_outlive_the_other_models_clock() -> None:
    join = FeedbackJoin(prediction_ttl=3600.0, feedback_ttl=600.0)
    join.add_feedback([FeedbackEvent("backfill", "b1", T2019 + 5.0, 1)])  # early label
    join.add_predictions(PredictionBatch("live", "1", None, ["l1"], [T2026], {}, [0.1]))
    join.expire()
    assert join.pending_feedback == 1
    out = join.add_predictions(PredictionBatch("backfill", "1", None, ["b1"], [T2019], {}, [0.9]))
    assert [(j.model_id, j.prediction_id) for j in out] == [("backfill", "b1")]


def test_each_model_has_its_own_ttls() -> None:
    join = FeedbackJoin(prediction_ttl=3600.0, feedback_ttl=600.0)
    join.set_model_ttls({"short": (100.0, 10.0)})
    for model in ("short", "long"):
        join.add_predictions(PredictionBatch(model, "1", None, ["a"], [1000.0], {}, [0.5]))
        join.add_feedback([FeedbackEvent(model, "early", 1000.0, 1)])
        join.add_predictions(PredictionBatch(model, "1", None, ["b"], [1500.0], {}, [0.5]))
        join.add_feedback([FeedbackEvent(model, "x", 1500.0, 1)])
    expired = join.expire()
    assert expired.unlabelled == {"short": 1}  # 1000 < 1500 - 100; "long" waits 3600 s
    assert expired.orphan_feedback == {"short": 1}  # "early": 1000 < 1500 - 10; not "x"
    assert join.pending_predictions == 3


@pytest.mark.parametrize("with_json", [False, True])
def test_model_clocks_survive_a_checkpoint(with_json: bool) -> None:
    join = FeedbackJoin(prediction_ttl=3600.0, feedback_ttl=600.0)
    _traffic(join, {"backfill": T2019, "live": T2026}, steps=20, per_step=5, delay_steps=10)
    state = join.to_dict()
    if with_json:
        state = json.loads(json.dumps(state))
    again = FeedbackJoin.from_dict(state)
    assert again.to_dict() == state
    assert again.model_watermarks() == join.model_watermarks()


def test_a_checkpoint_without_model_clocks_restores_conservatively() -> None:
    join = FeedbackJoin(prediction_ttl=3600.0, feedback_ttl=600.0)
    models = {"backfill": T2019, "live": T2026}
    for model, t0 in models.items():
        for step in range(20):
            ids = [f"{model}-{step}-{i}" for i in range(5)]
            join.add_predictions(
                PredictionBatch(model, "1", None, ids, [t0 + 60.0 * step] * 5, {}, [0.5] * 5)
            )
    state = json.loads(json.dumps(join.to_dict()))
    del state["model_watermarks"]  # as written before per-model clocks
    again = FeedbackJoin.from_dict(state)
    assert again.expire().empty
    for model in ("live", "backfill"):  # the live labels first: they must not expire the backfill
        again.add_feedback(
            [
                FeedbackEvent(model, f"{model}-{s}-{i}", models[model] + 1500.0, 1)
                for s in range(20)
                for i in range(5)
            ]
        )
        again.expire()
    assert again.labelled == {"live": 100, "backfill": 100}
    assert again.unlabelled_expired == {}
