"""Drift statistics against scipy (the oracle) on seeded data."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.stats as ss
from hypothesis import example, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy.spatial.distance import jensenshannon as scipy_js

from streamdrift.stats.tests import (
    CHI2_SMOOTHING,
    chi2_homogeneity,
    jensen_shannon,
    ks_2samp,
    ks_sorted,
    proportion_ztest,
    psi,
    wasserstein,
    wasserstein_normalised,
    wasserstein_sorted,
)

# (n_ref, n_sample): tiny, unequal, equal, and the monitor's usual sizes.
SIZES = [(1, 2), (1, 7), (3, 5), (10, 10), (37, 120), (200, 1000), (2000, 1000), (5000, 3000)]


def _pair(seed: int, n1: int, n2: int, ties: bool, shift: float = 0.0) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    a = rng.normal(size=n1)
    b = rng.normal(shift, 1.0, size=n2)
    if ties:  # few distinct values: many ties inside and across the samples
        a, b = np.round(a * 2) / 2, np.round(b * 2) / 2
    return np.sort(a), b


# --- Kolmogorov-Smirnov --------------------------------------------------------


@pytest.mark.parametrize(("n1", "n2"), SIZES)
@pytest.mark.parametrize("ties", [False, True])
@pytest.mark.parametrize("shift", [0.0, 0.3])
def test_ks_2samp_matches_scipy_asymp(n1: int, n2: int, ties: bool, shift: float) -> None:
    ref, sample = _pair(n1 * 7 + n2, n1, n2, ties, shift)
    d, p = ks_2samp(ref, sample)
    expected = ss.ks_2samp(ref, sample, method="asymp")
    assert d == pytest.approx(float(expected.statistic), abs=1e-15)
    assert p == pytest.approx(float(expected.pvalue), rel=1e-6, abs=1e-300)


def test_ks_2samp_one_value_each_side_has_no_evidence() -> None:
    # scipy's asymptotic p-value is NaN here (effective size rounds to 0).
    assert ks_2samp(np.array([0.0]), np.array([1.0])) == (1.0, 1.0)
    assert ks_2samp(np.array([0.0]), np.array([0.0])) == (0.0, 1.0)


def test_ks_2samp_separated_and_identical_samples() -> None:
    ref = np.arange(10.0)
    assert ks_2samp(ref, ref + 100.0) == (1.0, ss.ks_2samp(ref, ref + 100, method="asymp").pvalue)
    d, p = ks_2samp(ref, ref[::-1].copy())
    assert d == 0.0 and p == 1.0


def test_ks_2samp_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="sorted"):
        ks_2samp(np.array([2.0, 1.0]), np.array([1.0]))
    with pytest.raises(ValueError, match="non-empty"):
        ks_2samp(np.array([1.0]), np.array([]))
    with pytest.raises(ValueError, match="finite"):
        ks_2samp(np.array([1.0]), np.array([np.nan]))


# --- Wasserstein ---------------------------------------------------------------


@pytest.mark.parametrize(("n1", "n2"), SIZES)
@pytest.mark.parametrize("ties", [False, True])
def test_wasserstein_matches_scipy(n1: int, n2: int, ties: bool) -> None:
    ref, sample = _pair(n1 + 3 * n2, n1, n2, ties, shift=0.5)
    expected = ss.wasserstein_distance(ref, sample)
    assert wasserstein(ref, sample) == pytest.approx(expected, rel=1e-12, abs=1e-15)


def test_wasserstein_normalised() -> None:
    ref, sample = _pair(5, 300, 200, ties=False, shift=1.0)
    w = wasserstein(ref, sample)
    assert wasserstein_normalised(ref, sample, 2.0) == pytest.approx(w / 2.0)
    for bad_scale in (0.0, -3.0, math.nan, math.inf):
        assert wasserstein_normalised(ref, sample, bad_scale) == w
    # A pure shift by c moves the distance by exactly |c|.
    assert wasserstein(ref, ref + 0.25) == pytest.approx(0.25)


# --- PSI -------------------------------------------------------------------------


def test_psi_hand_computed() -> None:
    e = np.array([0.25, 0.25, 0.5])
    a = np.array([0.5, 0.25, 0.25])
    expected = 0.25 * math.log(2.0) + 0.0 + (-0.25) * math.log(0.5)
    assert psi(e, a) == pytest.approx(expected, rel=1e-14)
    # Counts and proportions give the same value.
    assert psi(e * 1000, a * 40) == pytest.approx(expected, rel=1e-14)
    assert psi(e, e) == 0.0


def test_psi_floors_empty_bins_at_eps() -> None:
    e = np.array([0.5, 0.5, 0.0])
    a = np.array([0.4, 0.4, 0.2])
    floor = 1e-4
    expected = 2 * (-0.1) * math.log(0.8) + (0.2 - floor) * math.log(0.2 / floor)
    assert psi(e, a) == pytest.approx(expected, rel=1e-12)
    assert math.isfinite(psi(a, e))
    assert psi(e, a, eps=1e-2) < psi(e, a)


def test_psi_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="length"):
        psi(np.ones(3), np.ones(4))
    with pytest.raises(ValueError, match="positive total"):
        psi(np.zeros(3), np.ones(3))
    with pytest.raises(ValueError, match="non-negative"):
        psi(np.array([1.0, -1.0]), np.ones(2))
    with pytest.raises(ValueError, match="eps"):
        psi(np.ones(2), np.ones(2), eps=0.0)


counts_strategy = arrays(np.float64, 6, elements=st.floats(0, 1e6)).filter(lambda a: a.sum() > 0)


@settings(max_examples=200, deadline=None)
@given(counts_strategy, counts_strategy)
# subnormal shares: their half rounds to 0, which once made JS infinite (found by hypothesis)
@example(np.array([1.0, 0, 0, 0, 0, 0]), np.array([1.0, *[5e-324] * 5]))
def test_psi_and_js_are_non_negative_and_symmetric_where_they_should_be(
    e: np.ndarray, a: np.ndarray
) -> None:
    assert psi(e, a) >= 0.0
    assert psi(e, a) == pytest.approx(psi(a, e), rel=1e-9, abs=1e-12)  # PSI is symmetric
    js = jensen_shannon(e, a)
    assert 0.0 <= js <= 1.0 + 1e-12
    assert js == pytest.approx(jensen_shannon(a, e), rel=1e-9, abs=1e-12)


# --- Jensen-Shannon ----------------------------------------------------------------


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("base", [2.0, math.e, 10.0])
def test_jensen_shannon_matches_scipy(seed: int, base: float) -> None:
    rng = np.random.default_rng(seed)
    p = rng.integers(0, 50, size=12).astype(float)
    q = rng.integers(0, 50, size=12).astype(float)
    p[seed % 12] = 0.0  # zero bins on one side
    assert jensen_shannon(p, q, base) == pytest.approx(float(scipy_js(p, q, base=base)), rel=1e-12)


def test_jensen_shannon_extremes() -> None:
    assert jensen_shannon(np.array([1.0, 0.0]), np.array([0.0, 1.0])) == pytest.approx(1.0)
    assert jensen_shannon(np.array([3.0, 1.0]), np.array([0.75, 0.25])) == pytest.approx(0.0)
    with pytest.raises(ValueError, match="base"):
        jensen_shannon(np.ones(2), np.ones(2), base=1.0)


# --- chi-squared -------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(6))
def test_chi2_homogeneity_matches_scipy_chisquare(seed: int) -> None:
    rng = np.random.default_rng(seed)
    k = int(rng.integers(2, 30))
    ref = rng.integers(1, 500, size=k)
    obs = rng.multinomial(int(rng.integers(20, 3000)), rng.dirichlet(np.ones(k)))
    stat, dof, p = chi2_homogeneity(ref, obs)
    expected = ss.chisquare(obs, f_exp=ref / ref.sum() * obs.sum())
    assert dof == k - 1
    assert stat == pytest.approx(float(expected.statistic), rel=1e-12)
    assert p == pytest.approx(float(expected.pvalue), rel=1e-9, abs=1e-300)


def test_chi2_homogeneity_drops_categories_empty_in_both() -> None:
    ref = np.array([10, 0, 30, 60])
    obs = np.array([5, 0, 20, 25])
    stat, dof, p = chi2_homogeneity(ref, obs)
    expected = ss.chisquare([5, 20, 25], f_exp=np.array([10, 30, 60]) / 100 * 50)
    assert dof == 2
    assert (stat, p) == pytest.approx((expected.statistic, expected.pvalue), rel=1e-12)


def test_chi2_homogeneity_smooths_categories_new_in_the_window() -> None:
    ref = np.array([40, 60, 0])
    obs = np.array([10, 10, 5])
    stat, dof, p = chi2_homogeneity(ref, obs)
    smoothed = ref + CHI2_SMOOTHING
    expected = ss.chisquare(obs, f_exp=smoothed / smoothed.sum() * obs.sum())
    assert dof == 2 and math.isfinite(stat)
    assert (stat, p) == pytest.approx((expected.statistic, expected.pvalue), rel=1e-12)
    assert p < 1e-6


def test_chi2_homogeneity_single_category_and_errors() -> None:
    assert chi2_homogeneity(np.array([5, 0]), np.array([9, 0])) == (0.0, 0, 1.0)
    with pytest.raises(ValueError):
        chi2_homogeneity(np.array([1, 2]), np.array([0, 0]))
    with pytest.raises(ValueError):
        chi2_homogeneity(np.array([1, 2]), np.array([1, 2, 3]))


# --- two-proportion z-test --------------------------------------------------------


@pytest.mark.parametrize(
    ("k1", "n1", "k2", "n2"),
    [(10, 100, 25, 100), (0, 50, 3, 40), (480, 1000, 520, 1000), (7, 7, 3, 9), (1, 2000, 60, 800)],
)
def test_proportion_ztest_textbook(k1: int, n1: int, k2: int, n2: int) -> None:
    p1, p2 = k1 / n1, k2 / n2
    pooled = (k1 + k2) / (n1 + n2)
    z_expected = (p1 - p2) / math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    z, p = proportion_ztest(k1, n1, k2, n2)
    assert z == pytest.approx(z_expected, rel=1e-12)
    assert p == pytest.approx(2 * ss.norm.sf(abs(z_expected)), rel=1e-10)
    z_rev, p_rev = proportion_ztest(k2, n2, k1, n1)
    assert (z_rev, p_rev) == pytest.approx((-z, p))


def test_proportion_ztest_degenerate_and_invalid() -> None:
    assert proportion_ztest(0, 10, 0, 20) == (0.0, 1.0)
    assert proportion_ztest(10, 10, 20, 20) == (0.0, 1.0)
    for args in [(1, 0, 1, 1), (2, 1, 0, 1), (-1, 5, 0, 5)]:
        with pytest.raises(ValueError):
            proportion_ztest(*args)


# --- two-sample chi-squared, Cohen's w, Benjamini-Hochberg -------------------------------


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_chi2_two_sample_matches_scipy_contingency(seed: int) -> None:
    from streamdrift.stats.tests import chi2_two_sample

    rng = np.random.default_rng(seed)
    ref = rng.integers(0, 500, 6)
    obs = rng.integers(0, 300, 6)
    ref[2] = obs[2] = 0  # a category empty in both is dropped
    stat, dof, p = chi2_two_sample(ref, obs)
    keep = (ref > 0) | (obs > 0)
    want = ss.chi2_contingency(np.vstack([ref[keep], obs[keep]]), correction=False)
    assert dof == want.dof == 4
    assert stat == pytest.approx(float(want.statistic), rel=1e-12)
    assert p == pytest.approx(float(want.pvalue), rel=1e-9)


def test_chi2_two_sample_degenerate_inputs() -> None:
    from streamdrift.stats.tests import chi2_two_sample

    assert chi2_two_sample(np.array([5, 0]), np.array([3, 0])) == (0.0, 0, 1.0)
    with pytest.raises(ValueError, match="positive total"):
        chi2_two_sample(np.array([0, 0]), np.array([3, 4]))


def test_cohens_w_is_zero_for_equal_shares_and_matches_formula() -> None:
    from streamdrift.stats.tests import cohens_w

    assert cohens_w(np.array([40, 30, 20, 10]), np.array([4, 3, 2, 1])) == pytest.approx(0.0)
    # a 10-point rise of one category's share, the others scaled down
    exp = np.array([0.4, 0.3, 0.2, 0.1])
    obs = np.array([0.5, 0.25, 0.2 / 1.2, 0.1 / 1.2])
    want = np.sqrt(np.sum((obs - exp) ** 2 / exp))
    assert cohens_w(exp, obs) == pytest.approx(want) and 0.19 < want < 0.21


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_benjamini_hochberg_matches_scipy(seed: int) -> None:
    from streamdrift.stats.tests import benjamini_hochberg

    rng = np.random.default_rng(seed)
    p = np.concatenate([rng.uniform(0, 1, 30), rng.uniform(0, 0.002, 5)])
    rng.shuffle(p)
    q = 0.05
    want = ss.false_discovery_control(p, method="bh") <= q
    np.testing.assert_array_equal(benjamini_hochberg(p, q), want)
    assert benjamini_hochberg(np.array([]), q).size == 0
    assert not benjamini_hochberg(np.array([np.nan, 0.5]), q).any()


@pytest.mark.parametrize("ties", [False, True])
@pytest.mark.parametrize(("n1", "n2"), [(1, 1), (1, 7), (2000, 1000), (300, 300)])
def test_ks_and_wasserstein_on_sorted_samples_match_binary_search_ecdfs(
    n1: int, n2: int, ties: bool
) -> None:
    """The merged-run ECDFs give the very D of ECDFs read by searchsorted at every pooled
    value (the textbook definition), and W to rounding."""
    ref, sample = _pair(n1 + 11 * n2, n1, n2, ties, shift=0.3)
    ref, sample = np.sort(ref), np.sort(sample)
    pooled = np.sort(np.concatenate((ref, sample)))
    cdf1 = np.searchsorted(ref, pooled, side="right") / n1
    cdf2 = np.searchsorted(sample, pooled, side="right") / n2
    d, _ = ks_sorted(ref, sample)
    assert d == float(np.max(np.abs(cdf1 - cdf2)))
    w = float(np.dot(np.abs(cdf1 - cdf2)[:-1], np.diff(pooled)))
    assert wasserstein_sorted(ref, sample) == pytest.approx(w, rel=1e-12, abs=1e-15)
