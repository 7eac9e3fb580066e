"""Through the real broker: a replayed file whose shift lies only in its last, partial
window raises its alert after ``streamdrift end-of-input`` (and not before)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from streamdrift.client import PredictionClient
from streamdrift.devtools import simulator
from streamdrift.devtools.broker import LocalBroker
from streamdrift.devtools.simulator import Scenario
from tests.integration.kafka_helpers import (
    read_alerts,
    run,
    running_worker,
    scrape,
    unique_settings,
    wait_for,
)

pytestmark = pytest.mark.integration

# reference 2,000 + 2 full windows of 1,000, then 600 shifted events: a partial window
SHIFT_AT, TOTAL = 4_000, 4_600
REPLAY_START = 1_600_000_000.0


async def publish_without_marker(broker: str, topic: str, scenario: Scenario) -> int:
    async with PredictionClient(broker, topic=topic, envelopes=True) as client:
        stamps = simulator.generate(scenario, TOTAL, timestamp=lambda i: REPLAY_START + i * 0.01)
        for event in stamps:
            await client.publish(event)
        await client.flush()
        return client.sent_events


def _firing(alerts: list[dict[str, Any]]) -> bool:
    return any(a["feature"] == "income" and a["status"] == "firing" for a in alerts)


def test_a_shift_in_the_last_partial_window_alerts_after_end_of_input(
    kafka_broker: LocalBroker, tmp_path: Path
) -> None:
    settings = unique_settings(kafka_broker.url, tmp_path / "worker")
    scenario = Scenario(drift_after=SHIFT_AT, drift_feature="income", shift_sigmas=1.0, seed=3)
    consumed = (
        "streamdrift_events_consumed_total"
        f'{{model="credit-risk",topic="{settings.topic_predictions}"}}'
    )
    with running_worker(settings, tmp_path / "worker.log") as worker:
        sent = run(publish_without_marker(settings.broker, settings.topic_predictions, scenario))
        assert sent == TOTAL
        assert wait_for(lambda: scrape(settings.metrics_port)[consumed] >= TOTAL, 90), (
            worker.log_text()[-3000:]
        )
        time.sleep(2.0)
        before = run(read_alerts(settings, until=lambda a: False, timeout=3))
        assert before == [], "the partial window was tested without a marker"

        env = {k: v for k, v in os.environ.items() if not k.startswith("STREAMDRIFT_")}
        command = [
            sys.executable,
            "-m",
            "streamdrift",
            "end-of-input",
            "--model",
            "credit-risk",
            "--broker",
            settings.broker,
            "--topic-predictions",
            settings.topic_predictions,
        ]
        done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=60)
        assert done.returncode == 0, done.stderr
        alerts = run(read_alerts(settings, until=_firing, timeout=60))
        assert worker.proc.poll() is None, worker.log_text()[-3000:]

    assert _firing(alerts), f"no alert after the marker; log:\n{worker.log_text()[-3000:]}"
    (alert,) = [a for a in alerts if a["feature"] == "income"]
    assert alert["kind"] == "data_drift"
    assert alert["window"]["count"] == TOTAL - SHIFT_AT
    assert alert["window"]["partial"] is True
    assert round((alert["window"]["start"] - REPLAY_START) / 0.01) == SHIFT_AT
    # the score is a function of income: the prediction drifts with it, nothing else does
    assert {(a["kind"], a["feature"]) for a in alerts} <= {
        ("data_drift", "income"),
        ("prediction_drift", None),
    }
    assert all(a["window"]["partial"] for a in alerts)
