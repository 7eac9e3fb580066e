"""An end_of_input marker on the predictions topic closes a model's partial drift windows."""

from __future__ import annotations

import json

import pytest
from tests.unit.engine.harness import Processor
from tests.unit.engine.test_processor import (
    ALERT_SCHEMA,
    PREDICTIONS,
    Feed,
    alert_docs,
    chunks,
    comparable,
    drift_events,
    make_processor,
    run,
)

from streamdrift import codec
from streamdrift.codec import decode_checkpoint, encode_checkpoint
from streamdrift.engine.messages import InputRecord
from streamdrift.records import EndOfInput, PredictionEvent

# reference 500, windows of 250: 500 + 2 x 250 full windows, then 180 shifted events that
# only a partial window holds
REFERENCE, WINDOWS, PARTIAL = 500, 2 * 250, 180


def replay(feed: Feed, events: list[PredictionEvent]) -> list[InputRecord]:
    return [feed.prediction(e) for e in events]


def marker(feed: Feed, model: str = "m", version: str | None = None) -> InputRecord:
    raw = codec.encode_end_of_input(EndOfInput(model, version))
    return feed.record(PREDICTIONS, raw, model.encode())


def shifted_tail() -> list[PredictionEvent]:
    return drift_events(REFERENCE + WINDOWS + PARTIAL, shift_at=REFERENCE + WINDOWS)


def test_a_shift_in_the_last_partial_window_is_only_seen_after_the_marker() -> None:
    processor = make_processor()
    processor.restore(0, None)
    feed = Feed()
    before = run(processor, list(chunks(replay(feed, shifted_tail()), 97)))
    assert alert_docs(before) == []
    after = run(processor, [[marker(feed)]])
    alerts = alert_docs(after)
    assert {(a["kind"], a["feature"]) for a in alerts} == {("data_drift", "income")}
    for alert in alerts:
        ALERT_SCHEMA.validate(alert)
        assert alert["window"] == {**alert["window"], "count": PARTIAL, "partial": True}
        assert "partial window of 180 events" in alert["message"]


def test_a_marker_in_the_same_fetch_follows_the_events_before_it() -> None:
    processor = make_processor()
    processor.restore(0, None)
    feed = Feed()
    records = [*replay(feed, shifted_tail()), marker(feed)]
    assert {a["feature"] for a in alert_docs(run(processor, [records]))} == {"income"}


def test_a_partial_window_below_min_window_count_is_not_tested() -> None:
    processor = make_processor()
    processor.restore(0, None)
    feed = Feed()
    events = drift_events(REFERENCE + WINDOWS + 99, shift_at=REFERENCE + WINDOWS)
    run(processor, [replay(feed, events)])
    assert run(processor, [[marker(feed)]]) == []
    assert processor.states[0].fleet.monitors[("m", "1", None)].buffered == 0


@pytest.mark.parametrize("version", [None, "1", "2"])
def test_the_marker_names_a_model_and_optionally_a_version(version: str | None) -> None:
    processor = make_processor()
    processor.restore(0, None)
    feed = Feed()
    other = drift_events(REFERENCE + WINDOWS + PARTIAL, shift_at=REFERENCE, model="other")
    run(processor, [replay(feed, shifted_tail()), replay(feed, other)])
    alerts = alert_docs(run(processor, [[marker(feed, "m", version)]]))
    assert {a["model_id"] for a in alerts} == (set() if version == "2" else {"m"})


def test_replaying_the_marker_after_a_restore_gives_the_same_alerts() -> None:
    feed = Feed()
    records = replay(feed, shifted_tail())
    end = marker(feed)
    first = make_processor()
    first.restore(0, None)
    run(first, [records])
    snapshot = decode_checkpoint(encode_checkpoint(first.snapshot(0)))
    uninterrupted = run(first, [[end]])

    second: Processor = make_processor()
    second.restore(0, snapshot)
    replayed = run(second, [[end]])
    assert comparable(replayed) == comparable(uninterrupted)
    assert [json.loads(o.value)["alert_id"] for o in replayed if o.topic == "drift-alerts"]
