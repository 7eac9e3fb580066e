"""ADWIN (adaptive windowing), wrapping ``river.drift.ADWIN``.

State: River's ADWIN keeps its window (the exponential-histogram buckets, width, total,
variance) inside a compiled Rust object, ``AdaptiveWindowing``, that exposes no setters.
Its only faithful serialisation is its own ``__getstate__()`` -- the bytes River's
pickling uses, a bincode encoding of the Rust struct, not a Python pickle, so loading
it runs no code. ``to_dict`` stores those bytes base64-encoded, next to the readable
``width``, ``total`` and ``variance``. ``from_dict`` loads the bytes into a fresh
object and checks that it re-encodes to the same bytes and reports the same width,
total and variance; corrupt or foreign bytes raise ``ValueError``. The byte layout belongs to the
River release (``river_version`` in the state dict): a River upgrade that changes it
makes old ADWIN states unreadable (``ValueError``) rather than silently wrong.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from river import drift

from streamdrift.detectors._state import (
    blob_from_str,
    blob_to_str,
    check_int,
    check_real,
    decode_number,
    encode_number,
    field,
)
from streamdrift.detectors.base import DriftDetector

_RiverADWIN: Any = drift.ADWIN  # its constructor is unannotated


class ADWIN(DriftDetector):
    """Adaptive windowing: keeps the longest recent window whose mean looks stationary.

    Parameters mirror ``river.drift.ADWIN``: ``delta`` is the significance level of the
    split test; the window is checked every ``clock`` values, sub-windows shorter than
    ``min_window_length`` are not tested, and nothing is tested before ``grace_period``
    values. ``max_buckets`` bounds the buckets kept per size (memory is
    O(max_buckets * log(width))). Cost: amortised O(1) per value, the check every
    ``clock`` values O(log width).

    Examples
    --------
    River's own example stream: values in {0, 1}, then from 1000 on values in 4..7.

    >>> import random
    >>> from streamdrift.detectors import ADWIN
    >>> rng = random.Random(12345)
    >>> stream = rng.choices([0, 1], k=1000) + rng.choices(range(4, 8), k=1000)
    >>> adwin = ADWIN()
    >>> adwin.update_many(stream[:1500])
    [1023]
    >>> restored = ADWIN.from_dict(adwin.to_dict())
    >>> restored.update_many(stream[1500:]) == adwin.update_many(stream[1500:])
    True
    >>> round(adwin.estimation, 2), adwin.width
    (5.47, 976)
    """

    name = "adwin"

    def __init__(
        self,
        delta: float = 0.002,
        clock: int = 32,
        max_buckets: int = 5,
        min_window_length: int = 5,
        grace_period: int = 10,
    ) -> None:
        n = self.name
        super().__init__(
            {
                "delta": check_real(n, "delta", delta, above=0.0, below=1.0),
                "clock": check_int(n, "clock", clock, low=1),
                "max_buckets": check_int(n, "max_buckets", max_buckets, low=1),
                "min_window_length": check_int(n, "min_window_length", min_window_length, low=1),
                "grace_period": check_int(n, "grace_period", grace_period, low=0),
            }
        )

    @property
    def width(self) -> int:
        """Number of values in the current window."""
        return int(self._river.width)

    @property
    def estimation(self) -> float:
        """Mean of the current window (0.0 when empty)."""
        return float(self._river.estimation)

    @property
    def variance(self) -> float:
        """Variance of the current window."""
        return float(self._river.variance)

    def _new_river(self) -> Any:
        return _RiverADWIN(**self._params)

    def _get_state(self) -> dict[str, Any]:
        helper = self._river._helper
        return {
            "window": blob_to_str(helper.__getstate__()),
            "width": encode_number(helper.get_width()),
            "total": encode_number(helper.get_total()),
            "variance": encode_number(helper.get_variance()),
        }

    def _set_state(self, state: Mapping[str, Any]) -> None:
        blob = blob_from_str(field(state, "window"))
        helper = self._river._helper
        try:
            helper.__setstate__(blob)
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as exc:  # a Rust panic is a BaseException (pyo3 PanicException)
            raise ValueError(f"corrupt or foreign ADWIN window bytes: {exc}") from exc
        summary = (helper.get_width(), helper.get_total(), helper.get_variance())
        stored = tuple(decode_number(field(state, k)) for k in ("width", "total", "variance"))
        if helper.__getstate__() != blob or not all(map(_same, summary, stored)):
            raise ValueError("ADWIN window bytes do not match the stored width/total/variance")


def _same(a: float, b: float) -> bool:
    return a == b or (math.isnan(a) and math.isnan(b))
