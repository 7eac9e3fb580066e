"""Fixtures of the runtime tests: a processor with an injected clock that the test moves,
and seeded prediction batches fed as batch envelopes (one record per batch)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from jsonschema import Draft202012Validator
from tests.unit.engine.harness import Processor

from streamdrift import codec, config
from streamdrift.config.settings import Settings
from streamdrift.engine.messages import InputRecord, OutputRecord
from streamdrift.metrics import Metrics
from streamdrift.records import PredictionBatch

ROOT = Path(__file__).resolve().parents[3]
ALERT_SCHEMA = Draft202012Validator(json.loads((ROOT / "topics/alert.schema.json").read_text()))
T0 = 1_764_000_000.0  # event time of the first event (a multiple of the window sizes used)


@dataclass
class FakeClock:
    """Processing time, moved by the test."""

    now: float = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Harness:
    """One partition of a processor, fed with envelopes; ``out``: everything it published."""

    processor: Processor
    clock: FakeClock
    offset: int = 0
    out: list[OutputRecord] = field(default_factory=list)

    def send(self, batch: PredictionBatch) -> list[OutputRecord]:
        raw = codec.encode_prediction_batch(batch)
        record = InputRecord("predictions", 0, self.offset, T0, batch.model_id.encode(), raw)
        self.offset += 1
        out = self.processor.process(0, [record])
        self.out.extend(out)
        return out

    def tick(self, seconds: float) -> list[OutputRecord]:
        """Move processing time by ``seconds`` and tick."""
        self.clock.now += seconds
        out = self.processor.tick(0)
        self.out.extend(out)
        return out

    def alerts(self, out: Sequence[OutputRecord] | None = None) -> list[dict[str, Any]]:
        docs = [
            json.loads(o.value) for o in (self.out if out is None else out) if "alerts" in o.topic
        ]
        for doc in docs:
            ALERT_SCHEMA.validate(doc)
        return docs

    def windows(self, out: Sequence[OutputRecord] | None = None) -> list[dict[str, Any]]:
        return [
            json.loads(o.value)
            for o in (self.out if out is None else out)
            if o.topic == "drift-windows"
        ]


def settings(**overrides: Any) -> Settings:
    base = {"reference_size": 500, "window_size": 500, "memory_pending": 0}
    return config.load({**base, **overrides}, environ={})


@pytest.fixture
def make_harness(tmp_path: Path) -> Any:
    def make(config_toml: str = "", **overrides: Any) -> Harness:
        if config_toml:
            path = tmp_path / "models.toml"
            path.write_text(config_toml)
            overrides["config"] = str(path)
        clock = FakeClock()
        processor = Processor(settings(**overrides), Metrics(), clock=clock)
        processor.restore(0, None)
        return Harness(processor, clock)

    return make


def batch(
    n: int,
    *,
    start: float = T0,
    dt: float = 0.01,
    shift: float = 0.0,
    model: str = "m",
    version: str = "1",
    seed: int = 0,
) -> PredictionBatch:
    """``n`` events from ``start`` every ``dt`` s; ``x`` ~ N(shift, 1), seeded."""
    rng = np.random.default_rng(seed)
    x = rng.normal(shift, 1.0, n)
    return PredictionBatch(
        model,
        version,
        None,
        [f"{model}-{version}-{seed}-{i}" for i in range(n)],
        (start + dt * np.arange(n)).tolist(),
        {"x": x.tolist()},
        rng.random(n).tolist(),
    )
