"""Every closed window of every monitor goes to ``drift-windows``, schema-valid and
deterministic; its verdicts agree with the alerts."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from tests.unit.engine.test_processor import (
    CLASSIFIER_TOML,
    ROOT,
    Feed,
    alert_docs,
    chunks,
    classifier_input,
    drift_events,
    label_health_output,
    make_processor,
    run,
    write_config,
)

from streamdrift.codec import decode_checkpoint, encode_checkpoint
from streamdrift.engine.messages import OutputRecord

WINDOW_SCHEMA = Draft202012Validator(
    json.loads((ROOT / "topics" / "window.schema.json").read_text(encoding="utf-8"))
)


def window_docs(out: Sequence[OutputRecord]) -> list[dict[str, Any]]:
    return [json.loads(o.value or b"") for o in out if o.topic == "drift-windows"]


def test_every_drift_window_is_published_once_with_its_verdicts() -> None:
    processor = make_processor()
    processor.restore(0, None)
    feed = Feed()
    # reference 500 events, windows of 250: 1,500 events close 4 windows; shift from 1,000
    out = run(processor, list(chunks([feed.prediction(e) for e in drift_events(1500, 1000)], 100)))

    docs = window_docs(out)
    assert [d["window"]["index"] for d in docs] == [0, 1, 2, 3]
    assert {o.key for o in out if o.topic == "drift-windows"} == {b"m"}
    for doc in docs:
        WINDOW_SCHEMA.validate(doc)
        assert doc["monitor"] == "drift" and doc["window"]["count"] == 250
        assert doc["reference"] == {"count": 500}
        features = {t["feature"] for t in doc["tests"]}
        assert features == {"income", "region", "__prediction__"}
        assert {t["threshold_source"] for t in doc["tests"]} == {"reference"}
    assert len({d["record_id"] for d in docs}) == 4
    verdicts = [{t["feature"] for t in d["tests"] if t["verdict"] == "drift"} for d in docs]
    assert verdicts == [set(), set(), {"income"}, {"income"}]
    assert [d["verdict"] for d in docs] == ["ok", "ok", "drift", "drift"]
    psi = [t for t in docs[2]["tests"] if (t["feature"], t["detector"]) == ("income", "psi")]
    assert psi[0]["value"] >= psi[0]["threshold"] and psi[0]["p_value"] < 0.01
    # the alert names the window whose record says drift
    firing = [a for a in alert_docs(out) if a["status"] == "firing"]
    assert [(a["feature"], a["window"]["index"]) for a in firing] == [("income", 2)]
    assert firing[0]["window"]["start"] == docs[2]["window"]["start"]


def test_a_restored_replay_publishes_identical_window_records() -> None:
    feed = Feed()
    records = [feed.prediction(e) for e in drift_events(1500, 1000)]
    first = make_processor()
    first.restore(0, None)
    run(first, [records[:600]])
    snapshot = decode_checkpoint(encode_checkpoint(first.snapshot(0)))
    uninterrupted = run(first, list(chunks(records[600:], 70)))

    second = make_processor()
    second.restore(0, snapshot)
    replayed = run(second, list(chunks(records[400:], 130)))  # re-delivered records too
    got = [(o.key, o.value) for o in replayed if o.topic == "drift-windows"]
    assert got == [(o.key, o.value) for o in uninterrupted if o.topic == "drift-windows"]
    assert len(got) == 4


def test_performance_windows_carry_metrics_label_counts_and_the_degradation_test(
    tmp_path: Path,
) -> None:
    processor = make_processor(write_config(tmp_path, CLASSIFIER_TOML))
    processor.restore(0, None)
    out = run(processor, classifier_input(seconds=120, drop_at=60.0))

    perf = [d for d in window_docs(out) if d["monitor"] == "performance"]
    assert perf, "performance windows must be published"
    for doc in perf:
        WINDOW_SCHEMA.validate(doc)
        assert doc["labels"]["count"] == doc["window"]["count"] > 0
        assert 0.0 <= doc["metrics"]["accuracy"] <= 1.0
    assert [d["window"]["index"] for d in perf] == list(range(len(perf)))
    # the first window became the reference: only the error-stream detector ran on it
    assert {t["detector"] for t in perf[0]["tests"]} == {"hddm_a"}
    drops = {
        d["window"]["index"]: t["verdict"]
        for d in perf
        for t in d["tests"]
        if t["detector"] == "accuracy_drop"
    }
    assert "drift" in drops.values() and "ok" in drops.values()
    firing = [
        a
        for a in alert_docs(out, "degradation-alerts")
        if a["kind"] == "performance_degradation" and a["status"] == "firing"
    ]
    assert [drops[a["window"]["index"]] for a in firing] == ["drift"]
    concept = [t for d in perf for t in d["tests"] if t["kind"] == "concept_drift"]
    assert concept and {t["threshold_source"] for t in concept} == {"none"}


def test_label_health_periods_carry_their_coverage(tmp_path: Path) -> None:
    _, out = label_health_output(tmp_path)
    health = [d for d in window_docs(out) if d["monitor"] == "label_health"]
    assert health
    for doc in health:
        WINDOW_SCHEMA.validate(doc)
        (test,) = doc["tests"]
        assert doc["labels"]["coverage"] == test["value"]
        assert doc["labels"]["count"] <= doc["window"]["count"]
    assert any(d["verdict"] == "drift" for d in health)  # half the labels: too few
