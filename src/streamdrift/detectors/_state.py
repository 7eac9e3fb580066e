"""Helpers shared by the detector modules: parameter checks and state encoding.

State dicts must survive both ``json`` and ``orjson``. orjson writes non-finite floats
as ``null`` and ``json`` writes them as the non-standard ``Infinity``, so non-finite
floats are stored as the strings ``"inf"``, ``"-inf"`` and ``"nan"``. Integers stay
integers: some River attributes start as ``-1`` and become floats later, and a restored
detector must hold exactly what the original held.
"""

from __future__ import annotations

import base64
import binascii
import math
from collections.abc import Mapping
from numbers import Integral, Real
from typing import Any

from river import stats

_NON_FINITE = {"inf": math.inf, "-inf": -math.inf, "nan": math.nan}


# -- parameters -------------------------------------------------------------------


def check_real(
    detector: str,
    param: str,
    value: object,
    *,
    above: float | None = None,
    at_least: float | None = None,
    below: float | None = None,
    at_most: float | None = None,
) -> float:
    """Return ``value`` as a float, or raise ``ValueError`` naming the parameter."""
    if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(value):
        raise ValueError(f"{detector}: parameter {param!r} must be a finite number, got {value!r}")
    v = float(value)
    limits = ((">", above), (">=", at_least), ("<", below), ("<=", at_most))
    failed = (
        (above is not None and not v > above)
        or (at_least is not None and not v >= at_least)
        or (below is not None and not v < below)
        or (at_most is not None and not v <= at_most)
    )
    if failed:
        wanted = " and ".join(f"{op} {bound}" for op, bound in limits if bound is not None)
        raise ValueError(f"{detector}: parameter {param!r} must be {wanted}, got {value!r}")
    return v


def check_int(detector: str, param: str, value: object, *, low: int | None = None) -> int:
    """Return ``value`` as an int (``>= low`` if given), or raise ``ValueError``."""
    if (
        isinstance(value, bool)
        or not isinstance(value, Integral)
        or (low is not None and value < low)
    ):
        wanted = "an integer" if low is None else f"an integer >= {low}"
        raise ValueError(f"{detector}: parameter {param!r} must be {wanted}, got {value!r}")
    return int(value)


def check_bool(detector: str, param: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"{detector}: parameter {param!r} must be a bool, got {value!r}")
    return value


# -- numbers ------------------------------------------------------------------------


def encode_number(value: float | int) -> float | int | str:
    """A JSON-safe form of a River number; numpy scalars become Python numbers."""
    if isinstance(value, bool):
        raise TypeError("a bool is not a number here")
    if isinstance(value, Integral):
        return int(value)
    v = float(value)
    if math.isfinite(v):
        return v
    return "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf")


def decode_number(value: object) -> float | int:
    if isinstance(value, str) and value in _NON_FINITE:
        return _NON_FINITE[value]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"expected a number, got {value!r}")
    return value


def decode_float(value: object) -> float:
    v = decode_number(value)
    if isinstance(v, int):
        raise ValueError(f"expected a float, got the integer {v!r}")
    return v


def decode_int(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"expected an integer, got {value!r}")
    return value


def decode_bool(value: object) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"expected a bool, got {value!r}")
    return value


def field(state: Mapping[str, Any], key: str) -> Any:
    """``state[key]``, raising ``ValueError`` when it is missing."""
    try:
        return state[key]
    except (KeyError, TypeError) as exc:
        raise ValueError(f"missing field {key!r}") from exc


# -- River statistics -----------------------------------------------------------------


def mean_to_dict(m: stats.Mean) -> dict[str, Any]:
    return {"n": encode_number(m.n), "mean": encode_number(m._mean)}


def mean_from_dict(d: Mapping[str, Any]) -> stats.Mean:
    m = stats.Mean()
    m.n = decode_number(field(d, "n"))
    m._mean = decode_number(field(d, "mean"))
    return m


def var_to_dict(v: stats.Var) -> dict[str, Any]:
    return {"ddof": v.ddof, "mean": mean_to_dict(v.mean), "S": encode_number(v._S)}


def var_from_dict(d: Mapping[str, Any]) -> stats.Var:
    v = stats.Var(ddof=decode_int(field(d, "ddof")))
    v.mean = mean_from_dict(field(d, "mean"))
    v._S = decode_number(field(d, "S"))
    return v


def blob_to_str(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def blob_from_str(value: object) -> bytes:
    if not isinstance(value, str):
        raise ValueError(f"expected a base64 string, got {type(value).__name__}")
    try:
        return base64.b64decode(value, validate=True)
    except binascii.Error as exc:
        raise ValueError(f"invalid base64: {exc}") from exc
