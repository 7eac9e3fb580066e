"""Two-sample tests and distribution distances, pure functions on numpy arrays.

Inputs are plain values: callers strip missing values first (``reference`` does).
Every function raises ``ValueError`` on empty or malformed input instead of
returning NaN, so a bad window fails loudly at the call site.

Conventions shared by the binned statistics (``psi``, ``jensen_shannon``,
``chi2_homogeneity``): inputs are counts or proportions over the same bins, in
the same order; they are normalised here, so either works.
"""

from __future__ import annotations

import math

import numpy as np

from streamdrift.stats.ks_distribution import kstwo_sf
from streamdrift.stats.special import chi2_sf

__all__ = [
    "chi2_homogeneity",
    "jensen_shannon",
    "ks_2samp",
    "ks_sorted",
    "proportion_ztest",
    "psi",
    "wasserstein",
    "wasserstein_normalised",
    "wasserstein_sorted",
]

# Pseudo-count added to every reference category when one the window observes
# has none in the reference; without it the chi-squared statistic is infinite.
CHI2_SMOOTHING = 0.5


def _distribution(counts: np.ndarray, name: str) -> np.ndarray:
    """Validate a 1-D non-negative vector with a positive total and normalise it."""
    arr = np.asarray(counts, dtype=np.float64)
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D array")
    # a finite sum and a non-negative minimum rule out NaN, +-inf and negatives at the
    # cost of two reductions (the element-wise checks only run when that fails)
    total = float(arr.sum())
    if not (math.isfinite(total) and arr.min() >= 0) and (
        not np.isfinite(arr).all() or (arr < 0).any()
    ):
        raise ValueError(f"{name} must be finite and non-negative")
    if total <= 0:
        raise ValueError(f"{name} must have a positive total")
    return arr / total


def _paired(p: np.ndarray, q: np.ndarray, names: tuple[str, str]) -> tuple[np.ndarray, np.ndarray]:
    a, b = _distribution(p, names[0]), _distribution(q, names[1])
    if a.shape != b.shape:
        raise ValueError(f"{names[0]} and {names[1]} differ in length: {a.size} != {b.size}")
    return a, b


PSI_EPS = 1e-4  # the share an empty bin counts as in PSI


def psi(expected: np.ndarray, actual: np.ndarray, eps: float = PSI_EPS) -> float:
    """Population Stability Index, ``sum((a - e) * ln(a / e))`` over bins; >= 0.

    Both vectors are normalised to proportions, then floored at ``eps`` (not
    renormalised) so an empty bin contributes a large but finite term instead of
    infinity. Every term is >= 0, so PSI is >= 0 and 0 only for equal proportions.
    Rules of thumb: < 0.1 stable, 0.1-0.25 moderate shift, > 0.25 major shift.
    """
    if not eps > 0:
        raise ValueError(f"eps must be positive, got {eps}")
    e, a = _paired(expected, actual, ("expected", "actual"))
    return psi_of_shares(e, a, eps)


def psi_of_shares(e: np.ndarray, a: np.ndarray, eps: float = PSI_EPS) -> float:
    """:func:`psi` of two vectors already normalised by ``_distribution`` (no checks): a
    caller that needs several binned statistics of one pair normalises it once."""
    return psi_of_floored(np.maximum(e, eps), a, eps)


def psi_of_floored(e_floored: np.ndarray, a: np.ndarray, eps: float = PSI_EPS) -> float:
    """:func:`psi_of_shares` with the expected shares already floored at ``eps`` (a
    reference's, computed once)."""
    a = np.maximum(a, eps)
    return float(((a - e_floored) * np.log(a / e_floored)).sum())


def jensen_shannon(p: np.ndarray, q: np.ndarray, base: float = 2.0) -> float:
    """Jensen-Shannon distance (square root of the divergence) between two distributions.

    Normalises both; in [0, 1] for base 2. Matches scipy.spatial.distance.jensenshannon.
    """
    if not base > 1:
        raise ValueError(f"base must be > 1, got {base}")
    a, b = _paired(p, q, ("p", "q"))
    return jensen_shannon_of_shares(a, b, base)


def jensen_shannon_of_shares(a: np.ndarray, b: np.ndarray, base: float = 2.0) -> float:
    """:func:`jensen_shannon` of two vectors already normalised (no checks)."""
    total = a + b  # x / m = 2x / (a + b): halving a subnormal total would round m to 0

    def kl_to_m(x: np.ndarray) -> float:
        nz = x > 0  # 0 * log(0) = 0; a + b > 0 wherever x > 0
        return float((x[nz] * np.log(2.0 * x[nz] / total[nz])).sum())

    divergence = (kl_to_m(a) + kl_to_m(b)) / (2.0 * math.log(base))
    return math.sqrt(max(divergence, 0.0))  # rounding can leave -1e-17


def chi2_homogeneity(ref_counts: np.ndarray, obs_counts: np.ndarray) -> tuple[float, int, float]:
    """Chi-squared goodness of fit of ``obs_counts`` to the reference proportions.

    expected_i = ref_i / sum(ref) * sum(obs). Categories empty in both are dropped.
    If a category is empty in the reference but observed, ``CHI2_SMOOTHING`` (0.5) is
    added to every remaining reference count first (the statistic would be infinite).
    Returns (statistic, dof, p_value) with dof = categories kept - 1; with a single
    category left there is nothing to test and the result is (0.0, 0, 1.0).
    """
    ref = np.asarray(ref_counts, dtype=np.float64)
    obs = np.asarray(obs_counts, dtype=np.float64)
    _paired(ref, obs, ("ref_counts", "obs_counts"))  # validation only
    keep = (ref > 0) | (obs > 0)
    ref, obs = ref[keep], obs[keep]
    dof = int(ref.size) - 1
    if dof == 0:
        return 0.0, 0, 1.0
    if np.any(ref == 0):
        ref = ref + CHI2_SMOOTHING
    expected = ref / ref.sum() * obs.sum()
    statistic = float(np.sum((obs - expected) ** 2 / expected))
    return statistic, dof, chi2_sf(statistic, dof)


def chi2_two_sample(ref_counts: np.ndarray, obs_counts: np.ndarray) -> tuple[float, int, float]:
    """Chi-squared test of homogeneity of two count vectors (a 2 x k contingency table).

    Unlike :func:`chi2_homogeneity` it treats the reference as a sample too, so a reference
    learned from a few thousand events does not make the test anti-conservative.
    Categories empty in both are dropped; no continuity correction (matches
    ``scipy.stats.chi2_contingency(..., correction=False)``). Returns (statistic, dof, p).
    """
    ref = np.asarray(ref_counts, dtype=np.float64)
    obs = np.asarray(obs_counts, dtype=np.float64)
    _paired(ref, obs, ("ref_counts", "obs_counts"))
    return chi2_two_sample_checked(ref, obs)


def chi2_two_sample_checked(ref: np.ndarray, obs: np.ndarray) -> tuple[float, int, float]:
    """:func:`chi2_two_sample` of float count vectors already checked (``_paired``)."""
    statistic, dof = chi2_two_sample_statistic(ref, obs)
    if statistic == 0.0 and dof <= 0:
        return 0.0, 0, 1.0
    return statistic, dof, chi2_sf(statistic, dof) if dof > 0 else 1.0


def chi2_two_sample_statistic(ref: np.ndarray, obs: np.ndarray) -> tuple[float, int]:
    """The statistic and dof of :func:`chi2_two_sample` for valid float count vectors of
    equal length, without checks or p-value (the calibrated checks' hot path)."""
    keep = (ref > 0) | (obs > 0)
    ref, obs = ref[keep], obs[keep]
    dof = int(ref.size) - 1
    n_ref, n_obs = float(ref.sum()), float(obs.sum())
    if dof <= 0 or n_ref == 0 or n_obs == 0:
        return 0.0, max(dof, 0)
    column = ref + obs
    total = n_ref + n_obs
    e_ref = column * (n_ref / total)
    e_obs = column * (n_obs / total)
    statistic = float(((ref - e_ref) ** 2 / e_ref).sum() + ((obs - e_obs) ** 2 / e_obs).sum())
    return statistic, dof


def cohens_w(expected: np.ndarray, observed: np.ndarray) -> float:
    """Cohen's effect size w = sqrt(sum((p_obs - p_exp)^2 / p_exp)) over categories with
    p_exp > 0; 0.1 is a small effect, 0.3 a medium one. Sample-size free."""
    exp = np.asarray(expected, dtype=np.float64)
    obs = np.asarray(observed, dtype=np.float64)
    _paired(exp, obs, ("expected", "observed"))
    return cohens_w_of_shares(exp / exp.sum(), obs / obs.sum())


def cohens_w_of_shares(exp: np.ndarray, obs: np.ndarray) -> float:
    """:func:`cohens_w` of two vectors already normalised (no checks)."""
    keep = exp > 0
    return float(np.sqrt(((obs[keep] - exp[keep]) ** 2 / exp[keep]).sum()))


def benjamini_hochberg(p_values: np.ndarray, q: float) -> np.ndarray:
    """Boolean mask of the hypotheses rejected by the Benjamini-Hochberg step-up procedure
    at false discovery rate ``q``: reject the k smallest p-values, k the largest index with
    p_(k) <= k q / m. Under the complete null this is also a family-wise bound:
    P(any rejection) <= q. NaN p-values are never rejected."""
    p = np.asarray(p_values, dtype=np.float64)
    m = p.size
    reject = np.zeros(m, dtype=bool)
    if m == 0:
        return reject
    finite = np.where(np.isnan(p), np.inf, p)
    order = np.argsort(finite, kind="stable")
    ranked = finite[order]
    below = ranked <= q * np.arange(1, m + 1) / m
    if below.any():
        k = int(np.nonzero(below)[0][-1])
        reject[order[: k + 1]] = True
    return reject


def _sample(values: np.ndarray, name: str) -> np.ndarray:
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D array")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite (drop missing values first)")
    return arr


def _sorted_ref(ref_sorted: np.ndarray) -> np.ndarray:
    ref = _sample(ref_sorted, "ref_sorted")
    if np.any(ref[1:] < ref[:-1]):
        raise ValueError("ref_sorted must be sorted ascending")
    return ref


def _ecdf_gaps(ref_sorted: np.ndarray, sample_sorted: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``|F_ref - F_sample|`` (right-continuous ECDFs) at each distinct pooled value, and
    those values, ascending.

    One stable merge of the two sorted runs (timsort: linear here) instead of a binary
    search per pooled value: the ECDFs are running counts of where the merged values came
    from, read at the last value of each run of ties, so they equal
    ``searchsorted(side="right") / n`` at every pooled point.
    """
    n1, n2 = ref_sorted.size, sample_sorted.size
    pooled = np.concatenate((ref_sorted, sample_sorted))
    order = np.argsort(pooled, kind="stable")
    merged = pooled[order]
    below1 = np.cumsum(order < n1)  # reference values <= merged[i] (up to ties)
    below2 = np.arange(1, n1 + n2 + 1) - below1
    last = np.flatnonzero(merged[1:] != merged[:-1])  # last index of each run of ties ...
    last = np.append(last, n1 + n2 - 1)  # ... and of the final run
    return np.abs(below1[last] / n1 - below2[last] / n2), merged[last]


def ks_sorted(ref_sorted: np.ndarray, sample_sorted: np.ndarray) -> tuple[float, float]:
    """``ks_2samp`` for two already sorted, finite, non-empty samples (no checks)."""
    n1, n2 = ref_sorted.size, sample_sorted.size
    gaps, _ = _ecdf_gaps(ref_sorted, sample_sorted)
    d = float(gaps.max())
    # scipy's method="asymp": the one-sample KS law at the effective size en.
    effective_n = round(n1 * n2 / (n1 + n2))
    if effective_n == 0:  # one value per side: no evidence (scipy gives NaN here)
        return d, 1.0
    return d, kstwo_sf(effective_n, d)


def ks_2samp(ref_sorted: np.ndarray, sample: np.ndarray) -> tuple[float, float]:
    """Two-sided two-sample Kolmogorov-Smirnov test; returns (D, p_value).

    ``ref_sorted`` must be sorted ascending; ``sample`` is any order. Both finite
    and non-empty. D = max |F_ref - F_sample| over the pooled values (ties handled
    by evaluating right-continuous ECDFs). The p-value is the asymptotic one of
    ``scipy.stats.ks_2samp(method="asymp")``: ``kstwo.sf(D, round(n1 n2 / (n1 + n2)))``,
    except that one value per side gives p = 1.0 where scipy returns NaN. Cost
    O((n1 + n2) log(n1 + n2)) plus O(en) for a p-value in the far tail.
    """
    ref = _sorted_ref(ref_sorted)
    return ks_sorted(ref, np.sort(_sample(sample, "sample")))


def wasserstein_sorted(ref_sorted: np.ndarray, sample_sorted: np.ndarray) -> float:
    """``wasserstein`` for two already sorted, finite, non-empty samples (no checks)."""
    gaps, values = _ecdf_gaps(ref_sorted, sample_sorted)
    # between consecutive distinct values the ECDFs are constant
    return float(np.dot(gaps[:-1], np.diff(values)))


def wasserstein(ref_sorted: np.ndarray, sample: np.ndarray) -> float:
    """1-D earth mover's distance, integral of |F_ref - F_sample|, in the units of the data.

    Matches scipy.stats.wasserstein_distance. ``ref_sorted`` must be sorted ascending.
    """
    ref = _sorted_ref(ref_sorted)
    return wasserstein_sorted(ref, np.sort(_sample(sample, "sample")))


def wasserstein_normalised(ref_sorted: np.ndarray, sample: np.ndarray, scale: float) -> float:
    """``wasserstein / scale`` (unitless), typically scale = reference std.

    A non-positive or non-finite scale (a constant reference) falls back to 1,
    so the result is then the raw distance.
    """
    return wasserstein(ref_sorted, sample) / _usable_scale(scale)


def _usable_scale(scale: float) -> float:
    return scale if math.isfinite(scale) and scale > 0 else 1.0


def proportion_ztest(k1: int, n1: int, k2: int, n2: int) -> tuple[float, float]:
    """Pooled two-proportion z-test of k1/n1 vs k2/n2; returns (z, two-sided p-value).

    z = (p1 - p2) / sqrt(p (1 - p) (1/n1 + 1/n2)) with p = (k1 + k2) / (n1 + n2).
    If both proportions are 0 or both 1 the variance is 0 and (0.0, 1.0) is returned.
    """
    if n1 <= 0 or n2 <= 0:
        raise ValueError(f"sample sizes must be positive, got n1={n1}, n2={n2}")
    if not (0 <= k1 <= n1 and 0 <= k2 <= n2):
        raise ValueError(f"need 0 <= k <= n, got k1={k1}/{n1}, k2={k2}/{n2}")
    pooled = (k1 + k2) / (n1 + n2)
    se = math.sqrt(pooled * (1.0 - pooled) * (1.0 / n1 + 1.0 / n2))
    if se == 0.0:
        return 0.0, 1.0
    z = (k1 / n1 - k2 / n2) / se
    return z, math.erfc(abs(z) / math.sqrt(2.0))
