"""Settings of the join's on-disk tier, and the internal topic it publishes segments to."""

from __future__ import annotations

from pathlib import Path

import pytest

from streamdrift import config
from streamdrift.config.settings import SPILL_MAX_PENDING, ConfigError
from streamdrift.labels.performance import PerformanceSpec
from streamdrift.service.worker import internal_topics


def test_state_dir_defaults_under_data_dir_and_follows_the_environment() -> None:
    s = config.load({"data_dir": "/var/lib/sd"}, environ={})
    assert s.state_path == Path("/var/lib/sd/join-state")
    s = config.load(
        environ={"STREAMDRIFT_STATE_DIR": "/fast/ssd", "STREAMDRIFT_MEMORY_PENDING": "5000"}
    )
    assert (s.state_path, s.memory_pending) == (Path("/fast/ssd"), 5000)


def test_max_pending_counts_the_disk_only_while_spilling() -> None:
    assert config.load(environ={}).base_spec().performance.max_pending == SPILL_MAX_PENDING
    memory_only = config.load({"memory_pending": 0}, environ={})
    assert memory_only.base_spec().performance.max_pending == PerformanceSpec().max_pending


@pytest.mark.parametrize("value", [-1, 1])
def test_memory_pending_must_be_zero_or_at_least_two(value: int) -> None:
    with pytest.raises(ConfigError, match="memory_pending"):
        config.load({"memory_pending": value}, environ={})


def test_worker_creates_the_compacted_spill_topic() -> None:
    specs = {t.name: t for t in internal_topics(config.load({"app_id": "x"}, environ={}))}
    spill = specs["x-join-spill"]
    assert (spill.partitions, spill.cleanup_policy) == (1, "compact")
    # and Faust's leader topic, which Faust does not create with topic_allow_declare=False
    assert set(specs) == {"x-checkpoints", "x-join-spill", "x-__assignor-__leader"}
