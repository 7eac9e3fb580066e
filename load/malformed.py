"""Corrupted prediction messages: raw bytes that streamdrift's codec must reject.

Each reason is built so that :func:`streamdrift.codec.decode_prediction` raises
``DecodeError`` on it, whatever the event it was made from:

============== =================================================================
reason         what the message is
============== =================================================================
truncated      a valid single-event message cut before its closing brace
garbage        random bytes behind an invalid UTF-8 prefix
not_object     a JSON array instead of an object
wrong_type     ``timestamp`` as a date string, ``features`` as a list, or
               ``model_id`` as a number (by event index, in turn)
missing_field  one required field left out (model_id, model_version,
               prediction_id, timestamp, features, in turn)
bad_value      a negative timestamp, or an empty model_id (in turn)
============== =================================================================
"""

from __future__ import annotations

from typing import Any

import numpy as np

from streamdrift import codec

_REQUIRED = ("model_id", "model_version", "prediction_id", "timestamp", "features")


def corrupt(doc: dict[str, Any], reason: str, index: int, rng: np.random.Generator) -> bytes:
    """The message ``doc`` (a valid single-event document) corrupted for ``reason``."""
    if reason == "truncated":
        raw = codec.dumps(doc)
        cut = int(rng.integers(1, len(raw)))  # at least the closing brace goes
        return raw[:cut]
    if reason == "garbage":
        return b"\xff\xfe" + rng.bytes(int(rng.integers(8, 64)))
    if reason == "not_object":
        return codec.dumps(list(doc.values()))
    bad = dict(doc)
    if reason == "wrong_type":
        variant = index % 3
        if variant == 0:
            bad["timestamp"] = "2026-01-01T00:00:00Z"
        elif variant == 1:
            bad["features"] = list(doc["features"].values())
        else:
            bad["model_id"] = 12345
    elif reason == "missing_field":
        del bad[_REQUIRED[index % len(_REQUIRED)]]
    elif reason == "bad_value":
        if index % 2 == 0:
            bad["timestamp"] = -1.0
        else:
            bad["model_id"] = ""
    else:
        raise ValueError(f"unknown malformed reason {reason!r}")
    return codec.dumps(bad)
