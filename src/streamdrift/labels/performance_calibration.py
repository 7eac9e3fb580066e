"""The labelled reference calibrates the performance checks, as the features' does theirs.

* **Degradation**: the design effect of the reference's error rate (MAE) over contiguous
  windows of its rows in order, at doubling window lengths
  (:func:`streamdrift.stats.inflation_ladder.inflation_ladder`), read at the judged window's
  label count ``n`` (a time window's count varies; a cycle or runs in the errors inflate
  short and long windows differently, and one fixed length misjudged the others); a
  window's drop is judged against ``z · sqrt(inflation(n) · var · (1/n + 1/m))`` at the budget's
  per-window level, so 5,000 labels of a stable model resolve a 3-point drop and an unstable
  reference widens the threshold as much as it varies. ``performance.margin`` is then an
  optional minimum.
* **Concept drift**: the reference's own error stream is replayed in order through a fresh
  copy of each error detector; one that fires on it is *noisy* and only confirms a
  calibrated degradation of the same window (never alerts alone).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from streamdrift.detectors import make_detector
from streamdrift.stats.inflation_ladder import inflation_at, inflation_ladder
from streamdrift.stats.threshold_calibration import Inflation, lag1_inflation, mean_inflation

__all__ = ["PERFORMANCE_CALIBRATION_WINDOW", "calibrate_errors", "noisy_detectors"]

# rows of the one calibration window of a reference too short for the ladder (and of the
# "errors" entry that profiles without a ladder carry)
PERFORMANCE_CALIBRATION_WINDOW = 1000


def noisy_detectors(errors: np.ndarray, names: Iterable[str], regression: bool) -> list[str]:
    """The detectors that fire on the reference's own error stream, replayed in order."""
    out = []
    for name in names:
        if regression and name != "adwin":
            continue  # the binary detectors need 0/1 errors
        detector = make_detector(name)
        if errors.size and detector.update_many(errors):
            out.append(name)
    return out


def calibrate_errors(
    errors: np.ndarray, names: Iterable[str], regression: bool, window: int = 0
) -> dict[str, Any]:
    """The calibration a labelled reference stores: the inflation of its error rate (MAE)
    and its noisy error detectors."""
    x = np.asarray(errors, dtype=np.float64)
    rungs = [] if window else inflation_ladder(x)
    method = "contiguous windows of the labelled reference, as ordered, at the window's count"
    if rungs:
        infl = rungs[-1]
    else:
        infl = mean_inflation(x, window or PERFORMANCE_CALIBRATION_WINDOW)
        method = "contiguous windows of the labelled reference, as ordered"
    if infl.windows == 0:
        infl, method = lag1_inflation(x), "lag-1 autocorrelation of the reference's errors"
    out = {
        "method": method,
        "errors": infl.to_dict(),
        "noisy_detectors": noisy_detectors(x, names, regression),
        "rows": int(x.size),
    }
    if rungs:
        out["errors_by_size"] = [r.to_dict() for r in rungs]
    return out


def _rungs(calibration: Mapping[str, Any]) -> list[Inflation]:
    return [Inflation.from_dict(d) for d in calibration.get("errors_by_size", ())]


def error_inflation(calibration: Mapping[str, Any] | None, count: int = 0) -> float:
    """The design effect at a window of ``count`` labels (a profile without a ladder: its
    one stored factor, whatever the count)."""
    if not calibration or "errors" not in calibration:
        return 1.0
    if rungs := _rungs(calibration):
        return inflation_at(rungs, count)
    return float(calibration["errors"]["inflation"])


def describe(calibration: Mapping[str, Any] | None, count: int = 0) -> str:
    if not calibration or "errors" not in calibration:
        return "i.i.d.: the reference carries no calibration"
    if rungs := _rungs(calibration):
        sizes = sorted(r.window_size for r in rungs)
        return (
            f"inflation {inflation_at(rungs, count):.2f} at {count:,} labels, from windows of "
            f"{sizes[0]:,} to {sizes[-1]:,} labelled rows of the reference"
        )
    c = calibration["errors"]
    if not c["windows"]:
        return f"inflation {c['inflation']:.2f} from the lag-1 autocorrelation of its errors"
    return (
        f"inflation {c['inflation']:.2f} from {c['windows']} windows of "
        f"{c['window_size']:,} labelled rows of the reference"
    )
