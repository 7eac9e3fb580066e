"""Thresholds from the reference's own variation: design effects and critical values.

A statistic whose i.i.d. null is known (chi-squared over bins, ``n D²`` of KS, the
squared z of a mean or share) is computed on contiguous windows of the reference *as it
is ordered* and compared with its i.i.d. expectation for windows drawn from the same
reference (exact for bins and means: a sample without replacement; for KS, measured on
the reference shuffled). The ratio is the statistic's **design effect** (variance
inflation, Rao–Scott's first-order correction):
autocorrelation and grouping raise it exactly as much as they widen natural variation.
A live window is then judged with the i.i.d. null at the effective sample size
``n / inflation`` (equivalently, the statistic divided by the inflation).

The inflation used is an upper confidence bound of the estimate (two standard errors of a
mean of ``k`` chi-squared values), floored at 1, so few windows err on the quiet side.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any

import numpy as np

from streamdrift.stats.special import chi2_sf

__all__ = [
    "FAMILIES",
    "Inflation",
    "binned_critical",
    "binned_inflation",
    "calibration_layout",
    "chi2_isf",
    "inflation_of",
    "ks_critical",
    "ks_inflation",
    "lag1_inflation",
    "mean_inflation",
    "normal_isf",
    "share_inflation",
]

# the statistic families a check is judged by: binned chi-squared (PSI, JS, Cohen's w),
# KS (KS, Wasserstein) and the share of missing values
FAMILIES = ("bins", "ks", "missing")
MIN_WINDOWS = 30  # fewer windows of the monitored size: calibrate on smaller windows
MAX_WINDOWS = 200  # evenly spread over the reference; enough for a covariance, cheap
MIN_WINDOW_SIZE = 20
MIN_FULL_WINDOWS = 8  # windows of the monitored size that are enough on their own
N_SHUFFLES = 4
_NORMAL = NormalDist()


@dataclass(frozen=True, slots=True)
class Inflation:
    """The design effect of one statistic: ``factor`` (used, >= 1), ``estimate`` (the
    ordered/shuffled ratio), from ``windows`` windows of ``window_size`` values."""

    factor: float
    estimate: float
    windows: int
    window_size: int
    # binned statistics: X² ~ scale · χ²_dof (Satterthwaite); NaN: factor · χ² of the bins' dof
    scale: float = math.nan
    dof: float = math.nan
    # and the far tail: X² ≈ top · χ²_1 + (trace - top), the top eigenvalue's direction
    top: float = math.nan
    trace: float = math.nan

    def to_dict(self) -> dict[str, Any]:
        d = {
            "inflation": self.factor,
            "estimate": self.estimate,
            "windows": self.windows,
            "window_size": self.window_size,
        }
        if math.isfinite(self.dof):
            d.update(scale=self.scale, dof=self.dof, top=self.top, trace=self.trace)
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Inflation:
        return cls(
            float(d["inflation"]),
            float(d["estimate"]),
            int(d["windows"]),
            int(d["window_size"]),
            float(d.get("scale", math.nan)),
            float(d.get("dof", math.nan)),
            float(d.get("top", math.nan)),
            float(d.get("trace", math.nan)),
        )


IID = Inflation(1.0, 1.0, 0, 0)


def calibration_layout(m: int, window_size: int) -> tuple[int, int]:
    """(windows, size) of the calibration: windows of the monitored size when at least
    ``MIN_FULL_WINDOWS`` fit in ``m`` values (a trend or a season longer than smaller
    windows would be missed), else ``MIN_WINDOWS`` smaller ones (a design effect converges
    as windows outgrow the correlation length, so these slightly understate it; the upper
    bound covers part of that); (0, 0) when not even ``MIN_WINDOW_SIZE`` values fit."""
    if window_size >= MIN_WINDOW_SIZE and m // window_size >= MIN_FULL_WINDOWS:
        return min(m // window_size, MAX_WINDOWS), int(window_size)
    size = min(int(window_size), m // MIN_WINDOWS)
    if size < MIN_WINDOW_SIZE:
        return 0, 0
    return min(m // size, MAX_WINDOWS), size


def _blocks(x: np.ndarray, k: int, n: int) -> np.ndarray:
    """k contiguous blocks of n values, evenly spaced over x: shape (k, n)."""
    step = x.size // k
    starts = np.arange(k) * step
    blocks: np.ndarray = x[starts[:, None] + np.arange(n)[None, :]]
    return blocks


def _ratio(
    x: np.ndarray,
    stat: Callable[[np.ndarray], np.ndarray],
    window_size: int,
    dof: float,
    seed: int,
) -> Inflation:
    k, n = calibration_layout(x.size, window_size)
    if k < 2:
        return IID
    ordered = float(np.mean(stat(_blocks(x, k, n))))
    rng = np.random.default_rng(seed)
    shuffled = float(
        np.mean([np.mean(stat(_blocks(rng.permutation(x), k, n))) for _ in range(N_SHUFFLES)])
    )
    if not (shuffled > 0 and math.isfinite(ordered)):
        return Inflation(1.0, 1.0, k, n)
    estimate = ordered / shuffled
    upper = estimate * (1.0 + 2.0 * math.sqrt(2.0 / (k * max(dof, 1.0))))
    return Inflation(max(1.0, upper), estimate, k, n)


def binned_inflation(codes: np.ndarray, n_bins: int, window_size: int, seed: int = 0) -> Inflation:
    """Design effect of the chi-squared statistic over bins (codes 0..n_bins-1, negative
    for missing: left out) of windows against the pooled reference.

    Beside the mean (first-order) inflation it measures the spread of the eigenvalues of
    the bins' standardised covariance (Satterthwaite): autocorrelation inflates the
    direction of a shift of the mean far more than the others, so ``X² ≈ scale · χ²_ν``
    with ``ν`` below the bins' dof, a heavier tail than the mean inflation says."""
    kept = codes[codes >= 0].astype(np.intp)
    if kept.size == 0:
        return IID
    p = np.bincount(kept, minlength=n_bins) / kept.size
    used = p > 0
    dof = int(used.sum()) - 1
    if dof < 1:
        return IID
    k, n = calibration_layout(kept.size, window_size)
    if k < 2:
        return IID
    pu = p[used]

    def deviations(x: np.ndarray) -> np.ndarray:
        blocks = _blocks(x, k, n)
        flat = (np.arange(k)[:, None] * n_bins + blocks).ravel()
        counts = np.bincount(flat, minlength=k * n_bins).reshape(k, n_bins)[:, used]
        z: np.ndarray = (counts - n * pu) / np.sqrt(n * pu)
        return z

    z = deviations(kept)
    # i.i.d. rows: a window is a sample without replacement from the pooled reference, so
    # each standardised count has variance (1 - p) (m - n) / (m - 1) (multivariate
    # hypergeometric): exactly, no shuffle needed
    iid = (kept.size - n) / (kept.size - 1)
    cov = z.T @ z / k / iid  # in units of the i.i.d. variance
    trace = float(np.trace(cov))
    # E tr(S²) = tr(Σ²) + tr(Σ)² / k for k windows: take the noise off
    square = max(float(np.sum(cov * cov)) - trace * trace / k, trace * trace / dof)
    estimate = trace / dof
    scale = square / trace
    nu = min(float(dof), trace * trace / square)
    upper = 1.0 + 2.0 * math.sqrt(2.0 / (k * nu))
    top = float(np.linalg.eigvalsh(cov)[-1])  # the sample's top eigenvalue: biased up
    return Inflation(
        max(1.0, estimate * upper), estimate, k, n, max(1.0, scale * upper), nu,
        max(1.0, top), max(trace, float(dof)),
    )  # fmt: skip


def ks_inflation(values: np.ndarray, window_size: int, seed: int = 0) -> Inflation:
    """Design effect of ``n D²`` (one-sample KS of a window against the pooled values)."""
    kept = values[np.isfinite(values)]
    if kept.size == 0 or np.all(kept == kept[0]):
        return IID
    ordered = np.sort(kept)
    u = np.searchsorted(ordered, kept, side="right") / kept.size  # pooled ECDF at each value

    def stat(blocks: np.ndarray) -> np.ndarray:
        n = blocks.shape[1]
        s = np.sort(blocks, axis=1)
        i = np.arange(1, n + 1)
        d = np.maximum(np.max(i / n - s, axis=1), np.max(s - (i - 1) / n, axis=1))
        return np.asarray(n * d**2)

    return _ratio(u, stat, window_size, 1.0, seed)


def mean_inflation(values: np.ndarray, window_size: int, seed: int = 0) -> Inflation:
    """Design effect of a window's mean of ``values`` (the squared z of its deviation from
    the pooled mean): an error rate's, an MAE's, a share's."""
    x = np.asarray(values, dtype=np.float64)
    x = x[np.isfinite(x)]
    if x.size == 0:
        return IID
    mu, var = float(x.mean()), float(x.var())
    if var <= 0.0:
        return IID
    k, n = calibration_layout(x.size, window_size)
    if k < 2:
        return IID
    # i.i.d. rows: Var(window mean) = σ²/n · (m - n)/(m - 1) for a window drawn without
    # replacement from the m pooled values (exact: no shuffle needed)
    iid = var / n * (x.size - n) / (x.size - 1)
    estimate = float(np.mean((_blocks(x, k, n).mean(axis=1) - mu) ** 2)) / iid
    upper = estimate * (1.0 + 2.0 * math.sqrt(2.0 / k))
    return Inflation(max(1.0, upper), estimate, k, n)


def share_inflation(flags: np.ndarray, window_size: int, seed: int = 0) -> Inflation:
    """Design effect of the squared z of a window's share of ``flags`` (0/1)."""
    return mean_inflation(np.asarray(flags, dtype=np.float64), window_size, seed)


def lag1_inflation(series: np.ndarray) -> Inflation:
    """The short reference's fallback: ``(1 + r) / (1 - r)``, r the lag-1 autocorrelation
    of ``series`` (floored at 0, capped at 0.95): the design effect of a mean under an AR(1)
    process, which bounds that of the binned statistics' other directions."""
    x = np.asarray(series, dtype=np.float64)
    if x.size < 3 or not np.isfinite(x).all() or float(np.std(x)) == 0.0:
        return IID
    d = x - x.mean()
    r = float(np.dot(d[1:], d[:-1]) / np.dot(d, d))
    r = min(max(r, 0.0), 0.95)
    factor = (1.0 + r) / (1.0 - r)
    return Inflation(factor, factor, 0, 0, factor, math.nan, factor, math.nan)


def inflation_of(calibration: Mapping[str, Any] | None, family: str) -> float:
    """The inflation a calibration stores for ``family`` (1.0: i.i.d., when none)."""
    if not calibration or family not in calibration:
        return 1.0
    return float(calibration[family]["inflation"])


def binned_critical(
    calibration: Mapping[str, Any] | None, dof: int, level: float, chi2: float
) -> tuple[float, float]:
    """(critical value, p-value) of a window's binned chi-squared ``chi2`` under the
    calibrated null: the larger threshold (and p-value) of Satterthwaite's
    ``scale · χ²_ν`` and of the far-tail form ``top · χ²_1 + (trace - top)``."""
    if not calibration or "bins" not in calibration:
        return chi2_isf(level, dof), chi2_sf(max(chi2, 0.0), dof)
    bins = calibration["bins"]
    if "scale" not in bins:
        infl = float(bins["inflation"])
        return infl * chi2_isf(level, dof), chi2_sf(max(chi2 / infl, 0.0), dof)
    if bins.get("dof") is None:  # lag-1 fallback: one factor on the whole statistic
        infl = float(bins["inflation"])
        return infl * chi2_isf(level, dof), chi2_sf(max(chi2 / infl, 0.0), dof)
    c, nu = float(bins["scale"]), min(float(dof), float(bins["dof"]))
    top, rest = float(bins["top"]), max(float(bins["trace"]) - float(bins["top"]), 0.0)
    critical = max(c * chi2_isf(level, nu), top * chi2_isf(level, 1.0) + rest)
    tail = math.erfc(math.sqrt(max((chi2 - rest) / top, 0.0) / 2.0))  # χ²_1's survival
    return critical, max(chi2_sf(max(chi2 / c, 0.0), nu), tail)


@functools.lru_cache(maxsize=4096)
def _chi2_isf_cached(log_level: float, dof: float) -> float:
    """The bisection of :func:`_chi2_isf_bisect`, bit for bit, with fewer ``chi2_sf`` calls:
    a probe that :func:`_certified_bracket` settles is not computed."""
    level = 10.0**log_level
    low, high = _certified_bracket(level, dof)
    return _chi2_isf_bisect(level, dof, low, high)


def _chi2_isf_bisect(
    level: float, dof: float, low: float = -math.inf, high: float = math.inf
) -> float:
    """x with ``chi2_sf(x, dof) <= level`` by doubling then 60 bisection steps; a probe at
    or below ``low`` is known to be above ``level``, one at or above ``high`` not."""

    def above(x: float) -> bool:
        if x <= low:
            return True
        if x >= high:
            return False
        return chi2_sf(x, dof) > level

    lo, hi = 0.0, max(10.0, 2.0 * dof)
    while above(hi):
        hi *= 2.0
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        if mid in (lo, hi):  # no step left: each probe would give the same answer
            break
        if above(mid):
            lo = mid
        else:
            hi = mid
    return hi


# a certified probe is 1e-11 (relative) beyond the level, far above chi2_sf's rounding
# error (below 1e-12 where it comes from the continued fraction). Above _SERIES_LEVEL the
# root may lie where chi2_sf is 1 - P (the series: an absolute error near 1e-14), so an
# absolute 1e-13 more; below it chi2_sf there is at least 2e-3 (dof >= 0.01), far above.
_MARGIN = 1e-11
_SERIES_LEVEL = 5e-4


def _certified_bracket(level: float, dof: float) -> tuple[float, float]:
    """(low, high) around the root of ``chi2_sf(x, dof) = level`` with ``chi2_sf(low)``
    above and ``chi2_sf(high)`` below the level by the margin: as the true function is
    decreasing, every x <= low (>= high) is then computed above (not above) the level.
    (-inf, inf) where no such bracket is found: every probe is then computed."""
    none = -math.inf, math.inf
    if not (dof >= 0.01 and 0.0 < level < 1.0):
        return none
    tol = _MARGIN * level + (1e-13 if level > _SERIES_LEVEL else 0.0)
    try:
        root = _chi2_root(level, dof)
        width = 1e-10
        while root is not None and width < 1e-4:
            low, high = root * (1.0 - width), root * (1.0 + width)
            if chi2_sf(low, dof) > level + tol and chi2_sf(high, dof) < level - tol:
                return low, high
            width *= 16.0
    except (ArithmeticError, ValueError):
        pass
    return none


def _chi2_root(level: float, dof: float) -> float | None:
    """The root of ``chi2_sf(x, dof) = level`` by Newton's method on ``log chi2_sf`` from
    the Wilson-Hilferty start, kept inside the bracket seen so far; None if it stalls."""
    k = dof
    z = normal_isf(level)
    c = 2.0 / (9.0 * k)
    x = k * (1.0 - c + z * math.sqrt(c)) ** 3
    if not (math.isfinite(x) and x > 0):
        x = max(k, 1.0)
    lo, hi = 0.0, math.inf
    log_level = math.log(level)
    log_norm = math.lgamma(k / 2.0) + (k / 2.0) * math.log(2.0)
    for _ in range(50):
        sf = chi2_sf(x, dof)
        if sf > level:
            lo = x
        else:
            hi = x
        if sf <= 0.0:
            step_to = math.nan
        else:
            pdf = math.exp((k / 2.0 - 1.0) * math.log(x) - x / 2.0 - log_norm)
            step_to = x + (math.log(sf) - log_level) * sf / pdf if pdf > 0 else math.nan
        if abs(step_to - x) <= 1e-12 * x:
            return step_to
        if not (lo < step_to < hi):  # out of the bracket: bisect it (or double)
            step_to = 0.5 * (lo + hi) if math.isfinite(hi) else 2.0 * x
        x = step_to
    return None


def chi2_isf(level: float, dof: float) -> float:
    """x with P(chi2_dof >= x) = level (level rounded to 0.1% in log10, dof to 0.01: cached)."""
    return _chi2_isf_cached(round(math.log10(level), 3), round(float(dof), 2))


def normal_isf(level: float) -> float:
    """z with P(Z >= z) = level."""
    return -_NORMAL.inv_cdf(min(max(level, 1e-300), 1.0 - 1e-16))


def ks_critical(level: float, effective_n: float) -> float:
    """D beyond which the two-sided KS p-value is below ``level`` at ``effective_n``:
    the first term of Kolmogorov's series, ``2 exp(-2 n D²)`` (an upper bound of the
    tail: conservative)."""
    return math.sqrt(math.log(2.0 / level) / (2.0 * max(effective_n, 1.0)))
