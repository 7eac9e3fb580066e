"""Page-Hinkley test, wrapping ``river.drift.PageHinkley``.

State: River's PageHinkley is plain Python -- a running mean (``n``, ``mean``), the two
cumulative sums and their running extremes -- so ``to_dict`` stores those numbers
explicitly (``min_increase`` starts at infinity and ``max_decrease`` at the integer -1;
both are kept exactly, see ``_state``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from river import drift

from streamdrift.detectors._state import (
    check_int,
    check_real,
    decode_number,
    encode_number,
    field,
    mean_from_dict,
    mean_to_dict,
)
from streamdrift.detectors.base import DriftDetector

_MODES = ("up", "down", "both")


class PageHinkley(DriftDetector):
    """Page-Hinkley (CUSUM-type) test for a change in the mean.

    Parameters mirror ``river.drift.PageHinkley``. ``delta`` (the tolerated drift per
    value) and ``threshold`` (lambda) are in the units of the input, so the defaults
    (0.005 and 50) suit inputs whose standard deviation is well below 1: on a
    stationary N(0, 1) stream they raise a false alarm every few thousand values.
    Scale them with the input's spread: the false-alarm rate falls roughly like
    ``exp(-2 * delta * threshold / sigma**2)``; e.g. ``delta=0.25, threshold=50`` for
    sigma = 1. ``alpha`` is the forgetting factor of the cumulative sums, ``mode``
    one of ``"up"``, ``"down"``, ``"both"``. Cost: O(1) time and memory per value.

    Examples
    --------
    >>> import random
    >>> from streamdrift.detectors import PageHinkley
    >>> rng = random.Random(12345)
    >>> stream = rng.choices([0, 1], k=1000) + rng.choices(range(4, 8), k=1000)
    >>> ph = PageHinkley()
    >>> for i, x in enumerate(stream):
    ...     ph.update(x)
    ...     if ph.drift_detected:
    ...         print(f"Change detected at index {i}")
    Change detected at index 1006
    """

    name = "page_hinkley"

    def __init__(
        self,
        min_instances: int = 30,
        delta: float = 0.005,
        threshold: float = 50.0,
        alpha: float = 1 - 0.0001,
        mode: str = "both",
    ) -> None:
        n = self.name
        if mode not in _MODES:
            raise ValueError(f"{n}: parameter 'mode' must be one of {_MODES}, got {mode!r}")
        super().__init__(
            {
                "min_instances": check_int(n, "min_instances", min_instances, low=1),
                "delta": check_real(n, "delta", delta, at_least=0.0),
                "threshold": check_real(n, "threshold", threshold, above=0.0),
                "alpha": check_real(n, "alpha", alpha, above=0.0, at_most=1.0),
                "mode": mode,
            }
        )

    def _new_river(self) -> Any:
        return drift.PageHinkley(**self._params)

    def _get_state(self) -> dict[str, Any]:
        r = self._river
        return {
            "x_mean": mean_to_dict(r._x_mean),
            "sum_increase": encode_number(r._sum_increase),
            "sum_decrease": encode_number(r._sum_decrease),
            "min_increase": encode_number(r._min_increase),
            "max_decrease": encode_number(r._max_decrease),
        }

    def _set_state(self, state: Mapping[str, Any]) -> None:
        r = self._river
        r._x_mean = mean_from_dict(field(state, "x_mean"))
        r._sum_increase = decode_number(field(state, "sum_increase"))
        r._sum_decrease = decode_number(field(state, "sum_decrease"))
        r._min_increase = decode_number(field(state, "min_increase"))
        r._max_decrease = decode_number(field(state, "max_decrease"))
