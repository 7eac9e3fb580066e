"""Per-feature references and the window-vs-reference comparison.

A reference is fitted once (from training or a baseline period) and is immutable;
``compare_numeric`` / ``compare_categorical`` do all the statistics for one feature
window in one call.

Missing values: non-finite numbers (NaN, +-inf) and ``None`` categories. They are
excluded from every distribution statistic and reported as ``missing_share``.

Windows: an empty window (no values at all) raises ``ValueError``. A window whose
values are all missing returns a comparison with ``count == 0``, ``missing_share
== 1.0`` and NaN for every distribution statistic, so missingness can still alert.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from streamdrift.stats.sketches import OTHER, bin_counts, split_missing
from streamdrift.stats.tests import (
    PSI_EPS,
    _distribution,
    _usable_scale,
    chi2_two_sample_checked,
    chi2_two_sample_statistic,
    cohens_w_of_shares,
    jensen_shannon_of_shares,
    ks_sorted,
    psi_of_floored,
    wasserstein_sorted,
)

__all__ = [
    "CategoricalComparison",
    "CategoricalReference",
    "NumericComparison",
    "NumericReference",
    "compare_categorical",
    "compare_categorical_tally",
    "compare_numeric",
]


def _frozen_array(values: Any, dtype: type) -> np.ndarray:
    arr: np.ndarray = np.array(values, dtype=dtype).ravel()
    arr.setflags(write=False)
    return arr


def _calibration_doc(calibration: Mapping[str, Any] | None) -> dict[str, Any]:
    return {} if calibration is None else {"calibration": dict(calibration)}


def _share(part: int, total: int) -> float:
    return part / total if total else math.nan


@dataclass(frozen=True, slots=True)
class _ReferenceSide:
    """What every window's comparison computes from the reference alone, computed once:
    the counts as float64, the expected shares as ``_distribution`` normalises them, and
    those shares floored at PSI's ``eps`` (the same arrays, so the same bits)."""

    counts: np.ndarray
    shares: np.ndarray
    floored: np.ndarray

    @classmethod
    def of(cls, counts: np.ndarray, expected: np.ndarray) -> _ReferenceSide:
        shares = _distribution(expected, "expected")
        return cls(
            _frozen_array(counts.astype(np.float64), np.float64),
            _frozen_array(shares, np.float64),
            _frozen_array(np.maximum(shares, PSI_EPS), np.float64),
        )


@dataclass(frozen=True, slots=True, eq=False)
class NumericReference:
    """The reference distribution of one numeric feature.

    ``sample``: sorted finite values (all of them, or ``max_sample`` evenly spaced
    order statistics, min and max included). ``edges``: interior bin cut points at
    reference quantiles, deduplicated; bins are right-closed as in
    ``BinnedHistogram``. ``bin_counts``: full-data counts per bin (len(edges) + 1).
    ``mean``/``std`` from all finite values (std with ddof=1; 0.0 for one value).
    """

    sample: np.ndarray
    edges: np.ndarray
    bin_counts: np.ndarray
    mean: float
    std: float
    count: int
    n_missing: int
    # design effects from the reference's own windows (stats.threshold_calibration); None: i.i.d.
    calibration: Mapping[str, Any] | None = None
    expected: np.ndarray = field(init=False)
    # per-window constants of the comparison, computed once (see _WindowSide)
    side: _ReferenceSide = field(init=False, repr=False)

    def __post_init__(self) -> None:
        sample = _frozen_array(self.sample, np.float64)
        edges = _frozen_array(self.edges, np.float64)
        counts = _frozen_array(self.bin_counts, np.int64)
        if sample.size == 0 or self.count < 1 or self.n_missing < 0:
            raise ValueError("a reference needs at least one non-missing value")
        if np.any(np.diff(sample) < 0) or np.any(np.diff(edges) <= 0):
            raise ValueError("sample must be sorted and edges strictly increasing")
        if counts.size != edges.size + 1 or int(counts.sum()) != self.count:
            raise ValueError("bin_counts must have len(edges) + 1 entries summing to count")
        object.__setattr__(self, "sample", sample)
        object.__setattr__(self, "edges", edges)
        object.__setattr__(self, "bin_counts", counts)
        object.__setattr__(self, "expected", _frozen_array(counts / self.count, np.float64))
        object.__setattr__(self, "side", _ReferenceSide.of(counts, self.expected))

    @classmethod
    def fit(cls, values: np.ndarray, n_bins: int = 10, max_sample: int = 5000) -> NumericReference:
        """Fit from raw values (missing allowed); ValueError if none is finite.

        ``n_bins`` quantile bins (fewer when quantiles coincide: a constant feature
        gets one edge and two bins, the upper one empty). Above ``max_sample``
        values the KS/Wasserstein sample is the reference's quantiles; being less
        noisy than an iid sample, it makes KS p-values slightly conservative.
        """
        if n_bins < 1 or max_sample < 2:
            raise ValueError("need n_bins >= 1 and max_sample >= 2")
        kept, n_missing = split_missing(values)
        if kept.size == 0:
            raise ValueError("no finite values to fit a numeric reference on")
        ordered = np.sort(kept)
        if ordered.size > max_sample:
            # Evenly spaced order statistics: deterministic, and a quantile sketch.
            index = np.round(np.linspace(0, ordered.size - 1, max_sample)).astype(np.intp)
            sample = ordered[index]
        else:
            sample = ordered
        # inverted_cdf picks data values as edges, so with right-closed bins every
        # distinct value of a discrete feature sits wholly in one bin.
        quantiles = np.arange(1, n_bins) / n_bins
        edges = np.unique(np.quantile(ordered, quantiles, method="inverted_cdf"))
        std = float(np.std(ordered, ddof=1)) if ordered.size > 1 else 0.0
        return cls(
            sample=sample,
            edges=edges,
            bin_counts=bin_counts(edges, ordered),
            mean=float(np.mean(ordered)),
            std=std,
            count=int(ordered.size),
            n_missing=n_missing,
        )

    @property
    def n_total(self) -> int:
        return self.count + self.n_missing

    @property
    def missing_share(self) -> float:
        return self.n_missing / self.n_total

    def to_dict(self) -> dict[str, Any]:
        return {
            "sample": self.sample.tolist(),
            "edges": self.edges.tolist(),
            "bin_counts": self.bin_counts.tolist(),
            "mean": self.mean,
            "std": self.std,
            "count": self.count,
            "n_missing": self.n_missing,
            **_calibration_doc(self.calibration),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> NumericReference:
        return cls(
            sample=np.asarray(d["sample"], dtype=np.float64),
            edges=np.asarray(d["edges"], dtype=np.float64),
            bin_counts=np.asarray(d["bin_counts"], dtype=np.int64),
            mean=float(d["mean"]),
            std=float(d["std"]),
            count=int(d["count"]),
            n_missing=int(d["n_missing"]),
            calibration=d.get("calibration"),
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, NumericReference):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    __hash__ = None  # type: ignore[assignment]


@dataclass(frozen=True, slots=True)
class NumericComparison:
    """One numeric feature window against its reference.

    psi and jensen_shannon (base 2) are on the reference bins; ks is the two-sample
    KS statistic D against the reference sample, ks_pvalue its asymptotic p-value;
    wasserstein_norm is the earth mover's distance divided by the reference std
    (raw distance if that std is 0). count = non-missing values in the window.
    """

    psi: float
    ks: float
    ks_pvalue: float
    wasserstein_norm: float
    jensen_shannon: float
    missing_share: float
    count: int
    n_missing: int
    # two-sample chi-squared of the window's bin counts against the reference's
    chi2: float = math.nan
    chi2_dof: int = 0
    chi2_pvalue: float = math.nan


def compare_numeric(
    ref: NumericReference,
    window: np.ndarray,
    *,
    wasserstein: bool = True,
    js: bool = True,
    bins: bool = False,
    ks: bool = True,
) -> NumericComparison:
    """All drift statistics of one numeric window, O(n log n), one sort of the window.

    ``wasserstein=False`` / ``js=False`` skip those two (NaN in the result) for callers
    that do not test them; PSI and KS (the p-value of every numeric check) always run.
    ``bins=True`` adds the two-sample chi-squared test of the bin counts (``chi2``);
    ``ks=False`` with ``wasserstein=False`` skips the sort and KS (binned statistics only).
    """
    raw = np.asarray(window, dtype=np.float64).ravel()
    if raw.size == 0:
        raise ValueError("empty window")
    kept, n_missing = split_missing(raw)
    missing_share = n_missing / raw.size
    if kept.size == 0:
        nan = math.nan
        return NumericComparison(nan, nan, nan, nan, nan, missing_share, 0, n_missing)
    # The window's bin counts and the reference's, normalised once for psi and js (as
    # psi() and jensen_shannon() would each normalise them); both are valid by construction.
    if not (ks or wasserstein):  # binned statistics only: no sort, no KS, no p-value
        counts = bin_counts(ref.edges, kept)
        side = ref.side
        chi2, dof = chi2_two_sample_statistic(side.counts, counts * 1.0)
        chi2_p = math.nan
        e, a = side.shares, _distribution(counts, "actual")  # same length: edges + 1
        return NumericComparison(
            psi=psi_of_floored(side.floored, a),
            ks=math.nan,
            ks_pvalue=math.nan,
            wasserstein_norm=math.nan,
            jensen_shannon=jensen_shannon_of_shares(e, a) if js else math.nan,
            missing_share=missing_share,
            count=int(kept.size),
            n_missing=n_missing,
            chi2=chi2,
            chi2_dof=dof,
            chi2_pvalue=chi2_p,
        )
    ordered = np.sort(kept)
    counts = bin_counts(ref.edges, ordered)
    d, p_value = ks_sorted(ref.sample, ordered)
    side = ref.side
    chi2, dof, chi2_p = (
        chi2_two_sample_checked(side.counts, counts.astype(np.float64))
        if bins
        else (math.nan, 0, math.nan)
    )
    e, a = side.shares, _distribution(counts, "actual")
    return NumericComparison(
        psi=psi_of_floored(side.floored, a),
        ks=d,
        ks_pvalue=p_value,
        wasserstein_norm=(
            wasserstein_sorted(ref.sample, ordered) / _usable_scale(ref.std)
            if wasserstein
            else math.nan
        ),
        jensen_shannon=jensen_shannon_of_shares(e, a) if js else math.nan,
        missing_share=missing_share,
        count=int(ordered.size),
        n_missing=n_missing,
        chi2=chi2,
        chi2_dof=dof,
        chi2_pvalue=chi2_p,
    )


@dataclass(frozen=True, slots=True, eq=False)
class CategoricalReference:
    """The reference distribution of one categorical feature.

    ``categories``: the top-K categories by count (ties by name), most frequent
    first. ``counts``: their counts then, last, the count of all other categories
    (len K + 1). ``missing`` (None) values are counted apart in ``n_missing``.
    """

    categories: tuple[str, ...]
    counts: np.ndarray
    n_missing: int
    calibration: Mapping[str, Any] | None = None  # as NumericReference's
    expected: np.ndarray = field(init=False)
    side: _ReferenceSide = field(init=False, repr=False)  # as NumericReference's

    def __post_init__(self) -> None:
        counts = _frozen_array(self.counts, np.int64)
        if counts.size != len(self.categories) + 1 or np.any(counts < 0):
            raise ValueError("counts must be non-negative, one per category plus other")
        if counts.sum() == 0 or self.n_missing < 0:
            raise ValueError("a reference needs at least one non-missing value")
        if len(set(self.categories)) != len(self.categories):
            raise ValueError("categories must be distinct")
        object.__setattr__(self, "categories", tuple(self.categories))
        object.__setattr__(self, "counts", counts)
        object.__setattr__(self, "expected", _frozen_array(counts / counts.sum(), np.float64))
        object.__setattr__(self, "side", _ReferenceSide.of(counts, self.expected))

    @classmethod
    def fit(cls, values: Sequence[str | None], max_categories: int = 50) -> CategoricalReference:
        """Fit from raw labels; ValueError if all are missing."""
        return cls.fit_tally(Counter(values), max_categories)

    @classmethod
    def fit_tally(
        cls, tally: Mapping[str | None, int], max_categories: int = 50
    ) -> CategoricalReference:
        """:meth:`fit` from the labels' counts (None: missing)."""
        if max_categories < 1:
            raise ValueError(f"max_categories must be >= 1, got {max_categories}")
        tally = dict(tally)
        n_missing = tally.pop(None, 0)
        if not tally:
            raise ValueError("no non-missing values to fit a categorical reference on")
        ranked = sorted(tally.items(), key=lambda kv: (-kv[1], str(kv[0])))
        top = ranked[:max_categories]
        other = sum(n for _, n in ranked[max_categories:])
        return cls(
            categories=tuple(str(name) for name, _ in top),
            counts=np.array([n for _, n in top] + [other], dtype=np.int64),
            n_missing=n_missing,
        )

    @property
    def count(self) -> int:
        return int(self.counts.sum())

    @property
    def n_total(self) -> int:
        return self.count + self.n_missing

    @property
    def missing_share(self) -> float:
        return self.n_missing / self.n_total

    def to_dict(self) -> dict[str, Any]:
        return {
            "categories": list(self.categories),
            "counts": self.counts[:-1].tolist(),
            OTHER: int(self.counts[-1]),
            "n_missing": self.n_missing,
            **_calibration_doc(self.calibration),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> CategoricalReference:
        return cls(
            categories=tuple(str(c) for c in d["categories"]),
            counts=np.array([*d["counts"], d[OTHER]], dtype=np.int64),
            n_missing=int(d["n_missing"]),
            calibration=d.get("calibration"),
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, CategoricalReference):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    __hash__ = None  # type: ignore[assignment]


@dataclass(frozen=True, slots=True)
class CategoricalComparison:
    """One categorical feature window against its reference.

    Counts are aligned to the reference categories plus "other"; psi, chi2 and
    jensen_shannon (base 2) use them. chi2 is the two-sample test of homogeneity
    (reference counts vs window counts), cohens_w its sample-size-free effect size.
    unseen_share: share of non-missing window values outside the reference's top-K
    categories.
    """

    psi: float
    chi2: float
    chi2_dof: int
    chi2_pvalue: float
    jensen_shannon: float
    unseen_share: float
    cohens_w: float
    missing_share: float
    count: int
    n_missing: int


def compare_categorical(
    ref: CategoricalReference, window: Sequence[str | None], *, js: bool = True
) -> CategoricalComparison:
    """All drift statistics of one categorical window; one Counter pass over it.
    ``js=False`` skips the Jensen-Shannon distance (NaN in the result)."""
    if len(window) == 0:
        raise ValueError("empty window")
    return compare_categorical_tally(ref, Counter(window), len(window), js=js)


def compare_categorical_tally(
    ref: CategoricalReference,
    tally: Mapping[str | None, int],
    total: int,
    *,
    js: bool = True,
    pvalue: bool = True,
) -> CategoricalComparison:
    """:func:`compare_categorical` of a window given as its labels' counts (None: missing)
    and its length ``total``. ``pvalue=False`` skips the chi-squared p-value (NaN in the
    result) for callers that judge the statistic with their own null (calibrated checks)."""
    if total == 0:
        raise ValueError("empty window")
    n_missing = tally.get(None, 0)
    count = total - n_missing
    missing_share = n_missing / total
    if count == 0:
        nan = math.nan
        return CategoricalComparison(nan, nan, 0, nan, nan, nan, nan, missing_share, 0, n_missing)
    seen = [tally.get(c, 0) for c in ref.categories]
    observed = np.array([*seen, count - sum(seen)], dtype=np.int64)
    # observed checked and normalised once (as chi2_two_sample, psi, jensen_shannon and
    # cohens_w would each do it, with the same error); the reference's are valid
    side = ref.side
    e, a = side.shares, _distribution(observed, "obs_counts")
    if pvalue:
        chi2, dof, p_value = chi2_two_sample_checked(side.counts, observed.astype(np.float64))
    else:
        chi2, dof = chi2_two_sample_statistic(side.counts, observed.astype(np.float64))
        p_value = math.nan
    return CategoricalComparison(
        psi=psi_of_floored(side.floored, a),
        chi2=chi2,
        chi2_dof=dof,
        chi2_pvalue=p_value,
        jensen_shannon=jensen_shannon_of_shares(e, a) if js else math.nan,
        unseen_share=_share(int(observed[-1]), count),
        cohens_w=cohens_w_of_shares(e, a),
        missing_share=missing_share,
        count=count,
        n_missing=n_missing,
    )
