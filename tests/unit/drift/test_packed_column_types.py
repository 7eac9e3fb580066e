"""PackedColumn.extend tells a one-type column by its first row's type: a column that only
starts like one (a float, then an int or None; a string, then a bool) packs as before."""

from __future__ import annotations

import math
from typing import Any

import pytest

from streamdrift.drift.columns import PackedColumn, category_tally, coerce_numeric

_COLUMNS: list[list[Any]] = [
    [1.5, 2.5, 3.5],
    [1.5, 2, 3.5],
    [1.5, None, math.nan],
    [1.5, 2**70],
    [1.5, "a"],
    [1.5, True],
    ["a", "b", "a"],
    ["a", None, "b"],
    ["a", True, False],
    ["a", 1.5],
    [f"id-{i}" for i in range(200)],
    [f"id-{i}" for i in range(199)] + [None],
    ["x"] * 100 + [None],
    [3, 1.5],
    [True, "a"],
]


@pytest.mark.parametrize("values", _COLUMNS)
def test_a_column_starting_like_one_type_reads_back_as_appended(values: list[Any]) -> None:
    col = PackedColumn()
    col.extend(values)
    col.extend(values)  # the second time the column's strings already have codes
    back = col.to_list()
    doubled = values + values
    assert len(back) == len(doubled)
    for got, want in zip(back, doubled, strict=True):
        assert type(got) is type(want)
        assert got == want or (got != got and want != want)
    assert category_tally(col) == category_tally(doubled)
    floats = col.as_floats()
    if floats is not None:
        assert floats.tolist() == pytest.approx(coerce_numeric(doubled).tolist(), nan_ok=True)
