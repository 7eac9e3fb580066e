"""Fixtures of the integration tests besides the broker (tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.http_services import Server, ServiceError, start_alertmanager


@pytest.fixture
def alertmanager(tmp_path: Path) -> Iterator[Server]:
    """A real Alertmanager (Debian's prometheus-alertmanager) on a free port; fails, never
    skips, when it cannot start."""
    try:
        server = start_alertmanager(tmp_path / "alertmanager")
    except ServiceError as exc:
        pytest.fail(f"Alertmanager did not start: {exc}", pytrace=False)
    try:
        yield server
    finally:
        server.stop()
