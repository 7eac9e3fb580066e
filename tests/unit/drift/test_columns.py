"""Column conversions of the drift monitor: the whole-column fast paths give what the
value-by-value definitions give."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from streamdrift.drift.columns import (
    as_categories,
    as_numeric,
    coerce_numeric,
    prediction_value,
    prediction_values,
)


def _by_value(values: list[Any]) -> list[float]:
    """The definition: numbers (and booleans) as floats, anything else missing (NaN)."""
    out = []
    for v in values:
        if type(v) in (int, float, bool):
            out.append(float(v))
        else:
            out.append(math.nan)
    return out


@pytest.mark.parametrize(
    "values",
    [
        [1.5, 2.0, -3.25],
        [1, 2.5, 3],
        [1.0, None, 3.0],
        [True, 2.0, None],
        [None, None],
        [1.0, "x", None],
        [1.0, {"a": 1}, 2.0],
    ],
)
def test_coerce_numeric_matches_the_value_by_value_definition(values: list[Any]) -> None:
    got = coerce_numeric(values)
    assert got.dtype == np.float64 and got.shape == (len(values),)
    np.testing.assert_array_equal(got, np.array(_by_value(values)))


def test_as_numeric_only_for_columns_of_numbers() -> None:
    np.testing.assert_array_equal(as_numeric([1, None, 2.5], None), [1.0, math.nan, 2.5])
    assert as_numeric([None, None], None) is None
    assert as_numeric([1.0, "a"], None) is None
    assert as_numeric([1.0, True], None) is None  # a boolean is not a number here
    np.testing.assert_array_equal(as_numeric([1.0, "a"], "numeric"), [1.0, math.nan])


def test_as_categories_keeps_strings_and_names_everything_else() -> None:
    plain = ["a", None, "b"]
    assert as_categories(plain) is plain  # nothing to convert: no copy
    assert as_categories([True, False, 1, 1.0, None, "x"]) == [
        "true",
        "false",
        "1",
        "1.0",
        None,
        "x",
    ]


def test_prediction_values_pass_scalars_and_reduce_objects() -> None:
    scalars = [0.1, 1, "yes", True, None]
    assert prediction_values(scalars) is scalars
    mixed = [{"a": 0.2, "b": 0.8}, 0.5, [1, 2], {"x": "not a score"}]
    assert (
        prediction_values(mixed)
        == [prediction_value(p) for p in mixed]
        == [
            "b",
            0.5,
            None,
            None,
        ]
    )
