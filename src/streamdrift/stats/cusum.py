"""A one-sided CUSUM of per-window z-scores: evidence that accumulates across windows.

Each window contributes ``z`` (standard normal under the calibrated null, from its
p-value); ``S = max(0, S + z - k)`` and the check fires when ``S >= h``. ``h`` is set by
Siegmund's approximation of the in-control average run length so that the false-alarm
rate per window is ``level`` (the accumulated decision's share of the budget). With
``k = 1`` it is tuned to a persistent shift of two standard errors per window: one that a
single window cannot show at a level of 1e-8 (z ≈ 5.6) is flagged after a few.

>>> h = cusum_threshold(1e-6)
>>> round(h, 2)
6.2
>>> c = Cusum()
>>> [c.update(2.5, h) for _ in range(5)]
[False, False, False, False, True]
>>> c.windows
5
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Any

__all__ = ["CUSUM_K", "Cusum", "cusum_threshold"]

CUSUM_K = 1.0
_SIEGMUND = 1.166  # the overshoot correction of Siegmund's approximation
_Z_CAP = 10.0  # one extreme window cannot carry the sum by itself


@functools.lru_cache(maxsize=1024)
def _threshold(log_level: float, k: float) -> float:
    # Siegmund's run length is ~8% long at these h (measured: 1.08e-3 false alarms per window
    # at a nominal 1e-3, tests/unit/stats/test_calibration.py): aim a quarter longer
    arl = 1.25 * 10.0 ** (-log_level)
    # ARL0 ~ (exp(2 k b) - 2 k b - 1) / (2 k²), b = h + 1.166: solve for b by fixed point
    b = 1.0
    for _ in range(100):
        b = math.log(2 * k * k * arl + 2 * k * b + 1) / (2 * k)
    return max(b - _SIEGMUND, 0.0)


def cusum_threshold(level: float, k: float = CUSUM_K) -> float:
    """h of a CUSUM of N(0, 1) increments, allowance ``k``, whose in-control run length
    is 1 / level."""
    return _threshold(round(math.log10(level), 3), round(k, 3))


@dataclass(slots=True)
class Cusum:
    """State of one check's CUSUM: the sum and the windows it has accumulated over."""

    s: float = 0.0
    windows: int = 0

    def update(self, z: float, h: float, k: float = CUSUM_K) -> bool:
        """Add one window's z-score; True (and a restart) when the sum reaches ``h``."""
        if not math.isfinite(z):
            return False
        self.s = max(0.0, self.s + min(z, _Z_CAP) - k)
        self.windows = self.windows + 1 if self.s > 0 else 0
        return self.s >= h

    def restart(self) -> None:
        self.s, self.windows = 0.0, 0

    def to_dict(self) -> dict[str, Any]:
        return {"s": self.s, "windows": self.windows}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Cusum:
        return cls(float(d["s"]), int(d["windows"]))
