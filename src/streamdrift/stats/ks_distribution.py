"""Finite-n Kolmogorov-Smirnov distributions, numpy only.

- ``smirnov_sf(n, d)``: one-sided P(D+_n >= d), exact (Birnbaum-Tingey sum).
- ``kstwo_sf(n, d)``: two-sided P(D_n >= d) for a sample of size n, following
  Simard & L'Ecuyer (2011), the algorithm behind ``scipy.stats.kstwo``.

scipy's two-sample ``ks_2samp(method="asymp")`` evaluates ``kstwo.sf(D, round(en))``
with en = n1 n2 / (n1 + n2); ``kstwo_sf`` reproduces that branch for branch
(Ruben-Gambino ends, Durbin matrix, Pomeranz recursion, Pelz-Good series,
2 * Smirnov for the upper tail), so p-values agree with scipy's to ~1e-9 relative.
"""

from __future__ import annotations

import functools
import math

import numpy as np

__all__ = ["kstwo_sf", "smirnov_sf"]

_MIN_LOG = -708.3964185322641  # log of the smallest normal double
_SCALE_EXP = 128
_SCALE_UP = 2.0**_SCALE_EXP
_SCALE_DOWN = 2.0**-_SCALE_EXP
_SMIRNOV_MAX_EXACT_N = 1_000_000  # above this scipy switches to an approximation


def _log_nfact_over_npow(n: int) -> float:
    """log(n! / n^n)."""
    return math.lgamma(n + 1.0) - n * math.log(n)


def smirnov_sf(n: int, d: float) -> float:
    """One-sided Kolmogorov-Smirnov survival function P(D+_n >= d), 0 <= d <= 1.

    Exact for n <= 1e6 via ``d * sum_{v=0}^{floor(n(1-d))} C(n,v) (d+v/n)^(v-1)
    (1-d-v/n)^(n-v)``; every term is positive, so summing in log space loses no
    precision. Beyond 1e6, exp(-(6nd+1)^2 / (18n)) as in scipy.special.smirnov.
    """
    if n < 1 or not 0.0 <= d <= 1.0:
        raise ValueError(f"need n >= 1 and 0 <= d <= 1, got n={n}, d={d}")
    if n == 1:
        return 1.0 - d
    if d == 0.0:
        return 1.0
    if d == 1.0:
        return 0.0
    nd = n * d
    if nd <= 1.0:
        return 1.0 - d * (1.0 + d) ** (n - 1)
    if -2.0 * nd * d < _MIN_LOG:
        return 0.0
    if math.floor(nd) >= n - 1:
        return (1.0 - d) ** n
    if n > _SMIRNOV_MAX_EXACT_N:
        logp = -((6.0 * nd + 1.0) ** 2) / 18.0 / n
        return math.exp(logp) if logp < -math.log(2.0) else 1.0 + math.expm1(logp)
    v = np.arange(0, math.floor(n * (1.0 - d)) + 1, dtype=np.float64)
    tail = (n - v) - nd  # n * (1 - d - v/n), exact-ish in the well-conditioned terms
    v, tail = v[tail > 0], tail[tail > 0]  # a zero base contributes 0^(n-v) = 0
    steps = np.log((n - v[:-1]) / (v[:-1] + 1.0))
    log_binom = np.concatenate(([0.0], np.cumsum(steps)))
    log_terms = log_binom + (v - 1.0) * np.log((nd + v) / n) + (n - v) * np.log(tail / n)
    peak = float(log_terms.max())
    log_sum = peak + math.log(float(np.exp(log_terms - peak).sum()))
    return min(1.0, max(0.0, d * math.exp(log_sum)))


def _dmtw_cdf(n: int, d: float) -> float:
    """P(D_n < d) by Durbin's matrix (Marsaglia, Tsang & Wang 2003); best for small n*d."""
    if d >= 1.0:
        return 1.0
    nd = n * d
    if nd <= 0.5:
        return 0.0
    k = math.ceil(nd)
    h = k - nd
    m = 2 * k - 1
    powers = np.arange(1, m + 1, dtype=np.float64)
    inv_fact = np.cumprod(1.0 / powers)  # 1/1!, ..., 1/m!
    w = np.concatenate(([1.0], inv_fact[:-1]))  # 1/0!, ..., 1/(m-1)!
    v = (1.0 - h**powers) * inv_fact
    v[-1] = (1.0 + max(2.0 * h - 1.0, 0.0) ** m - 2.0 * h**m) * inv_fact[-1]
    lag = np.subtract.outer(np.arange(m), np.arange(m)) + 1  # H[r, c] = w[r - c + 1]
    big_h = np.where(lag >= 0, w[np.clip(lag, 0, m - 1)], 0.0)
    big_h[:, 0] = v
    big_h[-1, :] = v[::-1]

    # Square-and-multiply; both matrices are rescaled by 2^128 so H^n cannot overflow.
    result = np.eye(m)
    result_exp = 0
    h_exp = 0
    rest = n
    while rest > 0:
        if rest % 2:
            result = result @ big_h
            result_exp += h_exp
            if abs(result[k - 1, k - 1]) > _SCALE_UP:
                result *= _SCALE_DOWN
                result_exp += _SCALE_EXP
        big_h = big_h @ big_h
        h_exp *= 2
        if abs(big_h[k - 1, k - 1]) > _SCALE_UP:
            big_h *= _SCALE_DOWN
            h_exp += _SCALE_EXP
        rest //= 2
    p = float(result[k - 1, k - 1])
    if p <= 0.0:
        return 0.0
    log_p = math.log(p) + result_exp * math.log(2.0) + _log_nfact_over_npow(n)
    return min(1.0, math.exp(log_p))


def _pomeranz_bounds(i: int, n: int, ll: int, ceilf: int, roundf: int) -> tuple[int, int]:
    """First and last non-zero column of row i in Pomeranz's recursion."""
    if i == 0:
        j1, j2 = -ll - ceilf - 1, ll + ceilf - 1
    else:
        half, odd = divmod(i + 1, 2)
        if odd == 0:
            if half == n + 1:
                j1, j2 = n - ll - ceilf - 1, n + ll + ceilf - 1
            else:
                j1, j2 = half - 1 - ll - roundf - 1, half + ll - 1 + ceilf - 1
        else:
            j1, j2 = half - 1 - ll - 1, half + ll + roundf - 1
    return max(j1 + 2, 0), min(j2, n)


def _pomeranz_cdf(n: int, d: float) -> float:
    """P(D_n < d) by Pomeranz's (1974) recursion; used for n <= 140 in the mid range.

    2n+1 rows, each a convolution of the previous one with (scaled) Poisson weights;
    the loop is over rows (at most 281), every row is a numpy convolution.
    """
    t = n * d
    ll = math.floor(t)
    f = t - ll
    g = min(f, 1.0 - f)
    ceilf = 1 if f > 0 else 0
    roundf = 1 if f > 0.5 else 0
    npwrs = 2 * (ll + 1)
    steps = np.arange(1, npwrs, dtype=np.float64)

    def scaled_poisson(rate: float) -> np.ndarray:
        return np.concatenate(([1.0], np.cumprod(rate / steps)))

    gpower = scaled_poisson(g / n)
    twogpower = scaled_poisson(2.0 * g / n)
    onem2gpower = scaled_poisson((1.0 - 2.0 * g) / n)

    row_prev = np.zeros(npwrs)
    row = np.zeros(npwrs)
    row[0] = 1.0
    start_prev = start = 0
    expnt = 0
    j1, j2 = _pomeranz_bounds(0, n, ll, ceilf, roundf)
    for i in range(1, 2 * n + 2):
        k1 = j1
        row_prev, row = row, row_prev
        start_prev, start = start, start_prev
        row.fill(0.0)
        j1, j2 = _pomeranz_bounds(i, n, ll, ceilf, roundf)
        # The first and last rows use g/n; inner rows alternate 2g/n and (1-2g)/n.
        pwrs = gpower if i in (1, 2 * n + 1) else twogpower if i % 2 else onem2gpower
        width = j2 - k1 + 1
        if width > 0:
            conv = np.convolve(row_prev[k1 - start_prev : k1 - start_prev + width], pwrs[:width])
            count = j2 - j1 + 1
            row[:count] = conv[j1 - k1 : j1 - k1 + count]
            # Rescale so that n! * V does not underflow on long rows.
            peak = float(row.max())
            if 0.0 < peak < _SCALE_DOWN:
                row *= _SCALE_UP
                expnt -= _SCALE_EXP
            start = start_prev + j1 - k1
    ans = float(row[n - start])
    if ans <= 0.0:
        return 0.0
    log_ans = math.log(ans) + math.lgamma(n + 1.0) + expnt * math.log(2.0)
    return min(1.0, math.exp(log_ans))


def _pelz_good_cdf(n: int, d: float) -> float:
    """P(D_n < d) by the Pelz-Good (1976) asymptotic series, for large n and small d."""
    if d <= 0.0:
        return 0.0
    if d >= 1.0:
        return 1.0
    z = math.sqrt(n) * d
    z2, z3, z4, z6 = z**2, z**3, z**4, z**6
    qlog = -(math.pi**2) / 8.0 / z2
    if qlog < -708.0:
        return 0.0
    pi2, pi4, pi6 = math.pi**2, math.pi**4, math.pi**6
    maxk = math.ceil(16.0 * z / math.pi)
    k = np.arange(1, maxk + 1, dtype=np.float64)
    odd2 = (2.0 * k - 1.0) ** 2
    weight = np.exp(qlog * odd2)  # q^((2k-1)^2)
    coef = np.stack(
        [
            np.ones_like(odd2),
            -z2 + pi2 / 4.0 * odd2,
            (6.0 * z6 + 2.0 * z4)
            + (2.0 * z4 - 5.0 * z2) * pi2 / 4.0 * odd2
            + pi4 * (1.0 - 2.0 * z2) / 16.0 * odd2**2,
            (-30.0 * z6 - 90.0 * z**8)
            + pi2 * (135.0 * z4 - 96.0 * z6) / 4.0 * odd2
            + pi4 * (-60.0 * z2 + 212.0 * z4) / 16.0 * odd2**2
            + pi6 * (5.0 - 30.0 * z2) / 64.0 * odd2**3,
        ]
    )
    terms = (coef * weight).sum(axis=1) * math.sqrt(2.0 * math.pi)
    terms /= np.array([z, 6.0 * z4, 72.0 * z**7, 6480.0 * z**10])
    k2 = k**2
    qk2 = np.exp(-pi2 / 2.0 / z2 * k2)
    terms[2] += float((k2 * qk2).sum()) * pi2 * math.sqrt(2.0 * math.pi) / (-36.0 * z3)
    sqrt3z = math.sqrt(3.0) * z
    kpi = math.pi * k
    k3 = float(((sqrt3z + kpi) * (sqrt3z - kpi) * k2 * qk2).sum())
    terms[3] += k3 * pi2 * math.sqrt(2.0 * math.pi) / (216.0 * z6)
    terms /= float(n) ** (np.arange(4) / 2.0)
    return float(terms.sum())


def _clip01(p: float) -> float:
    return min(1.0, max(0.0, p))


def kstwo_sf(n: int, d: float) -> float:
    """Two-sided one-sample KS survival function P(D_n >= d) for sample size n >= 1.

    Same algorithm selection as scipy.stats.kstwo.sf (Simard & L'Ecuyer 2011).
    ``d`` outside [0, 1] is clipped to the support (sf 1 below, 0 above).
    Results are memoised: a two-sample D is a multiple of 1 / lcm(n1, n2), so windows of
    one size against one reference meet the same few hundred (n, d) pairs again and again.
    """
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    if math.isnan(d):
        return math.nan
    return _kstwo_sf(n, d)


@functools.lru_cache(maxsize=4096)
def _kstwo_sf(n: int, d: float) -> float:
    """``kstwo_sf`` for n >= 1 and d not NaN (checked by the caller)."""
    if d >= 1.0:
        return 0.0
    if d <= 0.0:
        return 1.0
    t = n * d
    if t <= 1.0:  # Ruben-Gambino: 1/(2n) <= d <= 1/n
        if t <= 0.5:
            return 1.0
        cdf = math.exp(_log_nfact_over_npow(n) + n * math.log(2.0 * t - 1.0))
        return _clip01(1.0 - cdf)
    if t >= n - 1:  # Ruben-Gambino, upper end
        return _clip01(2.0 * (1.0 - d) ** n)
    if d >= 0.5:  # D+ >= d and D- >= d are disjoint here, so this is exact
        return _clip01(2.0 * smirnov_sf(n, d))
    nd2 = t * d
    if n <= 140:
        if nd2 <= 0.754693:
            return _clip01(1.0 - _dmtw_cdf(n, d))
        if nd2 <= 4.0:
            return _clip01(1.0 - _pomeranz_cdf(n, d))
        return _clip01(2.0 * smirnov_sf(n, d))
    if nd2 >= 370.0:
        return 0.0
    if nd2 >= 2.2:
        return _clip01(2.0 * smirnov_sf(n, d))
    if n <= 100_000 and n * d**1.5 <= 1.4:
        return _clip01(1.0 - _dmtw_cdf(n, d))
    return _clip01(1.0 - _pelz_good_cdf(n, d))
