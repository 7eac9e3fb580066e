"""Processor: decode → core → emit per partition, without a broker.

Inputs are :class:`InputRecord` objects built from the codec's own encoders (or raw bytes
for invalid messages); streams are seeded numpy draws with event time ``T0 + i * dt``. The
clock is fixed, so alerts are fully deterministic.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from jsonschema import Draft202012Validator
from tests.unit.engine.harness import Processor

from streamdrift import codec, config
from streamdrift.codec import decode_checkpoint, encode_checkpoint
from streamdrift.config.settings import Settings
from streamdrift.drift.profiles import Profiles, fit_profiles
from streamdrift.engine.messages import (
    H_ERROR,
    H_OFFSET,
    H_PARTITION,
    H_REASON,
    H_TIMESTAMP,
    H_TOPIC,
    InputRecord,
    OutputRecord,
)
from streamdrift.metrics import Metrics
from streamdrift.records import FeedbackEvent, PredictionBatch, PredictionEvent

ROOT = Path(__file__).resolve().parents[3]
ALERT_SCHEMA = Draft202012Validator(
    json.loads((ROOT / "topics" / "alert.schema.json").read_text(encoding="utf-8"))
)

T0 = 1_764_000_000.0  # a multiple of every time-window size used here
NOW = 1_764_100_000.0
PREDICTIONS = "predictions"
FEEDBACK = "feedback"


def clock() -> float:
    return NOW


def make_settings(**overrides: Any) -> Settings:
    return config.load({"reference_size": 500, "window_size": 250, **overrides}, environ={})


def make_processor(settings: Settings | None = None) -> Processor:
    return Processor(settings or make_settings(), Metrics(), clock=clock)


def write_config(tmp_path: Path, text: str) -> Settings:
    path = tmp_path / "models.toml"
    path.write_text(text, encoding="utf-8")
    return make_settings(config=str(path))


@dataclass
class Feed:
    """Input records of one partition with per-topic offsets, like a consumer fetches them."""

    partition: int = 0
    next_offset: dict[str, int] = field(default_factory=dict)

    def record(self, topic: str, value: bytes | None, key: bytes | None = b"m") -> InputRecord:
        offset = self.next_offset.get(topic, 0)
        self.next_offset[topic] = offset + 1
        return InputRecord(topic, self.partition, offset, T0 + offset * 0.001, key, value)

    def prediction(self, event: PredictionEvent) -> InputRecord:
        return self.record(PREDICTIONS, codec.encode_prediction(event), event.model_id.encode())

    def feedback(self, events: list[FeedbackEvent]) -> InputRecord:
        raw = (
            codec.encode_feedback(events[0])
            if len(events) == 1
            else codec.encode_feedback_batch(events)
        )
        return self.record(FEEDBACK, raw, events[0].model_id.encode())


def drift_events(
    n: int, shift_at: int | None = None, *, model: str = "m", seed: int = 1, dt: float = 0.1
) -> list[PredictionEvent]:
    """``income`` ~ N(50, 10), shifted by +1σ from event ``shift_at`` on; ``region`` and the
    score are stationary."""
    rng = np.random.default_rng(seed)
    income = rng.normal(50.0, 10.0, n)
    if shift_at is not None:
        income[shift_at:] += 10.0
    region = rng.choice(["north", "south", "east"], n)
    score = rng.random(n)
    return [
        PredictionEvent(
            model,
            "1",
            f"{model}-{i}",
            T0 + i * dt,
            {"income": float(income[i]), "region": str(region[i])},
            float(score[i]),
        )
        for i in range(n)
    ]


def chunks(records: Sequence[InputRecord], size: int) -> Iterator[Sequence[InputRecord]]:
    for i in range(0, len(records), size):
        yield records[i : i + size]


def run(processor: Processor, batches: Sequence[Sequence[InputRecord]]) -> list[OutputRecord]:
    out: list[OutputRecord] = []
    for batch in batches:
        out.extend(processor.process(0, batch))
    return out


def alert_docs(out: Sequence[OutputRecord], topic: str | None = None) -> list[dict[str, Any]]:
    return [
        json.loads(o.value)
        for o in out
        if o.topic not in ("dead-letter", "drift-windows") and (topic is None or o.topic == topic)
    ]


def comparable(out: Sequence[OutputRecord]) -> list[tuple[Any, ...]]:
    """Outputs (alerts, window records) without the wall-clock ``detected_at`` of alerts."""
    rows: list[tuple[Any, ...]] = []
    for o in out:
        if o.topic == "dead-letter":
            rows.append((o.topic, o.key, o.value, o.headers))
        else:
            doc = json.loads(o.value)
            doc.pop("detected_at", None)  # window records have none
            rows.append((o.topic, o.key, doc, o.headers))
    return rows


def sample(processor: Processor, name: str, labels: dict[str, str] | None = None) -> float:
    value = processor.metrics.registry.get_sample_value(name, labels or {})
    return 0.0 if value is None else value


# -- dead letters -------------------------------------------------------------------------

VALID = PredictionEvent("m", "1", "ok-1", T0, {"income": 1.0}, 0.3)

INVALID: list[tuple[str, bytes | None, str]] = [
    (PREDICTIONS, b"{not json", "not_json"),
    (PREDICTIONS, b"[1, 2, 3]", "not_object"),
    (
        PREDICTIONS,
        b'{"model_version": "1", "prediction_id": "a", "timestamp": 1.0}',
        "missing_field",
    ),
    (
        PREDICTIONS,
        b'{"model_id": 7, "model_version": "1", "prediction_id": "a", "timestamp": 1.0,'
        b' "features": {}}',
        "wrong_type",
    ),
    (
        PREDICTIONS,
        b'{"model_id": "m", "model_version": "1", "prediction_id": "a", "timestamp": -5,'
        b' "features": {}}',
        "bad_value",
    ),
    (PREDICTIONS, b'{"kind": "something_else", "model_id": "m"}', "wrong_kind"),
    (PREDICTIONS, b'{"schema_version": 2, "model_id": "m"}', "unknown_schema_version"),
    (
        PREDICTIONS,
        b'{"kind": "prediction_batch", "model_id": "m", "model_version": "1",'
        b' "prediction_id": ["a", "b"], "timestamp": [1.0], "features": {}}',
        "batch_length_mismatch",
    ),
    (PREDICTIONS, None, "empty"),
    (PREDICTIONS, b" " * (codec.MAX_MESSAGE_BYTES + 1), "oversize"),
    (FEEDBACK, b'{"model_id": "m", "prediction_id": "ok-1", "timestamp": 2.0}', "missing_field"),
    (FEEDBACK, b'{"kind": "prediction_batch", "model_id": "m"}', "wrong_kind"),
    (FEEDBACK, b"\xff\xfe", "not_json"),
]


def test_every_invalid_message_becomes_one_dead_letter_and_valid_ones_are_processed() -> None:
    processor = make_processor()
    state = processor.restore(0, None)
    feed = Feed()
    records: list[InputRecord] = []
    expected: list[tuple[InputRecord, str]] = []
    for i, (topic, raw, reason) in enumerate(INVALID):
        if i == 3:  # a valid prediction and its label amid the garbage
            records.append(feed.prediction(VALID))
            records.append(feed.feedback([FeedbackEvent("m", "ok-1", T0 + 1.0, 1)]))
        record = feed.record(topic, raw, key=f"key-{i}".encode())
        records.append(record)
        expected.append((record, reason))

    out = processor.process(0, records)

    assert [o.topic for o in out] == ["dead-letter"] * len(INVALID)
    for o, (record, reason) in zip(out, expected, strict=True):
        assert o.key == record.key
        assert o.value == (record.value or b"")
        headers = dict(o.headers)
        assert len(headers) == len(o.headers) == 6
        assert headers[H_REASON] == reason.encode()
        assert headers[H_ERROR]  # a human-readable explanation
        assert headers[H_TOPIC] == record.topic.encode()
        assert headers[H_PARTITION] == b"0"
        assert headers[H_OFFSET] == str(record.offset).encode()
        assert float(headers[H_TIMESTAMP]) == record.timestamp
    # the valid prediction reached the drift monitor and was joined with its label
    assert state.fleet.monitors[("m", "1", None)].events_seen == 1
    assert state.labels.join.labelled == {"m": 1}
    assert state.offsets == {PREDICTIONS: 11, FEEDBACK: 4}
    assert sample(processor, "streamdrift_dead_letter_total", {"reason": "not_json"}) == 2
    assert (
        sample(
            processor,
            "streamdrift_decode_failures_total",
            {"topic": FEEDBACK, "reason": "wrong_kind"},
        )
        == 1
    )


def test_dead_letter_error_header_is_bounded() -> None:
    processor = make_processor()
    processor.restore(0, None)
    long_id = "x" * 5000
    raw = json.dumps({"model_id": "m", "kind": long_id}).encode()
    (out,) = processor.process(0, [Feed().record(PREDICTIONS, raw)])
    assert dict(out.headers)[H_REASON] == b"wrong_kind"
    assert len(dict(out.headers)[H_ERROR]) <= 1000
    assert out.value == raw


# -- ownership and re-delivery ------------------------------------------------------------


def test_redelivered_records_are_skipped() -> None:
    processor = make_processor()
    state = processor.restore(0, None)
    feed = Feed()
    records = [feed.prediction(e) for e in drift_events(900)]
    run(processor, list(chunks(records[:700], 100)))
    monitor = state.fleet.monitors[("m", "1", None)]
    before = encode_checkpoint(processor.snapshot(0))
    assert (monitor.events_seen, monitor.windows_closed) == (700, 0)

    # a seek back to offset 300 re-delivers 300..699: nothing changes
    assert run(processor, list(chunks(records[300:700], 150))) == []
    assert encode_checkpoint(processor.snapshot(0)) == before
    assert (monitor.events_seen, monitor.windows_closed) == (700, 0)

    # an overlapping fetch: only the new records count
    run(processor, [records[600:900]])
    assert monitor.events_seen == 900
    assert monitor.windows_closed == 1
    assert processor.offsets(0) == {PREDICTIONS: 900}


def test_processing_the_same_records_twice_changes_nothing() -> None:
    settings_a = make_settings()
    once, twice = make_processor(settings_a), make_processor(settings_a)
    once.restore(0, None)
    twice.restore(0, None)
    feed = Feed()
    records = [feed.prediction(e) for e in drift_events(1500, shift_at=1000)]
    out_once = run(once, list(chunks(records, 100)))
    out_twice: list[OutputRecord] = []
    for batch in chunks(records, 100):
        out_twice += twice.process(0, batch)
        out_twice += twice.process(0, batch)
    assert comparable(out_twice) == comparable(out_once)
    assert out_once  # the shift fired
    assert encode_checkpoint(twice.snapshot(0)) == encode_checkpoint(once.snapshot(0))


def test_records_of_a_partition_not_owned_are_ignored() -> None:
    processor = make_processor()
    processor.restore(0, None)
    feed = Feed(partition=3)
    records = [feed.prediction(e) for e in drift_events(10)]
    records.append(feed.record(PREDICTIONS, b"garbage"))
    assert processor.process(3, records) == []
    assert processor.owned == {0}
    processor.release(0)
    assert processor.process(0, records) == []
    assert processor.owned == set()


# -- drift alerts ---------------------------------------------------------------------------


def test_one_sigma_shift_raises_a_schema_valid_alert_on_the_drift_topic() -> None:
    processor = make_processor()
    processor.restore(0, None)
    feed = Feed()
    # reference: events 0..499; windows of 250: the shift at 1000 starts window 2
    records = [feed.prediction(e) for e in drift_events(1500, shift_at=1000)]
    out = run(processor, list(chunks(records, 100)))

    assert out, "a 1σ shift must be flagged"
    assert {o.topic for o in out} == {"drift-alerts", "drift-windows"}
    assert {o.key for o in out} == {b"m"}
    docs = alert_docs(out)
    for doc in docs:
        ALERT_SCHEMA.validate(doc)
    firing = [d for d in docs if d["status"] == "firing"]
    assert {d["feature"] for d in firing} == {"income"}  # nothing that did not move
    assert {d["kind"] for d in firing} == {"data_drift"}
    first = min(firing, key=lambda d: d["window"]["start"])
    assert first["window"] == {"index": 2, "start": T0 + 100.0, "end": T0 + 124.9, "count": 250}
    assert first["reference"] == {"count": 500}
    assert first["detected_at"] == NOW
    assert sample(processor, "streamdrift_windows_closed_total", {"model": "m"}) == 4
    assert sample(processor, "streamdrift_alerts_total", {"kind": "data_drift", "status": "firing"})


def test_batch_envelopes_and_single_events_give_the_same_alerts() -> None:
    events = drift_events(1500, shift_at=1000)
    single, envelope = make_processor(), make_processor()
    single.restore(0, None)
    envelope.restore(0, None)
    feed = Feed()
    out_single = run(single, list(chunks([feed.prediction(e) for e in events], 100)))
    feed = Feed()
    envelopes = []
    for i in range(0, len(events), 100):
        part = events[i : i + 100]
        batch = PredictionBatch(
            "m",
            "1",
            None,
            [e.prediction_id for e in part],
            [e.timestamp for e in part],
            {k: [e.features[k] for e in part] for k in ("income", "region")},
            [e.prediction for e in part],
        )
        envelopes.append(feed.record(PREDICTIONS, codec.encode_prediction_batch(batch)))
    out_envelope = run(envelope, [[r] for r in envelopes])
    assert out_single
    assert comparable(out_envelope) == comparable(out_single)


# -- labels ----------------------------------------------------------------------------------

CLASSIFIER_TOML = """
[models.clf.performance]
window = { kind = "time", size = 10, allowed_lateness = 0 }
min_labels = 50
"""


Message = PredictionEvent | list[FeedbackEvent] | tuple[str, bytes]


def classifier_messages(
    seconds: int, drop_at: float, *, seed: int = 3, label_share: float = 1.0
) -> list[list[Message]]:
    """One fetch per second of event time: 20 predictions of ``clf`` made that second and
    the labels of those made 2 s earlier (label delay 2 s) — single feedback messages on odd
    seconds, one ``feedback_batch`` envelope on even ones. Labels agree with the thresholded
    score 95 % of the time before ``drop_at`` seconds, 55 % after."""
    rng = np.random.default_rng(seed)
    per_second = 20
    made: dict[int, list[PredictionEvent]] = {}
    fetches: list[list[Message]] = []
    for sec in range(seconds):
        events = []
        for j in range(per_second):
            ts = T0 + sec + j / per_second
            score = float(rng.random())
            features = {"x": float(rng.normal())}
            events.append(PredictionEvent("clf", "1", f"c{sec}-{j}", ts, features, score))
        made[sec] = events
        fetch: list[Message] = list(events)
        labels = []
        for e in made.get(sec - 2, []):
            if rng.random() >= label_share:
                continue
            correct_p = 0.95 if e.timestamp - T0 < drop_at else 0.55
            predicted = int(e.prediction >= 0.5)
            label = predicted if rng.random() < correct_p else 1 - predicted
            labels.append(FeedbackEvent("clf", e.prediction_id, e.timestamp + 2.0, label))
        if labels:
            if sec % 2:
                fetch.extend([label] for label in labels)
            else:
                fetch.append(labels)
        fetches.append(fetch)
    return fetches


def to_records(fetches: list[list[Message]], feed: Feed | None = None) -> list[list[InputRecord]]:
    """The fetches as input records, offsets numbered per topic in fetch order."""
    feed = feed or Feed()
    out: list[list[InputRecord]] = []
    for fetch in fetches:
        records = []
        for message in fetch:
            if isinstance(message, PredictionEvent):
                records.append(feed.prediction(message))
            elif isinstance(message, list):
                records.append(feed.feedback(message))
            else:
                records.append(feed.record(*message))
        out.append(records)
    return out


def classifier_input(
    seconds: int, drop_at: float, *, label_share: float = 1.0
) -> list[list[InputRecord]]:
    return to_records(classifier_messages(seconds, drop_at, label_share=label_share))


def test_feedback_is_joined_and_a_degradation_alert_goes_to_the_degradation_topic(
    tmp_path: Path,
) -> None:
    processor = make_processor(write_config(tmp_path, CLASSIFIER_TOML))
    state = processor.restore(0, None)
    fetches = classifier_input(seconds=120, drop_at=60.0)
    out = run(processor, fetches)

    kinds = {json.loads(r.value or b"{}").get("kind") for f in fetches for r in f}
    assert "feedback_batch" in kinds  # envelopes and single labels both
    assert any(
        r.topic == FEEDBACK and b"feedback_batch" not in (r.value or b"")
        for f in fetches
        for r in f
    )
    assert state.labels.join.labelled["clf"] == 118 * 20
    assert sample(processor, "streamdrift_labels_joined_total", {"model": "clf"}) == 118 * 20
    monitor = state.labels.monitors[("clf", "1", None)]
    assert monitor.task == "binary"
    assert monitor.reference_count == 160  # the first window, labels of seconds 0..7

    degradation = alert_docs(out, "degradation-alerts")
    assert {o.key for o in out if o.topic == "degradation-alerts"} == {b"clf"}
    for doc in degradation:
        ALERT_SCHEMA.validate(doc)
    kinds = {d["kind"] for d in degradation if d["status"] == "firing"}
    assert "performance_degradation" in kinds
    assert kinds <= {"performance_degradation", "concept_drift"}
    drop = [d for d in degradation if d["kind"] == "performance_degradation"]
    first = min(drop, key=lambda d: d["window"]["start"])
    # labels by label time: the window [60, 70) already holds labels of predictions >= 58 s
    assert first["window"]["start"] in (T0 + 60.0, T0 + 70.0)
    assert first["detector"] == "accuracy_drop"
    assert first["value"] >= 0.05
    # the model's inputs did not move: nothing on the drift topic
    assert alert_docs(out, "drift-alerts") == []
    assert sample(
        processor, "streamdrift_model_performance", {"model": "clf", "metric": "accuracy"}
    )


LABEL_HEALTH_TOML = """
[defaults.performance]
prediction_ttl = 5
min_coverage = 0.9
coverage_period = 10

[models.clf.performance]
window = { kind = "time", size = 10, allowed_lateness = 0 }
min_labels = 50
"""


def label_health_output(tmp_path: Path) -> tuple[Processor, list[OutputRecord]]:
    processor = make_processor(write_config(tmp_path, LABEL_HEALTH_TOML))
    processor.restore(0, None)
    fetches = classifier_input(seconds=60, drop_at=1e9, label_share=0.5)
    return processor, run(processor, fetches)


def test_low_label_coverage_raises_a_label_health_alert(tmp_path: Path) -> None:
    processor, out = label_health_output(tmp_path)
    docs = [d for d in alert_docs(out) if d["kind"] == "label_health"]
    assert docs and docs[0]["status"] == "firing"
    ALERT_SCHEMA.validate(docs[0])
    # the labelled share of the predictions of one 10 s period
    assert docs[0]["value"] == pytest.approx(0.5, abs=0.1)
    assert docs[0]["threshold"] == 0.9
    # in steady state the share is the labelled share
    coverage = sample(processor, "streamdrift_label_coverage_ratio", {"model": "clf"})
    assert coverage == pytest.approx(0.5, abs=0.1)


def test_label_health_alerts_go_to_the_degradation_topic(tmp_path: Path) -> None:
    _, out = label_health_output(tmp_path)
    topics = {o.topic for o in out if json.loads(o.value).get("kind") == "label_health"}
    assert topics == {"degradation-alerts"}


# -- checkpoints -------------------------------------------------------------------------------


def mixed_input() -> list[list[InputRecord]]:
    """Drift (``m``, a shift at event 1000) and labels (``clf``, an accuracy drop at 60 s) in
    the same partition, with a few invalid messages."""
    fetches = classifier_messages(seconds=120, drop_at=60.0)
    drift = drift_events(1500, shift_at=1000, dt=0.08)
    for i in range(0, len(drift), 13):
        fetches[(i // 13) % len(fetches)].extend(drift[i : i + 13])
    fetches[5].append((PREDICTIONS, b"nope"))
    fetches[70].append((FEEDBACK, b"{}"))
    return to_records(fetches)


@pytest.mark.parametrize("cut", [1, 37, 64, 91])
def test_restored_snapshot_continues_like_the_uninterrupted_run(tmp_path: Path, cut: int) -> None:
    settings = write_config(tmp_path, CLASSIFIER_TOML)
    fetches = mixed_input()
    original = make_processor(settings)
    original.restore(0, None)
    run(original, fetches[:cut])

    snapshot = original.snapshot(0)
    json.dumps(snapshot, allow_nan=False)  # plain JSON types only
    snapshot = json.loads(json.dumps(snapshot))
    restored = make_processor(settings)
    restored.restore(0, snapshot)
    assert restored.offsets(0) == original.offsets(0)

    rest_original = run(original, fetches[cut:])
    rest_restored = run(restored, fetches[cut:])
    assert comparable(rest_restored) == comparable(rest_original)
    assert encode_checkpoint(restored.snapshot(0)) == encode_checkpoint(original.snapshot(0))
    assert alert_docs(rest_original)  # the comparison is not vacuous
    if cut < 64:
        kinds = {d["kind"] for d in alert_docs(rest_original)}
        assert {"data_drift", "performance_degradation"} <= kinds


def test_checkpoint_encoding_round_trips() -> None:
    snapshot = {
        "version": 1,
        "partition": 4,
        "offsets": {PREDICTIONS: 10, FEEDBACK: 3},
        "nested": {"list": [1, 2.5, None, "x", True], "empty": {}},
        "unicode": "drift — Δ",
    }
    raw = encode_checkpoint(snapshot)
    assert isinstance(raw, bytes)
    assert decode_checkpoint(raw) == snapshot


def test_checkpoint_of_a_real_partition_round_trips(tmp_path: Path) -> None:
    processor = make_processor(write_config(tmp_path, CLASSIFIER_TOML))
    processor.restore(0, None)
    run(processor, mixed_input()[:50])
    snapshot = processor.snapshot(0)
    decoded = decode_checkpoint(encode_checkpoint(snapshot))
    assert decoded == json.loads(json.dumps(snapshot))
    assert decoded["offsets"] == processor.offsets(0)


# -- reference profiles ---------------------------------------------------------------------

PROFILE_TOML = """
[defaults]
reference = { mode = "profile", size = 500 }
"""


def reference_profiles() -> tuple[Profiles, int]:
    settings = make_settings()
    events = drift_events(3000, seed=99)
    columns = {
        "income": [e.features["income"] for e in events],
        "region": [e.features["region"] for e in events],
        "__prediction__": [e.prediction for e in events],
    }
    return fit_profiles(columns, settings.base_spec()), len(events)


def shifted_records(partition: int) -> list[InputRecord]:
    feed = Feed(partition=partition)
    return [feed.prediction(e) for e in drift_events(250, shift_at=0)]


def first_window_alerts(processor: Processor, partition: int) -> list[dict[str, Any]]:
    out = processor.process(partition, shifted_records(partition))
    return [d for d in alert_docs(out) if d["status"] == "firing"]


def test_set_reference_applies_to_owned_and_later_restored_partitions(tmp_path: Path) -> None:
    settings = write_config(tmp_path, PROFILE_TOML)
    profiles, count = reference_profiles()
    processor = make_processor(settings)
    processor.restore(0, None)
    assert processor.set_reference("m", "1", profiles, count) == []

    # partition 0 already owned: its first window (no first-events reference) is tested
    alerts = first_window_alerts(processor, 0)
    assert {d["feature"] for d in alerts} == {"income"}
    assert {d["reference"]["count"] for d in alerts} == {count}
    monitor = processor.states[0].fleet.monitors[("m", "1", None)]
    assert monitor.reference_source == "profile"

    # partition 1, fresh, and partition 2, from a checkpoint that predates the reference
    processor.restore(1, None)
    assert {d["feature"] for d in first_window_alerts(processor, 1)} == {"income"}
    other = make_processor(settings)
    other.restore(2, None)
    snapshot = decode_checkpoint(encode_checkpoint(other.snapshot(2)))
    processor.restore(2, snapshot)
    assert {d["feature"] for d in first_window_alerts(processor, 2)} == {"income"}
    assert processor.states[2].fleet.references[("m", "1")][1] == count


def test_without_a_reference_profile_mode_waits_for_first_events(tmp_path: Path) -> None:
    processor = make_processor(write_config(tmp_path, PROFILE_TOML))
    processor.restore(0, None)
    assert first_window_alerts(processor, 0) == []  # 250 events: still the reference
    monitor = processor.states[0].fleet.monitors[("m", "1", None)]
    assert not monitor.has_reference


def test_set_reference_is_ignored_by_first_mode_monitors() -> None:
    profiles, count = reference_profiles()
    processor = make_processor()
    processor.restore(0, None)
    processor.set_reference("m", "1", profiles, count)
    assert first_window_alerts(processor, 0) == []


def test_alerts_closed_by_a_reference_applied_on_restore_are_published(tmp_path: Path) -> None:
    settings = write_config(tmp_path, PROFILE_TOML)
    profiles, count = reference_profiles()
    feed = Feed()
    records = [feed.prediction(e) for e in drift_events(1000, shift_at=0)]

    # uninterrupted: 400 shifted events held for a first-events reference, then the profile
    uninterrupted = make_processor(settings)
    uninterrupted.restore(0, None)
    out_a = uninterrupted.process(0, records[:400])
    out_a += uninterrupted.set_reference("m", "1", profiles, count)
    out_a += uninterrupted.process(0, records[400:])

    # a crash after the checkpoint at 400; the new worker read the profile before assignment
    crashed = make_processor(settings)
    crashed.restore(0, None)
    out_b = crashed.process(0, records[:400])
    snapshot = decode_checkpoint(encode_checkpoint(crashed.snapshot(0)))
    restarted = make_processor(settings)
    restarted.set_reference("m", "1", profiles, count)
    restarted.restore(0, snapshot)
    out_b += restarted.process(0, records[400:])

    ids_a = {d["alert_id"] for d in alert_docs(out_a)}
    assert ids_a  # the held shifted events drift against the profile
    assert {d["alert_id"] for d in alert_docs(out_b)} == ids_a
