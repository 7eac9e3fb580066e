"""The same checks over every registered detector (River's conformance idea).

Oracles: River itself (the wrapped class run directly, and the index its docstring
prints) and a restored copy of the detector under test.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import numpy as np
import orjson
import pytest

from streamdrift.detectors import DETECTORS, BinaryDriftDetector, DriftDetector

from .cases import CASES, Case, river_internals, run_river

NAMES = sorted(DETECTORS)

CODECS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "copy": copy.deepcopy,
    "json": lambda d: json.loads(json.dumps(d, allow_nan=False)),
    "orjson": lambda d: orjson.loads(orjson.dumps(d)),
}


@pytest.fixture(params=NAMES)
def case(request: pytest.FixtureRequest) -> Case:
    return CASES[request.param]


def internals(det: DriftDetector) -> Any:
    return river_internals(det._river)


def flags(det: DriftDetector) -> tuple[bool, bool]:
    warning = det.warning_detected if isinstance(det, BinaryDriftDetector) else False
    return det.drift_detected, warning


def test_every_registered_detector_has_a_case() -> None:
    assert set(CASES) == set(DETECTORS)
    for name, case in CASES.items():
        assert DETECTORS[name].name == name
        assert issubclass(DETECTORS[name], BinaryDriftDetector) == case.binary


# -- state --------------------------------------------------------------------------


def snapshot_points(case: Case, stream: np.ndarray) -> list[int]:
    """Before any test can fire, mid-stream, and right after the first detection."""
    first = case.make().update_many(stream)
    assert first, "the multi-change stream must make the detector fire"
    return sorted({5, len(stream) // 2, first[0] + 1, len(stream) - 1})


def test_state_round_trip_mid_stream(case: Case) -> None:
    stream = case.multi_change_stream()
    for split in snapshot_points(case, stream):
        original = case.make()
        original.update_many(stream[:split])
        saved = original.to_dict()
        json.dumps(saved, allow_nan=False)  # strict JSON: no NaN / Infinity
        restored = {k: type(original).from_dict(codec(saved)) for k, codec in CODECS.items()}
        for det in restored.values():
            assert det.to_dict() == saved
            assert internals(det) == internals(original)
            assert flags(det) == flags(original)
            assert det.n_seen == original.n_seen == split
        for i, x in enumerate(stream[split:].tolist()):
            original.update(x)
            for codec, det in restored.items():
                det.update(x)
                assert flags(det) == flags(original), (split, i, codec)
            if i % 50 == 0 or original.drift_detected:
                want = original.to_dict()
                assert all(det.to_dict() == want for det in restored.values()), (split, i)
        final = original.to_dict()
        for det in restored.values():
            assert det.to_dict() == final
            assert internals(det) == internals(original)


def test_reset_returns_to_fresh_state(case: Case) -> None:
    stream = case.multi_change_stream()
    fresh = case.make()
    det = case.make()
    det.update_many(stream[: len(stream) // 2])
    det.reset()
    assert det.n_seen == 0
    assert not det.drift_detected
    assert det.to_dict() == fresh.to_dict()
    assert internals(det) == internals(fresh)
    assert det.update_many(stream) == fresh.update_many(stream)
    assert internals(det) == internals(fresh)


def test_deterministic(case: Case) -> None:
    stream = case.multi_change_stream()
    a, b = case.make(), case.make()
    fired = a.update_many(stream)
    assert fired == b.update_many(stream)
    assert len(fired) >= 2  # the stream has three changes
    assert a.to_dict() == b.to_dict()
    assert internals(a) == internals(b)


# -- behaviour ----------------------------------------------------------------------


def test_quiet_on_stationary_stream(case: Case) -> None:
    alarms = {
        seed: case.make(**case.quiet_params).update_many(case.stationary_stream(seed))
        for seed in case.quiet_seeds
    }
    assert sum(map(len, alarms.values())) <= case.max_false_alarms, alarms


def test_fires_where_river_fires_on_rivers_example(case: Case) -> None:
    stream = case.example_stream()
    river_det = case.river_cls(**case.river_example_params)
    expected = run_river(river_det, stream)
    got = run_river(case.make(**case.river_example_params), stream)
    assert got == expected
    assert case.river_example_index in got[0]


def test_fires_where_river_fires_on_multi_change_stream(case: Case) -> None:
    stream = case.multi_change_stream()
    # River receives the values as Python numbers (ints for error streams), as its users do.
    values = stream.astype(int).tolist() if case.binary else stream.tolist()
    expected = run_river(case.river_cls(**case.params), values)
    assert len(expected[0]) >= 2
    assert run_river(case.make(), stream.tolist()) == expected
    assert case.make().update_many(stream) == expected[0]


def test_detects_obvious_change(case: Case) -> None:
    # Mean shift of 3 sigma, or error rate 0.1 -> 0.5; with the quiet-test parameters.
    for seed in (0, 1):
        fired = case.make(**case.quiet_params).update_many(case.change_stream(seed))
        assert fired, f"no detection (seed {seed})"
        assert fired[0] >= case.change_at, f"false alarm before the change: {fired}"
        assert fired[0] - case.change_at < case.max_delay, fired
