"""The comparisons normalise a window's counts once for all their binned statistics; each
statistic is exactly (==) what its own function gives on the counts."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from streamdrift.stats.reference import (
    CategoricalReference,
    NumericReference,
    compare_categorical_tally,
    compare_numeric,
)
from streamdrift.stats.sketches import bin_counts, split_missing
from streamdrift.stats.tests import chi2_two_sample, cohens_w, jensen_shannon, psi


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("ks", [True, False])
def test_numeric_binned_statistics_are_those_of_their_functions(seed: int, ks: bool) -> None:
    rng = np.random.default_rng(seed)
    ref = NumericReference.fit(rng.normal(0, 1, 3000).round(seed % 3))
    window = rng.normal(0.3 * seed, 1, 500)
    window[rng.random(500) < 0.05] = np.nan
    cmp = compare_numeric(ref, window, bins=True, ks=ks, wasserstein=ks)
    counts = bin_counts(ref.edges, split_missing(window)[0])
    assert cmp.psi == psi(ref.expected, counts)
    assert cmp.jensen_shannon == jensen_shannon(ref.expected, counts)
    if ks:
        assert (cmp.chi2, cmp.chi2_dof, cmp.chi2_pvalue) == chi2_two_sample(ref.bin_counts, counts)


@pytest.mark.parametrize("seed", range(8))
def test_categorical_statistics_are_those_of_their_functions(seed: int) -> None:
    rng = np.random.default_rng(seed)
    names = [f"c{i}" for i in range(8)]
    ref = CategoricalReference.fit(list(rng.choice(names[:6], 2000)), max_categories=5)
    window = [*rng.choice(names, 400).tolist(), None, None]
    cmp = compare_categorical_tally(ref, Counter(window), len(window))
    seen = [window.count(c) for c in ref.categories]
    observed = np.array([*seen, 400 - sum(seen)], dtype=np.int64)
    assert cmp.psi == psi(ref.expected, observed)
    assert cmp.jensen_shannon == jensen_shannon(ref.expected, observed)
    assert cmp.cohens_w == cohens_w(ref.expected, observed)
    assert (cmp.chi2, cmp.chi2_dof, cmp.chi2_pvalue) == chi2_two_sample(ref.counts, observed)


def test_an_inconsistent_tally_still_fails_as_chi2_two_sample_does() -> None:
    ref = CategoricalReference.fit(["a", "b", "b"])
    with pytest.raises(ValueError, match="obs_counts must be finite and non-negative"):
        compare_categorical_tally(ref, {"a": 5, "b": 5}, 4)
