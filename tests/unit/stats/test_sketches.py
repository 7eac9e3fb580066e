"""Sketches: exact summaries, merge == concatenation, JSON round trips."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streamdrift.stats.sketches import (
    OTHER,
    BinnedHistogram,
    CategoryCounts,
    NumericSketch,
    split_missing,
)


def _json_round_trip(d: dict[str, object]) -> dict[str, object]:
    out: dict[str, object] = json.loads(json.dumps(d, allow_nan=False))
    return out


def _with_missing(seed: int, n: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = rng.normal(1e6, 3.0, size=n)  # large mean: catches naive sum-of-squares
    x[rng.random(n) < 0.1] = np.nan
    if n > 5:
        x[:2] = [np.inf, -np.inf]
    return x


def test_split_missing_counts_non_finite() -> None:
    kept, missing = split_missing(np.array([[1.0, np.nan], [np.inf, 2.0]]))
    assert kept.tolist() == [1.0, 2.0] and missing == 2


# --- NumericSketch -------------------------------------------------------------


@pytest.mark.parametrize("n", [0, 1, 2, 50, 10_000])
def test_numeric_sketch_matches_numpy(n: int) -> None:
    x = _with_missing(n, n)
    finite = x[np.isfinite(x)]
    s = NumericSketch()
    s.update(x)
    assert s.count == finite.size and s.n_missing == n - finite.size and s.n_total == n
    if finite.size == 0:
        assert math.isnan(s.mean) and math.isnan(s.min) and math.isnan(s.variance)
        return
    assert s.mean == pytest.approx(finite.mean(), rel=1e-15)
    assert (s.min, s.max) == (finite.min(), finite.max())
    if finite.size > 1:
        assert s.variance == pytest.approx(np.var(finite, ddof=1), rel=1e-9)
        assert s.std == pytest.approx(np.std(finite, ddof=1), rel=1e-9)
    else:
        assert math.isnan(s.variance)


def test_numeric_sketch_merge_equals_concatenation() -> None:
    parts = [_with_missing(seed, n) for seed, n in [(1, 10), (2, 0), (3, 1), (4, 3000), (5, 77)]]
    merged = NumericSketch()
    for part in parts:
        one = NumericSketch()
        one.update(part)
        merged = merged.merge(one)
    whole = NumericSketch()
    whole.update(np.concatenate(parts))
    assert (merged.count, merged.n_missing, merged.min, merged.max) == (
        whole.count,
        whole.n_missing,
        whole.min,
        whole.max,
    )
    assert merged.mean == pytest.approx(whole.mean, rel=1e-14)
    assert merged.variance == pytest.approx(whole.variance, rel=1e-9)


def test_numeric_sketch_merge_leaves_inputs_alone() -> None:
    a, b = NumericSketch(), NumericSketch()
    a.update(np.array([1.0, 2.0]))
    b.update(np.array([10.0]))
    before = (a.to_dict(), b.to_dict())
    ab = a.merge(b)
    assert (a.to_dict(), b.to_dict()) == before
    assert ab.count == 3 and ab is not a


@pytest.mark.parametrize("n", [0, 1, 500])
def test_numeric_sketch_json_round_trip(n: int) -> None:
    s = NumericSketch()
    s.update(_with_missing(n + 11, n))
    back = NumericSketch.from_dict(_json_round_trip(s.to_dict()))
    assert back == s
    assert back.to_dict() == s.to_dict()


finite_floats = st.floats(-1e9, 1e9, allow_nan=False)
batches = st.lists(st.lists(finite_floats, max_size=30), min_size=1, max_size=6)


@settings(max_examples=150, deadline=None)
@given(batches)
def test_numeric_sketch_merge_is_order_free(parts: list[list[float]]) -> None:
    sketches = []
    for part in parts:
        s = NumericSketch()
        s.update(np.array(part, dtype=np.float64))
        sketches.append(s)
    left = NumericSketch()
    for s in sketches:
        left = left.merge(s)
    right = NumericSketch()
    for s in reversed(sketches):
        right = s.merge(right)
    everything = np.array([v for p in parts for v in p], dtype=np.float64)
    assert left.count == right.count == everything.size
    if everything.size:
        scale = max(1.0, float(np.abs(everything).max()))
        assert left.mean == pytest.approx(right.mean, abs=1e-9 * scale)
        assert left.mean == pytest.approx(float(everything.mean()), abs=1e-9 * scale)
        assert left.m2 == pytest.approx(right.m2, rel=1e-6, abs=1e-6 * scale * scale)
        assert (left.min, left.max) == (everything.min(), everything.max())


# --- BinnedHistogram ------------------------------------------------------------


def test_histogram_bins_are_right_closed() -> None:
    h = BinnedHistogram(np.array([0.0, 1.0, 2.0]))
    h.update(np.array([-np.inf, -1.0, 0.0, 1e-12, 1.0, 1.5, 2.0, 2.0001, 1e300, np.nan]))
    # (-inf,0]: -1, 0 | (0,1]: 1e-12, 1 | (1,2]: 1.5, 2 | (2,inf): 2.0001, 1e300
    assert h.counts.tolist() == [2, 2, 2, 2]
    assert h.n_missing == 2 and h.count == 8
    assert h.proportions().tolist() == [0.25, 0.25, 0.25, 0.25]


def test_histogram_without_edges_is_one_bin() -> None:
    h = BinnedHistogram(np.array([]))
    h.update(np.array([-3.0, 5.0]))
    assert h.counts.tolist() == [2]


def test_histogram_merge_equals_concatenation_and_round_trips() -> None:
    rng = np.random.default_rng(3)
    edges = np.quantile(rng.normal(size=1000), np.linspace(0.1, 0.9, 9))
    parts = [_with_missing(s, n) - 1e6 for s, n in [(1, 100), (2, 0), (3, 2500)]]
    merged = BinnedHistogram(edges)
    for part in parts:
        h = BinnedHistogram(edges)
        h.update(part)
        merged = merged.merge(h)
    whole = BinnedHistogram(edges)
    whole.update(np.concatenate(parts))
    assert merged == whole
    assert BinnedHistogram.from_dict(_json_round_trip(whole.to_dict())) == whole


def test_histogram_errors() -> None:
    with pytest.raises(ValueError, match="increasing"):
        BinnedHistogram(np.array([1.0, 1.0]))
    with pytest.raises(ValueError, match="finite"):
        BinnedHistogram(np.array([0.0, np.inf]))
    with pytest.raises(ValueError, match="different bin edges"):
        BinnedHistogram(np.array([0.0])).merge(BinnedHistogram(np.array([1.0])))
    with pytest.raises(ValueError, match="empty"):
        BinnedHistogram(np.array([0.0])).proportions()
    with pytest.raises(ValueError):
        BinnedHistogram.from_dict({"edges": [0.0], "counts": [1], "n_missing": 0})


def test_histogram_edges_are_a_private_copy() -> None:
    edges = np.array([0.0, 1.0])
    h = BinnedHistogram(edges)
    edges[0] = 5.0
    assert h.edges.tolist() == [0.0, 1.0]


# --- CategoryCounts -------------------------------------------------------------


def test_category_counts_basic() -> None:
    c = CategoryCounts(max_categories=10)
    c.update(["a", "b", None, "a", "c", None])
    c.update([])
    assert c.counts == {"a": 2, "b": 1, "c": 1}
    assert (c.other, c.n_missing, c.count) == (0, 2, 4)
    assert c.counts_for(["c", "a", "zzz"]).tolist() == [1, 2, 0, 1]  # "b" lands in the rest
    assert c.counts_for([]).tolist() == [4]


def test_category_counts_bound_keeps_most_frequent_ties_by_name() -> None:
    c = CategoryCounts(max_categories=2)
    c.update(["x"] * 5 + ["b"] * 3 + ["a"] * 3 + ["z"])
    assert c.counts == {"x": 5, "a": 3}
    assert c.other == 4 and c.count == 12


def test_category_counts_merge_equals_concatenation_under_the_bound() -> None:
    rng = np.random.default_rng(9)
    labels = np.array([f"c{i}" for i in range(30)], dtype=object)
    parts = [[*labels[rng.integers(0, 30, size=n)], None] for n in (0, 10, 400)]
    merged = CategoryCounts(50)
    for part in parts:
        one = CategoryCounts(50)
        one.update(part)
        merged = merged.merge(one)
    whole = CategoryCounts(50)
    whole.update([v for p in parts for v in p])
    assert merged == whole


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.lists(st.sampled_from(["a", "b", "c", "d", "e", None]), max_size=40), max_size=5),
    st.integers(1, 6),
)
def test_category_counts_merge_is_commutative_and_conserves_totals(
    parts: list[list[str | None]], bound: int
) -> None:
    sketches = []
    for part in parts:
        s = CategoryCounts(bound)
        s.update(part)
        sketches.append(s)
    a, b = CategoryCounts(bound), CategoryCounts(bound)
    for s in sketches:
        a = a.merge(s)
        b = s.merge(b)
    assert a == b
    assert len(a.counts) <= bound
    assert a.count == sum(v is not None for p in parts for v in p)
    assert a.n_missing == sum(v is None for p in parts for v in p)


def test_category_counts_round_trip_and_errors() -> None:
    c = CategoryCounts(max_categories=3)
    c.update(["α", "b", "c", "d", "d", None, "__other__"])
    d = c.to_dict()
    assert d[OTHER] == c.other
    assert CategoryCounts.from_dict(_json_round_trip(d)) == c
    with pytest.raises(ValueError):
        CategoryCounts(0)
    with pytest.raises(ValueError):
        CategoryCounts.from_dict({**d, "max_categories": 1})


def test_category_counts_update_is_fast_on_10k_values() -> None:
    import time

    values = [f"v{i % 40}" for i in range(10_000)]
    c = CategoryCounts(50)
    start = time.perf_counter()
    for _ in range(20):
        c.update(values)
    assert (time.perf_counter() - start) / 20 < 0.02  # ~0.5 ms measured; loose for CI
    assert c.count == 200_000
