"""Champion vs challenger on seeded simulations (load/experiments.py, the numbers
``make evaluate`` reports): A/A wrong decisions at most alpha when checked at every window;
a 2-point accuracy gain is decided, unpaired and (faster) paired."""

from __future__ import annotations

import numpy as np
from load.experiments import FULL, QUICK, aa_wrong_rate, events_to_superior

from streamdrift.experiments.comparison import Comparison, decisions


def test_200_aa_experiments_checked_at_every_window_are_wrong_at_most_alpha() -> None:
    assert FULL.aa_experiments == 200
    for paired in (False, True):
        rate = aa_wrong_rate(FULL, paired=paired)
        assert rate <= FULL.alpha, (paired, rate)


def test_a_two_point_accuracy_gain_is_decided_unpaired_and_faster_paired() -> None:
    unpaired = events_to_superior(QUICK, paired=False)
    paired = events_to_superior(QUICK, paired=True)
    assert all(n is not None for n in unpaired + paired)
    assert np.median(paired) < np.median(unpaired)  # type: ignore[arg-type]


def test_unpaired_pseudo_outcomes_average_to_the_difference_of_the_arms() -> None:
    rng = np.random.default_rng(31)
    z = (rng.random(200_000) < 0.3).astype(np.int64)
    g = np.where(z == 1, rng.normal(1.5, 1, z.size), rng.normal(1.0, 1, z.size))
    c = Comparison(0.3, paired=False)
    c.update_unpaired(z, g, np.array([z.size - 1]), 0.05)
    naive = g[z == 1].mean() - g[z == 0].mean()
    assert abs(c.cs.mean - naive) < 0.02 and abs(c.cs.mean - 0.5) < 0.03
    lo, hi = c.cs.bounds(0.05)
    assert lo < 0.5 < hi


def test_decisions_follow_the_bounds_and_the_margin() -> None:
    assert decisions(0.01, 0.03, 0.0, 500, 500) == ["superior"]
    assert decisions(-0.01, 0.03, 0.02, 500, 500) == ["non_inferior"]
    assert decisions(0.01, 0.03, 0.02, 500, 500) == ["superior", "non_inferior"]
    assert decisions(-0.05, -0.03, 0.02, 500, 500) == ["inferior"]
    assert decisions(-0.05, 0.03, 0.0, 500, 500) == []
    assert decisions(0.01, 0.03, 0.0, 50, 500) == []  # too few labels of one variant
