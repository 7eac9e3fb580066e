"""Closed windows handed over packed read the same as the lists they replace."""

from __future__ import annotations

import random
from collections import Counter

import numpy as np
import pytest

from streamdrift.config.windows import WindowSpec
from streamdrift.drift.columns import (
    PackedColumn,
    as_categories,
    as_numeric,
    category_codes,
    category_tally,
    coerce_numeric,
)
from streamdrift.drift.windows import make_windows

_KINDS = {
    "floats": lambda r: r.random(),
    "ints": lambda r: r.randint(-5, 5),
    "strings": lambda r: r.choice("abcde"),
    "bools": lambda r: r.random() < 0.5,
    "mixed": lambda r: r.choice([1.5, 2, "2", True, "true", "x"]),
    "ids": lambda r: f"id{r.random()}",
    "big": lambda r: r.choice([2**60, 1.0]),
}


@pytest.mark.parametrize("kind", sorted(_KINDS))
@pytest.mark.parametrize("missing", [0.0, 0.3, 1.0])
def test_packed_reads_as_the_list(kind: str, missing: float) -> None:
    rng = random.Random(f"{kind}{missing}")
    values = [None if rng.random() < missing else _KINDS[kind](rng) for _ in range(300)]
    packed = PackedColumn(values)
    window = packed.snapshot(50, 250)
    rows = values[50:250]
    np.testing.assert_array_equal(coerce_numeric(window), coerce_numeric(rows))
    for declared in (None, "numeric"):
        a, b = as_numeric(window, declared), as_numeric(rows, declared)
        assert (a is None) == (b is None)
        if a is not None:
            np.testing.assert_array_equal(a, b)
    assert category_tally(window) == Counter(as_categories(rows))
    index = {"a": 0, "true": 1, "2": 2}
    expected = [-1 if c is None else index.get(c, 3) for c in as_categories(rows)]
    assert category_codes(window, index, 3).tolist() == expected
    assert category_codes(rows, index, 3).tolist() == expected


@pytest.mark.parametrize(
    "spec", [WindowSpec("count", 40), WindowSpec("count", 50, 20), WindowSpec("time", 5.0)]
)
def test_packed_windows_hold_the_listed_rows(spec: WindowSpec) -> None:
    rng = random.Random(3)
    listed, packed = make_windows(spec), make_windows(spec)
    packed.packed = True
    t = 0.0
    for _ in range(30):
        n = rng.randint(1, 25)
        stamps = [t := t + rng.random() for _ in range(n)]
        columns = {"x": [rng.choice([None, 1, 2.5, "a"]) for _ in range(n)]}
        for a, b in zip(listed.add(stamps, columns), packed.add(stamps, columns), strict=True):
            assert b.columns == {} and b.packed is not None
            assert (a.index, a.start, a.end) == (b.index, b.start, b.end)
            assert a.timestamps == b.timestamps
            assert {k: v.to_list() for k, v in b.packed.items()} == a.columns
            assert b.column("x") is b.packed["x"] and a.column("x") is a.columns["x"]
