"""PackedColumn gives back exactly the values appended (types included), whatever the mix,
and holds memory for the rows it keeps, not for the rows it has seen."""

from __future__ import annotations

import math
import random
from typing import Any

import numpy as np
import pytest

from streamdrift.drift.columns import PackedColumn

_POOL: list[Any] = [
    1.5, -0.0, math.nan, math.inf, 1e308, 3, -7, 0, 2**53, 2**53 + 1, -(2**53) - 1, 2**70,
    10**400, True, False, None, "a", "b", "", "nan", np.float64(2.5),
]  # fmt: skip


def _same(a: list[Any], b: list[Any]) -> bool:
    """Equal value by value, with the same type (NaN equal to NaN)."""
    return len(a) == len(b) and all(
        x is y or (type(x) is type(y) and (x == y or (x != x and y != y)))
        for x, y in zip(a, b, strict=True)
    )


def _values(rng: random.Random) -> list[Any]:
    n = rng.randint(0, 40)
    kind = rng.random()
    if kind < 0.2:
        return [rng.choice([1.5, -0.0, math.nan]) for _ in range(n)]
    if kind < 0.35:
        return [rng.choice(["a", "b", "c", None]) for _ in range(n)]
    if kind < 0.5:
        return [rng.choice([1.5, 3, None, -(2**53), 2**53]) for _ in range(n)]
    if kind < 0.6:
        return [rng.choice([1.5, 3, None, 2**64]) for _ in range(n)]
    if kind < 0.75:  # ids (mostly distinct, held as references), bools and missing values
        ids = [f"id-{i}" for i in range(300)]
        return [rng.choice([*ids, None, True, False]) for _ in range(rng.randint(0, 150))]
    return [rng.choice(_POOL) for _ in range(n)]


@pytest.mark.parametrize("seed", range(40))
def test_every_operation_gives_back_the_values_a_list_would_hold(seed: int) -> None:
    rng = random.Random(seed)
    col, expected = PackedColumn(), []
    for _ in range(60):
        values = _values(rng)
        op = rng.random()
        if op < 0.2:
            k = rng.randint(0, len(expected))
            col.drop_prefix(k)
            expected = expected[k:]
        elif op < 0.3:
            col.extend_missing(len(values))
            expected += [None] * len(values)
        elif op < 0.45:
            rows = sorted(rng.sample(range(len(values)), rng.randint(0, len(values))))
            col.extend_from(PackedColumn(values), np.array(rows, dtype=np.intp))
            expected += [values[i] for i in rows]
        elif op < 0.55:
            a = rng.randint(0, len(values))
            b = rng.randint(a, len(values))
            col.extend_from(PackedColumn(values), slice(a, b))
            expected += values[a:b]
        else:
            col.extend(values)
            expected += values
        assert len(col) == len(expected)
        assert _same(col.to_list(), expected)
        lo = rng.randint(0, len(expected))
        hi = rng.randint(lo, len(expected))
        assert _same(col.to_list(lo, hi), expected[lo:hi])


def test_numpy_arrays_are_appended_as_python_scalars() -> None:
    col = PackedColumn(np.array([1, 2, 3]))
    col.extend(np.array([0.5]))
    assert _same(col.to_list(), [1, 2, 3, 0.5])


def test_floats_are_kept_bit_for_bit() -> None:
    values = [*np.random.default_rng(1).normal(size=1000).tolist(), -0.0, 5e-324]
    col = PackedColumn(values)
    assert np.array_equal(np.array(col.to_list()).view(np.int64), np.array(values).view(np.int64))


def test_a_sliding_stream_of_distinct_strings_keeps_memory_of_the_rows_held() -> None:
    col = PackedColumn()
    for i in range(2000):
        col.extend([f"id-{i}-{j}" for j in range(50)])
        col.drop_prefix(max(0, len(col) - 1000))
    assert len(col) == 1000
    assert col.to_list()[-1] == "id-1999-49"
    assert len(col._strings) <= 2 * 1000 + 50
    assert col.nbytes <= 9 * 4 * 1000


def test_a_sliding_stream_of_ids_keeps_references_to_the_rows_held_only() -> None:
    col = PackedColumn()
    for i in range(500):
        col.extend([f"pred-{i}-{j}" for j in range(100)])
        col.drop_prefix(max(0, len(col) - 1000))
    assert col.to_list(999) == ["pred-499-99"]
    assert len(col._objects) <= 2 * 1000 + 100
    assert len(col._strings) == 0


def test_a_float_column_takes_nine_bytes_a_row() -> None:
    col = PackedColumn([0.5] * 1000)
    assert col.nbytes <= 9 * 1024
