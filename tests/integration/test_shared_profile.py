"""Through the real broker: one ``reference build`` publishes a profile for two models, and
a third model's config names that profile; the monitors of all three compare with it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from streamdrift.devtools.broker import LocalBroker
from tests.integration import traffic
from tests.integration.kafka_helpers import read_alerts, running_worker, unique_settings, wait_for

pytestmark = pytest.mark.integration

CONFIG = """
[defaults.reference]
mode = "profile"

[models.gamma.reference]
mode = "profile"
profile = "alpha/1"
"""
MODELS = ("alpha", "beta", "gamma")


def test_one_build_for_two_models_and_a_config_naming_it(
    kafka_broker: LocalBroker, tmp_path: Path
) -> None:
    (tmp_path / "models.toml").write_text(CONFIG)
    settings = unique_settings(
        kafka_broker.url, tmp_path / "state", config=str(tmp_path / "models.toml")
    )
    rng = np.random.default_rng(31)
    training = traffic.batch("train", 0, 3_000, rng)
    path = traffic.write_csv(training, tmp_path / "training.csv")
    env = {k: v for k, v in os.environ.items() if not k.startswith("STREAMDRIFT_")}
    with running_worker(settings, tmp_path / "worker.log") as worker:
        cli = [
            sys.executable, "-m", "streamdrift", "reference", "build",
            "--model", "alpha", "--model", "beta", "--version", "1", "--from", str(path),
            "--config", str(tmp_path / "models.toml"),
            "--broker", settings.broker, "--topic-references", settings.topic_references,
        ]  # fmt: skip
        done = subprocess.run(cli, capture_output=True, text=True, timeout=60, env=env)
        assert done.returncode == 0, done.stderr
        assert done.stdout.count("profiled 3000 rows") == 1, done.stdout
        assert "prediction_id (the event id), timestamp (the event timestamp)" in done.stdout
        assert "published to" in done.stdout and "alpha/1, beta/1" in done.stdout
        assert wait_for(lambda: "reference profile for beta v1" in worker.log_text(), timeout=30), (
            worker.log_text()[-3000:]
        )
        # live traffic shifted from its first event: only the file's profile can tell
        shifted = [traffic.batch(m, 0, 3_000, rng, income_shift=1.0) for m in MODELS]
        traffic.run(traffic.publish(settings, shifted))

        def all_three(alerts: list[dict[str, Any]]) -> bool:
            return {a["model_id"] for a in alerts if a["feature"] == "income"} >= set(MODELS)

        alerts = traffic.run(read_alerts(settings, until=all_three, timeout=90))
        assert worker.proc.poll() is None, worker.log_text()[-3000:]

    income = {a["model_id"]: a for a in alerts if a["feature"] == "income"}
    assert set(income) == set(MODELS), f"alerts: {alerts}\n{worker.log_text()[-3000:]}"
    for alert in income.values():
        assert alert["reference"]["count"] == 3_000
        assert alert["window"]["start"] < traffic.T0 + 1_000 * traffic.SPACING  # first window
