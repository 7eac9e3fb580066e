"""Feedback for an unknown model (neither configured nor seen in the partition) goes to
dead-letter with the reason ``unknown_model`` once the partition's predictions are past the
label's time — unless ``unknown_model_feedback = "wait"``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.unit.engine.harness import Processor

from streamdrift import codec, config
from streamdrift.config.spec import SpecError
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


def test_feedback_for_an_unknown_model_goes_to_dead_letter(tmp_path: Path) -> None:
    p = processor(tmp_path)
    feed = Feed()
    p.process(0, [feed.prediction("m", "x", ts=T0 + 10.0)])  # predictions past the labels
    single, batch = feed.label("ghost", "a"), feed.labels("ghost", ["b", "c"])
    out = p.process(0, [single, batch])
    assert [(o.key, o.value) for o in dead(out)] == [
        (single.key, single.value),
        (batch.key, batch.value),
    ]
    headers = dict(dead(out)[1].headers)
    assert headers[H_REASON] == b"unknown_model"
    assert (headers[H_TOPIC], headers[H_OFFSET]) == (b"feedback", b"1")
    assert out == dead(out)
    assert b"'ghost'" in dict(dead(out)[0].headers)[H_ERROR]
    assert sample(p, "streamdrift_dead_letter_total", {"reason": "unknown_model"}) == 2
    assert (
        sample(
            p, "streamdrift_decode_failures_total", {"topic": "feedback", "reason": "unknown_model"}
        )
        == 0
    )  # the message decoded: it is not a decode failure
    join = p.states[0].labels.join
    assert join.feedback_seen == {} and join.pending_feedback == 0


def test_feedback_newer_than_every_prediction_waits(tmp_path: Path) -> None:
    """The feedback topic read ahead of the predictions (a catch-up, a replay from the
    start): labels wait, and are joined when their predictions are read."""
    p = processor(tmp_path)
    feed = Feed()
    assert p.process(0, [feed.label("new", "a", ts=T0 + 5.0)]) == []  # nothing read yet
    p.process(0, [feed.prediction("m", "x", ts=T0 + 3.0)])
    assert p.process(0, [feed.label("new", "b", ts=T0 + 4.0)]) == []  # ahead of T0 + 3
    p.process(0, [feed.prediction("new", "a"), feed.prediction("new", "b")])
    assert p.states[0].labels.join.labelled == {"new": 2}
    # a batch is judged by its newest label: one label past the predictions keeps it
    (rejected,) = p.process(0, [feed.labels("new2", ["c", "d"], ts=T0 + 1.0)])
    assert dict(rejected.headers)[H_REASON] == b"unknown_model"
    later = feed.record(
        "feedback",
        codec.encode_feedback_batch(
            [FeedbackEvent("new3", "e", T0 + 1.0, 1), FeedbackEvent("new3", "f", T0 + 9.0, 1)]
        ),
        b"new3",
    )
    assert p.process(0, [later]) == []


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
    p.process(0, [feed.prediction("clf", "a")])
    assert p.states[0].labels.join.labelled == {"clf": 1}


def test_wait_lets_feedback_of_unknown_models_wait(tmp_path: Path) -> None:
    p = processor(tmp_path, '[defaults.performance]\nunknown_model_feedback = "wait"\n')
    feed = Feed()
    p.process(0, [feed.prediction("m", "x", ts=T0 + 10.0)])
    assert dead(p.process(0, [feed.label("ghost", "a")])) == []
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


def test_known_is_per_partition(tmp_path: Path) -> None:
    p = processor(tmp_path)
    p.restore(1, None)
    feed = Feed()
    p.process(0, [feed.prediction("m", "a")])
    late = feed.prediction("n", "z", ts=T0 + 10.0)
    label = feed.label("m", "a")
    p.process(1, [InputRecord(late.topic, 1, 0, late.timestamp, late.key, late.value)])
    other = InputRecord(label.topic, 1, 0, label.timestamp, label.key, label.value)
    (rejected,) = p.process(1, [other])
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
