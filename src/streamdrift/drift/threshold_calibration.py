"""Calibrate a reference on itself, and judge a window with the calibrated thresholds.

:func:`calibrate_profiles` runs once, when a reference is fitted (``first`` events or
``reference build``): each feature's design effects (:mod:`streamdrift.stats.threshold_calibration`)
from the reference's values *in the order they arrived*, stored in the feature's profile.
:func:`calibrated_checks` runs per window: each test's threshold is the value its i.i.d.
null reaches with probability ``level`` (the budget's per-check level) at the effective
sample size ``n / inflation``; a check drifts when its statistic reaches that threshold and
the optional minimum effect (``min_effect.<test>``).
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from streamdrift.drift.columns import Column, category_codes, coerce_numeric
from streamdrift.records import AlertKind, CheckResult
from streamdrift.stats import CategoricalReference, NumericReference
from streamdrift.stats.reference import CategoricalComparison, NumericComparison
from streamdrift.stats.threshold_calibration import (
    binned_critical,
    binned_inflation,
    calibration_layout,
    inflation_of,
    ks_critical,
    ks_inflation,
    lag1_inflation,
    normal_isf,
    share_inflation,
)

__all__ = ["REFERENCE", "calibrate_profiles", "calibrated_checks", "family_of", "z_of"]

REFERENCE = "reference"  # CheckResult.threshold_source of a calibrated threshold
# the family whose design effect (and p-value) judges each test
_FAMILY = {"psi": "bins", "js": "bins", "chi2": "bins", "ks": "ks", "wasserstein": "ks"}


def family_of(test: str) -> str:
    return _FAMILY.get(test, "missing")


def calibrate_profiles(
    profiles: Mapping[str, NumericReference | CategoricalReference],
    columns: Mapping[str, Column],
    window_size: int,
    tests: Iterable[str] = ("ks",),
    seed: int = 0,
) -> dict[str, NumericReference | CategoricalReference]:
    """The profiles with each feature's calibration from its ordered reference column
    (the KS family only when ``tests`` has ``ks`` or ``wasserstein``: a window judged by
    KS without it takes the binned family's top inflation)."""
    with_ks = bool({"ks", "wasserstein"} & set(tests))
    out: dict[str, NumericReference | CategoricalReference] = {}
    for name, ref in profiles.items():
        values = columns.get(name)
        if values is None:
            out[name] = ref
            continue
        cal: dict[str, Any] = {"method": "contiguous windows of the reference, as ordered"}
        short = calibration_layout(len(values), window_size)[0] < 2
        if short:
            cal["method"] = "lag-1 autocorrelation (the reference is too short for windows)"
        if isinstance(ref, NumericReference):
            x = coerce_numeric(values)
            finite = np.isfinite(x)
            codes = np.full(x.size, -1, dtype=np.intp)
            codes[finite] = np.searchsorted(ref.edges, x[finite], side="left")
            if short:
                ranks = np.searchsorted(np.sort(x[finite]), x[finite]).astype(np.float64)
                cal["bins"] = cal["ks"] = lag1_inflation(ranks).to_dict()
            else:
                cal["bins"] = binned_inflation(
                    codes, ref.edges.size + 1, window_size, seed
                ).to_dict()
                if with_ks:
                    cal["ks"] = ks_inflation(x, window_size, seed).to_dict()
            missing = ~finite
        else:
            index = {c: i for i, c in enumerate(ref.categories)}
            other = len(ref.categories)
            codes = category_codes(values, index, other)
            if short:  # a run of one category is what inflates a categorical window
                kept = codes[codes >= 0]
                same = (kept[1:] == kept[:-1]).astype(np.float64)
                cal["bins"] = lag1_inflation(same).to_dict() if kept.size > 3 else None
                if cal["bins"] is None:
                    del cal["bins"]
            else:
                cal["bins"] = binned_inflation(codes, other + 1, window_size, seed).to_dict()
            missing = codes < 0
        if short:
            cal["missing"] = lag1_inflation(missing.astype(np.float64)).to_dict()
        else:
            cal["missing"] = share_inflation(missing, window_size, seed).to_dict()
        out[name] = dataclasses.replace(ref, calibration=cal)
    return out


def ks_inflation_of(cal: Mapping[str, Any] | None) -> float:
    """The KS family's inflation, or the binned family's top one where the reference was
    calibrated without KS (both are dominated by a shift of location)."""
    if cal and "ks" not in cal and "bins" in cal:
        return float(cal["bins"].get("top", cal["bins"]["inflation"]))
    return inflation_of(cal, "ks")


def z_of(p: float) -> float:
    """The one-sided z-score of a p-value (what the CUSUM accumulates)."""
    if not math.isfinite(p):
        return math.nan
    return normal_isf(p)


def _explain(cal: Mapping[str, Any] | None, family: str, infl: float, why: str) -> str:
    if not cal or family not in cal:
        return f"the threshold for {why} (i.i.d.: the reference carries no calibration)"
    c = cal[family]
    if "top" in c:
        infl = float(c["top"])
    if not c["windows"]:
        return (
            f"the threshold for {why} (inflation {infl:.2f} from the reference's lag-1 "
            "autocorrelation: too short for windows)"
        )
    return (
        f"the threshold for {why} (inflation {infl:.2f} from {c['windows']} windows of "
        f"{c['window_size']:,} events of the reference)"
    )


@functools.lru_cache(maxsize=256)
def _two_sided_z(level: float) -> float:
    # every feature of a window has the same level
    return normal_isf(level / 2.0)


def calibrated_checks(
    name: str,
    kind: AlertKind,
    ref: NumericReference | CategoricalReference,
    cmp: NumericComparison | CategoricalComparison,
    tests: frozenset[str],
    n_missing: int,
    total: int,
    level: float,
    min_effect: Mapping[str, float],
    why: str,
) -> tuple[list[CheckResult], dict[str, float]]:
    """The window's calibrated checks of one feature, and each family's calibrated
    p-value (for the accumulated decisions)."""
    cal = ref.calibration
    out: list[CheckResult] = []
    pvalues: dict[str, float] = {}
    texts: dict[str, str] = {}  # each family's explanation, shared by its checks
    n, m = cmp.count, ref.count

    def check(
        test: str,
        statistic: str,
        value: float,
        threshold: float,
        p: float,
        d: str,
        decided_by: tuple[str, float, float] | None = None,
    ) -> None:
        floor = min_effect.get(test, 0.0)
        above = math.isfinite(value) and value >= threshold and value > 0
        decided = above if decided_by is None else decided_by[1] >= decided_by[2]
        drifted = decided and value >= floor and value > 0
        fam = family_of(test)
        text = texts.get(fam)
        if text is None:
            text = texts[fam] = _explain(cal, fam, inflation_of(cal, fam), why)
        if floor > 0:
            text += f", and at least {floor:g} (min_effect)"
        out.append(
            CheckResult(name, kind, test, statistic, value, max(threshold, floor), p,
                        drifted=drifted, detail=f"{text}; {d}", threshold_source=REFERENCE,
                        decided_by=decided_by)
        )  # fmt: skip

    if n > 0:
        chi2, dof = cmp.chi2, cmp.chi2_dof
        if dof > 0 and math.isfinite(chi2):
            x_crit, p_bins = binned_critical(cal, dof, level, chi2)
            scale = 1.0 / n + 1.0 / m  # a binned divergence is about chi2 · (1/n + 1/m)
            pvalues["bins"] = p_bins
            # the binned chi-squared decides (its null is what the calibration measured);
            # each statistic's threshold is its equivalent in the statistic's own units
            decided = ("chi2", chi2, x_crit)
            detail = f"decided by chi2={chi2:.1f} vs {x_crit:.1f}, dof={dof}"
            if "psi" in tests:
                check("psi", "psi", cmp.psi, x_crit * scale, p_bins, detail, decided)
            if "chi2" in tests and isinstance(cmp, CategoricalComparison):
                w_crit = math.sqrt(x_crit * scale)
                check("chi2", "cohens_w", cmp.cohens_w, w_crit, p_bins, detail, decided)
            if "js" in tests:
                js_crit = math.sqrt(x_crit * scale / (8.0 * math.log(2.0)))
                check("js", "jensen_shannon", cmp.jensen_shannon, js_crit, p_bins, detail, decided)
        if isinstance(cmp, NumericComparison) and tests & {"ks", "wasserstein"}:
            infl_ks = ks_inflation_of(cal)
            en = n * m / (n + m) / infl_ks
            d_crit = ks_critical(level, en)
            p_ks = min(1.0, 2.0 * math.exp(-2.0 * en * cmp.ks**2))
            pvalues["ks"] = p_ks
            if "ks" in tests:
                check("ks", "ks_distance", cmp.ks, d_crit, p_ks, f"n={n}")
            if "wasserstein" in tests:  # judged by KS: W1 has no tractable tail
                check("wasserstein", "wasserstein_std", cmp.wasserstein_norm, 0.0, p_ks,
                      f"decided by KS D={cmp.ks:.3f} vs {d_crit:.3f}",
                      decided_by=("ks_distance", cmp.ks, d_crit))  # fmt: skip
    if "missing" in tests and total > 0:
        infl = inflation_of(cal, "missing")
        share = n_missing / total
        delta = abs(share - ref.missing_share)
        pooled = (n_missing + ref.n_missing) / (total + ref.n_total)
        se = math.sqrt(infl * pooled * (1 - pooled) * (1.0 / total + 1.0 / ref.n_total))
        z_crit = _two_sided_z(level)
        p_missing = math.erfc(delta / se / math.sqrt(2.0)) if se > 0 else 1.0
        pvalues["missing"] = p_missing
        text = f"missing {n_missing}/{total} vs {ref.missing_share:.1%} in the reference"
        check("missing", "missing_share_delta", delta, z_crit * se, p_missing, text)
    return out, pvalues
