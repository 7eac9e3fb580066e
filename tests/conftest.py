"""Shared fixtures. The Kafka broker is real: Apache Kafka (KRaft) started from the jars
Maven resolves; if it cannot start, the tests that need it fail (never skip)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from streamdrift.devtools.broker import BrokerError, LocalBroker, free_port


@pytest.fixture(scope="session")
def kafka_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalBroker]:
    """A single-node KRaft broker on a free port and a temporary data dir, for the session."""
    broker = LocalBroker(data_dir=Path(tmp_path_factory.mktemp("kafka")), port=free_port())
    try:
        broker.up(timeout=120)
    except BrokerError as exc:
        broker.down()
        message = f"the Kafka broker did not start: {exc}"
    else:
        message = ""
    if message:
        pytest.fail(message, pytrace=False)
    try:
        yield broker
    finally:
        broker.down()
