"""DriftMonitor with thresholds from the reference (threshold_mode "reference", the default).

Streams are seeded numpy arrays (AR(1) by ``scipy.signal.lfilter``) fed as whole-column
``PredictionBatch`` objects, so hundreds of thousands of events take seconds.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.signal import lfilter

from streamdrift.alerts.policy import AlertPolicy
from streamdrift.config.spec import MonitorSpec, ReferenceSpec, spec_from_mapping
from streamdrift.drift.budget import SECONDS_30_DAYS, BudgetSpec, WindowRate, per_check_level
from streamdrift.drift.monitor import DriftMonitor
from streamdrift.drift.windows import WindowSpec
from streamdrift.records import PredictionBatch, WindowResult

T0 = 1.7e9
DT = 0.01  # 100 events per second of event time


def ar1(rng: np.random.Generator, n: int, phi: float, k: int) -> np.ndarray:
    e = rng.standard_normal((n, k)) * math.sqrt(1 - phi**2)
    e[0] = rng.standard_normal(k)
    x: np.ndarray = lfilter([1.0], [1.0, -phi], e, axis=0)
    return x


def run(
    monitor: DriftMonitor, x: np.ndarray, batch: int = 20_000, start: int = 0
) -> list[WindowResult]:
    out: list[WindowResult] = []
    for lo in range(0, len(x), batch):
        rows = x[lo : lo + batch]
        ids = [f"p{start + lo + i}" for i in range(len(rows))]
        stamps = (T0 + (start + lo + np.arange(len(rows))) * DT).tolist()
        features = {f"f{j}": rows[:, j].tolist() for j in range(rows.shape[1])}
        out += monitor.observe(PredictionBatch("m", "1", None, ids, stamps, features))
    return out


def drifted(results: list[WindowResult]) -> list[tuple[int, str, str]]:
    return [(r.index, c.feature, c.detector) for r in results for c in r.drifted]


def spec(window: int = 1000, reference: int = 2000, **kw: object) -> MonitorSpec:
    return MonitorSpec(
        window=WindowSpec(size=window), reference=ReferenceSpec(size=reference), **kw
    )  # type: ignore[arg-type]


@pytest.mark.parametrize(("phi", "n"), [(0.9, 500_000), (0.5, 200_000)])
def test_stationary_ar1_streams_stay_within_the_budget(phi: float, n: int) -> None:
    """500,000 events of AR(1) φ = 0.9 (10 features): at 100 events/s the budget expects
    1 × 5,000 s / 30 days = 0.002 false alerts, so none may fire."""
    rng = np.random.default_rng(int(phi * 1000))
    x = ar1(rng, n, phi, 10)
    monitor = DriftMonitor("m", "1", None, spec())
    results = run(monitor, x)
    assert len(results) == (n - 2000) // 1000
    assert drifted(results) == []
    if phi > 0.8:  # the old defaults' gates and i.i.d. tests flood on the same stream
        fixed = DriftMonitor("m", "1", None, spec(threshold_mode="fixed"))
        assert len(drifted(run(fixed, x[:100_000]))) > 10
    # and the calibration saw the autocorrelation
    assert monitor.profiles["f0"].calibration is not None
    assert monitor.profiles["f0"].calibration["bins"]["inflation"] > (3 if phi > 0.8 else 1.2)


def test_a_one_sigma_shift_is_flagged_by_the_first_shifted_window() -> None:
    rng = np.random.default_rng(1)
    x = rng.standard_normal((12_000, 3))
    x[6000:, 0] += 1.0
    results = run(DriftMonitor("m", "1", None, spec()), x)
    hits = drifted(results)
    assert (4, "f0", "psi") in hits  # window 4: events 6,000..6,999, the first shifted one
    assert {i for i, f, _ in hits if f == "f0"} == {4, 5, 6, 7, 8, 9}
    assert {f for _, f, _ in hits} == {"f0"}


def test_a_small_persistent_shift_is_flagged_by_the_accumulated_evidence() -> None:
    """A 0.15σ shift: no single window of 1,000 events shows it at the budget's level; the
    CUSUM of the windows' calibrated z-scores does within a few windows."""
    rng = np.random.default_rng(2)
    x = rng.standard_normal((40_000, 2))
    x[20_000:, 0] += 0.15
    monitor = DriftMonitor("m", "1", None, spec(reference=20_000))
    results = run(monitor, x)
    per_window = [h for h in drifted(results) if not h[2].startswith("cusum")]
    accumulated = [h for h in drifted(results) if h[2].startswith("cusum")]
    assert per_window == []
    assert accumulated and accumulated[0][:2][1] == "f0"
    assert accumulated[0][0] <= 5  # within the first six shifted windows
    assert {f for _, f, _ in accumulated} == {"f0"}
    first = next(c for r in results for c in r.drifted)
    assert "accumulated over" in first.detail and first.threshold_source == "reference"


def test_the_alert_explains_the_threshold() -> None:
    rng = np.random.default_rng(3)
    x = rng.standard_normal((4000, 1))
    x[3000:, 0] += 1.0
    results = run(DriftMonitor("m", "1", None, spec()), x)
    policy = AlertPolicy(clock=lambda: 0.0)
    alerts = [a for r in results for a in policy.decide(r, 3)]
    assert len(alerts) == 1
    message = alerts[0].message
    assert "psi=" in message and " above " in message
    assert "the threshold for 1 false alert per 30 days" in message
    assert "windows of 66 events of the reference" in message  # 2,000 events: 30 of 66


def test_the_budget_sets_the_level_from_the_observed_window_rate() -> None:
    budget = BudgetSpec()
    rate = WindowRate()
    assert rate.per_30_days(budget.min_window_seconds) == SECONDS_30_DAYS  # assumed 1 s
    for _ in range(50):
        rate.add(10.0)
    assert rate.per_30_days(budget.min_window_seconds) == pytest.approx(SECONDS_30_DAYS / 10)
    level = per_check_level(budget, rate, 0.25, 40)
    assert level == pytest.approx(0.25 / (SECONDS_30_DAYS / 10 * 40))
    doubled = per_check_level(BudgetSpec(false_alerts_per_30_days=2), rate, 0.25, 40)
    assert doubled == pytest.approx(2 * level)
    assert WindowRate.from_dict(rate.to_dict()) == rate


def test_min_effect_is_an_optional_floor() -> None:
    rng = np.random.default_rng(4)
    x = rng.standard_normal((8000, 1))
    x[4000:, 0] += 0.5  # PSI about 0.25
    plain = drifted(run(DriftMonitor("m", "1", None, spec()), x))
    floored = drifted(run(DriftMonitor("m", "1", None, spec(min_effect={"psi": 1.0})), x))
    assert any(d == "psi" for _, _, d in plain)
    assert not any(d == "psi" for _, _, d in floored)


def test_a_restored_monitor_continues_with_the_same_verdicts() -> None:
    rng = np.random.default_rng(5)
    x = rng.standard_normal((30_000, 2))
    x[20_000:, 1] += 0.15
    whole = DriftMonitor("m", "1", None, spec(reference=10_000))
    expected = run(whole, x)
    first = DriftMonitor("m", "1", None, spec(reference=10_000))
    got = run(first, x[:15_000])
    restored = DriftMonitor.from_dict(first.to_dict(), first.spec)
    got += run(restored, x[15_000:], start=15_000)
    assert got == expected


def test_budget_and_min_effect_are_read_from_the_model_config() -> None:
    parsed = spec_from_mapping(
        {
            "budget": {"false_alerts_per_30_days": 0.5, "accumulated_share": 0.0},
            "min_effect": {"psi": 0.05},
            "threshold_mode": "reference",
        },
        MonitorSpec(),
        "defaults",
    )
    assert parsed.budget.false_alerts_per_30_days == 0.5
    assert parsed.min_effect == {"psi": 0.05}
    with pytest.raises(ValueError, match=r"defaults\.budget"):
        spec_from_mapping({"budget": {"false_alerts_per_30_days": 0}}, MonitorSpec(), "defaults")
    with pytest.raises(ValueError, match="threshold_mode"):
        spec_from_mapping({"threshold_mode": "magic"}, MonitorSpec(), "defaults")
