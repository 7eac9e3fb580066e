"""A calibrated check decided by another statistic says so: its verdict is that statistic's
value against its threshold, in the check, the drift-windows record and the alert message."""

from __future__ import annotations

import numpy as np

from streamdrift.alerts.policy import _measurement
from streamdrift.config.spec import MonitorSpec
from streamdrift.drift.monitor import DriftMonitor
from streamdrift.drift.window_record import window_record
from streamdrift.drift.windows import WindowSpec
from streamdrift.records import PredictionBatch, WindowResult


def _windows(shift: float, seed: int) -> list[WindowResult]:
    """A calibrated monitor (the default mode) over a reference and shifted windows."""
    rng = np.random.default_rng(seed)
    spec = MonitorSpec(window=WindowSpec(kind="count", size=500), tests=("psi", "js", "ks",
                       "wasserstein", "chi2", "missing"))  # fmt: skip
    monitor = DriftMonitor("m", "1", None, spec)
    n = 2_000 + 40 * 500
    x = rng.normal(size=n)
    x[2_000:] += shift * rng.random(n - 2_000)  # shifts of every size, some near the threshold
    cat = rng.choice(["a", "b", "c", "d"], size=n, p=[0.4, 0.3, 0.2, 0.1]).astype(object)
    flip = rng.random(n) < shift * 0.3
    cat[2_000:][flip[2_000:]] = "a"
    batch = PredictionBatch(
        "m", "1", None, [str(i) for i in range(n)], [1.7e9 + i for i in range(n)],
        {"x": x.tolist(), "c": cat.tolist()}, rng.random(n).tolist(),
    )  # fmt: skip
    return monitor.observe(batch)


def test_every_drifted_check_is_at_or_above_the_threshold_of_what_decided_it() -> None:
    decided_elsewhere = drifted_elsewhere = 0
    for seed, shift in enumerate((0.0, 0.2, 0.4, 0.8)):
        for result in _windows(shift, seed):
            for check in result.tests:
                if check.threshold_source != "reference" or check.p_value is None:
                    continue
                record = next(
                    t for t in window_record(result, "drift")["tests"]
                    if (t["feature"], t["detector"]) == (check.feature, check.detector)
                )  # fmt: skip
                if check.decided_by is None:  # drifted only at or above its own threshold
                    assert not check.drifted or check.value >= check.threshold, check
                    assert record["decided_by"] is None
                    continue
                statistic, value, threshold = check.decided_by
                assert not check.drifted or value >= threshold, check
                drifted_elsewhere += check.drifted
                assert record["decided_by"] == {
                    "statistic": statistic, "value": value, "threshold": threshold,
                }  # fmt: skip
                if check.drifted and check.value < check.threshold:
                    decided_elsewhere += 1
                    message = _measurement(check)
                    assert "below its equivalent threshold" in message
                    assert f"decided by {statistic}=" in message, message
    assert drifted_elsewhere > 0  # the shifted windows exercise checks decided elsewhere


def test_the_message_of_a_check_decided_elsewhere_names_both_thresholds() -> None:
    from streamdrift.records import AlertKind, CheckResult

    check = CheckResult(
        "region", AlertKind.DATA_DRIFT, "psi", "psi", 0.0750, 0.0784, 1e-9, drifted=True,
        detail="the threshold for 1 false alert per 30 days (…); decided by chi2=65.8 vs 65.3",
        threshold_source="reference", decided_by=("chi2", 65.8, 65.3),
    )  # fmt: skip
    message = _measurement(check)
    assert message.startswith("psi=0.075 (below its equivalent threshold 0.0784), ")
    assert "decided by chi2=65.8 vs 65.3" in message
