"""Anytime-valid sample-ratio-mismatch test (Lindon & Malek 2022, "Anytime-valid inference
for multinomial count data", NeurIPS): a Dirichlet-multinomial mixture e-value.

Under the configured split θ the Bayes factor of a Dirichlet(Aθ) mixture against θ is a
nonnegative martingale of mean 1, so ``P(ever e >= 1/alpha) <= alpha`` (Ville): checking it
after every event is as valid as checking once. Each event multiplies it by its predictive
probability under the mixture over θ of its variant, so the path is one cumulative sum.

>>> test = SampleRatioTest((0.5, 0.5))
>>> test.update([0] * 60 + [1] * 40)
>>> round(test.log_evalue, 3), test.mismatch(0.05)
(0.134, False)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

# prior concentration A of the mixture: the prior sd of a 50 % share is sqrt(.25/(A+1)) ≈
# 1.6 points, the size of the mismatches worth finding (a 52/48 split at 50/50)
CONCENTRATION = 1000.0


def log_evalue_path(
    variants: np.ndarray, split: Sequence[float], counts: Sequence[int] | None = None
) -> np.ndarray:
    """log e-value after each event of ``variants`` (indices into ``split``), continuing
    from ``counts`` events per variant seen before."""
    theta = np.asarray(split, dtype=np.float64)
    prior = CONCENTRATION * theta
    k = len(theta)
    v = np.asarray(variants, dtype=np.int64)
    before = np.zeros(k, dtype=np.int64) if counts is None else np.asarray(counts, np.int64)
    onehot = np.zeros((len(v), k), dtype=np.int64)
    onehot[np.arange(len(v)), v] = 1
    seen = np.cumsum(onehot, axis=0) - onehot + before  # per variant, before each event
    n_before = before.sum() + np.arange(len(v))
    step = np.log((prior[v] + seen[np.arange(len(v)), v]) / (CONCENTRATION + n_before))
    return np.cumsum(step - np.log(theta[v]))


class SampleRatioTest:
    """Counts per variant and the running log e-value against ``split``."""

    __slots__ = ("counts", "log_evalue", "split")

    def __init__(self, split: Sequence[float]) -> None:
        self.split = tuple(float(s) for s in split)
        self.counts = [0] * len(self.split)
        self.log_evalue = 0.0

    def update(self, variants: Sequence[int] | np.ndarray) -> None:
        if len(variants) == 0:
            return
        path = log_evalue_path(np.asarray(variants), self.split, self.counts)
        self.log_evalue += float(path[-1])
        for i, n in enumerate(np.bincount(np.asarray(variants), minlength=len(self.split))):
            self.counts[i] += int(n)

    def update_counts(self, counts: Sequence[int]) -> None:
        """Add a block of assignments given by its counts per variant: the same e-value as
        :meth:`update` on those assignments in any order (the mixture is exchangeable)."""
        prior = [CONCENTRATION * t for t in self.split]
        n, c = sum(self.counts), sum(counts)
        step = math.lgamma(CONCENTRATION + n) - math.lgamma(CONCENTRATION + n + c)
        for a, before, k, theta in zip(prior, self.counts, counts, self.split, strict=True):
            step += math.lgamma(a + before + k) - math.lgamma(a + before) - k * math.log(theta)
        self.log_evalue += step
        self.counts = [before + int(k) for before, k in zip(self.counts, counts, strict=True)]

    @property
    def evalue(self) -> float:
        return math.exp(min(self.log_evalue, 700.0))

    def mismatch(self, alpha: float) -> bool:
        return self.log_evalue >= math.log(1.0 / alpha)

    def to_dict(self) -> dict[str, Any]:
        return {"split": list(self.split), "counts": list(self.counts), "log_e": self.log_evalue}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> SampleRatioTest:
        test = cls(d["split"])
        test.counts = [int(n) for n in d["counts"]]
        test.log_evalue = float(d["log_e"])
        return test
