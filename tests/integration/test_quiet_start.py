"""A normal start-up logs no ERROR line, on a broker no consumer group has used yet."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from streamdrift import config
from streamdrift.devtools.broker import LocalBroker, free_port
from tests.integration.kafka_helpers import scrape, settings_args, wait_for

pytestmark = pytest.mark.integration


def test_first_worker_on_a_fresh_broker_logs_no_error(tmp_path: Path) -> None:
    # a broker of its own: the group coordinator's topic (__consumer_offsets) does not exist
    # yet, which made aiokafka log GroupCoordinatorNotAvailableError at ERROR; and a fresh
    # app id, whose Faust leader topic did not exist ("... not found in cluster metadata")
    broker = LocalBroker(data_dir=tmp_path / "kafka", port=free_port())
    try:
        broker.up(timeout=120)
        settings = config.load(
            {
                "broker": broker.url,
                "app_id": f"quiet-{uuid.uuid4().hex[:8]}",
                "data_dir": str(tmp_path / "worker"),
                "metrics_port": free_port(),
            },
            environ={},
        )
        env = {k: v for k, v in os.environ.items() if not k.startswith("STREAMDRIFT_")}
        log = tmp_path / "worker.log"
        with log.open("wb") as out:
            proc = subprocess.Popen(
                [sys.executable, "-m", "streamdrift", "worker", *settings_args(settings)],
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
            )
        try:
            ready = wait_for(
                lambda: (
                    proc.poll() is not None
                    or scrape(settings.metrics_port)["streamdrift_partitions_owned"] > 0
                ),
                90,
            )
            assert ready and proc.poll() is None, log.read_text(errors="replace")[-3000:]
            assert wait_for(lambda: "Worker ready" in log.read_text(errors="replace"), 30)
            # labelled series known in advance are there before any alert or bad message
            first = scrape(settings.metrics_port)
            zero = [
                'streamdrift_alerts_total{kind="data_drift",status="firing"}',
                'streamdrift_dead_letter_total{reason="not_json"}',
                f'streamdrift_messages_consumed_total{{topic="{settings.topic_feedback}"}}',
            ]
            assert {name: first.get(name) for name in zero} == dict.fromkeys(zero, 0.0)
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=60)
    finally:
        broker.down()
    text = log.read_text(errors="replace")
    errors = [line for line in text.splitlines() if "ERROR" in line or "Traceback" in line]
    assert errors == [], text[-4000:]
    assert proc.returncode == 0
