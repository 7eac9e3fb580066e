"""The design effect of a window's mean at the window's own length, from a ladder of lengths.

A mean's design effect ``1 + 2 Σ_k (1 - k/n) ρ_k`` depends on the window length ``n``: a
daily or weekly cycle averages out of long windows but not of short ones, and errors that
come in runs inflate a long window more than a short one. Performance windows are by time,
so their label count is known only when they close; one fixed calibration length (it was
1,000 rows) misjudges every other count. The ladder measures the design effect on
contiguous windows of the reference, in order, at doubling lengths (each with at least
``MIN_WINDOWS`` = 30 windows, so each estimate is within about ±30 %), and a window of
``n`` labels reads it at ``n``: interpolated in ``log n`` between the two rungs around it,
the nearest rung outside them.

>>> import numpy as np
>>> x = (np.random.default_rng(0).random(20_000) < 0.1).astype(float)
>>> rungs = inflation_ladder(x)
>>> [r.window_size for r in rungs]
[25, 50, 100, 200, 400, 666]
>>> 1.0 <= inflation_at(rungs, 300) < 1.6
True
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import numpy as np

from streamdrift.stats.threshold_calibration import (
    MIN_WINDOWS,
    Inflation,
    mean_inflation,
)

__all__ = ["FIRST_RUNG", "inflation_at", "inflation_ladder"]

FIRST_RUNG = 25  # labels: the shortest window length measured (then 50, 100, 200, …)


def inflation_ladder(values: np.ndarray) -> list[Inflation]:
    """:func:`mean_inflation` of ``values`` (in order) at ``FIRST_RUNG · 2^j`` rows, for
    every length of which at least ``MIN_WINDOWS`` contiguous windows fit, and at the
    longest such length; [] when none does."""
    x = np.asarray(values, dtype=np.float64)
    sizes = []
    size = FIRST_RUNG
    while x.size // size >= MIN_WINDOWS:
        sizes.append(size)
        size *= 2
    if sizes and x.size // MIN_WINDOWS > sizes[-1]:
        sizes.append(x.size // MIN_WINDOWS)  # the longest measurable: the best extrapolation
    return [r for r in (mean_inflation(x, s) for s in sizes) if r.window_size in sizes]


def inflation_at(rungs: Sequence[Inflation], count: int) -> float:
    """The design effect (``factor``, >= 1) at a window of ``count`` values."""
    if not rungs:
        return 1.0
    ordered = sorted(rungs, key=lambda r: r.window_size)
    if count <= ordered[0].window_size:
        return ordered[0].factor
    for lo, hi in itertools.pairwise(ordered):
        if count <= hi.window_size:
            t = math.log(count / lo.window_size) / math.log(hi.window_size / lo.window_size)
            return math.exp((1 - t) * math.log(lo.factor) + t * math.log(hi.factor))
    return ordered[-1].factor
