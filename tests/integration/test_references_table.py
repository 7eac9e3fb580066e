"""Through the real broker: two workers in one group (so both Faust's group and the
runner's have two members), and a profile published after both have started reaches both
(faust-streaming/faust#283: a GlobalTable member that holds the partition as active only
would never read it again after recovery)."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import numpy as np
import pytest

from streamdrift.devtools.broker import LocalBroker, free_port
from tests.integration import traffic
from tests.integration.kafka_helpers import running_worker, unique_settings, wait_for

pytestmark = pytest.mark.integration


def test_a_profile_published_while_two_workers_run_reaches_both(
    kafka_broker: LocalBroker, tmp_path: Path
) -> None:
    first = unique_settings(
        kafka_broker.url, tmp_path / "a", topic_references=f"references-{uuid.uuid4().hex[:8]}"
    )
    second = first.replace(metrics_port=free_port(), data_dir=str(tmp_path / "b"))
    training = traffic.batch("train", 0, 1_000, np.random.default_rng(5))
    path = traffic.write_csv(training, tmp_path / "training.csv")
    env = {k: v for k, v in os.environ.items() if not k.startswith("STREAMDRIFT_")}
    with (
        running_worker(first, tmp_path / "a.log") as a,
        running_worker(second, tmp_path / "b.log") as b,
    ):

        def both(text: str) -> bool:
            return text in a.log_text() and text in b.log_text()

        # each runner joins its group only after Faust's recovery of the table ended
        assert wait_for(lambda: both("assigned partitions"), timeout=90), (
            a.log_text()[-2000:] + b.log_text()[-2000:]
        )
        cli = [
            sys.executable, "-m", "streamdrift", "reference", "build",
            "--model", "alpha", "--version", "1", "--from", str(path),
            "--broker", first.broker, "--topic-references", first.topic_references,
        ]  # fmt: skip
        done = subprocess.run(cli, capture_output=True, text=True, timeout=60, env=env)
        assert done.returncode == 0, done.stderr
        assert wait_for(lambda: both("reference profile for alpha v1"), timeout=30), (
            a.log_text()[-2000:] + b.log_text()[-2000:]
        )
        assert a.proc.poll() is None and b.proc.poll() is None
