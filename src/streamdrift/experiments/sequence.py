"""Asymptotic confidence sequence for a running mean (Waudby-Smith, Arnold, Wu & Ramdas,
"Time-uniform central limit theory and asymptotic confidence sequences", Ann. Statist.
2024, Thm 2.2, with Robbins' two-sided normal mixture boundary, Howard et al. 2021).

For observations with a common mean μ and finite variance, ``mean ± radius`` covers μ at
every n at once with probability tending to ``1 - alpha``: one may look after every
observation, stop at any time, and the error stays ``alpha``. The width is smallest near
``n = OPTIMISE_AT`` (ρ from Howard et al. 2021, eq. (3.7)).

>>> cs = ConfidenceSequence()
>>> _ = cs.update(np.array([0.0, 1.0] * 500))
>>> lo, hi = cs.bounds(0.05)
>>> round(cs.mean, 3), round(lo, 3), round(hi, 3)
(0.5, 0.439, 0.561)
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

OPTIMISE_AT = 10_000  # observations where the sequence is tightest


def running_sum(before: float, x: np.ndarray) -> np.ndarray:
    """``before + x[0] + … + x[i]`` for each i, added one at a time from ``before``: the same
    floats however a stream is cut into batches (a replay gives the same bytes)."""
    return np.cumsum(np.concatenate(([before], np.asarray(x, dtype=np.float64))))[1:]


def radius(n: np.ndarray, variance: np.ndarray, alpha: float) -> np.ndarray:
    """Half-width of the sequence after ``n`` observations of sample variance ``variance``."""
    rho2 = (-2 * math.log(alpha) + math.log(-2 * math.log(alpha) + 1)) / OPTIMISE_AT
    n = np.asarray(n, dtype=np.float64)
    t = n * rho2 + 1.0
    with np.errstate(divide="ignore", invalid="ignore"):
        width = np.sqrt(
            np.maximum(variance, 0.0) * 2 * t / (n * n * rho2) * np.log(np.sqrt(t) / alpha)
        )
    return np.where(n > 0, width, np.inf)


class ConfidenceSequence:
    """Running n, sum and sum of squares of a stream; bounds at any time, or at chosen
    positions of a batch (:meth:`update` returns them vectorised)."""

    __slots__ = ("n", "total", "total_sq")

    def __init__(self) -> None:
        self.n = 0
        self.total = 0.0
        self.total_sq = 0.0

    def update(
        self, x: np.ndarray, at: np.ndarray | None = None, alpha: float = 0.05
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Add ``x``; return (n, mean, lower, upper) after each position ``at`` (0-based
        indices into ``x``), all vectorised."""
        x = np.asarray(x, dtype=np.float64)
        if at is None:
            at = np.zeros(0, dtype=np.int64)
        sums = running_sum(self.total, x)
        squares = running_sum(self.total_sq, x * x)
        s, q = sums[at], squares[at]
        n = self.n + at + 1
        mean = s / n
        r = radius(n, q / n - mean * mean, alpha)
        if len(x):
            self.n += len(x)
            self.total = float(sums[-1])
            self.total_sq = float(squares[-1])
        return n, mean, mean - r, mean + r

    @property
    def mean(self) -> float:
        return self.total / self.n if self.n else math.nan

    def bounds(self, alpha: float) -> tuple[float, float]:
        if not self.n:
            return -math.inf, math.inf
        mean = self.mean
        r = float(
            radius(np.array([self.n]), np.array([self.total_sq / self.n - mean**2]), alpha)[0]
        )
        return mean - r, mean + r

    def to_dict(self) -> dict[str, Any]:
        return {"n": self.n, "sum": self.total, "sum_sq": self.total_sq}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ConfidenceSequence:
        cs = cls()
        cs.n, cs.total, cs.total_sq = int(d["n"]), float(d["sum"]), float(d["sum_sq"])
        return cs
