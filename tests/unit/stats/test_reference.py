"""References and window comparisons: fitting, round trips, agreement with scipy."""

from __future__ import annotations

import dataclasses
import doctest
import json
import math

import numpy as np
import pytest
import scipy.stats as ss
from scipy.spatial.distance import jensenshannon as scipy_js

import streamdrift.stats as stats_pkg
from streamdrift.stats import ks_distribution, reference, sketches, special, tests
from streamdrift.stats.reference import (
    CategoricalComparison,
    CategoricalReference,
    NumericComparison,
    NumericReference,
    compare_categorical,
    compare_numeric,
)
from streamdrift.stats.tests import psi


def _json(d: dict[str, object]) -> dict[str, object]:
    out: dict[str, object] = json.loads(json.dumps(d, allow_nan=False))
    return out


# --- NumericReference.fit --------------------------------------------------------


def test_fit_keeps_all_values_when_small() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(5.0, 2.0, size=800)
    x[:40] = np.nan
    ref = NumericReference.fit(x, n_bins=10)
    finite = np.sort(x[40:])
    assert np.array_equal(ref.sample, finite)
    assert (ref.count, ref.n_missing, ref.n_total) == (760, 40, 800)
    assert ref.missing_share == pytest.approx(0.05)
    assert ref.mean == pytest.approx(finite.mean()) and ref.std == pytest.approx(finite.std(ddof=1))
    assert ref.edges.size == 9 and np.all(np.diff(ref.edges) > 0)
    assert ref.expected.sum() == pytest.approx(1.0)
    assert np.allclose(ref.expected, 0.1, atol=0.002)  # quantile bins are near equal-mass
    assert ref.bin_counts.sum() == ref.count


def test_fit_subsamples_deterministically_with_min_and_max() -> None:
    rng = np.random.default_rng(1)
    x = rng.exponential(size=50_000)
    a = NumericReference.fit(x, max_sample=1000)
    b = NumericReference.fit(rng.permutation(x), max_sample=1000)
    assert a.sample.size == 1000 and a == b
    assert (a.sample[0], a.sample[-1]) == (x.min(), x.max())
    assert a.count == 50_000  # bins, mean and std come from all the data
    assert a.bin_counts.sum() == 50_000
    # The subsample is a quantile sketch: its quantiles track the data's.
    qs = [0.1, 0.5, 0.9]
    assert np.allclose(np.quantile(a.sample, qs), np.quantile(x, qs), rtol=0.01)


def test_fit_constant_feature_does_not_crash() -> None:
    ref = NumericReference.fit(np.full(500, 3.0))
    assert ref.edges.tolist() == [3.0]
    assert ref.expected.tolist() == [1.0, 0.0]
    assert ref.std == 0.0
    same = compare_numeric(ref, np.full(100, 3.0))
    assert same.psi == 0.0 and same.ks == 0.0 and same.ks_pvalue == 1.0
    assert same.wasserstein_norm == 0.0 and same.jensen_shannon == 0.0
    moved = compare_numeric(ref, np.full(100, 4.0))
    assert moved.psi > 5 and moved.ks == 1.0 and moved.ks_pvalue < 1e-20
    assert moved.wasserstein_norm == pytest.approx(1.0)  # std 0: the raw distance
    assert moved.jensen_shannon == pytest.approx(1.0)


def test_fit_few_distinct_values_bins_each_value_whole() -> None:
    rng = np.random.default_rng(2)
    x = rng.choice([0.0, 1.0, 5.0], p=[0.7, 0.2, 0.1], size=4000)
    ref = NumericReference.fit(x, n_bins=10)
    assert ref.edges.tolist() == [0.0, 1.0, 5.0]
    assert ref.bin_counts.tolist() == [
        int((x == 0).sum()),
        int((x == 1).sum()),
        int((x == 5).sum()),
        0,
    ]


def test_fit_single_value_and_single_bin() -> None:
    one = NumericReference.fit(np.array([np.nan, 2.0]))
    assert (one.count, one.std, one.sample.tolist()) == (1, 0.0, [2.0])
    flat = NumericReference.fit(np.arange(100.0), n_bins=1)
    assert flat.edges.size == 0 and flat.expected.tolist() == [1.0]


def test_fit_rejects_no_data_and_bad_args() -> None:
    for bad in (np.array([]), np.array([np.nan, np.inf])):
        with pytest.raises(ValueError, match="no finite values"):
            NumericReference.fit(bad)
    with pytest.raises(ValueError):
        NumericReference.fit(np.arange(10.0), n_bins=0)


def test_numeric_reference_round_trips_exactly() -> None:
    rng = np.random.default_rng(4)
    x = rng.lognormal(size=7000)
    x[::13] = np.nan
    ref = NumericReference.fit(x, n_bins=20, max_sample=3000)
    back = NumericReference.from_dict(_json(ref.to_dict()))
    assert back == ref
    for name in ("sample", "edges", "bin_counts", "expected"):
        assert np.array_equal(getattr(back, name), getattr(ref, name))
    assert (back.mean, back.std, back.count, back.n_missing) == (
        ref.mean,
        ref.std,
        ref.count,
        ref.n_missing,
    )


def test_numeric_reference_is_immutable_and_validated() -> None:
    ref = NumericReference.fit(np.arange(50.0))
    with pytest.raises(dataclasses.FrozenInstanceError):
        ref.mean = 1.0  # type: ignore[misc]
    with pytest.raises(ValueError):
        ref.sample[0] = 9.0
    bad = ref.to_dict()
    bad["bin_counts"] = bad["bin_counts"][:-1]
    with pytest.raises(ValueError):
        NumericReference.from_dict(bad)


# --- compare_numeric ----------------------------------------------------------------


@pytest.mark.parametrize(("n_ref", "n_win"), [(50, 7), (2000, 1000), (20_000, 5000)])
def test_compare_numeric_agrees_with_scipy(n_ref: int, n_win: int) -> None:
    rng = np.random.default_rng(n_ref + n_win)
    ref = NumericReference.fit(rng.normal(size=n_ref), max_sample=5000)
    window = rng.normal(0.2, 1.1, size=n_win)
    window[::10] = np.nan
    got = compare_numeric(ref, window)
    clean = window[np.isfinite(window)]
    ks = ss.ks_2samp(ref.sample, clean, method="asymp")
    assert got.ks == pytest.approx(float(ks.statistic), abs=1e-15)
    assert got.ks_pvalue == pytest.approx(float(ks.pvalue), rel=1e-6)
    w = ss.wasserstein_distance(ref.sample, clean) / ref.std
    assert got.wasserstein_norm == pytest.approx(w, rel=1e-12)
    counts = np.histogram(clean, bins=np.concatenate(([-np.inf], ref.edges, [np.inf])))[0]
    assert got.psi == pytest.approx(psi(ref.expected, counts), rel=1e-12)
    assert got.jensen_shannon == pytest.approx(float(scipy_js(ref.expected, counts, base=2)))
    assert got.count == clean.size and got.n_missing == window.size - clean.size
    assert got.missing_share == pytest.approx(got.n_missing / window.size)


def test_mean_shift_of_one_sigma_is_flagged() -> None:
    rng = np.random.default_rng(42)
    ref = NumericReference.fit(rng.normal(size=2000))
    got = compare_numeric(ref, rng.normal(1.0, 1.0, size=1000))
    assert got.psi > 0.5
    assert got.ks_pvalue < 1e-20
    assert 0.8 < got.wasserstein_norm < 1.2


def test_stationary_windows_look_stable() -> None:
    rng = np.random.default_rng(7)
    ref = NumericReference.fit(rng.normal(size=2000))
    results = [compare_numeric(ref, rng.normal(size=1000)) for _ in range(20)]
    assert np.median([r.psi for r in results]) < 0.05
    assert max(r.psi for r in results) < 0.1
    assert np.median([r.ks_pvalue for r in results]) > 0.1


def test_compare_numeric_empty_and_all_missing_windows() -> None:
    ref = NumericReference.fit(np.arange(100.0))
    with pytest.raises(ValueError, match="empty window"):
        compare_numeric(ref, np.array([]))
    got = compare_numeric(ref, np.array([np.nan, np.inf, np.nan]))
    assert (got.count, got.n_missing, got.missing_share) == (0, 3, 1.0)
    assert all(math.isnan(v) for v in (got.psi, got.ks, got.ks_pvalue, got.jensen_shannon))
    assert math.isnan(got.wasserstein_norm)


def test_numeric_comparison_is_frozen() -> None:
    got = compare_numeric(NumericReference.fit(np.arange(10.0)), np.arange(5.0))
    assert isinstance(got, NumericComparison)
    with pytest.raises(dataclasses.FrozenInstanceError):
        got.psi = 0.0  # type: ignore[misc]


# --- CategoricalReference ------------------------------------------------------------


def _labels(rng: np.random.Generator, probs: list[float], n: int) -> list[str | None]:
    names = [f"k{i}" for i in range(len(probs))]
    return [names[i] for i in rng.choice(len(probs), p=probs, size=n)]


def test_categorical_fit_top_k_with_ties_by_name() -> None:
    values = ["b"] * 5 + ["a"] * 5 + ["c"] * 9 + ["d"] * 1 + ["e"] * 1 + [None] * 4
    ref = CategoricalReference.fit(values, max_categories=3)
    assert ref.categories == ("c", "a", "b")
    assert ref.counts.tolist() == [9, 5, 5, 2]
    assert (ref.count, ref.n_missing, ref.n_total) == (21, 4, 25)
    assert ref.expected.sum() == pytest.approx(1.0)
    assert ref.missing_share == pytest.approx(4 / 25)


def test_categorical_reference_round_trip_and_errors() -> None:
    rng = np.random.default_rng(5)
    ref = CategoricalReference.fit([*_labels(rng, [0.5, 0.3, 0.15, 0.05], 1000), None])
    assert ref.counts[-1] == 0  # every category fits: "other" is empty
    back = CategoricalReference.from_dict(_json(ref.to_dict()))
    assert back == ref and back.categories == ref.categories
    with pytest.raises(ValueError, match="no non-missing"):
        CategoricalReference.fit([None, None])
    with pytest.raises(ValueError):
        CategoricalReference.fit(["a"], max_categories=0)
    with pytest.raises(ValueError, match="distinct"):
        CategoricalReference(categories=("a", "a"), counts=np.array([1, 1, 0]), n_missing=0)


# --- compare_categorical ---------------------------------------------------------------


def test_compare_categorical_agrees_with_scipy() -> None:
    rng = np.random.default_rng(6)
    probs = [0.4, 0.3, 0.2, 0.1]
    ref = CategoricalReference.fit(_labels(rng, probs, 5000))
    window: list[str | None] = [*_labels(rng, [0.3, 0.3, 0.3, 0.1], 900), None, None]
    got = compare_categorical(ref, window)
    obs = np.array([window.count(c) for c in ref.categories] + [0])
    # the two-sample test of homogeneity: reference counts and window counts, 2 x k
    chi = ss.chi2_contingency(np.vstack([ref.counts[:-1], obs[:-1]]), correction=False)
    assert got.chi2_dof == 3 == chi.dof
    assert got.chi2 == pytest.approx(float(chi.statistic), rel=1e-12)
    assert got.chi2_pvalue == pytest.approx(float(chi.pvalue), rel=1e-9)
    p_ref, p_obs = ref.expected[:-1], obs[:-1] / obs.sum()
    assert got.cohens_w == pytest.approx(float(np.sqrt(np.sum((p_obs - p_ref) ** 2 / p_ref))))
    assert got.jensen_shannon == pytest.approx(float(scipy_js(ref.expected, obs, base=2)))
    assert got.psi == pytest.approx(psi(ref.expected, obs))
    assert (got.count, got.n_missing, got.unseen_share) == (900, 2, 0.0)
    assert got.missing_share == pytest.approx(2 / 902)
    assert isinstance(got, CategoricalComparison)


def test_compare_categorical_new_categories_are_unseen_and_flagged() -> None:
    rng = np.random.default_rng(8)
    ref = CategoricalReference.fit(_labels(rng, [0.5, 0.5], 2000))
    window = _labels(rng, [0.5, 0.5], 300) + ["brand-new"] * 100
    got = compare_categorical(ref, window)
    assert got.unseen_share == pytest.approx(0.25)
    assert math.isfinite(got.chi2) and got.chi2_pvalue < 1e-10  # smoothed, not infinite
    assert got.psi > 0.5


def test_compare_categorical_stationary_and_edge_windows() -> None:
    rng = np.random.default_rng(10)
    probs = [0.6, 0.25, 0.1, 0.05]
    ref = CategoricalReference.fit(_labels(rng, probs, 5000))
    stable = compare_categorical(ref, _labels(rng, probs, 1000))
    assert stable.psi < 0.05 and stable.chi2_pvalue > 1e-3
    with pytest.raises(ValueError, match="empty window"):
        compare_categorical(ref, [])
    blank = compare_categorical(ref, [None, None])
    assert (blank.count, blank.missing_share, blank.chi2_dof) == (0, 1.0, 0)
    assert math.isnan(blank.psi) and math.isnan(blank.chi2_pvalue)


# --- package surface --------------------------------------------------------------------


def test_all_is_complete_and_importable() -> None:
    exported = set(stats_pkg.__all__)
    assert len(exported) == len(stats_pkg.__all__)
    for name in exported:
        assert hasattr(stats_pkg, name), name
    for module in (tests, sketches, reference, special, ks_distribution):
        assert set(module.__all__) <= exported, module.__name__


@pytest.mark.parametrize("module", [sketches, reference, tests, special, ks_distribution])
def test_docstring_examples_run(module: object) -> None:
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)  # type: ignore[arg-type]
    assert result.failed == 0


def test_statistics_left_out_are_nan_and_the_rest_unchanged() -> None:
    rng = np.random.default_rng(3)
    ref = NumericReference.fit(rng.normal(size=2000))
    window = rng.normal(0.3, 1.0, size=1000)
    full = compare_numeric(ref, window)
    lean = compare_numeric(ref, window, wasserstein=False, js=False)
    assert math.isnan(lean.wasserstein_norm) and math.isnan(lean.jensen_shannon)
    assert dataclasses.replace(lean, wasserstein_norm=0.0, jensen_shannon=0.0) == (
        dataclasses.replace(full, wasserstein_norm=0.0, jensen_shannon=0.0)
    )
    labels = _labels(rng, [0.5, 0.3, 0.2], 2000)
    cref = CategoricalReference.fit(labels)
    cfull = compare_categorical(cref, labels[:1000])
    clean = compare_categorical(cref, labels[:1000], js=False)
    assert math.isnan(clean.jensen_shannon)
    assert dataclasses.replace(clean, jensen_shannon=0.0) == (
        dataclasses.replace(cfull, jensen_shannon=0.0)
    )


def test_a_references_per_window_constants_are_the_ones_each_window_computed() -> None:
    rng = np.random.default_rng(5)
    numeric = reference.NumericReference.fit(rng.normal(size=3000))
    categorical = reference.CategoricalReference.fit([str(c) for c in rng.integers(0, 7, 999)])
    for ref, counts in ((numeric, numeric.bin_counts), (categorical, categorical.counts)):
        side = ref.side
        shares = tests._distribution(ref.expected, "expected")
        assert side.counts.tobytes() == counts.astype(np.float64).tobytes()
        assert side.shares.tobytes() == shares.tobytes()
        window = tests._distribution(rng.integers(0, 50, counts.size), "actual")
        assert tests.psi_of_floored(side.floored, window) == tests.psi_of_shares(shares, window)
    again = dataclasses.replace(numeric, calibration={"method": "x"})  # recomputed, not copied
    assert again.side.shares.tobytes() == numeric.side.shares.tobytes()


def test_a_categorical_comparison_without_pvalue_has_the_same_statistics() -> None:
    rng = np.random.default_rng(6)
    ref = reference.CategoricalReference.fit([str(c) for c in rng.integers(0, 7, 999)])
    window = [str(c) for c in rng.integers(0, 9, 300)] + [None] * 5
    tally = reference.Counter(window)
    full = reference.compare_categorical_tally(ref, tally, len(window))
    quick = reference.compare_categorical_tally(ref, tally, len(window), pvalue=False)
    assert math.isnan(quick.chi2_pvalue) and 0.0 < full.chi2_pvalue < 1.0
    assert dataclasses.replace(quick, chi2_pvalue=full.chi2_pvalue) == full
