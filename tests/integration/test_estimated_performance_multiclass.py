"""Through the real broker: label-free estimates of a multiclass model (one-vs-rest).

``reference build --label-column`` on a JSON Lines file of class probabilities publishes
a one-vs-rest calibration for two models. ``mdrop``: its outputs become uncertain
(accuracy falls), labels 60 s of event time late: ``estimated_performance`` fires from the
predictions alone, before any label of the bad period is published. ``mshift``: outputs as
on the reference, 30 % of rows relabelled at random: ``estimator_divergence``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from load import cbpe_multiclass as data

from streamdrift.devtools.broker import LocalBroker
from streamdrift.records import FeedbackEvent, PredictionBatch
from tests.integration import traffic
from tests.integration.kafka_helpers import (
    firing,
    read_alerts,
    running_worker,
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
GOOD, BAD, SHIFTED = 12_000, 6_000, 12_000
DROP_DELAY, SHIFT_DELAY = 60.0, 2.0


def predictions(model: str, outputs: np.ndarray) -> PredictionBatch:
    n = len(outputs)
    return PredictionBatch(
        model, "1", None, [f"{model}-{i}" for i in range(n)],
        [traffic.T0 + i * traffic.SPACING for i in range(n)], {}, data.as_dicts(outputs),
    )  # fmt: skip


def feedback(b: PredictionBatch, labels: np.ndarray, delay: float) -> list[FeedbackEvent]:
    return [
        FeedbackEvent(
            b.model_id, b.prediction_ids[i], b.timestamps[i] + delay, data.CLASSES[labels[i]]
        )
        for i in range(len(b))
    ]


def test_multiclass_estimate_fires_before_labels_and_relabelling_raises_divergence(
    kafka_broker: LocalBroker, tmp_path: Path
) -> None:
    (tmp_path / "models.toml").write_text(CONFIG)
    settings = unique_settings(
        kafka_broker.url, tmp_path / "state", config=str(tmp_path / "models.toml")
    )
    rng = np.random.default_rng(16)
    z_ref = data.logits_of(rng, 20_000)
    path = tmp_path / "reference.jsonl"
    with path.open("w") as f:
        ref = zip(data.as_dicts(data.outputs_of(z_ref)), data.labels_of(rng, z_ref), strict=True)
        for p, k in ref:
            f.write(json.dumps({"prediction": p, "y": data.CLASSES[k]}) + "\n")
    z = np.concatenate([data.logits_of(rng, GOOD), data.logits_of(rng, BAD, 0.5)])
    drop, drop_labels = predictions("mdrop", data.outputs_of(z)), data.labels_of(rng, z)
    z_shift = data.logits_of(rng, SHIFTED)
    shift = predictions("mshift", data.outputs_of(z_shift))
    shift_labels = data.labels_of(rng, z_shift, relabel=0.3)
    bad_starts = drop.timestamps[GOOD]
    first_bad_label = bad_starts + DROP_DELAY
    topics = (settings.topic_degradation_alerts,)
    env = {k: v for k, v in os.environ.items() if not k.startswith("STREAMDRIFT_")}
    with running_worker(settings, tmp_path / "worker.log") as worker:
        cli = [
            sys.executable, "-m", "streamdrift", "reference", "build", "--model", "mdrop",
            "--model", "mshift", "--version", "1", "--from", str(path), "--label-column", "y",
            "--config", str(tmp_path / "models.toml"),
            "--broker", settings.broker, "--topic-references", settings.topic_references,
        ]  # fmt: skip
        done = subprocess.run(cli, capture_output=True, text=True, timeout=60, env=env)
        assert done.returncode == 0, done.stderr
        assert "class calibration (isotonic one-vs-rest, 4 classes)" in done.stdout, done.stdout
        assert wait_for(lambda: "reference profile for mshift v1" in worker.log_text(), 30), (
            worker.log_text()[-3000:]
        )
        traffic.run(traffic.publish(settings, [drop, shift]))  # predictions only
        before = traffic.run(
            read_alerts(
                settings,
                until=lambda a: firing(a, "mdrop", "estimated_performance"),
                timeout=90,
                topics=topics,
            )
        )
        estimated = firing(before, "mdrop", "estimated_performance")
        assert estimated, f"{before}\n{worker.log_text()[-3000:]}"
        traffic.run(
            traffic.publish_feedback(
                settings,
                feedback(drop, drop_labels, DROP_DELAY)
                + feedback(shift, shift_labels, SHIFT_DELAY),
            )
        )
        after = traffic.run(
            read_alerts(
                settings,
                until=lambda a: bool(firing(a, "mshift", "estimator_divergence")),
                timeout=120,
                topics=topics,
            )
        )
        assert worker.proc.poll() is None, worker.log_text()[-3000:]

    first = estimated[0]
    assert bad_starts <= first["window"]["end"] < first_bad_label
    assert first["window"]["start"] >= bad_starts - 10.0  # no earlier (good) window fired
    assert not firing(before, "mshift", "estimated_performance")
    assert firing(after, "mshift", "estimator_divergence"), after
    assert not firing(after, "mdrop", "estimator_divergence")  # its calibration still holds
