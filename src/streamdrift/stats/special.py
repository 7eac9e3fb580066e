"""Special functions the drift tests need, in plain Python/``math`` (no scipy).

- ``gammaincc(a, x)``: regularized upper incomplete gamma Q(a, x), so that
  ``chi2_sf(x, dof) == gammaincc(dof / 2, x / 2)``.
- ``kolmogorov_sf(x)``: survival function of Kolmogorov's limiting distribution,
  P(sqrt(n) * D_n >= x) as n -> inf (scipy.special.kolmogorov).

All are scalar functions: they are called once per test, never per element.
"""

from __future__ import annotations

import math

__all__ = ["chi2_sf", "gammainc", "gammaincc", "kolmogorov_sf"]

_EPS = 1e-16
_FPMIN = 1e-300
# The series and the continued fraction both converge in O(sqrt(a)) terms around
# x ~ a; this bound covers a up to ~1e7, far beyond any chi-squared dof we use.
_MAX_ITER = 100_000


def _log_prefactor(a: float, x: float) -> float:
    """log(x**a * e**-x / Gamma(a)), the factor shared by the series and the fraction."""
    return a * math.log(x) - x - math.lgamma(a)


def _p_series(a: float, x: float) -> float:
    """P(a, x) by its power series; converges fast for x < a + 1. With a, x > 0 (the
    callers' domain) every term and sum is positive: no abs() in the loop."""
    ap = a
    term = total = 1.0 / a
    eps = _EPS
    for _ in range(_MAX_ITER):
        ap += 1.0
        term *= x / ap
        total += term
        if term < total * eps:
            return total * math.exp(_log_prefactor(a, x))
    raise ArithmeticError(f"gamma series did not converge for a={a}, x={x}")


def _q_continued_fraction(a: float, x: float) -> float:
    """Q(a, x) by its continued fraction (modified Lentz); converges fast for x >= a + 1."""
    b = x + 1.0 - a
    c = 1.0 / _FPMIN
    d = 1.0 / b
    h = d
    for i in range(1, _MAX_ITER):
        an = -i * (i - a)
        b += 2.0
        d = an * d + b
        if abs(d) < _FPMIN:
            d = _FPMIN
        c = b + an / c
        if abs(c) < _FPMIN:
            c = _FPMIN
        d = 1.0 / d
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < _EPS:
            return h * math.exp(_log_prefactor(a, x))
    raise ArithmeticError(f"gamma continued fraction did not converge for a={a}, x={x}")


def _check_gamma_args(a: float, x: float) -> None:
    if not a > 0.0 or math.isinf(a):
        raise ValueError(f"a must be positive and finite, got {a}")
    if math.isnan(x) or x < 0.0:
        raise ValueError(f"x must be >= 0, got {x}")


def gammainc(a: float, x: float) -> float:
    """Regularized lower incomplete gamma P(a, x) = gamma(a, x) / Gamma(a), in [0, 1].

    Requires a > 0 and x >= 0 (x may be +inf). Numerical Recipes 6.2: the series for
    x < a + 1, otherwise 1 - Q from the continued fraction.
    """
    _check_gamma_args(a, x)
    if x == 0.0:
        return 0.0
    if math.isinf(x):
        return 1.0
    if x < a + 1.0:
        return min(1.0, _p_series(a, x))
    return max(0.0, 1.0 - _q_continued_fraction(a, x))


def gammaincc(a: float, x: float) -> float:
    """Regularized upper incomplete gamma Q(a, x) = 1 - P(a, x), in [0, 1].

    Requires a > 0 and x >= 0 (x may be +inf). For x >= a + 1 the continued fraction
    gives Q directly, so tiny upper tails keep their relative precision.
    """
    _check_gamma_args(a, x)
    if x == 0.0:
        return 1.0
    if math.isinf(x):
        return 0.0
    if x < a + 1.0:
        return max(0.0, 1.0 - _p_series(a, x))
    return min(1.0, _q_continued_fraction(a, x))


def chi2_sf(x: float, dof: float) -> float:
    """Upper tail P(X >= x) of a chi-squared variable with ``dof`` > 0 degrees of freedom."""
    if dof <= 0:
        raise ValueError(f"dof must be positive, got {dof}")
    if x <= 0.0:
        return 1.0
    return gammaincc(dof / 2.0, x / 2.0)


# Below this x the sf is 1 to double precision: exp(-pi^2 / (8 x^2)) underflows.
_KOLMOGOROV_X_MIN = math.pi / math.sqrt(8.0 * 746.0)
# Where the two theta-function series swap (the cut scipy uses).
_KOLMOGOROV_CUTOVER = 0.82


def kolmogorov_sf(x: float) -> float:
    """Survival function of Kolmogorov's limiting distribution, K(x) = P(K >= x).

    ``2 * sum_{k>=1} (-1)^(k-1) exp(-2 k^2 x^2)`` for large x; for small x the
    Jacobi-theta form ``1 - sqrt(2 pi)/x * sum_k exp(-(2k-1)^2 pi^2 / (8 x^2))``.
    Four (resp. three) terms reach double precision on each side of the cut.
    """
    if math.isnan(x):
        return math.nan
    if x <= _KOLMOGOROV_X_MIN:
        return 1.0
    if x <= _KOLMOGOROV_CUTOVER:
        w = math.sqrt(2.0 * math.pi) / x
        logu8 = -math.pi * math.pi / (x * x)
        u = math.exp(logu8 / 8.0)
        u8 = math.exp(logu8)
        series = 1.0 + u8 * (1.0 + u8 * u8 * (1.0 + u8**3))
        cdf = w * u * series
        return min(1.0, max(0.0, 1.0 - cdf))
    v = math.exp(-2.0 * x * x)
    # 2 (v - v^4 + v^9 - v^16) in nested form, as in scipy's xsf.
    p = 1.0 - v**7
    p = 1.0 - v**5 * p
    p = 1.0 - v**3 * p
    return min(1.0, max(0.0, 2.0 * v * p))
