"""Real feeds through the broker: a boolean feature profiled from a CSV and sent as JSON,
the class a model decided beside its score, a misspelt field."""

from __future__ import annotations

import csv
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from streamdrift import codec
from streamdrift.config.settings import Settings
from streamdrift.devtools.broker import LocalBroker
from streamdrift.engine.messages import H_ERROR, H_REASON
from streamdrift.records import FeedbackEvent, PredictionEvent
from tests.integration import traffic
from tests.integration.kafka_helpers import (
    WorkerProcess,
    model_alerts,
    read_dead_letter,
    running_worker,
    scrape,
    unique_settings,
    wait_for,
)

pytestmark = pytest.mark.integration

CONFIG = """
[models.flags.reference]
mode = "profile"

[models.decided.performance]
window = { kind = "time", size = 20.0, allowed_lateness = 5.0 }
min_labels = 200
"""


@pytest.fixture(scope="module")
def worker(
    kafka_broker: LocalBroker, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Settings, WorkerProcess]]:
    tmp = tmp_path_factory.mktemp("feed-values")
    (tmp / "models.toml").write_text(CONFIG)
    settings = unique_settings(kafka_broker.url, tmp / "state", config=str(tmp / "models.toml"))
    with running_worker(settings, tmp / "worker.log") as process:
        yield settings, process
        assert process.proc.poll() is None, f"the worker died:\n{process.log_text()[-3000:]}"


def metric(settings: Settings, name: str, missing: float = 0.0) -> float:
    """A sample of the worker's /metrics, by name with its labels in alphabetical order."""
    return scrape(settings.metrics_port).get(name, missing)


def test_a_csv_boolean_feature_replayed_as_json_events_does_not_drift(
    worker: Any, tmp_path: Path
) -> None:
    """``reference build`` from a CSV whose boolean column is written ``True``/``False``
    (as pandas and Python write it), then the same kind of rows as JSON events with JSON
    booleans: before the fix every window read PSI ≈ 17.7 on the unchanged feature."""
    settings, process = worker
    rng = np.random.default_rng(31)
    n = 6_000
    member = (rng.random(2 * n) < 0.3).tolist()
    income = rng.normal(52_000, 12_000, 2 * n).round(2)
    income[n + 3_000 :] += 12_000  # a control: the last 3,000 live events shift income
    path = tmp_path / "training.csv"
    with path.open("w", newline="") as f:
        out = csv.writer(f)
        out.writerow(["member", "income"])
        out.writerows(zip(member[:n], income[:n].tolist(), strict=True))
    assert "True" in path.read_text()
    cli = [sys.executable, "-m", "streamdrift", "reference", "build", "--model", "flags"]
    cli += ["--version", "1", "--from", str(path), "--broker", settings.broker]
    cli += ["--topic-references", settings.topic_references]
    done = subprocess.run(cli, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert wait_for(lambda: "reference profile for flags v1" in process.log_text(), timeout=30)

    live = [
        PredictionEvent(
            "flags",
            "1",
            f"flags-{i}",
            traffic.T0 + i * traffic.SPACING,
            {"member": member[n + i], "income": float(income[n + i])},
        )
        for i in range(n)
    ]
    traffic.run(_publish_events(settings, live))
    alerts = model_alerts(settings, "flags", lambda a: any(x["feature"] == "income" for x in a), 90)
    assert any(a["feature"] == "income" for a in alerts), "the control (income) never fired"
    assert [a for a in alerts if a["feature"] == "member"] == []
    windows = metric(settings, 'streamdrift_windows_closed_total{model="flags"}')
    assert windows >= 5, windows
    psi = metric(
        settings, 'streamdrift_drift_statistic{feature="member",model="flags",test="psi"}', -1.0
    )
    assert 0 <= psi < 0.05, psi


async def _publish_events(settings: Settings, events: list[PredictionEvent]) -> None:
    from streamdrift.client import PredictionClient

    async with PredictionClient(settings.broker, topic=settings.topic_predictions) as client:
        for event in events:
            await client.publish(event)


def test_the_verdicts_follow_the_class_the_model_decided(worker: Any) -> None:
    """Scores that never move; at prediction 6,000 a business rule lowers the model's own
    threshold from 0.5 to 0.3, and the labels follow the decided class (90 % right
    throughout). The decided class drifts (prediction_drift on ``predicted_label``), the
    score does not; thresholding the score at ``score_threshold`` 0.5 would have judged
    accuracy to fall to ~0.6 (a degradation alert): the decided class says it did not."""
    settings, _ = worker
    rng = np.random.default_rng(32)
    n = 12_000
    scores = rng.beta(2, 5, n).round(4)
    threshold = np.where(np.arange(n) < 6_000, 0.5, 0.3)
    decided = (scores >= threshold).astype(int)
    truth = np.where(rng.random(n) < 0.9, decided, 1 - decided)
    events = [
        PredictionEvent(
            "decided",
            "1",
            f"decided-{i}",
            traffic.T0 + i * traffic.SPACING,
            {"x": float(rng.normal())},
            float(scores[i]),
            predicted_label=int(decided[i]),
        )
        for i in range(n)
    ]
    labels = [
        FeedbackEvent("decided", e.prediction_id, e.timestamp + 3.0, int(truth[i]))
        for i, e in enumerate(events)
    ]
    traffic.run(_publish_events(settings, events))
    traffic.run(traffic.publish_feedback(settings, labels))

    def joined() -> bool:
        return metric(settings, 'streamdrift_labels_joined_total{model="decided"}') >= n

    assert wait_for(joined, timeout=120)
    alerts = model_alerts(
        settings, "decided", lambda a: any(x["kind"] == "prediction_drift" for x in a), 60
    )
    drift = [a for a in alerts if a["kind"] == "prediction_drift"]
    assert drift and {a["feature"] for a in drift} == {"predicted_label"}, alerts
    assert drift[0]["window"]["start"] >= traffic.T0 + 6_000 * traffic.SPACING
    assert "the predicted class" in drift[0]["message"]
    assert not [a for a in alerts if a["kind"] == "performance_degradation"], alerts
    key = 'streamdrift_model_performance{metric="accuracy",model="decided"}'
    assert wait_for(lambda: metric(settings, key) > 0, timeout=30), "no accuracy exported"
    assert 0.85 < metric(settings, key) < 0.95, metric(settings, key)


def test_a_misspelt_field_goes_to_dead_letter_naming_it(worker: Any) -> None:
    settings, _ = worker
    good = codec.loads(
        codec.encode_prediction(
            traffic.rows(traffic.batch("typo", 0, 1, np.random.default_rng(1)))[0]
        )
    )
    bad = {**{k: v for k, v in good.items() if k != "prediction"}, "predicton": 0.4}
    traffic.run(
        traffic.publish_raw(settings, settings.topic_predictions, [(b"typo", codec.dumps(bad))])
    )
    (record,) = traffic.run(read_dead_letter(settings, 1))
    assert record["headers"][H_REASON] == b"unknown_field"
    assert record["headers"][H_ERROR] == b"unknown field 'predicton' (did you mean 'prediction'?)"
    assert record["value"] == codec.dumps(bad)
    counted = (
        f'streamdrift_decode_failures_total{{reason="unknown_field",'
        f'topic="{settings.topic_predictions}"}}'
    )
    assert wait_for(lambda: metric(settings, counted) == 1, timeout=10), counted
