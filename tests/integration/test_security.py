"""Secure connections against a real broker whose client listener requires SASL SCRAM.

The module starts a broker of its own (the session ``kafka_broker`` stays plaintext). The
worker gets its credentials the way an operator should give them: ``STREAMDRIFT_SASL_*``
environment variables, never flags (flags show in ``ps``). The password is random per run,
so finding it anywhere (worker output, broker log, generated files, --help) is a real leak.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from streamdrift import config
from streamdrift.client import PredictionClient
from streamdrift.devtools.broker import BrokerError, LocalBroker, answers_metadata, free_port
from streamdrift.kafka import security
from streamdrift.records import PredictionEvent
from streamdrift.service.worker import ensure_topics
from tests.integration.kafka_helpers import WorkerProcess, scrape, unique_settings, wait_for

pytestmark = pytest.mark.integration

USER = "alice"
PASSWORD = "sd-pw-" + secrets.token_urlsafe(18)
MECHANISM = "SCRAM-SHA-512"
SECURITY_FIELDS = tuple(
    name
    for name in config.Settings.__dataclass_fields__
    if name.startswith(("security_", "sasl_", "ssl_"))
)


@pytest.fixture(scope="module")
def scram_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalBroker]:
    broker = LocalBroker(
        data_dir=Path(tmp_path_factory.mktemp("kafka-scram")),
        port=free_port(),
        scram_users=((USER, PASSWORD),),
        scram_mechanism=MECHANISM,
    )
    try:
        broker.up(timeout=120)
    except BrokerError as exc:
        broker.down()
        message = f"the SCRAM broker did not start: {exc}"
    else:
        message = ""
    if message:
        pytest.fail(message, pytrace=False)
    try:
        yield broker
    finally:
        broker.down()


def secure_settings(broker: LocalBroker, tmp: Path, password: str) -> config.Settings:
    return unique_settings(
        broker.url,
        tmp / "state",
        security_protocol="SASL_PLAINTEXT",
        sasl_mechanism=MECHANISM,
        sasl_username=USER,
        sasl_password=password,
        reference_size=100,
        window_size=100,
    )


def worker_command(settings: config.Settings) -> tuple[list[str], dict[str, str]]:
    """``streamdrift worker`` with every setting as a flag except the security ones, which
    travel in the environment."""
    args = [sys.executable, "-m", "streamdrift", "worker"]
    for name in config.Settings.__dataclass_fields__:
        if name not in SECURITY_FIELDS:
            args += ["--" + name.replace("_", "-"), str(getattr(settings, name))]
    env = {k: v for k, v in os.environ.items() if not k.startswith("STREAMDRIFT_")}
    for name in SECURITY_FIELDS:
        if getattr(settings, name):
            env["STREAMDRIFT_" + name.upper()] = str(getattr(settings, name))
    return args, env


def consumed(settings: config.Settings) -> float:
    prefix = "streamdrift_events_consumed_total{"
    topic = f'topic="{settings.topic_predictions}"'
    return sum(
        value
        for name, value in scrape(settings.metrics_port).items()
        if name.startswith(prefix) and topic in name
    )


async def publish(settings: config.Settings, n: int) -> None:
    options: dict[str, Any] = security.client_options(settings)
    async with PredictionClient(
        settings.broker, topic=settings.topic_predictions, producer_options=options
    ) as client:
        now = time.time()
        for i in range(n):
            await client.publish(
                PredictionEvent(
                    model_id="secure-model",
                    model_version="1",
                    prediction_id=f"p{i}",
                    timestamp=now + i * 0.001,
                    features={"income": float(i % 97), "region": "north"},
                    prediction=0.5,
                )
            )


def test_the_client_listener_requires_scram(scram_broker: LocalBroker) -> None:
    assert scram_broker.security_protocol == "SASL_PLAINTEXT"
    assert answers_metadata(scram_broker.bootstrap, options=scram_broker.client_options())
    assert not answers_metadata(scram_broker.bootstrap)  # no credentials: refused
    wrong = {**scram_broker.client_options(), "sasl_plain_password": "not-" + PASSWORD}
    assert not answers_metadata(scram_broker.bootstrap, options=wrong)


def test_the_broker_keeps_the_password_out_of_its_files(scram_broker: LocalBroker) -> None:
    assert PASSWORD not in repr(scram_broker)
    for path in scram_broker.data_dir.iterdir():
        if path.is_file():
            assert PASSWORD not in path.read_text(errors="replace"), path.name


def test_worker_with_the_right_credentials_processes_events(
    scram_broker: LocalBroker, tmp_path: Path
) -> None:
    settings = secure_settings(scram_broker, tmp_path, PASSWORD)
    ensure_topics(settings)
    args, env = worker_command(settings)
    assert not any(PASSWORD in arg for arg in args)
    log = tmp_path / "worker.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            args, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env
        )
    worker = WorkerProcess(proc, log)
    try:
        asyncio.run(publish(settings, 300))
        done = wait_for(lambda: proc.poll() is not None or consumed(settings) >= 300, 45)
        assert done and proc.poll() is None, "worker did not consume:\n" + log.read_text()[-3000:]
        assert consumed(settings) == 300
    finally:
        worker.stop()
    text = log.read_text(errors="replace")
    assert PASSWORD not in text
    assert PASSWORD not in scram_broker.log_file.read_text(errors="replace")


def test_worker_with_a_wrong_password_fails_fast_with_one_clear_line(
    scram_broker: LocalBroker, tmp_path: Path
) -> None:
    wrong = "wrong-" + secrets.token_urlsafe(12)
    settings = secure_settings(scram_broker, tmp_path, wrong)
    args, env = worker_command(settings)
    start = time.monotonic()
    proc = subprocess.run(
        args, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60
    )
    elapsed = time.monotonic() - start
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0, output
    assert elapsed < 30, f"took {elapsed:.1f} s"
    errors = [line for line in output.splitlines() if line.startswith("streamdrift: error:")]
    assert len(errors) == 1, output
    assert "authentication failed" in errors[0]
    assert repr(USER) in errors[0] and MECHANISM in errors[0]
    assert "STREAMDRIFT_SASL_PASSWORD" in errors[0]
    assert wrong not in output and PASSWORD not in output


def test_help_and_repr_never_show_the_password(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STREAMDRIFT_")}
    env.update(
        STREAMDRIFT_SECURITY_PROTOCOL="SASL_PLAINTEXT",
        STREAMDRIFT_SASL_MECHANISM=MECHANISM,
        STREAMDRIFT_SASL_USERNAME=USER,
        STREAMDRIFT_SASL_PASSWORD=PASSWORD,
    )
    outputs = {}
    for command in ("worker", "topics apply"):  # commands that take the security settings
        proc = subprocess.run(
            [sys.executable, "-m", "streamdrift", *command.split(), "--help"],
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert proc.returncode == 0, proc.stderr
        outputs[command] = proc.stdout + proc.stderr
        assert PASSWORD not in outputs[command]
    for output in outputs.values():
        assert "--sasl-password" in output  # the flag is documented, its value is not
    settings = config.load({}, environ=env)
    assert settings.sasl_password == PASSWORD  # the setting is read …
    assert PASSWORD not in repr(settings)  # … but never shown
    assert PASSWORD not in str(settings)
    assert PASSWORD not in security.describe(settings)
