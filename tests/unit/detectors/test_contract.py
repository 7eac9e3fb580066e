"""The small contract shared by all detectors: inputs, batches, counters, state format."""

from __future__ import annotations

import inspect
import json
import math

import numpy as np
import pytest

from streamdrift.detectors import (
    DETECTORS,
    STATE_VERSION,
    BinaryDriftDetector,
    DriftDetector,
    make_detector,
)

from .cases import CASES, Case

NAMES = sorted(DETECTORS)


@pytest.fixture(params=NAMES)
def case(request: pytest.FixtureRequest) -> Case:
    return CASES[request.param]


def test_defaults_and_parameter_names_mirror_river(case: Case) -> None:
    ours = inspect.signature(DETECTORS[case.name]).parameters
    river = inspect.signature(case.river_cls).parameters
    assert list(ours) == list(river)
    assert {k: p.default for k, p in ours.items()} == {k: p.default for k, p in river.items()}
    assert make_detector(case.name).params == {k: p.default for k, p in river.items()}


def test_update_many_matches_update_loop(case: Case) -> None:
    stream = case.multi_change_stream()
    one_by_one = case.make()
    fired = []
    for i, x in enumerate(stream.tolist()):
        one_by_one.update(x)
        if one_by_one.drift_detected:
            fired.append(i)
    batched = case.make()
    # In several batches: indices are relative to each batch.
    got = []
    for start in range(0, len(stream), 173):
        got += [start + i for i in batched.update_many(stream[start : start + 173])]
    assert got == fired
    assert batched.to_dict() == one_by_one.to_dict()
    assert batched.n_seen == one_by_one.n_seen == len(stream)


def test_update_many_accepts_lists_and_empty_batches(case: Case) -> None:
    det = case.make()
    assert det.update_many([]) == []
    assert det.update_many(np.array([], dtype=np.float64)) == []
    assert det.update_many([0, 1, 0]) == []
    assert det.n_seen == 3


def test_drift_detected_only_right_after_the_detecting_update(case: Case) -> None:
    det = case.make()
    stream = case.multi_change_stream().tolist()
    fired = det.update_many(stream)
    assert det.drift_detected == (fired[-1] == len(stream) - 1)
    det2 = case.make()
    det2.update_many(stream[: fired[0] + 1])
    assert det2.drift_detected
    assert det2.n_seen == fired[0] + 1
    det2.update(stream[fired[0] + 1])
    assert not det2.drift_detected  # River restarts on new data after a detection
    assert det2.n_seen == fired[0] + 2  # n_seen counts across detections


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_non_finite_input_is_rejected_and_changes_nothing(case: Case, bad: float) -> None:
    det = case.make()
    det.update_many([0.0, 1.0, 0.0])
    before = det.to_dict()
    with pytest.raises(ValueError):
        det.update(bad)
    with pytest.raises(ValueError):
        det.update_many([0.0, 1.0, bad, 0.0])
    assert det.to_dict() == before


def test_wrong_input_types_are_rejected(case: Case) -> None:
    det = case.make()
    with pytest.raises((TypeError, ValueError)):
        det.update("1")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="1-d"):
        det.update_many(np.zeros((3, 2)))
    assert det.n_seen == 0


def test_binary_detectors_take_only_zero_and_one() -> None:
    for name, cls in DETECTORS.items():
        if not issubclass(cls, BinaryDriftDetector):
            continue
        det = make_detector(name)
        for ok in (0, 1, 0.0, 1.0, True, False, np.int64(1), np.bool_(True), np.float32(0)):
            det.update(ok)  # type: ignore[arg-type]
        assert det.update_many(np.array([True, False])) == []
        for bad in (0.5, 2, -1):
            with pytest.raises(ValueError, match="0 or 1"):
                det.update(bad)
        with pytest.raises(ValueError, match="0 or 1"):
            det.update_many([0, 1, 0.3])
        assert det.n_seen == 11


def test_continuous_detectors_take_any_finite_real() -> None:
    for name, cls in DETECTORS.items():
        if issubclass(cls, BinaryDriftDetector):
            continue
        det = make_detector(name, **CASES[name].params)
        for x in (0, 1.5, -3, np.float32(2.5), np.int64(7), True):
            det.update(x)  # type: ignore[arg-type]
        assert det.n_seen == 6


def test_state_dict_shape(case: Case) -> None:
    det = case.make()
    det.update_many(case.multi_change_stream()[:250])
    d = det.to_dict()
    assert d["format"] == "streamdrift.detector"
    assert d["version"] == STATE_VERSION
    assert d["name"] == case.name
    assert isinstance(d["river_version"], str)
    assert d["params"] == det.params
    assert d["n_seen"] == 250
    assert set(d["state"]) >= {"drift_detected"}
    # Plain, strict JSON: no NaN, no Infinity, no numpy scalars, no bytes.
    assert json.loads(json.dumps(d, allow_nan=False)) == d
    fresh = make_detector(case.name).to_dict()  # fresh states hold infinities (as strings)
    assert json.loads(json.dumps(fresh, allow_nan=False)) == fresh


def test_params_are_a_copy(case: Case) -> None:
    det = case.make()
    params = det.params
    params["bogus"] = 1
    assert "bogus" not in det.params


def test_repr_shows_the_configuration() -> None:
    assert repr(make_detector("adwin", delta=0.01)) == (
        "ADWIN(delta=0.01, clock=32, max_buckets=5, min_window_length=5, grace_period=10)"
    )


def test_from_dict_rejects_foreign_or_malformed_state(case: Case) -> None:
    cls = DETECTORS[case.name]
    good = case.make().to_dict()
    other = next(n for n in NAMES if n != case.name)
    broken: list[object] = [
        "not a dict",
        {**good, "format": "something-else"},
        {**good, "version": STATE_VERSION + 1},
        {**good, "name": other},
        {**good, "params": None},
        {**good, "params": {**good["params"], "bogus": 1}},
        {k: v for k, v in good.items() if k != "state"},
        {k: v for k, v in good.items() if k != "n_seen"},
        {**good, "n_seen": -1},
        {**good, "n_seen": "12"},
        {**good, "state": {}},
        {**good, "state": {**good["state"], "drift_detected": "no"}},
    ]
    for d in broken:
        with pytest.raises(ValueError):
            cls.from_dict(d)  # type: ignore[arg-type]
    # Every state field is required.
    for key in good["state"]:
        with pytest.raises(ValueError, match=repr(key)):
            cls.from_dict({**good, "state": {k: v for k, v in good["state"].items() if k != key}})


def test_detectors_are_drift_detectors() -> None:
    for cls in DETECTORS.values():
        assert issubclass(cls, DriftDetector)
        assert not inspect.isabstract(cls)
