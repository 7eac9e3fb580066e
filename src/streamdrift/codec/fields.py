"""What every decoder of the codec checks: the limits, the reason codes, and the checks of
one field or one column of a decoded document (no JSON library here)."""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping
from typing import Any

MAX_MESSAGE_BYTES = 8 * 1024 * 1024
MAX_ID_LENGTH = 200
SCHEMA_VERSION = 1

_SCALARS = (float, int, str, bool, type(None))
_SCALAR_TYPES = frozenset(_SCALARS)


# every DecodeError reason (a test checks the codec raises no other); "empty": a message
# without a value (the processor raises it). Metrics export each at 0 from start-up.
DECODE_REASONS = (
    "not_json",
    "not_object",
    "missing_field",
    "wrong_type",
    "bad_value",
    "wrong_kind",
    "unknown_schema_version",
    "unknown_field",
    "oversize",
    "batch_length_mismatch",
    "empty",
)


class DecodeError(ValueError):
    """An input message is invalid. ``reason`` is a short stable code for metrics and DLQ."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def _known_fields(doc: Mapping[str, Any], known: frozenset[str]) -> None:
    """Reject a message with a field the schema does not define (one set difference)."""
    if known.issuperset(doc):
        return
    name = min(doc.keys() - known)
    close = difflib.get_close_matches(name, sorted(known), n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    raise DecodeError("unknown_field", f"unknown field {name!r}{hint}")


def _identifier(doc: Mapping[str, Any], name: str, *, allow_int: bool = False) -> str:
    value = doc.get(name)
    if value is None:
        raise DecodeError("missing_field", f"missing required field {name!r}")
    if allow_int and type(value) is int:
        return str(value)
    if type(value) is not str:
        raise DecodeError("wrong_type", f"{name!r} must be a string, got {type(value).__name__}")
    if not 0 < len(value) <= MAX_ID_LENGTH:
        raise DecodeError("bad_value", f"{name!r} must have 1..{MAX_ID_LENGTH} characters")
    return value


def _timestamp(value: Any, name: str = "timestamp") -> float:
    if value is None:
        raise DecodeError("missing_field", f"missing required field {name!r}")
    if type(value) not in (float, int):
        raise DecodeError("wrong_type", f"{name!r} must be a number (unix seconds)")
    if not 0 <= value < 1e11 or math.isnan(value):
        raise DecodeError("bad_value", f"{name!r} {value!r} is not a plausible unix time")
    return float(value)


def _segment(value: Any) -> str | None:
    if value is None or type(value) is str:
        return value
    raise DecodeError("wrong_type", "'segment' must be a string or null")


def _prediction(value: Any) -> Any:
    """A model output: a number, string, boolean or null, or an object of class -> number
    (class probabilities or scores)."""
    kind = type(value)
    if kind in _SCALAR_TYPES:
        return value
    if kind is dict and value and all(type(v) in (int, float) for v in value.values()):
        return value
    raise DecodeError(
        "wrong_type",
        "'prediction' must be a number, string, boolean, null or an object of class -> number",
    )


_DECIDED_TYPES = frozenset((float, int, str, bool, type(None)))


def _predicted_label(value: Any) -> Any:
    """The class the model decided: a number, string, boolean or null (none)."""
    if type(value) in _DECIDED_TYPES:
        return value
    raise DecodeError("wrong_type", "'predicted_label' must be a number, string, boolean or null")


def _features(value: Any) -> dict[str, Any]:
    if value is None:
        raise DecodeError("missing_field", "missing required field 'features'")
    if not isinstance(value, dict):
        raise DecodeError("wrong_type", "'features' must be an object of name -> value")
    if set(map(type, value.values())) <= _SCALAR_TYPES:
        return value
    for name, v in value.items():
        if type(v) not in _SCALAR_TYPES:
            raise DecodeError(
                "wrong_type", f"feature {name!r} must be a number, string, boolean or null"
            )
    return value


def _optional_id(doc: Mapping[str, Any], name: str) -> str | None:
    """An optional identifier (``experiment``, ``variant``): absent or null is None."""
    return None if doc.get(name) is None else _identifier(doc, name)


def _id_column(
    doc: Mapping[str, Any], name: str, n: int, bad: dict[int, tuple[str, str]]
) -> list[str | None] | None:
    """An envelope's ``experiment`` or ``variant``: one value for every row, or a column
    (null where a row takes no part)."""
    value = doc.get(name)
    if value is None:
        return None
    if not isinstance(value, list):
        return [_identifier(doc, name)] * n
    column = _column(doc, name, n)
    for i, v in enumerate(column):
        if v is not None and (type(v) is not str or not 0 < len(v) <= MAX_ID_LENGTH):
            bad.setdefault(i, ("wrong_type", f"{name} must be a string of 1..{MAX_ID_LENGTH}"))
    return column


def _column(doc: Mapping[str, Any], name: str, n: int) -> list[Any]:
    column = doc.get(name)
    if not isinstance(column, list):
        raise DecodeError("wrong_type", f"batch field {name!r} must be an array")
    if len(column) != n:
        raise DecodeError(
            "batch_length_mismatch", f"batch column {name!r} has {len(column)} rows, expected {n}"
        )
    return column


_LABEL_TYPES = frozenset((float, int, str, bool))


def _label(value: Any, where: str = "'label'") -> Any:
    if value is None:
        raise DecodeError("missing_field", f"missing required field {where}")
    if type(value) not in _LABEL_TYPES:
        raise DecodeError("wrong_type", f"{where} must be a number, string or boolean")
    return value
