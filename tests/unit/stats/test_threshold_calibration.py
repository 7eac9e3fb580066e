"""Design effects and critical values against brute-force simulation and scipy.

AR(1) streams x_t = φ x_{t-1} + sqrt(1 - φ²) e_t (stationary, unit variance) are drawn with
``scipy.signal.lfilter``; the oracle of each design effect is the same statistic measured
on many independent windows of the same process.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as sps
from scipy.signal import lfilter

from streamdrift.stats.cusum import Cusum, cusum_threshold
from streamdrift.stats.special import chi2_sf
from streamdrift.stats.threshold_calibration import (
    _certified_bracket,
    _chi2_isf_cached,
    binned_critical,
    binned_inflation,
    calibration_layout,
    chi2_isf,
    ks_critical,
    lag1_inflation,
    mean_inflation,
    normal_isf,
)


def ar1(rng: np.random.Generator, n: int, phi: float, paths: int = 1) -> np.ndarray:
    e = rng.standard_normal((n, paths)) * math.sqrt(1 - phi**2)
    e[0] = rng.standard_normal(paths)  # start in the stationary law
    x: np.ndarray = lfilter([1.0], [1.0, -phi], e, axis=0)
    return x[:, 0] if paths == 1 else x


def mean_design_effect(phi: float, n: int) -> float:
    """Var(window mean) / (σ²/n) of an AR(1) window of n values: 1 + 2 Σ (1 - j/n) φ^j."""
    j = np.arange(1, n)
    return float(1 + 2 * np.sum((1 - j / n) * phi**j))


@pytest.mark.parametrize("phi", [0.5, 0.9])
def test_the_mean_inflation_of_ar1_is_the_theoretical_design_effect(phi: float) -> None:
    rng = np.random.default_rng(int(phi * 100))
    x = ar1(rng, 200_000, phi)
    got = mean_inflation(x, 1000, seed=1)
    assert (got.windows, got.window_size) == (200, 1000)
    theory = mean_design_effect(phi, 1000)  # 2.99 for φ = 0.5, 18.8 for φ = 0.9
    assert got.estimate == pytest.approx(theory, rel=0.25)
    assert got.factor >= got.estimate  # the upper bound is what is used


@pytest.mark.parametrize("phi", [0.0, 0.5, 0.9])
def test_the_binned_inflation_matches_a_simulation_of_independent_windows(phi: float) -> None:
    rng = np.random.default_rng(7 + int(phi * 10))
    edges = sps.norm.ppf(np.arange(1, 10) / 10)  # the population's deciles

    def codes(x: np.ndarray) -> np.ndarray:
        out: np.ndarray = np.searchsorted(edges, x, side="left")
        return out

    got = binned_inflation(codes(ar1(rng, 200_000, phi)), 10, 1000, seed=2)
    # oracle: chi-squared of 2,000 independent windows against the population's bins
    windows = codes(ar1(rng, 1000, phi, paths=2000)).T
    counts = np.stack([np.bincount(w, minlength=10) for w in windows])
    chi2 = np.sum((counts - 100.0) ** 2 / 100.0, axis=1)
    assert got.estimate == pytest.approx(chi2.mean() / 9, rel=0.25)
    # the far-tail form (top eigenvalue) is conservative at the simulation's 99.9th
    # percentile, at a level the 2,000 windows resolve
    critical, _ = binned_critical({"bins": got.to_dict()}, 9, 1e-3, 0.0)
    assert float(np.mean(chi2 >= critical)) <= 2e-3


def test_an_iid_stream_has_no_inflation_beyond_its_upper_bound() -> None:
    rng = np.random.default_rng(11)
    x = rng.standard_normal(100_000)
    got = mean_inflation(x, 1000, seed=3)
    assert got.estimate == pytest.approx(1.0, abs=0.25)
    assert 1.0 <= got.factor < 1.6


def test_short_references_calibrate_on_smaller_windows_or_fall_back_to_lag_one() -> None:
    assert calibration_layout(2000, 1000) == (30, 66)  # 2 windows of 1,000 are too few
    assert calibration_layout(8000, 1000) == (8, 1000)  # 8 of the monitored size are enough
    assert calibration_layout(500, 1000) == (0, 0)  # not 30 windows of 20: lag-1 instead
    rng = np.random.default_rng(12)
    x = ar1(rng, 500, 0.9)
    fallback = lag1_inflation(x)
    r = float(np.corrcoef(x[1:], x[:-1])[0, 1])
    assert fallback.factor == pytest.approx((1 + r) / (1 - r), rel=0.05)
    assert fallback.windows == 0


@pytest.mark.parametrize("level", [1e-3, 1e-6, 1e-9])
@pytest.mark.parametrize("dof", [1, 3, 9, 3.5])
def test_critical_values_are_scipys(level: float, dof: float) -> None:
    assert chi2_isf(level, dof) == pytest.approx(sps.chi2.isf(level, dof), rel=2e-3)
    assert normal_isf(level) == pytest.approx(sps.norm.isf(level), rel=1e-9)


def _plain_bisection(level: float, dof: float) -> float:
    """chi2_isf's search as it was first written: every probe computed."""
    lo, hi = 0.0, max(10.0, 2.0 * dof)
    while chi2_sf(hi, dof) > level:
        hi *= 2.0
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        if chi2_sf(mid, dof) > level:
            lo = mid
        else:
            hi = mid
    return hi


def test_the_certified_search_gives_the_plain_bisections_bits() -> None:
    rng = np.random.default_rng(16)
    keys = [(-0.301, 0.01), (-3.0, 0.01), (-0.301, 60.0), (-16.0, 1.0), (-3.3, 2.0)]
    for _ in range(400):
        log_level = round(float(rng.uniform(-16.0, -0.301)), 3)
        dof = round(
            float(rng.choice([rng.uniform(0.01, 3), rng.uniform(1, 60), rng.integers(1, 60)])), 2
        )
        keys.append((log_level, max(dof, 0.01)))
    for log_level, dof in keys:
        level = 10.0**log_level
        assert _chi2_isf_cached.__wrapped__(log_level, dof) == _plain_bisection(level, dof)
        if dof >= 0.5:  # (the root of dof 0.01 at level 0.5 is near 1e-30: no bracket)
            assert math.isfinite(_certified_bracket(level, dof)[0])  # most probes skipped


def test_a_search_without_certificate_computes_every_probe() -> None:
    with pytest.raises(ValueError):
        _chi2_isf_cached.__wrapped__(-3.0, 0.0)  # as chi2_sf(x, 0) raises
    assert _certified_bracket(1e-3, 0.0) == (-math.inf, math.inf)


@pytest.mark.parametrize("n", [100, 1000, 10_000])
def test_the_ks_critical_value_is_conservative(n: int) -> None:
    for level in (1e-3, 1e-6):
        d = ks_critical(level, n)
        assert sps.kstwo.sf(d, n) <= level
        assert sps.kstwo.sf(d, n) >= level / 3  # and not by much


def test_the_cusum_threshold_keeps_the_per_window_false_alarm_rate() -> None:
    """Brute force: 4,000 in-control CUSUMs of N(0, 1) z-scores over 2,000 windows."""
    rng = np.random.default_rng(13)
    level = 1e-3
    h = cusum_threshold(level)
    s = np.zeros(4000)
    alarms = 0
    for _ in range(2000):
        s = np.maximum(0.0, s + rng.standard_normal(s.size) - 1.0)
        fired = s >= h
        alarms += int(fired.sum())
        s[fired] = 0.0
    rate = alarms / (4000 * 2000)
    assert rate <= level
    assert rate >= level / 4  # Siegmund's approximation is close, not loose


def test_a_persistent_shift_too_small_for_one_window_accumulates() -> None:
    level = 1e-8
    z_one_window = normal_isf(level)  # 5.6: what one window needs
    h = cusum_threshold(level)
    cusum = Cusum()
    fired = [cusum.update(2.5, h) for _ in range(10)]  # 2.5 < 5.6 in every window
    assert fired.index(True) + 1 <= 8
    assert z_one_window > 2.5
    restored = Cusum.from_dict(cusum.to_dict())
    assert restored == cusum
