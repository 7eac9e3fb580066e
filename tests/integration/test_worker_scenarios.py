"""Drift, degradation, dead-letter and metrics through the real broker and one worker.

One worker serves the whole module; every test uses a model id of its own, so the tests
are independent (a model's state is separate from every other model's) and the worker's
start-up is paid once.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from streamdrift import codec
from streamdrift.config.settings import Settings
from streamdrift.devtools.broker import LocalBroker
from streamdrift.engine.messages import H_OFFSET, H_REASON, H_TOPIC
from streamdrift.records import FeedbackEvent
from tests.integration import traffic
from tests.integration.kafka_helpers import (
    WorkerProcess,
    read_alerts,
    read_dead_letter,
    running_worker,
    scrape,
    unique_settings,
    wait_for,
)

pytestmark = pytest.mark.integration
WORKER_LOG = ""

CONFIG = """
[models.prof.reference]
mode = "profile"

# configured: its labels are sent before its first prediction (an unknown model's would
# go to dead-letter as unknown_model)
[models.early]

[models.clf.performance]
window = { kind = "time", size = 20.0, allowed_lateness = 5.0 }
min_labels = 200
error_detectors = ["ddm", "eddm", "hddm_a", "hddm_w", "adwin"]

[models.stable-clf.performance]
window = { kind = "time", size = 20.0, allowed_lateness = 5.0 }
min_labels = 200

# its reference performance comes from a labelled reference profile
[models.perf-prof.performance]
window = { kind = "time", size = 20.0, allowed_lateness = 5.0 }
min_labels = 200
"""


@pytest.fixture(scope="module")
def worker(
    kafka_broker: LocalBroker, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Settings, WorkerProcess]]:
    tmp = tmp_path_factory.mktemp("scenarios")
    (tmp / "models.toml").write_text(CONFIG)
    settings = unique_settings(kafka_broker.url, tmp / "state", config=str(tmp / "models.toml"))
    with running_worker(settings, tmp / "worker.log") as process:
        global WORKER_LOG
        WORKER_LOG = str(tmp / "worker.log")
        yield settings, process
        assert process.proc.poll() is None, f"the worker died:\n{process.log_text()[-3000:]}"


def alerts_of(
    settings: Settings, model: str, until: Callable[[list[dict[str, Any]]], bool], timeout: float
) -> list[dict[str, Any]]:
    topics = (settings.topic_drift_alerts, settings.topic_degradation_alerts)

    def done(alerts: list[dict[str, Any]]) -> bool:
        return until([a for a in alerts if a["model_id"] == model])

    found = traffic.run(read_alerts(settings, until=done, timeout=timeout, topics=topics))
    return [a for a in found if a["model_id"] == model]


def consumed(settings: Settings, model: str, topic: str | None = None) -> float:
    topic = topic or settings.topic_predictions
    key = f'streamdrift_events_consumed_total{{model="{model}",topic="{topic}"}}'
    return scrape(settings.metrics_port).get(key, 0.0)


def windows_closed(settings: Settings, model: str) -> float:
    return scrape(settings.metrics_port).get(
        f'streamdrift_windows_closed_total{{model="{model}"}}', 0.0
    )


def settle(settings: Settings, model: str, events: int, windows: int) -> None:
    """Wait until the worker consumed ``events`` of ``model`` and closed its windows."""
    progress = {"consumed": 0.0, "windows": 0.0}

    def done() -> bool:
        progress["consumed"] = consumed(settings, model)
        progress["windows"] = windows_closed(settings, model)
        return progress["consumed"] >= events and progress["windows"] >= windows

    assert wait_for(done, timeout=120), f"{model}: {progress} (worker log: {WORKER_LOG})"


def test_categorical_share_shift_is_flagged_on_that_feature_only(worker: Any) -> None:
    settings, _ = worker
    rng = np.random.default_rng(11)
    stable = traffic.batch("cat", 0, 6_000, rng)
    shifted = traffic.batch("cat", 6_000, 6_000, rng, region_p=(0.5, 0.25, 0.2 / 1.2, 0.1 / 1.2))
    traffic.run(traffic.publish(settings, [stable, shifted]))
    settle(settings, "cat", 12_000, 10)
    alerts = alerts_of(settings, "cat", lambda a: bool(a), timeout=30)
    time.sleep(2.0)
    alerts = alerts_of(settings, "cat", lambda a: False, timeout=3)
    # calibrated thresholds: PSI and Cohen's w share the binned chi-squared's decision, and
    # the accumulated (CUSUM) check may flag a window the per-window checks did not; this
    # shift (Cohen's w about 0.2-0.27 per 1,000-event window) sits near the budget's threshold,
    # so an episode may resolve after 3 windows below it while the shift goes on
    assert {a["feature"] for a in alerts} == {"region"}, alerts
    assert ("region", "firing") in {(a["feature"], a["status"]) for a in alerts}
    assert {a["detector"] for a in alerts} <= {"chi2", "psi", "cusum_bins"}
    assert "chi2" in {a["detector"] for a in alerts}
    for alert in alerts:
        assert alert["window"]["start"] >= traffic.T0 + 6_000 * traffic.SPACING
        assert alert["window"]["end"] < traffic.T0 + 11_000 * traffic.SPACING  # 5,000 events


def test_prediction_drift_is_its_own_kind(worker: Any) -> None:
    settings, _ = worker
    rng = np.random.default_rng(12)
    batches = [
        traffic.batch("pred", 0, 6_000, rng),
        traffic.batch("pred", 6_000, 5_000, rng, score_shift=0.2),
    ]
    traffic.run(traffic.publish(settings, batches))
    settle(settings, "pred", 11_000, 9)
    alerts = alerts_of(settings, "pred", lambda a: bool(a), timeout=30)
    assert alerts, "no prediction drift alert"
    assert {a["kind"] for a in alerts} == {"prediction_drift"}
    assert all(a["feature"] is None for a in alerts)


def test_drift_in_one_segment_names_that_segment_only(worker: Any) -> None:
    settings, _ = worker
    rng = np.random.default_rng(13)
    batches = []
    for segment in ("tenant-a", "tenant-b", "tenant-c"):
        shift = 1.0 if segment == "tenant-b" else 0.0
        batches.append(traffic.batch("seg", 0, 6_000, rng, segment=segment))
        batches.append(traffic.batch("seg", 6_000, 4_000, rng, segment=segment, income_shift=shift))
    traffic.run(traffic.publish(settings, batches))
    settle(settings, "seg", 30_000, 24)
    alerts = alerts_of(settings, "seg", lambda a: bool(a), timeout=30)
    assert alerts, "no alert for the drifted segment"
    assert {a["segment"] for a in alerts} == {"tenant-b"}
    assert "income" in {a["feature"] for a in alerts}


def test_a_new_version_gets_its_own_reference_and_no_alert(worker: Any) -> None:
    settings, _ = worker
    rng = np.random.default_rng(14)
    v1 = traffic.batch("ver", 0, 5_000, rng, version="1")
    # version 2 serves another population (richer, other regions), stable within itself
    v2 = traffic.batch(
        "ver", 5_000, 8_000, rng, version="2", income_shift=1.5, region_p=(0.1, 0.2, 0.3, 0.4)
    )
    traffic.run(traffic.publish(settings, [v1, v2]))
    settle(settings, "ver", 13_000, 9)
    time.sleep(2.0)
    assert alerts_of(settings, "ver", lambda a: False, timeout=3) == []


def test_stationary_200k_events_with_20_features_raise_no_alert(worker: Any) -> None:
    settings, _ = worker
    rng = np.random.default_rng(15)
    batches = [traffic.batch("stat", i, 5_000, rng, features=17) for i in range(0, 200_000, 5_000)]
    assert len(batches[0].features) == 20
    traffic.run(traffic.publish(settings, batches))
    settle(settings, "stat", 200_000, 198)
    assert alerts_of(settings, "stat", lambda a: False, timeout=3) == []


def test_accuracy_drop_with_late_labels_raises_degradation_and_concept_drift(
    worker: Any,
) -> None:
    settings, _ = worker
    predictions, feedback = traffic.classifier("clf", 40_000, 20_000, 0.90, 0.65, seed=16)
    traffic.run(traffic.publish(settings, [predictions]))
    traffic.run(traffic.publish_feedback(settings, feedback))

    def degraded(alerts: list[dict[str, Any]]) -> bool:
        return any(a["kind"] == "performance_degradation" for a in alerts)

    alerts = alerts_of(settings, "clf", degraded, timeout=120)
    drops = [a for a in alerts if a["kind"] == "performance_degradation"]
    assert drops, f"no degradation alert: {alerts}"
    drop = drops[0]
    assert drop["statistic"] == "accuracy_drop" and drop["status"] == "firing"
    assert drop["value"] >= drop["threshold"] and drop["p_value"] < 0.01
    # labels from the change on: the window that fired starts after the change's label time
    assert drop["window"]["end"] > traffic.T0 + 20_000 * traffic.SPACING + 3.0
    # the scores moved too (the predicted-positive share goes from 34 % to 44 %): with
    # calibrated thresholds that is flagged as prediction drift, as it should be
    assert {a["kind"] for a in alerts} <= {
        "performance_degradation",
        "concept_drift",
        "prediction_drift",
    }
    for a in alerts:
        print(a["kind"], a["detector"], a["message"])


def test_labels_before_predictions_are_joined(worker: Any) -> None:
    settings, _ = worker
    predictions, feedback = traffic.classifier("early", 3_000, 3_000, 0.9, 0.9, seed=17)
    traffic.run(traffic.publish_feedback(settings, feedback))
    time.sleep(1.0)  # the labels are consumed first and wait for their predictions
    traffic.run(traffic.publish(settings, [predictions]))
    key = 'streamdrift_labels_joined_total{model="early"}'
    assert wait_for(lambda: scrape(settings.metrics_port).get(key) == 3_000, timeout=60), scrape(
        settings.metrics_port
    ).get(key)


def test_a_stable_model_with_late_labels_raises_nothing(worker: Any) -> None:
    settings, _ = worker
    predictions, feedback = traffic.classifier("stable-clf", 30_000, 30_000, 0.9, 0.9, seed=18)
    traffic.run(traffic.publish(settings, [predictions]))
    traffic.run(traffic.publish_feedback(settings, feedback))
    key = 'streamdrift_labels_joined_total{model="stable-clf"}'
    assert wait_for(lambda: scrape(settings.metrics_port).get(key) == 30_000, timeout=90)
    time.sleep(2.0)
    assert alerts_of(settings, "stable-clf", lambda a: False, timeout=3) == []
    metric = 'streamdrift_model_performance{metric="accuracy",model="stable-clf"}'
    assert 0.85 < scrape(settings.metrics_port)[metric] < 0.95


def test_invalid_messages_go_to_dead_letter_with_reason_and_valid_ones_are_monitored(
    worker: Any,
) -> None:
    settings, _ = worker
    valid = traffic.rows(traffic.batch("dlq", 0, 3_000, np.random.default_rng(19)))
    bad = {
        b"{not json": "not_json",
        b'{"model_id": "dlq", "model_version": "1", "prediction_id": "x", "timestamp": NaN,'
        b' "features": {}}': "not_json",
        codec.dumps(
            {"model_id": "dlq", "model_version": "1", "timestamp": 1.7e9, "features": {}}
        ): "missing_field",
        codec.dumps(
            {
                "model_id": "dlq",
                "model_version": "1",
                "prediction_id": "y",
                "timestamp": "yesterday",
                "features": {},
            }
        ): "wrong_type",
        codec.dumps([1, 2, 3]): "not_object",
        codec.dumps({"schema_version": 9, "model_id": "dlq"}): "unknown_schema_version",
    }
    messages = [(b"dlq", codec.encode_prediction(e)) for e in valid]
    for i, raw in enumerate(bad):
        messages.insert(500 * i + 7, (b"dlq", raw))
    traffic.run(traffic.publish_raw(settings, settings.topic_predictions, messages))
    dead = traffic.run(read_dead_letter(settings, len(bad)))
    assert {r["value"]: r["headers"][H_REASON].decode() for r in dead} == bad
    for r in dead:
        assert r["headers"][H_TOPIC].decode() == settings.topic_predictions
        assert int(r["headers"][H_OFFSET]) >= 0
    settle(settings, "dlq", 3_000, 1)
    assert consumed(settings, "dlq") == 3_000


def test_metrics_count_what_was_produced(worker: Any) -> None:
    settings, _ = worker
    rng = np.random.default_rng(20)
    batches = [traffic.batch("count", i, 1_000, rng) for i in range(0, 7_000, 1_000)]
    traffic.run(traffic.publish(settings, batches, envelopes=False))
    settle(settings, "count", 7_000, 5)
    metrics = scrape(settings.metrics_port)
    assert consumed(settings, "count") == 7_000
    assert windows_closed(settings, "count") == 5  # (7,000 - 2,000 reference) / 1,000
    assert metrics["streamdrift_worker_up"] == 1.0
    assert metrics["streamdrift_partitions_owned"] == 8.0
    lag = [v for k, v in metrics.items() if k.startswith("streamdrift_consumer_lag{")]
    assert lag and all(v >= 0 for v in lag)


def test_a_published_reference_profile_is_the_reference(worker: Any, tmp_path: Path) -> None:
    import csv
    import subprocess
    import sys

    settings, _ = worker
    rng = np.random.default_rng(21)
    training = traffic.batch("prof", 0, 3_000, rng)
    path = tmp_path / "training.csv"
    with path.open("w", newline="") as f:
        out = csv.writer(f)
        out.writerow(["id", *training.features, "prediction"])
        for i in range(len(training)):
            out.writerow([i, *(v[i] for v in training.features.values()), training.predictions[i]])
    cli = [
        sys.executable,
        "-m",
        "streamdrift",
        "reference",
        "build",
        "--model",
        "prof",
        "--version",
        "1",
        "--from",
        str(path),
        "--ignore",
        "id",
        "--broker",
        settings.broker,
        "--topic-references",
        settings.topic_references,
    ]
    done = subprocess.run(cli, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert "profiled 3000 rows" in done.stdout
    # live traffic is shifted from the start: only a reference from the file can tell
    traffic.run(traffic.publish(settings, [traffic.batch("prof", 0, 3_000, rng, income_shift=1.0)]))
    alerts = alerts_of(settings, "prof", lambda a: bool(a), timeout=60)
    income = [a for a in alerts if a["feature"] == "income"]
    assert income, alerts
    assert income[0]["reference"]["count"] == 3_000
    assert income[0]["window"]["start"] < traffic.T0 + 1_000 * traffic.SPACING  # first window


def test_a_labelled_reference_profile_is_the_reference_performance(
    worker: Any, tmp_path: Path
) -> None:
    """A model that is worse live than on its validation set from its very first label:
    a first-labelled-window reference would take the worse accuracy as normal; the
    profile's performance (built with --label-column) reveals the drop at once."""
    import csv
    import re
    import subprocess
    import sys

    settings, process = worker
    validation, truth = traffic.classifier("perf-prof", 3_000, 3_000, 0.9, 0.9, seed=25)
    path = tmp_path / "validation.csv"
    with path.open("w", newline="") as f:
        out = csv.writer(f)
        out.writerow(["id", "x", "prediction", "label"])
        for i, label in enumerate(truth):
            out.writerow([i, validation.features["x"][i], validation.predictions[i], label.label])
    cli = [
        sys.executable,
        "-m",
        "streamdrift",
        "reference",
        "build",
        "--model",
        "perf-prof",
        "--version",
        "1",
        "--from",
        str(path),
        "--ignore",
        "id",
        "--label-column",
        "label",
        "--config",
        settings.config,
        "--broker",
        settings.broker,
        "--topic-references",
        settings.topic_references,
    ]
    done = subprocess.run(cli, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert "reference performance (binary) on 3000 labelled rows" in done.stdout, done.stdout
    reference = re.search(r"accuracy (\d\.\d+)", done.stdout)
    assert reference and 0.88 < float(reference[1]) < 0.92, done.stdout
    assert wait_for(
        lambda: "reference profile for perf-prof v1" in process.log_text(), timeout=30
    ), f"the worker did not take the profile (worker log: {WORKER_LOG})"

    # accuracy 0.65 from the first prediction on: no labelled window is as good as 0.9
    predictions, feedback = traffic.classifier("perf-prof", 20_000, 0, 0.65, 0.65, seed=26)
    traffic.run(traffic.publish(settings, [predictions]))
    traffic.run(traffic.publish_feedback(settings, feedback))

    def degraded(alerts: list[dict[str, Any]]) -> bool:
        return any(a["kind"] == "performance_degradation" for a in alerts)

    alerts = alerts_of(settings, "perf-prof", degraded, timeout=120)
    drops = [a for a in alerts if a["kind"] == "performance_degradation"]
    assert drops, f"no degradation alert: {alerts} (worker log: {WORKER_LOG})"
    drop = drops[0]
    assert (drop["statistic"], drop["status"]) == ("accuracy_drop", "firing"), drop
    assert drop["value"] >= drop["threshold"] and drop["p_value"] < 0.01, drop
    assert drop["reference"]["count"] == 3_000, drop
    message = drop["message"]
    assert re.search(r"accuracy 0\.6\d\d vs 0\.(89|9[01])\d in the reference profile", message), (
        message
    )
    assert all("first labelled window" not in a["message"] for a in alerts), alerts
    # the first labelled window fires (a first-window reference would have been that window)
    assert drop["window"]["start"] < traffic.T0 + 20.0, drop["window"]
    # the scores moved too (the predicted-positive share goes from 34 % to 44 %): with
    # calibrated thresholds that is flagged as prediction drift, as it should be; and the
    # label-free estimate from the profile's calibration may see P(y|x) move
    # (estimator_divergence)
    expected = {
        "performance_degradation",
        "concept_drift",
        "prediction_drift",
        "estimator_divergence",
    }
    assert {a["kind"] for a in alerts} <= expected, alerts
    for a in alerts:
        print(a["kind"], a["detector"], a["message"])


def test_the_sync_client_publishes_envelopes_and_label_batches(worker: Any) -> None:
    from streamdrift.client import SyncPredictionClient

    settings, _ = worker
    predictions, feedback = traffic.classifier("sync", 2_500, 2_500, 0.9, 0.9, seed=22)
    with SyncPredictionClient(
        settings.broker,
        topic=settings.topic_predictions,
        feedback_topic=settings.topic_feedback,
        envelopes=True,
        max_batch_size=400,
    ) as client:
        for event in traffic.rows(predictions):
            client.publish(event)
        for label in feedback:
            client.publish_feedback(label)
    assert client.sent_events == 5_000
    key = 'streamdrift_labels_joined_total{model="sync"}'
    # the labels follow their predictions closely, and a fetch may return them first: they
    # are held until the model's predictions are read (engine/held_feedback.py), never
    # dead-lettered as an unknown model's
    assert wait_for(lambda: scrape(settings.metrics_port).get(key) == 2_500, timeout=60), (
        scrape(settings.metrics_port).get(key),
        WORKER_LOG,
    )
    assert consumed(settings, "sync") == 2_500
    assert consumed(settings, "sync", settings.topic_feedback) == 2_500


def _malformed() -> Any:
    """Messages the codec must reject: random bytes, random JSON, a valid event or envelope
    with one field replaced by random JSON (kept only when it is really invalid)."""
    from hypothesis import strategies as st

    text = st.text(st.characters(exclude_categories=("Cs",)), max_size=20)  # JSON-encodable
    scalars = (
        st.none()
        | st.booleans()
        | st.integers(-(2**63), 2**63 - 1)
        | st.floats(allow_nan=False, allow_infinity=False)
        | text
    )
    json_values = st.recursive(
        scalars,
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(text, inner, max_size=3),
        max_leaves=8,
    )
    event = {
        "model_id": "fuzz",
        "model_version": "1",
        "prediction_id": "x",
        "timestamp": 1.7e9,
        "features": {"a": 1.0},
        "prediction": 0.5,
    }
    broken_event = st.builds(
        lambda key, value: codec.dumps({**event, key: value}),
        st.sampled_from(sorted(event)),
        json_values,
    )
    candidates = st.binary(max_size=200) | json_values.map(codec.dumps) | broken_event

    def invalid(raw: bytes) -> bool:
        try:
            codec.decode_prediction(raw)
        except codec.DecodeError:
            return True
        return False

    return candidates.filter(invalid)


def test_fuzzed_malformed_messages_all_reach_dead_letter_and_valid_ones_are_monitored(
    worker: Any,
) -> None:
    from hypothesis import HealthCheck, Phase, given
    from hypothesis import settings as hsettings
    from hypothesis import strategies as st

    settings, process = worker
    rng = np.random.default_rng(23)
    rounds = iter(range(100))

    # no shrinking: each example is a round trip through the broker, and a failure is
    # reported with its example as it is
    @hsettings(
        max_examples=3,
        deadline=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.reuse, Phase.generate],
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    @given(st.lists(_malformed(), min_size=20, max_size=60))
    def run(bad: list[bytes]) -> None:
        model = f"fuzz-{next(rounds)}"
        valid = [
            (model.encode(), codec.encode_prediction(e))
            for e in traffic.rows(traffic.batch(model, 0, 3_000, rng))
        ]
        messages = list(valid)
        for i, raw in enumerate(bad):
            messages.insert((i * 97) % len(messages), (model.encode(), raw))
        traffic.run(traffic.publish_raw(settings, settings.topic_predictions, messages))
        settle(settings, model, 3_000, 1)  # the last message is a valid one
        assert consumed(settings, model) == 3_000
        dead = [
            r
            for r in traffic.run(read_dead_letter(settings, 10**9, timeout=6))
            if r["key"] == model.encode()
        ]
        assert sorted(r["value"] for r in dead) == sorted(bad)
        assert all(r["headers"][H_REASON] for r in dead)

    run()
    assert process.proc.poll() is None
    assert scrape(settings.metrics_port)["streamdrift_worker_up"] == 1.0


def test_feedback_for_an_unknown_model_goes_to_dead_letter(worker: Any) -> None:
    """Labels for a model that is not configured and has sent no prediction to their
    partition: held until the partition was read to the end of its predictions (here: those
    of an anchor model, whose key the labels carry), then dead-lettered."""
    settings, _ = worker
    anchor = traffic.batch("unk-anchor", 0, 500, np.random.default_rng(24))
    traffic.run(traffic.publish(settings, [anchor]))
    assert wait_for(lambda: consumed(settings, "unk-anchor") == 500, timeout=60)
    label = codec.encode_feedback(FeedbackEvent("ghost", "g-1", traffic.T0 + 1.0, 1))
    traffic.run(traffic.publish_raw(settings, settings.topic_feedback, [(b"unk-anchor", label)]))
    key = 'streamdrift_dead_letter_total{reason="unknown_model"}'
    assert wait_for(lambda: scrape(settings.metrics_port).get(key) == 1.0, timeout=60), (
        scrape(settings.metrics_port).get(key),
        WORKER_LOG,
    )
    dead = [
        r
        for r in traffic.run(read_dead_letter(settings, 10**9, timeout=6))
        if r["key"] == b"unk-anchor"
    ]
    assert [(r["value"], r["headers"][H_REASON]) for r in dead] == [(label, b"unknown_model")]
    assert dead[0]["headers"][H_TOPIC].decode() == settings.topic_feedback
