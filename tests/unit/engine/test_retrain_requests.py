"""The processor publishes one retrain request per persistent episode, the same on replay."""

from __future__ import annotations

import json
from pathlib import Path

from jsonschema import Draft202012Validator
from tests.unit.engine.test_processor import (
    ROOT,
    Feed,
    chunks,
    comparable,
    drift_events,
    make_processor,
    run,
    write_config,
)

from streamdrift.codec import decode_checkpoint, encode_checkpoint

SCHEMA = Draft202012Validator(
    json.loads((ROOT / "topics" / "retrain-request.schema.json").read_text(encoding="utf-8"))
)
RETRAIN = "retrain-requests"
CONFIG = "[defaults.retrain]\nafter = 120\ndrift_share = 0.5\n"


def test_persistent_drift_of_half_the_features_publishes_one_valid_request(
    tmp_path: Path,
) -> None:
    processor = make_processor(write_config(tmp_path, CONFIG))
    processor.restore(0, None)
    feed = Feed()
    # income shifts at event 1,500 (t = 150 s); region stays: 1 of 2 features drifts
    records = [feed.prediction(e) for e in drift_events(6000, shift_at=1500)]
    out = run(processor, chunks(records, 700))
    requests = [json.loads(o.value) for o in out if o.topic == RETRAIN]
    assert len(requests) == 1
    (request,) = requests
    SCHEMA.validate(request)
    assert (request["model_id"], request["model_version"], request["reason"]) == ("m", "1", "drift")
    assert request["drifted_features"] == ["income"]
    assert request["monitored_features"] == 2
    assert request["persisted"] >= 120
    assert request["reference"]["sources"] == ["first-events"]
    assert request["reference"]["count"] == 500
    firing = {
        d["alert_id"]
        for o in out
        if o.topic == "drift-alerts"
        for d in [json.loads(o.value)]
        if d["status"] == "firing" and d["feature"] == "income"
    }
    assert set(request["alert_ids"]) <= firing and request["alert_ids"]
    assert [o.key for o in out if o.topic == RETRAIN] == [b"m"]


def test_a_replay_from_a_checkpoint_republishes_the_same_request(tmp_path: Path) -> None:
    settings = write_config(tmp_path, CONFIG)
    feed = Feed()
    records = [feed.prediction(e) for e in drift_events(6000, shift_at=1500)]

    whole = make_processor(settings)
    whole.restore(0, None)
    expected = [r for r in comparable(run(whole, chunks(records, 500))) if r[0] == RETRAIN]
    assert len(expected) == 1

    # checkpoint after 1,500 records (before the drift), a crash after 5,000: replay
    first = make_processor(settings)
    first.restore(0, None)
    before = run(first, chunks(records[:1500], 300))
    checkpoint = decode_checkpoint(encode_checkpoint(first.snapshot(0)))
    after_crash = run(first, chunks(records[1500:5000], 300))
    second = make_processor(settings)
    second.restore(0, checkpoint)
    replayed = run(second, chunks(records[1500:], 1000))
    seen = [r for r in comparable(before + after_crash + replayed) if r[0] == RETRAIN]
    assert len(seen) == 2  # published before the crash, and again by the replay
    assert all(r == expected[0] for r in seen)
