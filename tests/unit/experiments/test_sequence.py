"""The confidence sequence: wider than the fixed-n interval (scipy), covers the mean at
every step in at least 1 − alpha of seeded runs (a brute-force simulation)."""

from __future__ import annotations

import math

import numpy as np
from scipy.stats import norm

from streamdrift.experiments.sequence import ConfidenceSequence, radius


def test_the_sequence_is_wider_than_the_fixed_sample_interval_and_shrinks() -> None:
    n = np.array([100, 1000, 10_000, 100_000])
    r = radius(n, np.full(4, 0.25), 0.05)
    fixed = norm.ppf(0.975) * 0.5 / np.sqrt(n)
    assert np.all(r > fixed) and np.all(np.diff(r) < 0)
    assert np.all(r[1:] < 3 * fixed[1:])  # near OPTIMISE_AT, looking at every step costs < 3x


def test_coverage_at_every_step_in_200_runs_of_bernoulli_data() -> None:
    rng = np.random.default_rng(21)
    misses = 0
    steps = np.arange(99, 20_000, 50)
    for _ in range(200):
        x = (rng.random(20_000) < 0.3).astype(np.float64)
        _, _, lo, hi = ConfidenceSequence().update(x, steps, 0.05)
        misses += bool(np.any((lo > 0.3) | (hi < 0.3)))
    assert misses / 200 <= 0.05


def test_bounds_after_updates_in_pieces_equal_the_vectorised_bounds() -> None:
    rng = np.random.default_rng(22)
    x = rng.normal(1.0, 2.0, 5000)
    cs = ConfidenceSequence()
    _, _, lo, hi = cs.update(x[:3000], np.array([2999]), 0.1)
    cs2 = ConfidenceSequence.from_dict(cs.to_dict())
    cs2.update(x[3000:])
    whole = ConfidenceSequence()
    _, m, low, high = whole.update(x, np.array([2999, 4999]), 0.1)
    assert math.isclose(lo[0], low[0]) and math.isclose(hi[0], high[0])
    assert np.allclose(cs2.bounds(0.1), (low[1], high[1])) and math.isclose(cs2.mean, m[1])
