"""Seeded multiclass data with a known calibration, for CBPE one-vs-rest.

Each row has logits ``z`` (one class favoured by ``SEPARATION``, unit normal noise) and the
model reports ``r = softmax(z)``. Two known truths P(y | r), both over-confident models:

* ``affine`` (the default): ``SHRINK * r + (1 - SHRINK) / K``, class by class. Each
  class's probability depends on that class's output alone, so one-vs-rest calibration
  can recover it exactly (the case its interval is built for).
* ``temperature``: ``softmax(z / TEMPER)``. Class k's probability depends on every output;
  one-vs-rest maps, renormalised, only approximate it (the README reports its coverage
  too).

A covariate shift scales ``z`` toward 0: the model becomes uncertain and accuracy drops
while P(y | r) is unchanged; a concept shift keeps the outputs and relabels a share of
rows at random.

* :func:`coverage`: the share of windows whose realized (macro) metric lies in the
  estimate's interval, per metric.
"""

from __future__ import annotations

import numpy as np

from streamdrift.labels.multiclass_calibration import (
    MulticlassCalibrationProfile,
    build_multiclass_calibration,
)
from streamdrift.stats.cbpe import METRICS
from streamdrift.stats.cbpe_multiclass import estimate_multiclass, realized_multiclass

CLASSES = ("bird", "cat", "dog", "fish")
SEPARATION = 3.0
SHRINK = 0.8
TEMPER = 2.0
TRUTHS = ("affine", "temperature")


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    p: np.ndarray = e / e.sum(axis=1, keepdims=True)
    return p


def logits_of(rng: np.random.Generator, n: int, shift: float = 0.0) -> np.ndarray:
    """True logits of n rows; ``shift`` in [0, 1] scales them toward 0 (uncertain rows)."""
    z = rng.normal(size=(n, len(CLASSES)))
    z[np.arange(n), rng.integers(len(CLASSES), size=n)] += SEPARATION
    return z * (1.0 - shift)


def outputs_of(z: np.ndarray) -> np.ndarray:
    """The model's class probabilities (rows x classes), rounded as a server sends them."""
    return np.round(_softmax(z), 4)


def true_probabilities(z: np.ndarray, truth: str = "affine") -> np.ndarray:
    if truth == "temperature":
        return _softmax(z / TEMPER)
    return SHRINK * outputs_of(z) + (1 - SHRINK) / len(CLASSES)


def labels_of(
    rng: np.random.Generator, z: np.ndarray, relabel: float = 0.0, truth: str = "affine"
) -> np.ndarray:
    """Class indices drawn from the truth; ``relabel``: share of rows given a uniformly
    random class instead."""
    p = true_probabilities(z, truth)
    y = (rng.random(len(z))[:, None] >= np.cumsum(p, axis=1)[:, :-1]).sum(axis=1)
    other = rng.integers(len(CLASSES), size=len(z))
    return np.where(rng.random(len(z)) < relabel, other, y)


def as_dicts(p: np.ndarray) -> list[dict[str, float]]:
    return [dict(zip(CLASSES, row, strict=True)) for row in p.tolist()]


def reference(
    rng: np.random.Generator, n: int = 20_000, truth: str = "affine"
) -> MulticlassCalibrationProfile:
    z = logits_of(rng, n)
    labels = [CLASSES[k] for k in labels_of(rng, z, truth=truth)]
    profile = build_multiclass_calibration(labels, as_dicts(outputs_of(z)))
    assert profile is not None
    return profile


def coverage(
    seed: int = 3,
    windows: int = 200,
    size: int = 1000,
    confidence: float = 0.99,
    truth: str = "affine",
) -> dict[str, float]:
    """Share of ``windows`` windows of ``size`` rows whose realized macro metric is inside
    the estimate's interval, per metric (and the accuracy estimate's mean absolute error)."""
    rng = np.random.default_rng(seed)
    profile = reference(rng, truth=truth)
    inside = dict.fromkeys(METRICS, 0)
    error = 0.0
    for _ in range(windows):
        z = logits_of(rng, size)
        raw = outputs_of(z)
        y = labels_of(rng, z, truth=truth)
        yhat = raw.argmax(axis=1)
        est = estimate_multiclass(profile.calibration.predict(raw), yhat, raw, confidence, rng)
        real = realized_multiclass(y, yhat, raw)
        error += abs(est.value["accuracy"] - real["accuracy"])
        for m in METRICS:
            inside[m] += int(est.lower[m] <= real[m] <= est.upper[m])
    out = {m: inside[m] / windows for m in METRICS}
    out["accuracy_mean_abs_error"] = error / windows
    out["ece_raw"] = profile.check["ece_raw"]
    out["ece_calibrated"] = profile.check["ece_calibrated"]
    return out


def markdown(windows: int = 200, size: int = 1000) -> str:
    """The multiclass rows of the CBPE section of ``make evaluate``."""
    cov = {truth: coverage(windows=windows, size=size, truth=truth) for truth in TRUTHS}
    rows = "\n".join(
        f"| {m} | {cov['affine'][m]:.1%} | {cov['temperature'][m]:.1%} |" for m in METRICS
    )
    line = "".join(
        f" {t}: accuracy mean absolute error {c['accuracy_mean_abs_error']:.4f}, ECE of the "
        f"decided class {c['ece_raw']:.4f} raw, {c['ece_calibrated']:.4f} calibrated."
        for t, c in cov.items()
    )
    return (
        f"Multiclass ({len(CLASSES)} classes, one-vs-rest, macro metrics): coverage of the "
        f"99 % interval over {windows} seeded windows of {size} rows, with a truth that "
        "one-vs-rest calibration can recover (`affine`) and one it only approximates "
        "(`temperature`):\n\n"
        f"| metric | affine | temperature |\n|---|---|---|\n{rows}\n\n{line.strip()}\n"
    )
