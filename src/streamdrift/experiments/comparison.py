"""The sequential comparison of a challenger with its champion on one metric.

The effect Δ is the challenger's *goodness* minus the champion's (accuracy, or minus the
loss): positive means the challenger is better. It is the mean of per-request
pseudo-outcomes ψ, and :class:`~streamdrift.experiments.sequence.ConfidenceSequence`
bounds it at every step:

* paired (shadow mode, both variants score the same request): ψ = g_challenger − g_champion;
* unpaired (each request sees one variant, the challenger with known probability π):
  the augmented inverse-propensity-weighted ψ with predictable plug-ins
  m̂ (each arm's mean of the requests before this one), as in Waudby-Smith et al. 2024, §3:
  ψ = m̂₁ − m̂₀ + z (g − m̂₁)/π − (1 − z)(g − m̂₀)/(1 − π), whose mean is Δ for any plug-in.

Decisions (margin δ ≥ 0): ``superior`` when the lower bound > 0; ``non_inferior`` when it is
> −δ (with δ > 0); ``inferior`` when the upper bound < −δ. Each holds with error ≤ alpha
at any stopping time, so checking at every window is allowed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from streamdrift.experiments.sequence import ConfidenceSequence, running_sum

DECISIONS = ("superior", "non_inferior", "inferior")
# labelled requests per variant before any decision: the sequence is asymptotic, and its
# variance estimate needs some data (the A/A simulation in the tests measures the error)
MIN_PER_VARIANT = 100


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """The comparison after ``n`` labelled requests (vectorised over checkpoints)."""

    n: np.ndarray  # requests (pairs in paired mode)
    n_champion: np.ndarray
    n_challenger: np.ndarray
    effect: np.ndarray
    lower: np.ndarray
    upper: np.ndarray


def decisions(
    lower: float, upper: float, margin: float, n_champion: int, n_challenger: int
) -> list[str]:
    """The decisions that hold at one checkpoint."""
    if min(n_champion, n_challenger) < MIN_PER_VARIANT:
        return []
    out = []
    if lower > 0:
        out.append("superior")
    if margin > 0 and lower > -margin:
        out.append("non_inferior")
    if upper < -margin:
        out.append("inferior")
    return out


class Comparison:
    """Running state of one comparison; ``share``: the challenger's probability π."""

    __slots__ = ("cs", "n", "paired", "share", "sums")

    def __init__(self, share: float, paired: bool) -> None:
        self.share = float(share)
        self.paired = paired
        self.n = [0, 0]  # labelled requests per variant (champion, challenger)
        self.sums = [0.0, 0.0]  # their goodness sums
        self.cs = ConfidenceSequence()

    def pseudo_outcomes(self, z: np.ndarray, g: np.ndarray) -> np.ndarray:
        """ψ of unpaired requests (``z``: 1 for the challenger; ``g``: goodness); updates
        the arms' running sums."""
        z = np.asarray(z, dtype=np.float64)
        g = np.asarray(g, dtype=np.float64)
        n1 = self.n[1] + np.cumsum(z) - z  # before each request
        n0 = self.n[0] + np.cumsum(1 - z) - (1 - z)
        after1 = running_sum(self.sums[1], z * g)
        after0 = running_sum(self.sums[0], (1 - z) * g)
        s1 = np.concatenate(([self.sums[1]], after1[:-1]))  # before each request
        s0 = np.concatenate(([self.sums[0]], after0[:-1]))
        pooled = np.where(n0 + n1 > 0, (s0 + s1) / np.maximum(n0 + n1, 1), 0.0)
        m1 = (s1 + pooled) / (n1 + 1)  # shrunk towards the pooled mean while n is small
        m0 = (s0 + pooled) / (n0 + 1)
        pi = self.share
        psi = m1 - m0 + z * (g - m1) / pi - (1 - z) * (g - m0) / (1 - pi)
        self.n[1] += int(z.sum())
        self.n[0] += len(z) - int(z.sum())
        if len(z):
            self.sums[1], self.sums[0] = float(after1[-1]), float(after0[-1])
        return psi  # type: ignore[no-any-return]

    def update_unpaired(
        self, z: np.ndarray, g: np.ndarray, at: np.ndarray, alpha: float
    ) -> Checkpoint:
        before = (self.n[0], self.n[1])
        z = np.asarray(z, dtype=np.int64)
        n1 = before[1] + np.cumsum(z)[at]
        n0 = before[0] + (np.asarray(at) + 1) - (np.cumsum(z)[at])
        n, mean, lo, hi = self.cs.update(self.pseudo_outcomes(z, g), at, alpha)
        return Checkpoint(n, n0, n1, mean, lo, hi)

    def update_paired(
        self, g_champion: np.ndarray, g_challenger: np.ndarray, at: np.ndarray, alpha: float
    ) -> Checkpoint:
        g0 = np.asarray(g_champion, dtype=np.float64)
        g1 = np.asarray(g_challenger, dtype=np.float64)
        n, mean, lo, hi = self.cs.update(g1 - g0, at, alpha)
        for i, g in enumerate((g0, g1)):
            self.n[i] += len(g)
            if len(g):
                self.sums[i] = float(running_sum(self.sums[i], g)[-1])
        return Checkpoint(n, n, n, mean, lo, hi)

    def metric(self, variant: int) -> float:
        return self.sums[variant] / self.n[variant] if self.n[variant] else float("nan")

    def to_dict(self) -> dict[str, Any]:
        return {"n": list(self.n), "sums": list(self.sums), "cs": self.cs.to_dict()}

    @classmethod
    def from_dict(cls, d: dict[str, Any], share: float, paired: bool) -> Comparison:
        c = cls(share, paired)
        c.n = [int(v) for v in d["n"]]
        c.sums = [float(v) for v in d["sums"]]
        c.cs = ConfidenceSequence.from_dict(d["cs"])
        return c
