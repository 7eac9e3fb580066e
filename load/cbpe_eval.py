"""Label-free performance estimation (CBPE) on seeded data with a known calibration.

The model's score ``s`` of a row is Beta-distributed; its true ``P(y = 1 | s)`` is
:func:`true_probability` (miscalibrated on purpose: isotonic calibration has work to do).
A covariate shift moves the scores toward 0.5 (accuracy drops, the calibration still
holds); a concept shift keeps the scores and flips the labels of a share of rows
(P(y|s) moved: the estimate cannot see it, the divergence check must).

* :func:`coverage`: the share of windows whose realized metric lies in the estimate's
  interval, per metric.
* multiclass (one-vs-rest) coverage: :mod:`load.cbpe_multiclass`.
* :func:`detection`: windows of stationary then shifted scores, labels arriving
  ``label_delay`` seconds after their prediction: the time of the first
  ``estimated_performance`` firing, against the arrival of the first label of the bad period.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from load import cbpe_multiclass
from streamdrift.drift.windows import WindowSpec
from streamdrift.labels.calibration_profile import CalibrationProfile, build_calibration
from streamdrift.labels.estimated_performance import EstimatedPerformanceMonitor
from streamdrift.labels.performance import PerformanceSpec
from streamdrift.records import PredictionBatch
from streamdrift.stats.cbpe import METRICS, estimate


def true_probability(scores: np.ndarray) -> np.ndarray:
    """P(y = 1 | s): monotone, over-confident scores (a typical boosted model's)."""
    return 1.0 / (1.0 + np.exp(-4.0 * (scores - 0.5)))


def scores_of(rng: np.random.Generator, n: int, shift: float = 0.0) -> np.ndarray:
    """Scores of n rows; ``shift`` in [0, 1] pulls them toward 0.5 (uncertain region)."""
    s = np.where(rng.random(n) < 0.5, rng.beta(2, 8, n), rng.beta(8, 2, n))
    return 0.5 + (s - 0.5) * (1.0 - shift)


def labels_of(rng: np.random.Generator, scores: np.ndarray, flip: float = 0.0) -> np.ndarray:
    """Labels drawn from the true calibration; ``flip``: share of rows whose label flips."""
    y = (rng.random(scores.size) < true_probability(scores)).astype(np.int8)
    flipped = rng.random(scores.size) < flip
    return np.where(flipped, 1 - y, y).astype(np.int8)


def reference(rng: np.random.Generator, n: int = 20_000) -> CalibrationProfile:
    s = scores_of(rng, n)
    profile = build_calibration(labels_of(rng, s).tolist(), s.tolist())
    assert profile is not None
    return profile


def realized(y: np.ndarray, yhat: np.ndarray, scores: np.ndarray) -> dict[str, float]:
    """Realized metrics (the estimate's own formulas with p = y)."""
    est = estimate(y.astype(np.float64), yhat, scores, 0.5, np.random.default_rng(0), draws=1)
    return est.value


def coverage(
    seed: int = 1, windows: int = 200, size: int = 1000, confidence: float = 0.99
) -> dict[str, float]:
    """Share of ``windows`` windows of ``size`` rows whose realized metric is inside the
    estimate's interval, per metric (and the mean absolute error of the accuracy estimate)."""
    rng = np.random.default_rng(seed)
    profile = reference(rng)
    inside = dict.fromkeys(METRICS, 0)
    error = 0.0
    for _ in range(windows):
        s = scores_of(rng, size)
        y = labels_of(rng, s)
        yhat = profile.decide(s)
        est = estimate(profile.calibration.predict(s), yhat, s, confidence, rng)
        truth = realized(y, yhat, s)
        error += abs(est.value["accuracy"] - truth["accuracy"])
        for m in METRICS:
            inside[m] += int(est.lower[m] <= truth[m] <= est.upper[m])
    out = {m: inside[m] / windows for m in METRICS}
    out["accuracy_mean_abs_error"] = error / windows
    out["ece_raw"], out["ece_calibrated"] = (
        profile.check["ece_raw"],
        profile.check["ece_calibrated"],
    )
    return out


def detection(
    seed: int = 2,
    window: float = 60.0,
    rate: float = 50.0,
    good_windows: int = 20,
    bad_windows: int = 10,
    shift: float = 0.6,
    label_delay: float = 3600.0,
) -> dict[str, Any]:
    """Stream ``good_windows`` then ``bad_windows`` time windows of scores (``rate`` per
    second, the bad ones shifted) through the monitor; labels would arrive ``label_delay``
    s after their prediction."""
    rng = np.random.default_rng(seed)
    profile = reference(rng)
    spec = PerformanceSpec()
    monitor = EstimatedPerformanceMonitor(
        "m", "1", None, WindowSpec(kind="time", size=window), spec, 100, profile
    )
    start_bad = good_windows * window
    fired: list[tuple[int, float]] = []
    estimated: list[float] = []
    per_window = int(window * rate)
    for k in range(good_windows + bad_windows + 1):
        stamps = k * window + np.sort(rng.random(per_window)) * window
        s = scores_of(rng, per_window, shift if stamps[0] >= start_bad else 0.0)
        batch = PredictionBatch("m", "1", None, [f"{k}-{i}" for i in range(per_window)],
                                stamps.tolist(), {}, s.tolist())  # fmt: skip
        for result in monitor.observe(batch):
            estimated.append(dict(result.metrics)["estimated_accuracy"])
            if any(t.drifted for t in result.tests):
                fired.append((result.index, result.window.end))
    bad_fired = [(i, t) for i, t in fired if t > start_bad]
    first = bad_fired[0][1] if bad_fired else math.nan
    return {
        "false_alarm_windows": len(fired) - len(bad_fired),
        "good_windows": good_windows,
        "first_firing_at": first,
        "bad_period_starts": start_bad,
        "first_bad_label_at": start_bad + label_delay,
        "seconds_before_first_label": start_bad + label_delay - first,
        "estimated_accuracy_good": float(np.mean(estimated[:good_windows])),
        "estimated_accuracy_bad": float(np.mean(estimated[good_windows:])),
        "reference_accuracy": profile.reference["accuracy"],
    }


def markdown(cov: dict[str, float], det: dict[str, Any], windows: int, size: int) -> str:
    rows = "\n".join(f"| {m} | {cov[m]:.1%} |" for m in METRICS)
    return (
        "## Label-free performance estimates (CBPE)\n\n"
        f"Coverage of the 99 % interval over {windows} seeded windows of {size} rows "
        "(realized metric inside the estimate's interval):\n\n"
        f"| metric | coverage |\n|---|---|\n{rows}\n\n"
        f"Mean absolute error of the accuracy estimate: {cov['accuracy_mean_abs_error']:.4f}. "
        f"Calibration check (ECE on held-out reference rows): {cov['ece_raw']:.4f} raw, "
        f"{cov['ece_calibrated']:.4f} calibrated.\n\n"
        f"Accuracy drop (scores pulled toward 0.5): estimated accuracy "
        f"{det['estimated_accuracy_good']:.3f} before, {det['estimated_accuracy_bad']:.3f} after "
        f"(reference {det['reference_accuracy']:.3f}); `estimated_performance` fired at "
        f"t={det['first_firing_at']:.0f} s, {det['first_firing_at'] - det['bad_period_starts']:.0f}"
        f" s into the bad period and {det['seconds_before_first_label']:.0f} s before its first "
        f"label (labels {det['first_bad_label_at'] - det['bad_period_starts']:.0f} s late); "
        f"false alarms in {det['false_alarm_windows']} of {det['good_windows']} good windows.\n"
    )


def section(windows: int = 200, size: int = 1000) -> str:
    """The CBPE section of ``make evaluate`` (seconds)."""
    binary = markdown(coverage(windows=windows, size=size), detection(), windows, size)
    return binary + "\n" + cbpe_multiclass.markdown(windows, size)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--windows", type=int, default=200)
    parser.add_argument("--size", type=int, default=1000)
    args = parser.parse_args(argv)
    print(section(args.windows, args.size))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
