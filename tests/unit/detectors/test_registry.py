"""Names, configuration errors, dispatch of saved state, and the public namespace."""

from __future__ import annotations

from typing import Any

import pytest

import streamdrift.detectors as detectors
from streamdrift.detectors import DETECTORS, from_state, make_detector

from .cases import CASES


def test_registry_names() -> None:
    assert set(DETECTORS) == {
        "adwin",
        "page_hinkley",
        "kswin",
        "ddm",
        "eddm",
        "hddm_a",
        "hddm_w",
    }
    for name, cls in DETECTORS.items():
        assert cls.name == name
        assert make_detector(name).name == name


def test_unknown_detector_names_the_valid_ones() -> None:
    with pytest.raises(ValueError, match="unknown detector 'adwn'") as err:
        make_detector("adwn")
    for name in DETECTORS:
        assert name in str(err.value)


def test_unknown_parameter_names_the_valid_ones() -> None:
    with pytest.raises(ValueError, match="unknown parameter") as err:
        make_detector("adwin", delta=0.01, clok=3)
    assert "'clok'" in str(err.value)
    assert "delta, clock, max_buckets, min_window_length, grace_period" in str(err.value)


@pytest.mark.parametrize(
    ("name", "params", "message"),
    [
        ("adwin", {"delta": 2.0}, "'delta' must be > 0.0 and < 1.0"),
        ("adwin", {"delta": "0.01"}, "'delta' must be a finite number"),
        ("adwin", {"clock": 1.5}, "'clock' must be an integer >= 1"),
        ("adwin", {"clock": True}, "'clock' must be an integer"),
        ("page_hinkley", {"mode": "sideways"}, "'mode' must be one of"),
        ("page_hinkley", {"threshold": float("nan")}, "'threshold' must be a finite number"),
        ("kswin", {"window_size": 50, "stat_size": 30}, "at least 2 \\* 'stat_size'"),
        ("kswin", {"alpha": 1.5}, "'alpha' must be >= 0.0 and <= 1.0"),
        ("kswin", {"window": [0.0, float("inf")]}, "'window' must be a finite number"),
        ("ddm", {"warm_start": -1}, "'warm_start' must be an integer >= 0"),
        ("eddm", {"alpha": 0.5, "beta": 0.9}, "'alpha' \\(0.5\\) must be >= 'beta'"),
        ("hddm_a", {"two_sided_test": "yes"}, "'two_sided_test' must be a bool"),
        ("hddm_w", {"lambda_val": 0.0}, "'lambda_val' must be > 0.0"),
    ],
)
def test_bad_parameter_values_are_rejected_up_front(
    name: str, params: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=f"^{name}: .*{message}"):
        make_detector(name, **params)


def test_from_state_dispatches_on_the_stored_name() -> None:
    for case in CASES.values():
        det = case.make()
        det.update_many(case.multi_change_stream()[:120])
        restored = from_state(det.to_dict())
        assert type(restored) is type(det)
        assert restored.to_dict() == det.to_dict()


def test_from_state_rejects_unknown_names_and_non_mappings() -> None:
    d = make_detector("adwin").to_dict()
    with pytest.raises(ValueError, match="unknown detector 'nope'"):
        from_state({**d, "name": "nope"})
    with pytest.raises(ValueError, match="unknown detector None"):
        from_state({})
    with pytest.raises(ValueError, match="must be a mapping"):
        from_state([("name", "adwin")])  # type: ignore[arg-type]


def test_all_is_explicit_and_complete() -> None:
    assert sorted(detectors.__all__) == sorted(
        [
            "ADWIN",
            "DDM",
            "DETECTORS",
            "EDDM",
            "HDDMA",
            "HDDMW",
            "KSWIN",
            "STATE_VERSION",
            "BinaryDriftDetector",
            "DriftDetector",
            "PageHinkley",
            "from_state",
            "make_detector",
        ]
    )
    for name in detectors.__all__:
        assert getattr(detectors, name) is not None
    public = {n for n in vars(detectors) if not n.startswith("_")}
    modules = {"adwin", "base", "ddm", "eddm", "hddm_a", "hddm_w", "kswin", "page_hinkley"}
    assert public - modules - {"registry", "annotations"} == set(detectors.__all__)


def test_every_detector_names_its_deciding_parameter_for_messages() -> None:
    from streamdrift.detectors.registry import DECISION_PARAM, DETECTORS, describe, make_detector

    assert set(DECISION_PARAM) == set(DETECTORS)
    for name, param in DECISION_PARAM.items():
        detector = make_detector(name)
        assert describe(detector) == f"{name} ({param}={detector.params[param]:g})"
