"""Reference profiles: what a monitor learned of each column, fitted and serialised.

A profile maps a column to its reference (:class:`~streamdrift.stats.NumericReference`
or :class:`~streamdrift.stats.CategoricalReference`); the same fitting serves the first
events of a version and ``reference build``'s rows.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from streamdrift.config.spec import MonitorSpec
from streamdrift.drift.columns import Column, as_numeric, category_tally
from streamdrift.records import PREDICTED_LABEL
from streamdrift.stats import CategoricalReference, NumericReference

__all__ = ["Profiles", "Reference", "fit_profiles", "profiles_from_dict", "profiles_to_dict"]

Reference = NumericReference | CategoricalReference
Profiles = dict[str, Reference]


def fit_profiles(columns: Mapping[str, Column], spec: MonitorSpec) -> Profiles:
    """Reference profiles of columns: numeric when every present value is a number (or the
    spec says so), else categorical; the decided class is always categorical; columns
    with no value at all are left out."""
    profiles: Profiles = {}
    for name, values in columns.items():
        declared = "categorical" if name == PREDICTED_LABEL else spec.types.get(name)
        numeric = None if declared == "categorical" else as_numeric(values, declared)
        if numeric is not None and np.isfinite(numeric).any():
            profiles[name] = NumericReference.fit(numeric, n_bins=spec.n_bins)
            continue
        tally = category_tally(values)
        if any(v is not None for v in tally):
            profiles[name] = CategoricalReference.fit_tally(
                tally, max_categories=spec.max_categories
            )
    return profiles


def profiles_to_dict(profiles: Profiles) -> dict[str, Any]:
    return {k: _ref_to_dict(v) for k, v in profiles.items()}


def profiles_from_dict(d: dict[str, Any]) -> Profiles:
    return {k: _ref_from_dict(v) for k, v in d.items()}


def _ref_to_dict(ref: Reference) -> dict[str, Any]:
    kind = "numeric" if isinstance(ref, NumericReference) else "categorical"
    return {"type": kind, **ref.to_dict()}


def _ref_from_dict(d: dict[str, Any]) -> Reference:
    body = {k: v for k, v in d.items() if k != "type"}
    if d["type"] == "numeric":
        return NumericReference.from_dict(body)
    return CategoricalReference.from_dict(body)
