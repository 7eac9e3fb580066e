"""Window records and alerts made by the real processor from seeded input: a model whose
``income`` shifts by 1σ and comes back, and a classifier whose accuracy drops."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from tests.unit.engine.test_processor import (
    CLASSIFIER_TOML,
    Feed,
    chunks,
    classifier_input,
    make_processor,
    run,
    write_config,
)

from streamdrift.engine.messages import OutputRecord
from streamdrift.records import PredictionEvent

T0 = 1_764_000_000.0
Docs = tuple[list[dict[str, Any]], list[dict[str, Any]]]


def split(out: list[OutputRecord]) -> Docs:
    windows = [json.loads(o.value or b"") for o in out if o.topic == "drift-windows"]
    alerts = [json.loads(o.value or b"") for o in out if o.topic.endswith("-alerts")]
    return windows, alerts


def shift_and_back(n: int = 5000, start: int = 2000, stop: int = 3000) -> list[PredictionEvent]:
    """``income`` N(50, 10) shifted by +10 for events [start, stop); ``region`` stationary."""
    rng = np.random.default_rng(7)
    income = rng.normal(50.0, 10.0, n)
    income[start:stop] += 10.0
    region = rng.choice(["north", "south", "east"], n)
    score = rng.random(n)
    return [
        PredictionEvent(
            "m", "1", f"m-{i}", T0 + i * 0.1,
            {"income": float(income[i]), "region": str(region[i])}, float(score[i]),
        )
        for i in range(n)
    ]  # fmt: skip


@pytest.fixture(scope="package")
def drift_docs() -> Docs:
    processor = make_processor()
    processor.restore(0, None)
    feed = Feed()
    return split(run(processor, list(chunks([feed.prediction(e) for e in shift_and_back()], 200))))


@pytest.fixture(scope="package")
def classifier_docs(tmp_path_factory: pytest.TempPathFactory) -> Docs:
    tmp: Path = tmp_path_factory.mktemp("clf")
    processor = make_processor(write_config(tmp, CLASSIFIER_TOML))
    processor.restore(0, None)
    return split(run(processor, classifier_input(seconds=120, drop_at=60.0)))
