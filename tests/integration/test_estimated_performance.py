"""Through the real broker: label-free performance estimates (CBPE).

``reference build --label-column`` publishes a profile with a score calibration for two
binary models. Model ``drop``: its scores move toward 0.5 (accuracy falls) and its labels
are 60 s of event time late: ``estimated_performance`` fires from the predictions alone,
before any label of the bad period exists (they are published only afterwards), and the
realized degradation follows once they arrive. Model ``shift``: scores as on the
reference, 30 % of labels flipped (P(y|x) moved): the estimate sees nothing, the
comparison with the realized accuracy raises ``estimator_divergence``.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from load import cbpe_eval

from streamdrift.devtools.broker import LocalBroker
from streamdrift.records import FeedbackEvent, PredictionBatch
from tests.integration import traffic
from tests.integration.kafka_helpers import (
    firing,
    read_alerts,
    running_worker,
    scrape,
    unique_settings,
    wait_for,
)

pytestmark = pytest.mark.integration

CONFIG = """
[defaults.performance.window]
kind = "time"
size = 20.0
allowed_lateness = 2.0
"""
GOOD, BAD = 20_000, 10_000  # predictions of `drop` before and after its scores move
SHIFTED = 20_000  # predictions of `shift`, every label drawn then 30 % flipped
DROP_DELAY, SHIFT_DELAY = 60.0, 2.0  # label delay, seconds of event time


def predictions(model: str, scores: np.ndarray) -> PredictionBatch:
    n = scores.size
    return PredictionBatch(
        model, "1", None, [f"{model}-{i}" for i in range(n)],
        [traffic.T0 + i * traffic.SPACING for i in range(n)], {}, scores.round(4).tolist(),
    )  # fmt: skip


def feedback(b: PredictionBatch, labels: np.ndarray, delay: float) -> list[FeedbackEvent]:
    return [
        FeedbackEvent(b.model_id, b.prediction_ids[i], b.timestamps[i] + delay, int(labels[i]))
        for i in range(len(b))
    ]


def test_estimate_fires_before_labels_and_divergence_flags_a_concept_shift(
    kafka_broker: LocalBroker, tmp_path: Path
) -> None:
    (tmp_path / "models.toml").write_text(CONFIG)
    settings = unique_settings(
        kafka_broker.url, tmp_path / "state", config=str(tmp_path / "models.toml")
    )
    rng = np.random.default_rng(15)
    ref_scores = cbpe_eval.scores_of(rng, 20_000).round(4)
    ref_labels = cbpe_eval.labels_of(rng, ref_scores)
    path = tmp_path / "reference.csv"
    with path.open("w", newline="") as f:
        out = csv.writer(f)
        out.writerow(["prediction", "y"])
        out.writerows(zip(ref_scores.tolist(), ref_labels.tolist(), strict=True))
    scores = np.concatenate([cbpe_eval.scores_of(rng, GOOD), cbpe_eval.scores_of(rng, BAD, 0.6)])
    drop = predictions("drop", scores)
    drop_labels = cbpe_eval.labels_of(rng, scores.round(4))
    shift = predictions("shift", cbpe_eval.scores_of(rng, SHIFTED))
    shift_labels = cbpe_eval.labels_of(rng, np.array(shift.predictions), flip=0.3)
    bad_starts = drop.timestamps[GOOD]
    first_bad_label = bad_starts + DROP_DELAY
    topics = (settings.topic_degradation_alerts,)
    env = {k: v for k, v in os.environ.items() if not k.startswith("STREAMDRIFT_")}
    with running_worker(settings, tmp_path / "worker.log") as worker:
        cli = [
            sys.executable, "-m", "streamdrift", "reference", "build", "--model", "drop",
            "--model", "shift", "--version", "1", "--from", str(path), "--label-column", "y",
            "--config", str(tmp_path / "models.toml"),
            "--broker", settings.broker, "--topic-references", settings.topic_references,
        ]  # fmt: skip
        done = subprocess.run(cli, capture_output=True, text=True, timeout=60, env=env)
        assert done.returncode == 0, done.stderr
        assert "score calibration (isotonic" in done.stdout, done.stdout
        assert wait_for(lambda: "reference profile for shift v1" in worker.log_text(), 30), (
            worker.log_text()[-3000:]
        )
        # 1. predictions only: no label of either model exists yet
        traffic.run(traffic.publish(settings, [drop, shift]))
        before = traffic.run(
            read_alerts(
                settings,
                until=lambda a: firing(a, "drop", "estimated_performance"),
                timeout=90,
                topics=topics,
            )
        )
        estimated = firing(before, "drop", "estimated_performance")
        assert estimated, f"{before}\n{worker.log_text()[-3000:]}"
        gauge = scrape(settings.metrics_port)
        # 2. the labels arrive
        traffic.run(
            traffic.publish_feedback(
                settings,
                feedback(drop, drop_labels, DROP_DELAY)
                + feedback(shift, shift_labels, SHIFT_DELAY),
            )
        )

        def complete(alerts: list[dict[str, Any]]) -> bool:
            return bool(
                firing(alerts, "drop", "performance_degradation")
                and firing(alerts, "shift", "estimator_divergence")
            )

        after = traffic.run(read_alerts(settings, until=complete, timeout=120, topics=topics))
        assert worker.proc.poll() is None, worker.log_text()[-3000:]

    first = estimated[0]
    # fired on a window of the bad period, from predictions alone, before its first label
    assert bad_starts <= first["window"]["end"] < first_bad_label
    assert first["window"]["start"] >= bad_starts - 10.0  # no earlier (good) window fired
    assert len(firing(before, "drop", "estimated_performance")) == 1
    assert not firing(before, "shift", "estimated_performance")  # its scores did not move
    assert 0.55 < gauge['streamdrift_estimated_performance{metric="accuracy",model="drop"}'] < 0.7
    realized = firing(after, "drop", "performance_degradation")
    assert realized, after
    # the realized degradation is judged on labels, which exist only from first_bad_label on
    assert realized[0]["window"]["end"] > first_bad_label
    assert firing(after, "shift", "estimator_divergence"), after
    assert not firing(after, "shift", "estimated_performance")
    assert not firing(after, "drop", "estimator_divergence")  # the calibration still holds
