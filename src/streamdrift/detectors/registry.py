"""Detectors by name, for configuration and for restoring saved state.

Examples
--------
>>> from streamdrift.detectors.registry import from_state, make_detector
>>> det = make_detector("page_hinkley", threshold=25.0)
>>> det.update_many([0.0] * 100 + [3.0] * 20)
[108]
>>> from_state(det.to_dict()).params == det.params
True
>>> make_detector("adwn")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
ValueError: unknown detector 'adwn'; valid names: adwin, ddm, eddm, hddm_a, ...
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from streamdrift.detectors.adwin import ADWIN
from streamdrift.detectors.base import DriftDetector
from streamdrift.detectors.ddm import DDM
from streamdrift.detectors.eddm import EDDM
from streamdrift.detectors.hddm_a import HDDMA
from streamdrift.detectors.hddm_w import HDDMW
from streamdrift.detectors.kswin import KSWIN
from streamdrift.detectors.page_hinkley import PageHinkley

DETECTORS: dict[str, type[DriftDetector]] = {
    cls.name: cls for cls in (ADWIN, DDM, EDDM, HDDMA, HDDMW, KSWIN, PageHinkley)
}
"""Registry name -> detector class."""

DECISION_PARAM: dict[str, str] = {
    "adwin": "delta",
    "ddm": "drift_threshold",
    "eddm": "beta",
    "hddm_a": "drift_confidence",
    "hddm_w": "drift_confidence",
    "kswin": "alpha",
    "page_hinkley": "threshold",
}
"""Registry name -> the parameter that sets how easily the detector fires."""


def describe(detector: DriftDetector) -> str:
    """The detector and its deciding parameter, for messages.

    >>> describe(make_detector("adwin"))
    'adwin (delta=0.002)'
    """
    param = DECISION_PARAM[detector.name]
    return f"{detector.name} ({param}={detector.params[param]:g})"


def _lookup(name: object) -> type[DriftDetector]:
    try:
        return DETECTORS[name]  # type: ignore[index]
    except (KeyError, TypeError):
        valid = ", ".join(sorted(DETECTORS))
        raise ValueError(f"unknown detector {name!r}; valid names: {valid}") from None


def make_detector(name: str, **params: Any) -> DriftDetector:
    """Build the detector ``name`` with ``params``.

    Raises ``ValueError`` naming the problem for an unknown detector, an unknown
    parameter or a bad parameter value, so configuration can be validated up front.
    """
    return _lookup(name)._from_params(params)


def from_state(d: Mapping[str, Any]) -> DriftDetector:
    """Restore any detector from its ``to_dict()`` output, dispatching on ``d["name"]``."""
    if not isinstance(d, Mapping):
        raise ValueError(f"detector state must be a mapping, got {type(d).__name__}")
    return _lookup(d.get("name")).from_dict(d)
