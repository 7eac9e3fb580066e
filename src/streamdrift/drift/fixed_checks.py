"""The fixed-threshold checks (``threshold_mode = "fixed"``): a check drifts when its effect
reaches the threshold the spec names **and** Benjamini–Hochberg at ``alpha`` over all checks
of the window rejects its p-value."""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from streamdrift.config.spec import CATEGORICAL_TESTS, NUMERIC_TESTS, MonitorSpec
from streamdrift.drift.columns import Column, category_tally, coerce_numeric
from streamdrift.drift.profiles import Reference
from streamdrift.records import AlertKind, CheckResult
from streamdrift.stats import (
    NumericReference,
    benjamini_hochberg,
    compare_categorical_tally,
    compare_numeric,
    proportion_ztest,
)

__all__ = ["correct", "fixed_checks"]


def fixed_checks(
    name: str,
    kind: AlertKind,
    ref: Reference,
    values: Column,
    spec: MonitorSpec,
    psi_values: dict[str, float],
) -> list[CheckResult]:
    """The window's checks of feature ``name`` against the spec's fixed thresholds (each
    with its p-value, for :func:`correct`); its PSI goes to ``psi_values`` when the window
    has at least ``min_window_count`` values."""
    out: list[CheckResult] = []

    def check(test: str, statistic: str, value: float, p: float, detail: str) -> None:
        threshold = spec.threshold(test)
        out.append(
            CheckResult(
                name,
                kind,
                test,
                statistic,
                value,
                threshold,
                p,
                drifted=math.isfinite(value) and value >= threshold,
                detail=detail,
            )
        )

    if isinstance(ref, NumericReference):
        array = coerce_numeric(values)
        cmp = compare_numeric(
            ref, array, wasserstein="wasserstein" in spec.tests, js="js" in spec.tests
        )
        if cmp.count >= spec.min_window_count:
            psi_values[name] = cmp.psi
            ks = f"KS D={cmp.ks:.3f}"
            wanted = NUMERIC_TESTS.intersection(spec.tests)
            if "psi" in wanted:
                check("psi", "psi", cmp.psi, cmp.ks_pvalue, ks)
            if "ks" in wanted:
                check("ks", "ks_distance", cmp.ks, cmp.ks_pvalue, f"n={cmp.count}")
            if "wasserstein" in wanted:
                check("wasserstein", "wasserstein_std", cmp.wasserstein_norm, cmp.ks_pvalue, ks)
            if "js" in wanted:
                check("js", "jensen_shannon", cmp.jensen_shannon, cmp.ks_pvalue, ks)
        n_missing = cmp.n_missing
    else:
        tally = category_tally(values)
        ccmp = compare_categorical_tally(ref, tally, len(values), js="js" in spec.tests)
        if ccmp.count >= spec.min_window_count:
            psi_values[name] = ccmp.psi
            chi = f"chi2={ccmp.chi2:.1f} dof={ccmp.chi2_dof}, unseen {ccmp.unseen_share:.1%}"
            wanted = CATEGORICAL_TESTS.intersection(spec.tests)
            if "psi" in wanted:
                check("psi", "psi", ccmp.psi, ccmp.chi2_pvalue, chi)
            if "chi2" in wanted:
                check("chi2", "cohens_w", ccmp.cohens_w, ccmp.chi2_pvalue, chi)
            if "js" in wanted:
                check("js", "jensen_shannon", ccmp.jensen_shannon, ccmp.chi2_pvalue, chi)
        n_missing = ccmp.n_missing
    if "missing" in spec.tests:
        total = len(values)
        ref_missing = ref.n_missing
        _, p = proportion_ztest(ref_missing, ref.n_total, n_missing, total)
        delta = abs(n_missing / total - ref.missing_share)
        check(
            "missing",
            "missing_share_delta",
            delta,
            p,
            f"missing {n_missing}/{total} vs {ref.missing_share:.1%} in the reference",
        )
    return out


def correct(checks: list[CheckResult], alpha: float) -> list[CheckResult]:
    """Keep ``drifted`` only where Benjamini–Hochberg over the window rejects the p-value."""
    if not checks:
        return checks
    p = np.array([math.nan if c.p_value is None else c.p_value for c in checks])
    reject = benjamini_hochberg(p, alpha)
    return [
        c if not c.drifted or r else dataclasses.replace(c, drifted=False)
        for c, r in zip(checks, reject, strict=True)
    ]
