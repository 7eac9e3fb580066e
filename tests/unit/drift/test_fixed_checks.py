"""The fixed-threshold checks of one feature, and the window's Benjamini–Hochberg step."""

from __future__ import annotations

import dataclasses

import numpy as np

from streamdrift.config.spec import MonitorSpec
from streamdrift.drift.fixed_checks import correct, fixed_checks
from streamdrift.records import AlertKind
from streamdrift.stats import CategoricalReference, NumericReference


def test_a_shifted_numeric_window_drifts_on_psi_and_reports_its_psi() -> None:
    rng = np.random.default_rng(3)
    ref = NumericReference.fit(rng.normal(size=2000))
    spec = MonitorSpec(threshold_mode="fixed", tests=("psi", "ks", "missing"))
    psi_values: dict[str, float] = {}
    values = (rng.normal(size=500) + 1.5).tolist()
    checks = fixed_checks("x", AlertKind.DATA_DRIFT, ref, values, spec, psi_values)
    by_test = {c.detector: c for c in checks}
    assert set(by_test) == {"psi", "ks", "missing"}
    assert by_test["psi"].drifted and by_test["ks"].drifted and not by_test["missing"].drifted
    assert psi_values == {"x": by_test["psi"].value}
    assert all(c.kind is AlertKind.DATA_DRIFT for c in checks)


def test_a_window_below_min_window_count_checks_only_missingness() -> None:
    ref = CategoricalReference.fit(["a", "b"] * 500)
    spec = MonitorSpec(threshold_mode="fixed", tests=("psi", "chi2", "missing"))
    psi_values: dict[str, float] = {}
    checks = fixed_checks("c", AlertKind.DATA_DRIFT, ref, ["a", None, None], spec, psi_values)
    assert [c.detector for c in checks] == ["missing"] and psi_values == {}


def test_correct_keeps_drifted_only_where_benjamini_hochberg_rejects() -> None:
    rng = np.random.default_rng(4)
    ref = NumericReference.fit(rng.normal(size=2000))
    spec = MonitorSpec(threshold_mode="fixed", tests=("psi", "missing"))
    values = (rng.normal(size=500) + 1.5).tolist()
    drifted = fixed_checks("x", AlertKind.DATA_DRIFT, ref, values, spec, {})[0]
    assert drifted.drifted
    weak = dataclasses.replace(drifted, p_value=0.5)  # over its threshold, not significant
    kept, dropped = correct([drifted, weak], alpha=0.05)
    assert kept.drifted and not dropped.drifted
    assert correct([], 0.05) == []
