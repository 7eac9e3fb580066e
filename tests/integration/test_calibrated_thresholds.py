"""Thresholds from the reference, through the real broker and one worker (issue #13).

* An ordered real dataset (FiveThirtyEight's daily approval polls, shipped in River, rows in
  date order) and an ordered AR(1) φ = 0.9 stream: their reference rows, replayed as live
  traffic, raise nothing; the same replay under the previous defaults
  (``threshold_mode = "fixed"``) floods, so the test can fail.
* A stable classifier whose accuracy falls by 3 points (0.95 → 0.92) on windows of 5,000
  labels raises ``performance_degradation``; the previous fixed 5-point margin does not.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from load.ar1 import ar1_dataset
from load.datasets import Dataset, load, prediction_events

from streamdrift.config.settings import Settings
from streamdrift.devtools.broker import LocalBroker
from tests.integration import traffic
from tests.integration.kafka_helpers import (
    WorkerProcess,
    model_alerts,
    running_worker,
    scrape,
    unique_settings,
    wait_for,
)

pytestmark = pytest.mark.integration

APPROVAL_ROWS = 1001
AR1_REFERENCE = 20_000

CONFIG = f"""
[models.approval]
reference = {{ size = {APPROVAL_ROWS} }}
window = {{ size = 100 }}

[models.approval-fixed]
threshold_mode = "fixed"
reference = {{ size = {APPROVAL_ROWS} }}
window = {{ size = 100 }}

[models.ar1]
reference = {{ size = {AR1_REFERENCE} }}

[models.drop3.performance]
window = {{ kind = "count", size = 5000 }}
min_labels = 200
error_detectors = []

[models.drop3-fixed]
threshold_mode = "fixed"

[models.drop3-fixed.performance]
window = {{ kind = "count", size = 5000 }}
min_labels = 200
error_detectors = []
"""


@pytest.fixture(scope="module")
def worker(
    kafka_broker: LocalBroker, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Settings, WorkerProcess]]:
    tmp = tmp_path_factory.mktemp("calibrated")
    (tmp / "models.toml").write_text(CONFIG)
    settings = unique_settings(kafka_broker.url, tmp / "state", config=str(tmp / "models.toml"))
    with running_worker(settings, tmp / "worker.log") as process:
        yield settings, process
        assert process.proc.poll() is None, f"the worker died:\n{process.log_text()[-3000:]}"


def windows_closed(settings: Settings, model: str) -> float:
    key = f'streamdrift_windows_closed_total{{model="{model}"}}'
    return scrape(settings.metrics_port).get(key, 0.0)


def replay_twice(settings: Settings, dataset: Dataset, model: str) -> int:
    """The rows as the version's first events (its reference), then the same rows again as
    live traffic, at the dataset's own clock; returns the live windows expected."""
    x = dataset.columns[dataset.numeric[0]]
    z = (x - np.nanmean(x)) / np.nanstd(x)
    scores = np.round(1.0 / (1.0 + np.exp(-np.nan_to_num(z))), 4)  # a model's score, ordered too
    spacing = dataset.seconds_per_row
    first = prediction_events(dataset, model_id=model, spacing=spacing, scores=scores)
    again = prediction_events(
        dataset, model_id=model, spacing=spacing, first_index=len(dataset), scores=scores
    )
    traffic.run(traffic.publish(settings, first.batches + again.batches))
    return len(dataset)


def test_replaying_an_ordered_datasets_reference_raises_nothing(worker: Any) -> None:
    settings, process = worker
    approval = load("trump_approval")
    assert approval.ordered and len(approval) == APPROVAL_ROWS
    stream = ar1_dataset(AR1_REFERENCE, 0.9, features=5, seed=31)
    for model, dataset in (("approval", approval), ("approval-fixed", approval), ("ar1", stream)):
        replay_twice(settings, dataset, model)
    expected = {"approval": 10, "approval-fixed": 10, "ar1": AR1_REFERENCE // 1000}
    for model, windows in expected.items():
        assert wait_for(lambda m=model, w=windows: windows_closed(settings, m) >= w, 120), (
            f"{model}: {windows_closed(settings, model)} windows; {process.log_text()[-2000:]}"
        )
    time.sleep(2.0)
    assert model_alerts(settings, "approval", lambda a: False, timeout=3) == []
    assert model_alerts(settings, "ar1", lambda a: False, timeout=3) == []
    # the previous defaults (effect gates and i.i.d. tests) flood on the same replay
    flood = model_alerts(settings, "approval-fixed", lambda a: len(a) >= 5, timeout=10)
    assert len({a["feature"] for a in flood if a["status"] == "firing"}) >= 3


def labels_joined(settings: Settings, model: str) -> float:
    key = f'streamdrift_labels_joined_total{{model="{model}"}}'
    return scrape(settings.metrics_port).get(key, 0.0)


def test_a_three_point_accuracy_drop_on_5000_labels_raises_degradation(worker: Any) -> None:
    settings, _ = worker
    for model in ("drop3", "drop3-fixed"):
        predictions, feedback = traffic.classifier(model, 40_000, 20_000, 0.95, 0.92, seed=33)
        traffic.run(traffic.publish(settings, [predictions]))
        traffic.run(traffic.publish_feedback(settings, feedback))

    def degraded(alerts: list[dict[str, Any]]) -> bool:
        return any(a["kind"] == "performance_degradation" for a in alerts)

    alerts = model_alerts(settings, "drop3", degraded, timeout=120)
    drops = [a for a in alerts if a["kind"] == "performance_degradation"]
    assert drops, f"no degradation alert: {alerts}"
    drop = drops[0]
    assert drop["statistic"] == "accuracy_drop" and drop["status"] == "firing"
    assert 0.015 < drop["value"] < 0.05 and drop["value"] >= drop["threshold"]
    assert "1 false alert per 30 days" in drop["message"]
    # the window that fired holds labels of predictions after the change (5,000 per window:
    # windows 0-3 before it, window 4 the first after)
    assert drop["window"]["start"] >= traffic.T0 + 20_000 * traffic.SPACING
    assert {a["kind"] for a in alerts} == {"performance_degradation"}
    # the previous default, a fixed 5-point margin, stays silent on the same drop
    assert wait_for(lambda: labels_joined(settings, "drop3-fixed") >= 40_000, timeout=90)
    time.sleep(2.0)
    assert model_alerts(settings, "drop3-fixed", lambda a: False, timeout=3) == []
