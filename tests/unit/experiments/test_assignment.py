"""The sample-ratio test on event-time buckets: block updates equal the event-by-event
e-value (scipy's Dirichlet-multinomial as the oracle), each bucket is handed out once with
the counts of a brute-force bucketing, lumpy per-variant arrival of a correct split is not
flagged while a 52/48 split still is within 100,000 predictions."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from load.experiments import FULL, lumpy_arrival, srm_lumpy
from scipy.stats import dirichlet_multinomial, multinomial

from streamdrift.experiments.assignment import AssignmentBuckets
from streamdrift.experiments.srm import CONCENTRATION, SampleRatioTest, log_evalue_path


def test_block_updates_equal_the_e_value_of_the_events_in_any_order() -> None:
    rng = np.random.default_rng(21)
    split = (0.4, 0.6)
    variants = (rng.random(3000) < 0.57).astype(np.int64)
    blocks = SampleRatioTest(split)
    for part in np.array_split(rng.permutation(variants), 9):
        blocks.update_counts(np.bincount(part, minlength=2).tolist())
    counts = np.bincount(variants, minlength=2)
    oracle = dirichlet_multinomial.logpmf(
        counts, [CONCENTRATION * s for s in split], len(variants)
    ) - multinomial.logpmf(counts, len(variants), split)
    assert abs(blocks.log_evalue - oracle) < 1e-7
    assert abs(blocks.log_evalue - log_evalue_path(variants, split)[-1]) < 1e-7
    assert blocks.counts == counts.tolist()


def test_each_bucket_is_handed_out_once_with_its_brute_force_counts() -> None:
    rng = np.random.default_rng(22)
    width, n = 30.0, 20_000
    ts = 1000.0 + np.sort(rng.random(n)) * 2000.0
    variants = (rng.random(n) < 0.5).astype(np.int64)
    # per-variant lumps of 100 (about 20 s of one variant's traffic), the challenger's up to
    # 8 s behind the champion's: a lump spans less than the width
    lumps = [
        (ts[rows[-1]] + (8.0 * rng.random() if k else 0.0), rows)
        for k in (0, 1)
        for rows in np.array_split(np.nonzero(variants == k)[0], 100)
    ]
    buckets = AssignmentBuckets(2, width)
    handed: list[list[int]] = []
    for _, rows in sorted(lumps, key=lambda lump: lump[0]):
        buckets = AssignmentBuckets.from_dict(buckets.to_dict(), 2)  # state round trips
        handed += buckets.add(ts[rows], variants[rows])
    expected: dict[int, list[int]] = {}
    for t, v in zip(ts, variants, strict=True):
        expected.setdefault(int(t // width), [0, 0])[v] += 1
    tested = sorted(expected)[: len(handed)]
    assert handed == [expected[k] for k in tested]
    assert buckets.late == 0 and len(handed) >= len(expected) - 3
    everything = np.sum(handed, axis=0) + np.asarray(buckets.pending)
    assert everything.tolist() == np.bincount(variants).tolist()


@pytest.fixture(scope="module")
def lumpy() -> dict[str, Any]:
    return srm_lumpy(FULL)


def test_lumpy_arrival_of_a_correct_split_is_not_flagged(lumpy: dict[str, Any]) -> None:
    assert lumpy["runs"] == 200 and lumpy["flagged"] <= FULL.alpha
    # the same arrivals tested in the order they came would flag most of them
    assert lumpy["flagged_by_arrival_order"] > 0.5


def test_a_52_48_split_is_still_flagged_within_100k_predictions(lumpy: dict[str, Any]) -> None:
    skewed = lumpy["skewed"]
    assert skewed["decided"] == skewed["runs"] == FULL.srm_runs
    assert skewed["max"] <= 100_000


def test_a_variant_later_than_the_lateness_is_left_out_as_late_and_flagged() -> None:
    rng = np.random.default_rng(23)
    plan = type(FULL)(srm_lag=90.0)  # the challenger 90 s behind, lateness 60 s
    flagged_at, _ = lumpy_arrival(rng, plan, 0.5, lateness=60.0)
    assert flagged_at is not None
