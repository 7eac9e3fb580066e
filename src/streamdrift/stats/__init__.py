"""Pure-numpy statistics for drift detection: sketches, tests, references.

Nothing here imports faust, a Kafka client or scipy. Conventions:

- Numeric missing values are the non-finite ones (NaN, +-inf); ``None`` is a
  missing category. Sketches count them in ``n_missing``; comparisons report
  ``missing_share`` and leave them out of every distribution statistic.
- Bins on interior edges e_0 < ... < e_{k-1} are right-closed:
  (-inf, e_0], (e_0, e_1], ..., (e_{k-1}, +inf).
- Test functions raise ``ValueError`` on empty input. ``compare_*`` raise on an
  empty window and return NaN statistics (count 0) for an all-missing one.
"""

from streamdrift.stats.ks_distribution import kstwo_sf, smirnov_sf
from streamdrift.stats.reference import (
    CategoricalComparison,
    CategoricalReference,
    NumericComparison,
    NumericReference,
    compare_categorical,
    compare_categorical_tally,
    compare_numeric,
)
from streamdrift.stats.sketches import (
    OTHER,
    BinnedHistogram,
    CategoryCounts,
    NumericSketch,
    split_missing,
)
from streamdrift.stats.special import chi2_sf, gammainc, gammaincc, kolmogorov_sf
from streamdrift.stats.tests import (
    benjamini_hochberg,
    chi2_homogeneity,
    chi2_two_sample,
    cohens_w,
    jensen_shannon,
    ks_2samp,
    ks_sorted,
    proportion_ztest,
    psi,
    wasserstein,
    wasserstein_normalised,
    wasserstein_sorted,
)

__all__ = [
    "OTHER",
    "BinnedHistogram",
    "CategoricalComparison",
    "CategoricalReference",
    "CategoryCounts",
    "NumericComparison",
    "NumericReference",
    "NumericSketch",
    "benjamini_hochberg",
    "chi2_homogeneity",
    "chi2_sf",
    "chi2_two_sample",
    "cohens_w",
    "compare_categorical",
    "compare_categorical_tally",
    "compare_numeric",
    "gammainc",
    "gammaincc",
    "jensen_shannon",
    "kolmogorov_sf",
    "ks_2samp",
    "ks_sorted",
    "kstwo_sf",
    "proportion_ztest",
    "psi",
    "smirnov_sf",
    "split_missing",
    "wasserstein",
    "wasserstein_normalised",
    "wasserstein_sorted",
]
