"""Calibrated thresholds in the core (no broker): false alarms on AR(1) streams and the
delay of the per-window and accumulated decisions on small shifts.

python -m load.calibration_delays [--seeds 5]

Prints two tables (the README's *Thresholds from the reference* quotes one run):

* stationary AR(1), φ = 0.5 and 0.9, 500,000 events × 10 features, reference = the first
  2,000 events, windows of 1,000: drifted checks under the calibrated thresholds
  (``threshold_mode = "reference"``) and under the previous defaults (``"fixed"``);
* i.i.d. N(0, 1), two features, reference 20,000 events, a shift of δσ in one feature from
  event 20,000 on: the first shifted window (0 = the first made of shifted events) that the
  per-window checks and the accumulated (CUSUM) check flag, per seed, and the previous
  defaults';
* the tail: AR(1) references of 2,000 and 20,000 events, then 2,000 live windows of 1,000
  events of the same process; the share of windows whose binned family's calibrated p-value
  is at or below 1e-2, 1e-3, 1e-4.
"""

from __future__ import annotations

import argparse

import numpy as np

from load.ar1 import ar1
from streamdrift.config.spec import MonitorSpec, ReferenceSpec
from streamdrift.drift.monitor import DriftMonitor
from streamdrift.records import PredictionBatch, WindowResult

T0 = 1.7e9
DT = 0.01


def run(x: np.ndarray, reference: int, mode: str) -> list[WindowResult]:
    spec = MonitorSpec(reference=ReferenceSpec(size=reference), threshold_mode=mode)
    monitor = DriftMonitor("m", "1", None, spec)
    out: list[WindowResult] = []
    for lo in range(0, len(x), 20_000):
        rows = x[lo : lo + 20_000]
        ids = [str(lo + i) for i in range(len(rows))]
        stamps = (T0 + (lo + np.arange(len(rows))) * DT).tolist()
        cols = {f"f{j}": rows[:, j].tolist() for j in range(rows.shape[1])}
        out += monitor.observe(PredictionBatch("m", "1", None, ids, stamps, cols))
    return out


def first(results: list[WindowResult], accumulated: bool) -> int | None:
    for r in results:
        for c in r.drifted:
            if c.feature == "f0" and c.detector.startswith("cusum") == accumulated:
                return r.index
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    args = parser.parse_args()
    print("| stream | windows | drifted checks, calibrated | drifted checks, previous defaults |")
    print("|---|---|---|---|")
    for phi in (0.5, 0.9):
        x = ar1(500_000, phi, np.random.default_rng(1), streams=10)
        cal, fixed = run(x, 2000, "reference"), run(x, 2000, "fixed")
        n_cal = sum(len(r.drifted) for r in cal)
        n_fixed = sum(len(r.drifted) for r in fixed)
        print(f"| AR(1) φ={phi}, 500k × 10 | {len(cal)} | {n_cal} | {n_fixed} |")
    print()
    print("| shift | per-window | accumulated | previous defaults |")
    print("|---|---|---|---|")
    for shift in (0.1, 0.15, 0.2, 0.3, 0.5, 1.0):
        per, acc, old = [], [], []
        for seed in range(args.seeds):
            x = np.random.default_rng(seed).standard_normal((50_000, 2))
            x[20_000:, 0] += shift
            cal = run(x, 20_000, "reference")
            per.append(first(cal, False))
            acc.append(first(cal, True))
            old.append(first(run(x, 20_000, "fixed"), False))

        def show(v: list[int | None]) -> str:
            return ", ".join("–" if i is None else str(i) for i in v)

        print(f"| {shift}σ | {show(per)} | {show(acc)} | {show(old)} |")
    tail()


def tail() -> None:
    from streamdrift.drift.profiles import fit_profiles
    from streamdrift.drift.threshold_calibration import calibrate_profiles, calibrated_checks
    from streamdrift.records import AlertKind
    from streamdrift.stats import NumericReference, compare_numeric

    print()
    print("| AR(1) φ | reference | p ≤ 1e-2 | p ≤ 1e-3 | p ≤ 1e-4 |")
    print("|---|---|---|---|---|")
    rng = np.random.default_rng(3)
    spec = MonitorSpec(tests=("psi", "missing"))
    for phi in (0.0, 0.5, 0.9):
        for size in (2000, 20_000):
            x = ar1(size + 2_000_000, phi, rng)[:, 0]
            column = {"f": x[:size].tolist()}
            ref = calibrate_profiles(fit_profiles(column, spec), column, 1000, spec.tests)["f"]
            assert isinstance(ref, NumericReference)
            p = []
            for w in x[size:].reshape(-1, 1000):
                cmp = compare_numeric(ref, w, wasserstein=False, js=False, bins=True, ks=False)
                _, found = calibrated_checks(
                    "f", AlertKind.DATA_DRIFT, ref, cmp, frozenset(spec.tests), 0, 1000, 1e-3,
                    {}, "",
                )  # fmt: skip
                p.append(found["bins"])
            v = np.array(p)
            rates = " | ".join(f"{np.mean(v <= a):.4f}" for a in (1e-2, 1e-3, 1e-4))
            print(f"| {phi} | {size:,} | {rates} |")


if __name__ == "__main__":
    main()
