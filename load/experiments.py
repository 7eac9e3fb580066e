"""Champion and challenger, measured on seeded simulations (no Kafka; the vectorised core
that the worker runs: ``Comparison``, ``decisions`` and the SRM e-value path).

* **A/A**: ``n`` experiments of two variants with the same accuracy (80 %), checked at
  every window of ``every`` labelled requests up to ``events``: the share of experiments
  with a wrong decision (``superior`` or ``inferior``) at any window, unpaired (50/50 A/B
  assignment) and paired (shadow: two models, equally accurate, that share 90 % of their
  randomness, so their errors are correlated as two versions of one model are).
* **A 2-point gain** (80 % → 82 % accuracy): the labelled requests until ``superior``
  (the first window where the lower bound passes 0), unpaired and paired, per seed.
* **Sample-ratio mismatch**: a 52/48 assignment checked against the configured 50/50: the
  event at which the e-value first reaches 1/alpha, per seed (None: not within the events).
* **Lumpy arrival** (``experiments/assignment.py``): each variant's predictions arrive in
  envelopes of ``srm_envelope`` of that variant alone, the challenger's ``srm_lag`` seconds
  behind, at ``srm_rate`` requests per second; the worker's bucketed test with the default
  ``srm_lateness``: how often a correct 50/50 split is flagged (and how often the test on the
  order of arrival would flag it), and the predictions read until a 52/48 split is flagged.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from streamdrift.config.experiments import ExperimentSpec
from streamdrift.experiments.assignment import AssignmentBuckets
from streamdrift.experiments.comparison import Comparison, decisions
from streamdrift.experiments.srm import SampleRatioTest, log_evalue_path

BASE, GAIN, SHARED = 0.80, 0.02, 0.9


@dataclass(frozen=True, slots=True)
class Plan:
    aa_experiments: int = 200
    aa_events: int = 20_000
    gain_runs: int = 20
    gain_max_events: int = 200_000
    srm_runs: int = 20
    srm_events: int = 100_000
    srm_null_runs: int = 200
    srm_rate: float = 100.0  # requests per second
    srm_envelope: int = 500  # predictions of one variant per envelope
    srm_lag: float = 5.0  # seconds the challenger's envelopes trail the champion's
    every: int = 1000
    alpha: float = 0.05


QUICK = Plan(gain_runs=10, srm_runs=10, srm_null_runs=50)
FULL = Plan()


def _outcomes(
    rng: np.random.Generator, n: int, p0: float, p1: float, paired: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(z, g_champion, g_challenger): 0/1 correctness of each request under each variant;
    paired variants share the request's randomness with probability SHARED."""
    u = rng.random(n)
    g0 = (u < p0).astype(np.float64)
    own = np.where(rng.random(n) < SHARED, u, rng.random(n)) if paired else rng.random(n)
    g1 = (own < p1).astype(np.float64)
    z = (rng.random(n) < 0.5).astype(np.int64)
    return z, g0, g1


def run(
    rng: np.random.Generator, plan: Plan, n: int, p1: float, paired: bool
) -> list[tuple[int, list[str]]]:
    """The decisions at every window of one simulated experiment: [(requests, decisions)]."""
    z, g0, g1 = _outcomes(rng, n, BASE, p1, paired)
    at = np.arange(plan.every - 1, n, plan.every)
    c = Comparison(0.5, paired)
    if paired:
        cp = c.update_paired(g0, g1, at, plan.alpha)
    else:
        cp = c.update_unpaired(z, np.where(z == 1, g1, g0), at, plan.alpha)
    return [
        (
            int(cp.n[k]),
            decisions(
                float(cp.lower[k]),
                float(cp.upper[k]),
                0.0,
                int(cp.n_champion[k]),
                int(cp.n_challenger[k]),
            ),
        )
        for k in range(len(at))
    ]


def aa_wrong_rate(plan: Plan, paired: bool, seed: int = 1) -> float:
    rng = np.random.default_rng(seed)
    wrong = 0
    for _ in range(plan.aa_experiments):
        path = run(rng, plan, plan.aa_events, BASE, paired)
        wrong += any(d for _, d in path)  # margin 0: every decision is superior/inferior
    return wrong / plan.aa_experiments


def events_to_superior(plan: Plan, paired: bool, seed: int = 2) -> list[int | None]:
    rng = np.random.default_rng(seed)
    out: list[int | None] = []
    for _ in range(plan.gain_runs):
        path = run(rng, plan, plan.gain_max_events, BASE + GAIN, paired)
        out.append(next((n for n, d in path if "superior" in d), None))
    return out


def srm_flagged_at(plan: Plan, seed: int = 3) -> list[int | None]:
    rng = np.random.default_rng(seed)
    out: list[int | None] = []
    for _ in range(plan.srm_runs):
        variants = (rng.random(plan.srm_events) < 0.48).astype(np.int64)  # 1: 48 %
        path = log_evalue_path(variants, (0.5, 0.5))
        hit = np.nonzero(path >= np.log(1 / plan.alpha))[0]
        out.append(int(hit[0]) + 1 if len(hit) else None)
    return out


def lumpy_arrival(
    rng: np.random.Generator, plan: Plan, challenger_share: float, lateness: float
) -> tuple[int | None, bool]:
    """One experiment of ``plan.srm_events`` requests whose variants arrive in per-variant
    envelopes: (predictions read when the bucketed test flags it or None, whether the test
    on the order of arrival would have flagged it)."""
    n = plan.srm_events
    ts = 1.7e9 + np.arange(n) / plan.srm_rate
    variants = (rng.random(n) < challenger_share).astype(np.int64)
    envelopes: list[tuple[float, np.ndarray]] = []
    for k, lag in ((0, 0.0), (1, plan.srm_lag)):
        rows = np.nonzero(variants == k)[0]
        for part in np.array_split(rows, max(1, -(-len(rows) // plan.srm_envelope))):
            if len(part):
                envelopes.append((float(ts[part[-1]]) + lag, part))
    envelopes.sort(key=lambda e: e[0])
    buckets = AssignmentBuckets(2, lateness)
    bucketed, arrival = SampleRatioTest((0.5, 0.5)), SampleRatioTest((0.5, 0.5))
    read, flagged_at, naive = 0, None, False
    for _, rows in envelopes:
        read += len(rows)
        arrival.update(variants[rows])
        naive = naive or arrival.mismatch(plan.alpha)
        for counts in buckets.add(ts[rows], variants[rows]):
            bucketed.update_counts(counts)
            if flagged_at is None and bucketed.mismatch(plan.alpha):
                flagged_at = read
    return flagged_at, naive


def srm_lumpy(plan: Plan, seed: int = 4) -> dict[str, Any]:
    """A correct split and a 52/48 split under lumpy arrival (the default srm_lateness)."""
    lateness = ExperimentSpec("default").srm_lateness
    rng = np.random.default_rng(seed)
    null = [lumpy_arrival(rng, plan, 0.5, lateness) for _ in range(plan.srm_null_runs)]
    skewed = [lumpy_arrival(rng, plan, 0.48, lateness)[0] for _ in range(plan.srm_runs)]
    return {
        "runs": plan.srm_null_runs,
        "flagged": sum(at is not None for at, _ in null) / plan.srm_null_runs,
        "flagged_by_arrival_order": sum(naive for _, naive in null) / plan.srm_null_runs,
        "skewed": {**_summary(skewed), "events": plan.srm_events},
        "rate": plan.srm_rate,
        "envelope": plan.srm_envelope,
        "lag": plan.srm_lag,
        "lateness": lateness,
    }


def _summary(values: list[int | None]) -> dict[str, Any]:
    found = sorted(v for v in values if v is not None)
    return {
        "runs": len(values),
        "decided": len(found),
        "median": float(np.median(found)) if found else None,
        "max": max(found) if found else None,
    }


def evaluate(plan: Plan) -> dict[str, Any]:
    return {
        "alpha": plan.alpha,
        "every": plan.every,
        "aa": {
            "experiments": plan.aa_experiments,
            "events": plan.aa_events,
            "unpaired": aa_wrong_rate(plan, paired=False),
            "paired": aa_wrong_rate(plan, paired=True),
        },
        "gain": {
            "unpaired": _summary(events_to_superior(plan, paired=False)),
            "paired": _summary(events_to_superior(plan, paired=True)),
            "max_events": plan.gain_max_events,
        },
        "srm": {**_summary(srm_flagged_at(plan)), "events": plan.srm_events},
        "srm_lumpy": srm_lumpy(plan),
    }


def table(r: dict[str, Any]) -> str:
    aa, gain, srm = r["aa"], r["gain"], r["srm"]
    lines = [
        f"Champion/challenger (alpha = {r['alpha']}, checked every {r['every']} labels)",
        "",
        "| measurement | unpaired (A/B) | paired (shadow) |",
        "|---|---|---|",
        f"| A/A: wrong decisions, {aa['experiments']} experiments x {aa['events']:,} labels "
        f"| {aa['unpaired']:.1%} | {aa['paired']:.1%} |",
    ]
    cells = []
    for key in ("unpaired", "paired"):
        g = gain[key]
        cells.append(
            f"median {g['median']:,.0f}, max {g['max']:,} ({g['decided']}/{g['runs']} decided)"
            if g["median"] is not None
            else f"none of {g['runs']} within {gain['max_events']:,}"
        )
    lines.append(f"| 80 % -> 82 % accuracy: labels to superior | {cells[0]} | {cells[1]} |")
    lines.append(
        f"| 52/48 split configured 50/50: events to flag | median {srm['median']:,.0f}, max "
        f"{srm['max']:,} ({srm['decided']}/{srm['runs']} within {srm['events']:,}) | |"
    )
    lumpy = r["srm_lumpy"]
    skewed = lumpy["skewed"]
    lines += [
        "",
        f"Lumpy arrival: envelopes of {lumpy['envelope']} predictions of one variant, the "
        f"challenger's {lumpy['lag']:g} s behind, {lumpy['rate']:g} requests/s, "
        f"srm_lateness {lumpy['lateness']:g} s",
        "",
        "| measurement | event-time buckets (the worker) | order of arrival |",
        "|---|---|---|",
        f"| correct 50/50 split flagged, {lumpy['runs']} runs x {skewed['events']:,} "
        f"| {lumpy['flagged']:.1%} | {lumpy['flagged_by_arrival_order']:.1%} |",
        f"| 52/48 split configured 50/50: predictions read until flagged | median "
        f"{skewed['median']:,.0f}, max {skewed['max']:,} ({skewed['decided']}/{skewed['runs']}"
        f" within {skewed['events']:,}) | |",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    print(table(evaluate(FULL)))
