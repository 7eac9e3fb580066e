"""AR(1) feature streams: autocorrelated but stationary, with an optional mean shift.

Each feature follows x[t] = φ·x[t-1] + √(1 − φ²)·e[t] with e ~ N(0, 1) i.i.d., started
from the stationary law, so every x[t] is N(0, 1) and corr(x[t], x[t-k]) = φ^k. A shift
of ``shift`` (in marginal standard deviations) is added to the named features from row
``shift_at`` on. Vectorised: the recursion runs through scipy's ``lfilter``.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from load.datasets import Dataset


def ar1(
    n: int, phi: float, rng: np.random.Generator, *, streams: int = 1
) -> npt.NDArray[np.float64]:
    """``streams`` independent stationary AR(1) series of length ``n`` (shape n × streams)."""
    if not -1 < phi < 1:
        raise ValueError(f"phi must be in (-1, 1), got {phi}")
    from scipy.signal import lfilter

    e = rng.standard_normal((n, streams)) * np.sqrt(1.0 - phi * phi)
    e[0] = rng.standard_normal(streams)  # x[0] from the stationary law N(0, 1)
    out: npt.NDArray[np.float64] = lfilter([1.0], [1.0, -phi], e, axis=0)
    return out


def ar1_dataset(
    n: int,
    phi: float,
    *,
    features: int = 5,
    seed: int = 0,
    shift: float = 0.0,
    shift_at: int | None = None,
    shifted: tuple[str, ...] = ("x0",),
) -> Dataset:
    """An AR(1) stream as a :class:`Dataset` of numeric features ``x0 .. x<features-1>``."""
    rng = np.random.default_rng(seed)
    data = ar1(n, phi, rng, streams=features)
    columns = {f"x{j}": data[:, j].copy() for j in range(features)}
    if shift and shift_at is not None:
        for name in shifted:
            columns[name][shift_at:] += shift
    return Dataset(
        f"ar1_phi{phi:g}",
        columns,
        dict.fromkeys(columns, "numeric"),
        None,
        ordered=True,
        seconds_per_row=1.0,
        source="synthetic AR(1), seeded",
        licence="—",
    )
