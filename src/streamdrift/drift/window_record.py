"""One closed window's verdicts as a record of the ``drift-windows`` topic
(topics/window.schema.json): plain, JSON-able data, built from a :class:`WindowResult`.

Nothing in a record depends on the wall clock, so processing the same input again (a
replay, a restart from a checkpoint) produces the same records, under the same
``record_id`` — a hash of model, version, segment, monitor and window index.

>>> from streamdrift.records import WindowInfo
>>> r = WindowResult("m", "1", None, 3, WindowInfo(0.0, 9.5, 1000), 2000, ())
>>> doc = window_record(r, "drift")
>>> doc["record_id"] == record_id("m", "1", None, "drift", 3), doc["window"]["index"]
(True, 3)
"""

from __future__ import annotations

import hashlib
import math
from typing import Any

from streamdrift.records import AlertKind, CheckResult, WindowResult

SCHEMA_VERSION = 1
MONITORS = (
    "drift",
    "performance",
    "label_health",
    "estimated_performance",
    "estimator_divergence",
)


def record_id(
    model_id: str, model_version: str, segment: str | None, monitor: str, index: int
) -> str:
    """Deterministic id of one window of one monitor."""
    text = "\x1f".join([model_id, model_version, segment or "", monitor, str(index)])
    return hashlib.blake2b(text.encode(), digest_size=12).hexdigest()


def monitor_of(result: WindowResult, *, labels: bool) -> str:
    """The monitor that closed ``result``: ``drift`` for the drift fleet's windows; of the
    label fleet's (``labels``), ``label_health`` for coverage periods, else ``performance``."""
    if not labels:
        return "drift"
    if any(t.kind is AlertKind.LABEL_HEALTH for t in result.tests):
        return "label_health"
    return "performance"


def window_record(result: WindowResult, monitor: str) -> dict[str, Any]:
    """The ``drift-windows`` record of ``result``, closed by ``monitor`` (see :data:`MONITORS`)."""
    if monitor not in MONITORS:
        raise ValueError(f"unknown monitor {monitor!r}; expected one of {MONITORS}")
    window = result.window
    measured = {name: _number(value) for name, value in result.metrics}
    return {
        "schema_version": SCHEMA_VERSION,
        "record_id": record_id(
            result.model_id, result.model_version, result.segment, monitor, result.index
        ),
        "monitor": monitor,
        "model_id": result.model_id,
        "model_version": result.model_version,
        "segment": result.segment,
        "window": {
            "index": result.index,
            "start": window.start,
            "end": window.end,
            "count": window.count,
            "partial": window.partial,
        },
        "reference": {"count": result.reference_count},
        "verdict": "drift" if result.drifted else ("ok" if result.tests else "untested"),
        "tests": [_test(t) for t in result.tests],
        "metrics": {k: v for k, v in measured.items() if k not in _LABEL_KEYS},
        "labels": _labels(monitor, window.count, measured),
    }


_LABEL_KEYS = ("label_coverage", "labelled")


def _labels(monitor: str, count: int, measured: dict[str, float | None]) -> dict[str, Any] | None:
    if monitor == "performance":  # every row of a performance window is a labelled one
        return {"count": count, "coverage": None}
    if monitor == "label_health":
        labelled = measured.get("labelled")
        return {
            "count": None if labelled is None else int(labelled),
            "coverage": measured.get("label_coverage"),
        }
    return None


def _test(check: CheckResult) -> dict[str, Any]:
    return {
        "feature": check.feature,
        "kind": check.kind.value,
        "detector": check.detector,
        "statistic": check.statistic,
        "value": _number(check.value),
        "threshold": _number(check.threshold),
        "threshold_source": check.threshold_source,
        "p_value": _number(check.p_value),
        "e_value": None,  # no test reports one yet
        "verdict": "drift" if check.drifted else "ok",
        "detail": check.detail,
        "decided_by": _decided_by(check.decided_by),
    }


def _decided_by(decided: tuple[str, float, float] | None) -> dict[str, Any] | None:
    if decided is None:
        return None
    statistic, value, threshold = decided
    return {"statistic": statistic, "value": _number(value), "threshold": _number(threshold)}


def _number(value: float | None) -> float | None:
    """JSON has no NaN or infinity: such a value (e.g. ROC AUC of one class) is null."""
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None
