"""A window's or a reference's column in the form its statistics take: numbers as float64
(missing = NaN), categories as strings (missing = None), model outputs as scalars.

Each conversion first tries the whole column at C speed (``set(map(type, ...))``,
``np.fromiter``) and walks it value by value only when that does not settle it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from streamdrift.records import Scalar, predicted_class


def prediction_value(prediction: Any) -> Scalar:
    """The monitored form of a model output: scalars as they are; for class probabilities
    (an object of class -> probability) the predicted class."""
    if isinstance(prediction, dict):
        return predicted_class(prediction)
    if isinstance(prediction, (list, tuple)):
        return None
    return prediction  # type: ignore[no-any-return]


_NUMBERS = frozenset((int, float))
_NONE = type(None)
_PLAIN_CATEGORIES = frozenset((str, _NONE))
_SCALARS = frozenset((float, int, str, bool, _NONE))


def prediction_values(predictions: list[Any]) -> list[Scalar]:
    """``prediction_value`` of each output; a column of plain scalars is returned as it is
    (the common case: one ``set(map(type, ...))`` instead of a call per row)."""
    if set(map(type, predictions)) <= _SCALARS:
        return predictions
    return [prediction_value(p) for p in predictions]


def as_numeric(values: list[Scalar], declared: str | None) -> np.ndarray | None:
    """The column as float64 (None -> NaN) if every present value is a number (or the type
    is declared numeric: then non-numbers are missing), else None."""
    if declared == "numeric":
        return coerce_numeric(values)
    types = set(map(type, values))
    types.discard(_NONE)
    if not types or not types <= _NUMBERS:
        return None
    return np.array(values, dtype=np.float64)


def coerce_numeric(values: list[Scalar]) -> np.ndarray:
    """A window column of a numeric feature as float64; non-numbers count as missing."""
    try:  # fromiter: about a third faster than np.array on a list of numbers
        return np.fromiter(values, dtype=np.float64, count=len(values))
    except (TypeError, ValueError):  # None (missing) or a non-number in the column
        pass
    try:
        return np.array(values, dtype=np.float64)
    except (TypeError, ValueError):
        return np.array([v if type(v) in (int, float) else None for v in values], dtype=np.float64)


def category(value: Any) -> str | None:
    """The canonical categorical form of one value, the same for every input path (CSV,
    JSON Lines and Parquet references, single events, envelopes, the client): booleans
    "true"/"false" (as JSON writes them), numbers ``str`` of the number, strings as they
    are, None (missing) kept. numpy scalars count as the Python value they hold."""
    if value is None or type(value) is str:
        return value
    if value is True or value is False or isinstance(value, np.bool_):
        return "true" if value else "false"
    if isinstance(value, np.generic):
        return str(value.item())
    return str(value)


def as_categories(values: list[Scalar]) -> list[str | None]:
    """:func:`category` of each value; a column of strings and None is returned as it is."""
    if set(map(type, values)) <= _PLAIN_CATEGORIES:
        return values  # type: ignore[return-value]  # already strings and None
    return [category(v) for v in values]
