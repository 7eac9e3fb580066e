"""Online regression error per window: mergeable sums of errors and the MAE test.

Same conventions as :mod:`streamdrift.stats.performance` (which re-exports these names):
``update`` takes whole arrays, ``merge`` returns a new window, ``to_dict`` holds only JSON
types, a metric of an empty window is NaN.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

__all__ = ["RegressionWindow", "mae_increase_test", "upper_tail"]

_SQRT2 = math.sqrt(2.0)


def upper_tail(z: float) -> float:
    """P(Z >= z) for a standard normal Z."""
    return 0.5 * math.erfc(z / _SQRT2)


class RegressionWindow:
    """Regression errors e = y_pred - y_true: count and sums of e, |e| and e².

    Pairs where either value is non-finite are skipped and counted in ``n_missing``.
    ``mae``, ``rmse`` and ``mean_error`` (the bias, mean of y_pred - y_true) are NaN when
    empty. The sum of squared absolute errors needed by :func:`mae_increase_test` is
    ``sum_sq_err`` itself, since |e|² = e².

    >>> w = RegressionWindow()
    >>> w.update(np.array([1.0, 2.0, 3.0]), np.array([2.0, 2.0, 1.0]))
    >>> w.mae, w.mean_error, round(w.rmse, 4)
    (1.0, -0.3333333333333333, 1.291)
    """

    __slots__ = ("count", "n_missing", "sum_abs_err", "sum_err", "sum_sq_err")

    def __init__(self) -> None:
        self.count = 0
        self.n_missing = 0
        self.sum_err = 0.0
        self.sum_abs_err = 0.0
        self.sum_sq_err = 0.0

    def update(self, y_true: np.ndarray, y_pred: np.ndarray) -> None:
        t = np.asarray(y_true, dtype=np.float64).ravel()
        p = np.asarray(y_pred, dtype=np.float64).ravel()
        if t.size != p.size:
            raise ValueError("y_true and y_pred must have the same length")
        e = p - t
        finite = np.isfinite(e)
        if not finite.all():
            self.n_missing += int(e.size - np.count_nonzero(finite))
            e = e[finite]
        self.count += e.size
        self.sum_err += float(e.sum())
        self.sum_abs_err += float(np.abs(e).sum())
        self.sum_sq_err += float(np.dot(e, e))

    def merge(self, other: RegressionWindow) -> RegressionWindow:
        out = self.copy()
        out.count += other.count
        out.n_missing += other.n_missing
        out.sum_err += other.sum_err
        out.sum_abs_err += other.sum_abs_err
        out.sum_sq_err += other.sum_sq_err
        return out

    def copy(self) -> RegressionWindow:
        return RegressionWindow.from_dict(self.to_dict())

    @property
    def mae(self) -> float:
        return self.sum_abs_err / self.count if self.count else math.nan

    @property
    def rmse(self) -> float:
        return math.sqrt(self.sum_sq_err / self.count) if self.count else math.nan

    @property
    def mean_error(self) -> float:
        """The bias, mean(y_pred - y_true)."""
        return self.sum_err / self.count if self.count else math.nan

    @property
    def abs_err_variance(self) -> float:
        """Sample variance (ddof=1) of |e|, from the sums; NaN below two pairs."""
        n = self.count
        if n < 2:
            return math.nan
        return max(0.0, (self.sum_sq_err - self.sum_abs_err**2 / n) / (n - 1))

    def to_dict(self) -> dict[str, Any]:
        return {
            "count": self.count,
            "n_missing": self.n_missing,
            "sum_err": self.sum_err,
            "sum_abs_err": self.sum_abs_err,
            "sum_sq_err": self.sum_sq_err,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RegressionWindow:
        out = cls()
        out.count = int(d["count"])
        out.n_missing = int(d["n_missing"])
        if out.count < 0 or out.n_missing < 0:
            raise ValueError("counts must be non-negative")
        out.sum_err = float(d["sum_err"])
        out.sum_abs_err = float(d["sum_abs_err"])
        out.sum_sq_err = float(d["sum_sq_err"])
        return out

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, RegressionWindow):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    __hash__ = None  # type: ignore[assignment]  # mutable

    def __repr__(self) -> str:
        return f"RegressionWindow({self.to_dict()})"


def mae_increase_test(ref: RegressionWindow, cur: RegressionWindow) -> tuple[float, float]:
    """(MAE increase, one-sided p-value) of the current window against the reference.

    The increase is ``cur.mae - ref.mae``. The p-value approximates Welch's t-test on the
    absolute errors, H1: the current mean absolute error is larger: t = increase / se with
    se = sqrt(s²_ref/n_ref + s²_cur/n_cur), the sample variances of |e| taken from the
    windows' sums (``abs_err_variance``), and the upper tail of the **standard normal**
    instead of Student's t with Welch–Satterthwaite degrees of freedom. The two agree
    closely from a few dozen pairs per window; below that the normal tail is slightly
    anti-conservative (p too small). With se = 0 the p-value is 0 for a positive increase,
    else 1. (increase, NaN) when either window has fewer than two pairs; (NaN, NaN) when
    either is empty.
    """
    n1, n2 = ref.count, cur.count
    if n1 == 0 or n2 == 0:
        return math.nan, math.nan
    increase = cur.mae - ref.mae
    if n1 < 2 or n2 < 2:
        return increase, math.nan
    se = math.sqrt(ref.abs_err_variance / n1 + cur.abs_err_variance / n2)
    if se == 0.0:
        return increase, 0.0 if increase > 0 else 1.0
    return increase, upper_tail(increase / se)
