"""FeedbackJoin: ordering, duplicates, event-time expiry, bounds, counters, state round trip."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streamdrift.labels.join import (
    COUNTERS,
    Expired,
    FeedbackEvent,
    FeedbackJoin,
    LabelledPrediction,
)
from streamdrift.records import PredictionBatch


def batch(
    ids: list[str],
    stamps: list[float],
    preds: list[Any] | None = None,
    model: str = "m",
    version: str = "1",
    segment: str | None = None,
) -> PredictionBatch:
    preds = [0.5] * len(ids) if preds is None else preds
    return PredictionBatch(model, version, segment, ids, stamps, {}, preds)


def fb(pid: str, ts: float, label: Any = 1, model: str = "m") -> FeedbackEvent:
    return FeedbackEvent(model, pid, ts, label)


def json_round_trip(join: FeedbackJoin) -> FeedbackJoin:
    return FeedbackJoin.from_dict(json.loads(json.dumps(join.to_dict(), allow_nan=False)))


# -- ordering ----------------------------------------------------------------------------


def test_prediction_then_label() -> None:
    join = FeedbackJoin()
    assert join.add_predictions(batch(["a", "b"], [10.0, 11.0], [0.1, 0.9], segment="s")) == []
    assert join.pending_predictions == 2
    out = join.add_feedback([fb("b", 15.5, 1)])
    assert out == [LabelledPrediction("m", "1", "s", "b", 0.9, 1, 11.0, 15.5)]
    assert out[0].delay == 4.5
    assert join.pending_predictions == 1
    assert join.pending_feedback == 0
    assert join.labelled == {"m": 1}
    assert join.early_feedback == {}


def test_label_then_prediction_joins_on_arrival() -> None:
    join = FeedbackJoin()
    assert join.add_feedback([fb("a", 9.0, "cat")]) == []
    assert join.pending_feedback == 1
    out = join.add_predictions(batch(["x", "a"], [10.0, 10.5], ["dog", "dog"], version="7"))
    assert out == [LabelledPrediction("m", "7", None, "a", "dog", "cat", 10.5, 9.0)]
    assert out[0].delay == -1.5  # the label's timestamp is the earlier one
    assert join.pending_feedback == 0
    assert join.pending_predictions == 1
    assert join.labelled == {"m": 1}
    assert join.early_feedback == {"m": 1}


def test_models_do_not_mix() -> None:
    join = FeedbackJoin()
    join.add_predictions(batch(["a"], [1.0], model="m1"))
    assert join.add_feedback([fb("a", 2.0, model="m2")]) == []  # same id, other model
    assert join.pending_feedback == 1
    (out,) = join.add_feedback([fb("a", 3.0, model="m1")])
    assert out.model_id == "m1"


def test_batch_without_prediction_column() -> None:
    join = FeedbackJoin()
    join.add_predictions(PredictionBatch("m", "1", None, ["a"], [1.0], {}))
    (out,) = join.add_feedback([fb("a", 2.0)])
    assert out.prediction is None


def test_mismatched_columns_are_rejected_before_any_change() -> None:
    join = FeedbackJoin()
    with pytest.raises(ValueError):
        join.add_predictions(batch(["a", "b"], [1.0], [0.1, 0.2]))
    assert join.pending_predictions == 0
    assert join.to_dict() == FeedbackJoin().to_dict()


# -- duplicates --------------------------------------------------------------------------


def test_second_label_is_a_duplicate() -> None:
    join = FeedbackJoin()
    join.add_predictions(batch(["a"], [1.0]))
    assert len(join.add_feedback([fb("a", 2.0, 1), fb("a", 3.0, 0)])) == 1
    assert join.add_feedback([fb("a", 4.0, 0)]) == []
    assert join.duplicates == {"m": 2}
    assert join.labelled == {"m": 1}
    assert join.pending_feedback == 0  # a duplicate does not wait


def test_duplicate_early_labels_first_one_wins() -> None:
    join = FeedbackJoin()
    join.add_feedback([fb("a", 1.0, "first"), fb("a", 2.0, "second")])
    assert join.duplicates == {"m": 1}
    (out,) = join.add_predictions(batch(["a"], [3.0]))
    assert out.label == "first"
    assert join.add_feedback([fb("a", 4.0, "third")]) == []
    assert join.duplicates == {"m": 2}


def test_duplicate_across_state_round_trip() -> None:
    join = FeedbackJoin()
    join.add_predictions(batch(["a", "b"], [1.0, 2.0]))
    join.add_feedback([fb("a", 3.0)])
    restored = json_round_trip(join)
    assert restored.add_feedback([fb("a", 4.0)]) == []
    assert restored.duplicates == {"m": 1}
    assert len(restored.add_feedback([fb("b", 5.0)])) == 1
    assert restored.labelled == {"m": 2}


def test_duplicate_predictions_are_counted_and_ignored() -> None:
    join = FeedbackJoin()
    join.add_predictions(batch(["a", "a"], [1.0, 2.0], [0.1, 0.2]))
    assert join.pending_predictions == 1
    (out,) = join.add_feedback([fb("a", 3.0)])
    assert out.prediction == 0.1 and out.predicted_at == 1.0
    join.add_predictions(batch(["a"], [4.0]))  # re-sent after it was labelled
    assert join.pending_predictions == 0
    assert join.duplicate_predictions == {"m": 2}
    assert join.predictions_seen == {"m": 3}


# -- expiry by event time ----------------------------------------------------------------


def test_expiry_follows_the_other_streams_watermark_not_the_clock() -> None:
    # A waiting prediction expires once *labels* later than its deadline were seen; a
    # waiting label once *predictions* later than its deadline were seen. So a topic read
    # ahead of the other (catching up after a restart) expires nothing a live run joins.
    join = FeedbackJoin(prediction_ttl=100.0, feedback_ttl=10.0)
    join.add_predictions(batch(["a", "b", "c"], [1000.0, 990.0, 1050.0]))  # out of order
    assert join.expire().empty  # no label seen yet: predictions keep waiting
    assert join.watermark == 1050.0
    join.add_feedback([fb("zzz", 1095.0)])  # labels reached 1095: b (990 < 995) is overdue
    assert join.expire() == Expired(unlabelled={"m": 1})
    assert join.add_feedback([fb("b", 1096.0)]) == []  # too late: waits as an orphan
    join.add_feedback([fb("zz2", 1101.0)])  # a (1000 < 1001) is overdue
    # the labels keep waiting: predictions only reached 1050
    assert join.expire() == Expired(unlabelled={"m": 1})
    assert join.pending_predictions == 1  # c
    join.add_predictions(batch(["e"], [1107.0]))  # predictions reached 1107
    assert join.expire() == Expired(orphan_feedback={"m": 2})  # zzz, b (< 1097)
    assert join.unlabelled_expired == {"m": 2}
    assert join.orphan_feedback_expired == {"m": 2}
    assert join.pending_feedback == 1  # zz2


def test_expire_is_exclusive_at_the_cutoff() -> None:
    join = FeedbackJoin(prediction_ttl=10.0)
    join.add_predictions(batch(["a", "b"], [0.0, 10.0]))
    join.add_feedback([fb("x", 10.0)])
    assert join.expire().empty  # a is exactly at the cutoff
    join.add_feedback([fb("y", 10.5)])
    assert join.expire().unlabelled == {"m": 1}


def test_orphan_feedback_waits_feedback_ttl() -> None:
    join = FeedbackJoin(prediction_ttl=1000.0, feedback_ttl=60.0)
    join.add_feedback([fb("late", 100.0, 1)])
    join.add_predictions(batch(["x"], [150.0]))
    assert join.expire().empty
    (out,) = join.add_predictions(batch(["late"], [155.0]))  # within feedback_ttl
    assert out.label == 1
    join.add_feedback([fb("never", 160.0)])
    join.add_predictions(batch(["y"], [221.0]))
    assert join.expire() == Expired(orphan_feedback={"m": 1})
    assert join.add_predictions(batch(["never"], [222.0])) == []


def test_labelled_ids_are_forgotten_after_prediction_ttl() -> None:
    join = FeedbackJoin(prediction_ttl=100.0, feedback_ttl=10.0)
    join.add_predictions(batch(["a"], [0.0]))
    join.add_feedback([fb("a", 5.0)])
    assert join.remembered_labels == 1
    join.add_feedback([fb("a", 99.0)])  # still remembered: a duplicate
    assert join.duplicates == {"m": 1}
    join.add_feedback([fb("other", 101.0)])  # labels reached 101
    join.expire()
    assert join.remembered_labels == 0
    join.add_feedback([fb("a", 102.0)])  # no longer recognised: an orphan
    assert join.pending_feedback == 2  # other, a
    assert join.duplicates == {"m": 1}


def test_expire_on_empty_join() -> None:
    assert FeedbackJoin().expire() == Expired()


# -- bounds ------------------------------------------------------------------------------


def test_oldest_predictions_are_evicted_over_max_pending() -> None:
    join = FeedbackJoin(max_pending=3)
    join.add_predictions(batch(["a", "b"], [5.0, 1.0]))
    join.add_predictions(batch(["c", "d", "e"], [3.0, 7.0, 2.0]))
    assert join.pending_predictions == 3
    assert join.evicted == {"m": 2}  # b (1.0) and e (2.0)
    assert join.add_feedback([fb("b", 8.0), fb("e", 8.0)]) == []
    assert {o.prediction_id for o in join.add_feedback([fb(p, 8.0) for p in "acd"])} == set("acd")


def test_feedback_and_labelled_memory_are_bounded() -> None:
    join = FeedbackJoin(max_pending=2)
    join.add_feedback([fb("x", 1.0), fb("y", 2.0), fb("z", 3.0)])
    assert join.pending_feedback == 2
    assert join.feedback_evicted == {"m": 1}
    join.add_predictions(batch(["a", "b"], [4.0, 5.0]))
    join.add_feedback([fb("a", 7.0), fb("b", 7.0)])
    join.add_predictions(batch(["c"], [6.0]))
    join.add_feedback([fb("c", 7.0)])
    assert join.remembered_labels == 2
    assert join.labels_forgotten == {"m": 1}  # a, the oldest prediction
    assert join.evicted == {}


def test_invalid_configuration() -> None:
    with pytest.raises(ValueError):
        FeedbackJoin(max_pending=0)
    with pytest.raises(ValueError):
        FeedbackJoin(prediction_ttl=-1.0)


# -- counters ----------------------------------------------------------------------------


def test_counters_and_totals() -> None:
    join = FeedbackJoin(prediction_ttl=50.0, feedback_ttl=5.0)
    join.add_predictions(batch(["a", "b", "c"], [0.0, 1.0, 2.0], model="m1"))
    join.add_predictions(batch(["a"], [3.0], model="m2"))
    join.add_feedback([fb("a", 4.0, model="m1"), fb("a", 4.0, model="m2"), fb("q", 4.0)])
    join.add_feedback([fb("a", 5.0, model="m1")])
    join.add_predictions(batch(["z"], [100.0], model="m2"))
    join.add_feedback([fb("late", 100.0, model="m2")])
    join.expire()
    # each model expires by its own clocks: m2's time has not moved m1's or m's
    assert join.totals()["unlabelled_expired"] == join.totals()["orphan_feedback_expired"] == 0
    join.add_feedback([fb("late", 100.0, model="m1"), fb("late", 100.0)])
    join.expire()
    assert join.counters() == {
        "predictions_seen": {"m1": 3, "m2": 2},
        "feedback_seen": {"m1": 3, "m2": 2, "m": 2},
        "labelled": {"m1": 1, "m2": 1},
        "early_feedback": {},
        "duplicates": {"m1": 1},
        "duplicate_predictions": {},
        "unlabelled_expired": {"m1": 2},
        "orphan_feedback_expired": {"m": 1},
        "evicted": {},
        "feedback_evicted": {},
        "labels_forgotten": {},
    }
    assert set(join.counters()) == set(COUNTERS)
    assert join.totals()["predictions_seen"] == 5
    assert join.pending_predictions == 1  # z


# -- state -------------------------------------------------------------------------------


def _random_steps(seed: int, n: int) -> list[tuple[str, Any]]:
    """A replayable input: prediction batches and feedback lists of two models."""
    rng = random.Random(seed)
    steps: list[tuple[str, Any]] = []
    t = 1000.0
    next_id = 0
    issued: list[tuple[str, str]] = []
    for _ in range(n):
        t += rng.uniform(0.0, 20.0)
        if rng.random() < 0.5:
            model = rng.choice(["m1", "m2"])
            k = rng.randint(1, 8)
            ids = [f"p{next_id + i}" for i in range(k)]
            next_id += k
            stamps = [t - rng.uniform(0.0, 30.0) for _ in range(k)]  # not in order
            preds = [rng.random() for _ in range(k)]
            steps.append(("p", batch(ids, stamps, preds, model=model, segment=model[-1])))
            issued.extend((model, pid) for pid in ids)
        else:
            events = []
            for _ in range(rng.randint(1, 6)):
                if issued and rng.random() < 0.8:
                    model, pid = rng.choice(issued)
                else:  # early feedback for an id issued later, or an orphan
                    model, pid = rng.choice(["m1", "m2"]), f"p{next_id + rng.randint(0, 20)}"
                events.append(
                    FeedbackEvent(model, pid, t - rng.uniform(-5.0, 30.0), rng.randint(0, 1))
                )
            steps.append(("f", events))
    return steps


def _apply(join: FeedbackJoin, step: tuple[str, Any]) -> tuple[list[LabelledPrediction], Expired]:
    kind, payload = step
    out = join.add_predictions(payload) if kind == "p" else join.add_feedback(payload)
    return out, join.expire()


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_restored_join_continues_exactly_as_the_original(seed: int) -> None:
    steps = _random_steps(seed, 400)
    uninterrupted = FeedbackJoin(prediction_ttl=300.0, feedback_ttl=60.0, max_pending=60)
    interrupted = FeedbackJoin(prediction_ttl=300.0, feedback_ttl=60.0, max_pending=60)
    for i, step in enumerate(steps):
        if i % 97 == 50:  # crash and restore from a checkpoint, several times mid-stream
            state = interrupted.to_dict()
            interrupted = json_round_trip(interrupted)
            assert interrupted.to_dict() == state
        assert _apply(interrupted, step) == _apply(uninterrupted, step)
    assert interrupted.to_dict() == uninterrupted.to_dict()
    totals = uninterrupted.totals()
    assert totals["labelled"] > 50 and totals["duplicates"] > 0 and totals["early_feedback"] > 0
    assert totals["evicted"] + totals["unlabelled_expired"] > 0


def test_to_dict_is_complete_json() -> None:
    join = FeedbackJoin(prediction_ttl=10.0, feedback_ttl=3.0, max_pending=7)
    join.add_predictions(batch(["a", "b"], [1.0, 2.0], [{"p": [0.1, 0.9]}, None], segment="s"))
    join.add_feedback([fb("a", 2.5, True), fb("c", 3.0, "x")])
    d = json.loads(json.dumps(join.to_dict(), allow_nan=False))
    assert d["watermark"] == 3.0
    assert d["pending"] == {"m": [["b", 2.0, None, "1", "s"]]}
    assert d["feedback"] == {"m": [["c", 3.0, "x"]]}
    assert d["labelled"] == {"m": [["a", 1.0]]}
    restored = FeedbackJoin.from_dict(d)
    assert (restored.prediction_ttl, restored.feedback_ttl, restored.max_pending) == (10.0, 3.0, 7)
    assert FeedbackJoin.from_dict(FeedbackJoin().to_dict()).watermark == float("-inf")
    with pytest.raises(ValueError):
        FeedbackJoin.from_dict({**d, "version": 99})


# -- property: every labelled prediction is joined exactly once ---------------------------


@st.composite
def interleavings(draw: st.DrawFn) -> tuple[list[tuple[str, Any]], dict[str, list[Any]]]:
    n = draw(st.integers(1, 40))
    items: list[tuple[str, Any]] = []  # (kind, payload)
    labels: dict[str, list[Any]] = {}
    for i in range(n):
        pid = f"p{i}"
        t_pred = draw(st.floats(0.0, 1000.0))
        items.append(("p", (pid, t_pred)))
        n_labels = draw(st.integers(0, 3))
        for k in range(n_labels):
            delay = draw(st.floats(-50.0, 500.0))
            items.append(("f", (pid, t_pred + delay, k)))
            labels.setdefault(pid, []).append(k)
    order = draw(st.permutations(range(len(items))))
    grouped: list[tuple[str, Any]] = []
    for idx in order:
        kind, payload = items[idx]
        if grouped and grouped[-1][0] == kind and draw(st.booleans()):
            grouped[-1][1].append(payload)  # same kind as the last step: sometimes one batch
        else:
            grouped.append((kind, [payload]))
    return grouped, labels


@settings(max_examples=150, deadline=None)
@given(interleavings())
def test_every_labelled_prediction_is_joined_exactly_once(
    case: tuple[list[tuple[str, Any]], dict[str, list[Any]]],
) -> None:
    steps, labels = case
    join = FeedbackJoin(prediction_ttl=1e6, feedback_ttl=1e6)
    joined: list[LabelledPrediction] = []
    first_label: dict[str, Any] = {}
    for kind, payloads in steps:
        if kind == "p":
            ids = [p[0] for p in payloads]
            out = join.add_predictions(batch(ids, [p[1] for p in payloads], ids))
        else:
            for pid, _, k in payloads:
                first_label.setdefault(pid, k)
            out = join.add_feedback([fb(pid, t, k) for pid, t, k in payloads])
        assert join.expire().empty
        joined.extend(out)
    ids = [j.prediction_id for j in joined]
    assert sorted(ids) == sorted(labels)  # each labelled prediction, exactly once
    for j in joined:
        assert j.prediction == j.prediction_id
        assert j.label == first_label[j.prediction_id]  # the first label to arrive wins
    n_labels = sum(len(v) for v in labels.values())
    assert join.duplicates.get("m", 0) == n_labels - len(labels)
    assert join.pending_predictions == len(join.to_dict()["pending"].get("m", []))
    assert join.pending_predictions + len(labels) == join.predictions_seen["m"]
    assert join.pending_feedback == 0
    assert join.early_feedback.get("m", 0) <= len(labels)


def test_many_joins_keep_expiry_exact() -> None:
    """Joined rows leave dead slots (and stale front entries); compaction must not change
    any result."""
    join = FeedbackJoin(prediction_ttl=100.0)
    n = 5000
    ids = [f"p{i}" for i in range(n)]
    join.add_predictions(batch(ids, [float(i % 50) for i in range(n)]))
    unlabelled = set(ids[::7])
    for chunk in range(0, n, 500):
        events = [fb(pid, 60.0) for pid in ids[chunk : chunk + 500] if pid not in unlabelled]
        join.add_feedback(events)
        assert join.expire().empty
    assert join.pending_predictions == len(unlabelled)
    assert len(join._pending["m"].pids) < n  # the dead slots were compacted
    join.add_feedback([fb("other", 1000.0)])
    assert join.expire().unlabelled == {"m": len(unlabelled)}
    assert join.pending_predictions == 0 and join.remembered_labels == 0


def test_batch_with_row_segments_is_split_by_segment() -> None:
    join = FeedbackJoin()
    envelope = batch(["a", "b", "c"], [1.0, 2.0, 3.0], [0.1, 0.2, 0.3])
    envelope.row_segments = ["s1", None, "s1"]
    assert join.add_predictions(envelope) == []
    out = join.add_feedback([fb("a", 4.0), fb("b", 4.0), fb("c", 4.0)])
    assert [(o.prediction_id, o.segment) for o in out] == [("a", "s1"), ("b", None), ("c", "s1")]
    assert join.predictions_seen == {"m": 3}
