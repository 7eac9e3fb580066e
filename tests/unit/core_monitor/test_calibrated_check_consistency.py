"""Every calibrated check reports the statistic that decided it: value >= threshold whenever
it is drifted (core/threshold_calibration.py). A binned feature's psi, chi2 and js share the
binned chi-squared's decision, and Wasserstein follows KS; their own statistic is context."""

from __future__ import annotations

import re

import numpy as np

from streamdrift.core.monitor import DriftMonitor
from streamdrift.core.spec import MonitorSpec, ReferenceSpec
from streamdrift.core.windows import WindowSpec
from streamdrift.records import PredictionBatch

T0 = 1.7e9


def test_a_drifted_check_states_a_value_at_or_above_its_threshold() -> None:
    rng = np.random.default_rng(7)
    n, window, reference = 120_000, 1000, 5000
    x = rng.standard_normal((n, 2))
    cat = rng.random(n) < 0.3
    # shifts of growing size in blocks of windows: many windows near the decision boundary
    shift = np.repeat(rng.uniform(0.0, 0.4, n // 5000), 5000)
    shift[:reference] = 0.0
    x[:, 0] += shift
    cat = rng.random(n) < 0.3 + shift / 2
    spec = MonitorSpec(window=WindowSpec(size=window), reference=ReferenceSpec(size=reference))
    monitor = DriftMonitor("m", "1", None, spec)
    results = []
    for lo in range(0, n, 20_000):
        ids = [f"p{i}" for i in range(lo, lo + 20_000)]
        stamps = (T0 + np.arange(lo, lo + 20_000) * 0.01).tolist()
        features = {
            "f0": x[lo : lo + 20_000, 0].tolist(),
            "f1": x[lo : lo + 20_000, 1].tolist(),
            "c": np.where(cat[lo : lo + 20_000], "a", "b").tolist(),
        }
        results += monitor.observe(PredictionBatch("m", "1", None, ids, stamps, features))
    checks = [(r, c) for r in results for c in r.tests if c.threshold_source == "reference"]
    assert len(results) > 100 and checks
    drifted = [(r, c) for r, c in checks if c.drifted]
    assert drifted and len(drifted) < len(checks)
    for _, c in drifted:
        assert c.value >= c.threshold, (c.detector, c.statistic, c.value, c.threshold, c.detail)
    # the shared decisions name their deciding statistic; the check's own is context
    binned = [c for _, c in checks if c.detector in ("psi", "js", "chi2")]
    assert {c.statistic for c in binned} == {"chi2"}
    assert {c.statistic for _, c in checks if c.detector == "wasserstein"} <= {"ks_distance"}
    # a PSI below its naive threshold (the critical chi-squared in PSI units) that fires
    below = []
    for r, c in drifted:
        if c.detector == "psi":
            psi = float(re.search(r"psi=([0-9.e+-]+) as context", c.detail).group(1))  # type: ignore[union-attr]
            naive = c.threshold * (1.0 / r.window.count + 1.0 / r.reference_count)
            below.append(psi < naive)
    assert any(below)
