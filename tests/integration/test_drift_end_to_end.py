"""End to end through the real broker: predictions in, a drift alert out on drift-alerts."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from streamdrift.devtools import simulator
from streamdrift.devtools.broker import LocalBroker
from streamdrift.devtools.simulator import Scenario
from tests.integration.kafka_helpers import read_alerts, run, running_worker, unique_settings

pytestmark = pytest.mark.integration

SHIFT_AT = 6_000  # events before the shift (reference 2,000 + 4 stationary windows)
TOTAL = 12_000
STABLE = {"age", "debt_ratio", "region", "channel"}


def _income_firing(alerts: list[dict[str, Any]]) -> bool:
    return any(a["feature"] == "income" and a["status"] == "firing" for a in alerts)


@pytest.mark.parametrize("mode", ["live", "replay"])
def test_shift_in_one_feature_raises_one_alert_naming_it(
    kafka_broker: LocalBroker, tmp_path: Path, mode: str
) -> None:
    settings = unique_settings(kafka_broker.url, tmp_path / "worker")
    scenario = Scenario(drift_after=SHIFT_AT, drift_feature="income", shift_sigmas=1.0, seed=7)
    replay_start = 1_600_000_000.0 if mode == "replay" else None

    with running_worker(settings, tmp_path / "worker.log") as worker:
        started = time.time()
        sent = run(
            simulator.run(
                settings.broker,
                scenario,
                events=TOTAL,
                rate=None if mode == "replay" else 4_000.0,
                topic=settings.topic_predictions,
                replay_start=replay_start,
            )
        )
        assert sent == TOTAL
        # every window of the run is closed once the last one is; then read all alerts
        alerts = run(read_alerts(settings, until=_income_firing, timeout=90))
        time.sleep(2.0)
        alerts = run(read_alerts(settings, until=lambda a: False, timeout=3))
        assert worker.proc.poll() is None, worker.log_text()[-3000:]

    assert _income_firing(alerts), f"no income alert; worker log:\n{worker.log_text()[-3000:]}"
    income = [a for a in alerts if a["feature"] == "income"]
    assert len(income) == 1, "one firing alert per episode, no repeats"
    alert = income[0]
    assert alert["kind"] == "data_drift"
    assert alert["model_id"] == "credit-risk" and alert["model_version"] == "7"
    assert alert["statistic"] == "psi" and alert["value"] >= alert["threshold"]
    assert alert["window"]["count"] == 1000
    # detected within 5,000 events after the shift started: the window that fired ends
    # no later than event SHIFT_AT + 5,000 (event time, so it holds at any rate)
    if mode == "replay":
        last_index = (alert["window"]["end"] - replay_start) / 0.01
        first_index = (alert["window"]["start"] - replay_start) / 0.01
        assert round(first_index) >= SHIFT_AT and round(last_index) < SHIFT_AT + 5_000
    else:
        assert started <= alert["window"]["start"] <= alert["window"]["end"] <= time.time()
    named = {a["feature"] for a in alerts if a["feature"] is not None}
    assert not named & STABLE, f"alerts on features that did not move: {named & STABLE}"
