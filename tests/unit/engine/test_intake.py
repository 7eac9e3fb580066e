"""The intake decodes a fetch of new prediction messages a run at a time; what it gathers
(batches, dead letters, offsets, admissions) is what one message after another gives."""

from __future__ import annotations

from typing import Any

import numpy as np
import orjson
import pytest
from tests.unit.engine.conftest import T0, settings

from streamdrift.engine.dead_letters import DeadLetters
from streamdrift.engine.intake import Intake
from streamdrift.engine.messages import InputRecord
from streamdrift.engine.runtime import RuntimeState
from streamdrift.engine.update import Update


def _event(rng: np.random.Generator, i: int) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "model_id": f"m{int(rng.integers(3))}",
        "model_version": ["1", "2", 3][int(rng.integers(3))],  # 3: a JSON integer
        "prediction_id": f"p{i}",
        "timestamp": T0 + i,
        "features": {"x": float(rng.normal()), "c": str(int(rng.integers(3)))},
        "prediction": float(rng.random()),
    }
    if rng.random() < 0.2:
        doc["segment"] = "a"
    return doc


def _odd(rng: np.random.Generator, i: int) -> bytes | None:
    """A message msgspec does not take as a single event."""
    base = _event(rng, i)
    return [
        b"{not json",
        None,
        orjson.dumps({**base, "modle_id": "m0"}),
        orjson.dumps({**base, "features": {"x": 2**63 + 1}}),  # valid: the orjson path's
        orjson.dumps({"kind": "end_of_input", "model_id": base["model_id"]}),
        orjson.dumps(
            {
                "kind": "prediction_batch",
                "model_id": base["model_id"],
                "model_version": "1",
                "prediction_id": [f"e{i}-0", f"e{i}-1"],
                "timestamp": [T0 + i, "bad"],
                "features": {"x": [1.0, 2.0]},
            }
        ),
    ][int(rng.integers(6))]


def _records(seed: int, n: int, odd: float) -> list[InputRecord]:
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        value = _odd(rng, i) if rng.random() < odd else orjson.dumps(_event(rng, i))
        out.append(InputRecord("predictions", 0, 100 + i, T0, b"k", value))
    return out


def _gather(records: list[InputRecord], *, one_by_one: bool, **caps: Any) -> Any:
    spec = settings(**caps).runtime_spec()
    runtime = RuntimeState()
    out = Update()
    offsets = {"predictions": 100}
    seen: list[Any] = []
    intake = Intake(
        "predictions",
        runtime,
        spec,
        DeadLetters("dead-letter", spec),
        offsets,
        out,
        lambda items: seen.append(("observe", [repr(i) for i in items])),
        lambda marker: seen.append(("end", marker)),
    )
    if one_by_one:
        intake._plain = lambda records: None  # type: ignore[method-assign]
    items = intake.take(records)
    return (
        [repr(i) for i in items],
        seen,
        out.records,
        dict(out.dead_letters),
        dict(out.decode_failures),
        intake.consumed,
        offsets,
        runtime.versions,
    )


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("odd", [0.0, 0.02, 0.3])
@pytest.mark.parametrize("caps", [{}, {"max_models": 2}, {"max_versions": 1}])
def test_a_run_at_a_time_gathers_what_one_message_after_another_does(
    seed: int, odd: float, caps: dict[str, int]
) -> None:
    records = _records(seed, 300, odd)
    assert _gather(records, one_by_one=False, **caps) == _gather(records, one_by_one=True, **caps)


def test_a_fetch_that_is_not_only_new_predictions_takes_the_per_message_path() -> None:
    records = _records(1, 50, 0.0)
    feedback = InputRecord("feedback", 0, 0, T0, b"k", b'{"model_id": "m0"}')
    redelivered = records[:5] + records
    oversize = InputRecord("predictions", 0, 200, T0, b"k", b"x" * (8 * 1024 * 1024 + 1))
    for fetch in (
        [*records[:10], feedback, *records[10:]],
        redelivered,
        records[::-1],
        [*records, oversize],
    ):
        intake = Intake(
            "predictions",
            RuntimeState(),
            settings().runtime_spec(),
            DeadLetters("dead-letter", settings().runtime_spec()),
            {"predictions": 100},
            Update(),
            lambda items: None,
            lambda marker: None,
        )
        assert intake._plain(fetch) is None
    assert _gather(redelivered, one_by_one=True)[0] == _gather(records, one_by_one=False)[0]
    dead = _gather([*records, oversize], one_by_one=True)[3]
    assert dead == {"oversize": 1}
