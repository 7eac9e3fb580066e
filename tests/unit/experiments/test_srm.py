"""The sample-ratio-mismatch e-value: equal to the Dirichlet-multinomial Bayes factor
(scipy's pmfs as the oracle), valid under the configured split, quick on a 52/48 split."""

from __future__ import annotations

import numpy as np
from load.experiments import FULL, srm_flagged_at
from scipy.stats import dirichlet_multinomial, multinomial

from streamdrift.experiments.srm import CONCENTRATION, SampleRatioTest, log_evalue_path


def test_the_e_value_path_is_the_dirichlet_multinomial_bayes_factor() -> None:
    rng = np.random.default_rng(11)
    split = (0.3, 0.7)
    variants = (rng.random(2000) < 0.66).astype(np.int64)
    path = log_evalue_path(variants, split)
    for n in (1, 17, 500, 2000):
        counts = np.bincount(variants[:n], minlength=2)
        alpha = [CONCENTRATION * s for s in split]
        oracle = dirichlet_multinomial.logpmf(counts, alpha, n) - multinomial.logpmf(
            counts, n, split
        )
        assert abs(path[n - 1] - oracle) < 1e-8


def test_updates_in_pieces_equal_one_update_and_the_state_round_trips() -> None:
    rng = np.random.default_rng(12)
    variants = (rng.random(3000) < 0.5).astype(np.int64)
    whole = SampleRatioTest((0.5, 0.5))
    whole.update(variants)
    pieces = SampleRatioTest((0.5, 0.5))
    for chunk in np.array_split(variants, 7):
        pieces = SampleRatioTest.from_dict(pieces.to_dict())
        pieces.update(chunk)
    assert pieces.counts == whole.counts == np.bincount(variants).tolist()
    assert abs(pieces.log_evalue - whole.log_evalue) < 1e-9


def test_a_correct_split_is_flagged_in_at_most_alpha_of_200_runs_of_100k_events() -> None:
    rng = np.random.default_rng(13)
    alpha = 0.05
    flagged = 0
    for _ in range(200):
        variants = (rng.random(100_000) < 0.5).astype(np.int64)
        flagged += bool(np.any(log_evalue_path(variants, (0.5, 0.5)) >= np.log(1 / alpha)))
    assert flagged / 200 <= alpha


def test_a_52_48_split_configured_as_50_50_is_flagged_within_100k_events() -> None:
    at = srm_flagged_at(FULL)
    assert len(at) == FULL.srm_runs and all(n is not None and n <= 100_000 for n in at)
