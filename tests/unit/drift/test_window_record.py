"""``drift/window_record.py``: ids, verdicts, non-finite numbers, the doctest."""

from __future__ import annotations

import doctest
import math

import pytest

from streamdrift.drift import window_record as wr
from streamdrift.records import AlertKind, CheckResult, WindowInfo, WindowResult


def result(*tests: CheckResult, index: int = 7, segment: str | None = None) -> WindowResult:
    return WindowResult("m", "2", segment, index, WindowInfo(10.0, 20.0, 500, True), 1000, tests)


PSI = CheckResult("x", AlertKind.DATA_DRIFT, "psi", "psi", 0.35, 0.2, 1e-9, drifted=True)
ADWIN = CheckResult(
    "x", AlertKind.DATA_DRIFT, "adwin", "psi_series", 0.1, 0.002, None, threshold_source="detector"
)


def test_doctest() -> None:
    assert doctest.testmod(wr).failed == 0


def test_record_id_depends_on_every_part_of_the_key() -> None:
    base = wr.record_id("m", "2", None, "drift", 7)
    assert base == wr.record_id("m", "2", None, "drift", 7)
    others = {
        wr.record_id("n", "2", None, "drift", 7),
        wr.record_id("m", "3", None, "drift", 7),
        wr.record_id("m", "2", "eu", "drift", 7),
        wr.record_id("m", "2", None, "performance", 7),
        wr.record_id("m", "2", None, "drift", 8),
    }
    assert base not in others and len(others) == 5


def test_a_drift_record_has_window_tests_and_verdicts() -> None:
    doc = wr.window_record(result(PSI, ADWIN), "drift")
    assert doc["window"] == {"index": 7, "start": 10.0, "end": 20.0, "count": 500, "partial": True}
    assert doc["verdict"] == "drift" and doc["labels"] is None and doc["metrics"] == {}
    assert [(t["detector"], t["verdict"], t["threshold_source"]) for t in doc["tests"]] == [
        ("psi", "drift", "configured"),
        ("adwin", "ok", "detector"),
    ]
    assert doc["tests"][0]["p_value"] == 1e-9 and doc["tests"][1]["e_value"] is None


def test_windows_without_tests_are_untested_and_non_finite_numbers_are_null() -> None:
    assert wr.window_record(result(), "drift")["verdict"] == "untested"
    nan = CheckResult("error_rate", AlertKind.CONCEPT_DRIFT, "ddm", "error_rate", math.nan, 0, None)
    window = WindowResult(
        "m",
        "2",
        None,
        0,
        WindowInfo(0, 1, 3),
        0,
        (nan,),
        (("accuracy", 1.0), ("roc_auc", math.nan)),
    )
    doc = wr.window_record(window, "performance")
    assert doc["tests"][0]["value"] is None
    assert doc["metrics"] == {"accuracy": 1.0, "roc_auc": None}
    assert doc["labels"] == {"count": 3, "coverage": None}


def test_monitor_of_tells_label_health_from_performance() -> None:
    health = CheckResult(
        "label_coverage", AlertKind.LABEL_HEALTH, "label_coverage", "label_coverage", 0.5, 0.9, None
    )
    assert wr.monitor_of(result(health), labels=True) == "label_health"
    assert wr.monitor_of(result(), labels=True) == "performance"
    assert wr.monitor_of(result(health), labels=False) == "drift"
    with pytest.raises(ValueError, match="unknown monitor"):
        wr.window_record(result(), "other")
