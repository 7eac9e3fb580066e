"""Feedback for an unknown model (neither configured nor seen in the partition) is held
until a prediction of its model arrives (then joined) or the partition was read to its end
(a tick: then to dead-letter with the reason ``unknown_model``), unless
``unknown_model_feedback = "wait"`` (``engine/held_feedback.py``).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.unit.engine.harness import Processor

from streamdrift import codec, config
from streamdrift.config.spec import SpecError
from streamdrift.engine import held_feedback
from streamdrift.engine.messages import (
    H_ERROR,
    H_OFFSET,
    H_REASON,
    H_TOPIC,
    InputRecord,
    OutputRecord,
)
from streamdrift.metrics import Metrics
from streamdrift.records import FeedbackEvent, PredictionEvent

T0 = 1_764_000_000.0


class Feed:
    """Input records of partition 0 with per-topic offsets."""

    def __init__(self) -> None:
        self.offsets: dict[str, int] = {}

    def record(self, topic: str, value: bytes, key: bytes) -> InputRecord:
        offset = self.offsets.get(topic, 0)
        self.offsets[topic] = offset + 1
        return InputRecord(topic, 0, offset, T0, key, value)

    def prediction(self, model: str, pid: str, ts: float = T0) -> InputRecord:
        event = PredictionEvent(model, "1", pid, ts, {"x": 1.0}, 0.8)
        return self.record("predictions", codec.encode_prediction(event), model.encode())

    def label(self, model: str, pid: str, ts: float = T0 + 1.0) -> InputRecord:
        raw = codec.encode_feedback(FeedbackEvent(model, pid, ts, 1))
        return self.record("feedback", raw, model.encode())

    def labels(self, model: str, pids: list[str], ts: float = T0 + 1.0) -> InputRecord:
        events = [FeedbackEvent(model, p, ts, 1) for p in pids]
        return self.record("feedback", codec.encode_feedback_batch(events), model.encode())


def processor(tmp_path: Path, toml: str = "") -> Processor:
    path = tmp_path / "models.toml"
    path.write_text(toml, encoding="utf-8")
    settings = config.load({"config": str(path)}, environ={})
    p = Processor(settings, Metrics(), clock=lambda: T0)
    p.restore(0, None)
    return p


def dead(out: list[OutputRecord]) -> list[OutputRecord]:
    return [o for o in out if o.topic == "dead-letter"]


def sample(p: Processor, name: str, labels: dict[str, str]) -> float:
    value = p.metrics.registry.get_sample_value(name, labels)
    return 0.0 if value is None else value


def read_to_the_end(p: Processor, partition: int = 0) -> list[OutputRecord]:
    """Two ticks: a held message is rejected on the second after it was read (the runner's
    check that the partition is read to its end then saw a fetch begun after it)."""
    first = p.tick(partition)
    assert dead(first) == []
    out: list[OutputRecord] = p.tick(partition)
    return out


def held(p: Processor, partition: int = 0) -> float:
    p.metrics.record_state(p.gauges(partition))
    return sample(p, "streamdrift_pending_joins", {"kind": "feedback_unknown_model"})


def test_feedback_for_an_unknown_model_is_held_then_goes_to_dead_letter(tmp_path: Path) -> None:
    p = processor(tmp_path)
    feed = Feed()
    p.process(0, [feed.prediction("m", "x", ts=T0 + 10.0)])
    single, batch = feed.label("ghost", "a"), feed.labels("ghost", ["b", "c"])
    assert p.process(0, [single, batch]) == []  # held: its predictions may be on their way
    assert held(p) == 3
    join = p.states[0].labels.join
    assert join.feedback_seen == {} and join.pending_feedback == 0
    out = read_to_the_end(p)  # read to the end of the predictions: none of ghost came
    assert [(o.key, o.value) for o in dead(out)] == [
        (single.key, single.value),
        (batch.key, batch.value),
    ]
    assert out == dead(out)
    headers = dict(dead(out)[1].headers)
    assert headers[H_REASON] == b"unknown_model"
    assert (headers[H_TOPIC], headers[H_OFFSET]) == (b"feedback", b"1")
    assert b"'ghost'" in dict(dead(out)[0].headers)[H_ERROR]
    assert sample(p, "streamdrift_dead_letter_total", {"reason": "unknown_model"}) == 2
    assert (
        sample(
            p, "streamdrift_decode_failures_total", {"topic": "feedback", "reason": "unknown_model"}
        )
        == 0
    )  # the message decoded: it is not a decode failure
    assert held(p) == 0 and read_to_the_end(p) == []
    assert join.feedback_seen == {} and join.pending_feedback == 0


def test_a_held_message_is_rejected_on_the_second_tick_after_it_was_read(
    tmp_path: Path,
) -> None:
    p = processor(tmp_path)
    feed = Feed()
    a, b, c = feed.label("ghost", "a"), feed.label("new", "b"), feed.label("ghost", "c")
    p.process(0, [a])
    assert p.tick(0) == []
    p.process(0, [b, c])
    p.process(0, [feed.prediction("new", "b")])  # releases b from between a and c
    assert p.states[0].labels.join.labelled == {"new": 1}
    assert [o.value for o in p.tick(0)] == [a.value]
    assert [o.value for o in p.tick(0)] == [c.value]
    assert p.tick(0) == [] and held(p) == 0


def test_held_feedback_is_joined_when_its_predictions_come(tmp_path: Path) -> None:
    """The feedback topic read ahead of the predictions (a catch-up, a replay from the
    start, or one fetch returning the label before the prediction)."""
    p = processor(tmp_path)
    feed = Feed()
    assert p.process(0, [feed.label("new", "a", ts=T0 + 5.0)]) == []  # nothing read yet
    p.process(0, [feed.prediction("m", "x", ts=T0 + 3.0)])
    assert p.process(0, [feed.label("new", "b", ts=T0 + 4.0)]) == []
    assert held(p) == 2
    p.process(0, [feed.prediction("new", "a"), feed.prediction("new", "b")])
    assert p.states[0].labels.join.labelled == {"new": 2}
    assert held(p) == 0 and read_to_the_end(p) == []
    assert (
        sample(p, "streamdrift_events_consumed_total", {"topic": "feedback", "model": "new"}) == 2
    )


def test_another_models_clock_does_not_reject_a_new_models_labels(tmp_path: Path) -> None:
    """A model far ahead in event time on the same partition (live traffic beside a new
    model's backfill) once sent the backfill's labels to dead-letter when they were read
    before its first prediction."""
    p = processor(tmp_path)
    feed = Feed()
    p.process(0, [feed.prediction("live", "x", ts=T0 + 86400.0 * 365)])
    assert p.process(0, [feed.labels("backfill", ["a", "b"], ts=T0)]) == []
    p.process(0, [feed.prediction("backfill", "a"), feed.prediction("backfill", "b")])
    assert p.states[0].labels.join.labelled == {"backfill": 2}
    assert dead(read_to_the_end(p)) == []


def test_feedback_after_the_models_predictions_is_joined(tmp_path: Path) -> None:
    p = processor(tmp_path)
    feed = Feed()
    assert p.process(0, [feed.prediction("m", "a"), feed.prediction("m", "b")]) == []
    assert dead(p.process(0, [feed.label("m", "a")])) == []
    assert p.states[0].labels.join.labelled == {"m": 1}


def test_a_prediction_in_the_same_fetch_makes_its_model_known(tmp_path: Path) -> None:
    """The fetch's predictions are added before its feedback, whatever their order."""
    p = processor(tmp_path)
    feed = Feed()
    out = p.process(0, [feed.label("m", "a"), feed.prediction("m", "a")])
    assert dead(out) == []
    assert p.states[0].labels.join.labelled == {"m": 1}


def test_early_feedback_of_a_configured_model_waits_for_its_prediction(tmp_path: Path) -> None:
    p = processor(tmp_path, "[models.clf]\nalpha = 0.01\n")
    feed = Feed()
    p.process(0, [feed.prediction("m", "x", ts=T0 + 10.0)])
    assert dead(p.process(0, [feed.label("clf", "a")])) == []
    assert p.states[0].labels.join.pending_feedback == 1
    assert held(p) == 0 and read_to_the_end(p) == []
    p.process(0, [feed.prediction("clf", "a")])
    assert p.states[0].labels.join.labelled == {"clf": 1}


def test_wait_lets_feedback_of_unknown_models_wait(tmp_path: Path) -> None:
    p = processor(tmp_path, '[defaults.performance]\nunknown_model_feedback = "wait"\n')
    feed = Feed()
    p.process(0, [feed.prediction("m", "x", ts=T0 + 10.0)])
    assert dead(p.process(0, [feed.label("ghost", "a")])) == []
    assert p.states[0].labels.join.pending_feedback == 1
    assert held(p) == 0 and read_to_the_end(p) == []
    p.process(0, [feed.prediction("ghost", "a")])
    assert p.states[0].labels.join.labelled == {"ghost": 1}


def test_a_restored_partition_still_knows_its_models(tmp_path: Path) -> None:
    p = processor(tmp_path)
    feed = Feed()
    p.process(0, [feed.prediction("m", "a")])
    snapshot = p.snapshot(0)
    p.release(0)
    p.restore(0, snapshot)
    assert dead(p.process(0, [feed.label("m", "a")])) == []
    assert p.states[0].labels.join.labelled == {"m": 1}


def test_held_feedback_is_in_the_checkpoint(tmp_path: Path) -> None:
    """Its offsets are consumed: a restart must neither lose nor re-decide it differently."""
    feed = Feed()
    label = feed.labels("ghost", ["a", "b"])
    single = feed.label("late", "c")
    p = processor(tmp_path)
    assert p.process(0, [label, single]) == []
    snapshot = codec.decode_checkpoint(codec.encode_checkpoint(p.snapshot(0)))
    assert p.snapshot(0)["offsets"] == {"feedback": 2}
    for restored_from in (snapshot, p.snapshot(0)):
        q = processor(tmp_path)
        q.restore(0, restored_from)
        assert held(q) == 3
        q.process(0, [feed.prediction("late", "c")])
        assert q.states[0].labels.join.labelled == {"late": 1}
        (rejected,) = read_to_the_end(q)
        assert (rejected.key, rejected.value) == (label.key, label.value)
        assert dict(rejected.headers)[H_OFFSET] == b"0"
        assert "held_feedback" not in q.snapshot(0)
    assert "held_feedback" not in processor(tmp_path).snapshot(0)  # none held: no key


def test_held_feedback_restored_under_wait_waits_in_the_join(tmp_path: Path) -> None:
    feed = Feed()
    p = processor(tmp_path)
    assert p.process(0, [feed.label("ghost", "a")]) == []
    q = processor(tmp_path, '[defaults.performance]\nunknown_model_feedback = "wait"\n')
    q.restore(0, p.snapshot(0))
    q.process(0, [feed.prediction("m", "x")])
    assert held(q) == 0 and q.states[0].labels.join.pending_feedback == 1
    q.process(0, [feed.prediction("ghost", "a")])
    assert q.states[0].labels.join.labelled == {"ghost": 1}


def test_past_the_bound_the_oldest_held_feedback_waits_in_the_join(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    feed = Feed()
    first, second = feed.label("ghost", "a"), feed.label("ghost", "b")
    assert first.value is not None
    monkeypatch.setattr(held_feedback, "MAX_HELD_BYTES", len(first.value) + 10)
    p = processor(tmp_path)
    assert p.process(0, [first, second]) == []
    assert held(p) == 1  # the second; the first waits in the join as with "wait"
    assert p.states[0].labels.join.pending_feedback == 1
    (rejected,) = read_to_the_end(p)
    assert rejected.value == second.value
    p.process(0, [feed.prediction("ghost", "a")])
    assert p.states[0].labels.join.labelled == {"ghost": 1}


def test_known_is_per_partition(tmp_path: Path) -> None:
    p = processor(tmp_path)
    p.restore(1, None)
    feed = Feed()
    p.process(0, [feed.prediction("m", "a")])
    label = feed.label("m", "a")
    other = InputRecord(label.topic, 1, 0, label.timestamp, label.key, label.value)
    assert p.process(1, [other]) == []
    assert read_to_the_end(p, 0) == []
    (rejected,) = read_to_the_end(p, 1)
    assert dict(rejected.headers)[H_REASON] == b"unknown_model"


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        (
            '[defaults.performance]\nunknown_model_feedback = "drop"\n',
            r"defaults\.performance: performance\.unknown_model_feedback: one of \('reject'",
        ),
        (
            '[models.clf.performance]\nunknown_model_feedback = "wait"\n',
            r"models\.clf\.performance\.unknown_model_feedback: only in \[defaults\.performance\]",
        ),
    ],
)
def test_bad_settings_name_the_setting(tmp_path: Path, toml: str, message: str) -> None:
    with pytest.raises((SpecError, config.ConfigError), match=message):
        processor(tmp_path, toml)
