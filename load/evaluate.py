"""Detection quality: how fast streamdrift and River's detectors see drift, and how often
they cry wolf.

    python -m load.evaluate [--out load/results] [--quick] [--jobs 2] [--no-plots]

For each drift scenario (sudden, gradual, incremental, recurring, prediction) the stream is
generated with replay timestamps and fed, without Kafka, to ``MonitorFleet`` with the
default specs (reference: the first 2,000 events; tumbling windows of 1,000 events; a
feature drifts when PSI >= 0.2, or Cohen's w / the missing share moves by >= 0.1, *and*
Benjamini–Hochberg at α = 0.01 rejects over the window's tests).

* **streamdrift**: a detection is a *firing* alert; its event index is that of the last
  event of the window that fired. Delay = that index − the change point. A miss: nothing
  fires on the drifted stream within the scenario's ``horizon`` events of the change point.
  False alarms: firings before the change point, or on a stream the scenario did not move
  (the prediction counts as moved when the drifted feature is one of its inputs). In the
  recurring scenario the seasonal pattern is already in the reference, so every firing is
  a false alarm.
* **River** (through ``streamdrift.detectors.make_detector``), each on the drifted stream's
  raw per-event values (categorical: the indicator of the category whose share moves;
  prediction: the published score), from the first event on:
  ADWIN (River defaults, delta = 0.002) and PageHinkley (delta = 0.25, threshold = 50, the
  setting streamdrift's PageHinkley docstring gives for σ = 1) see the stream
  *standardised by the mean and standard deviation of its first 2,000 events*; KSWIN
  (alpha = 1e-4, window_size = 100, stat_size = 30, seed = 7) sees the raw values (the KS
  test does not depend on scale). PageHinkley with River's defaults (delta = 0.005,
  threshold = 50) is shown too, on the same standardised stream. A detection is the first
  firing within the horizon; false alarms are firings before the change point (recurring:
  every firing).
* **False alarms per million stationary events** (``stationary.toml``: 12 numeric and 8
  categorical features): streamdrift over the whole model (21 streams: the features and
  the prediction), also given per stream; River per numeric feature stream (ADWIN and
  PageHinkley on all 12, KSWIN, which costs about 0.5 ms per value, on the first few
  numeric streams and fewer events: the exposure is in the table).

Results: a table on stdout and in ``<out>/evaluation.md`` and ``.json``, and one PNG per
scenario (``<out>/<scenario>.png``): the per-window PSI of the drifted stream, the change
points, and every method's detections. Progress goes to stderr.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from load import cbpe_eval, experiments
from load.scenarios import PREDICTION, Chunk, Timing, TrafficGenerator, load_scenario
from load.spec import CategoricalFeature, Scenario
from streamdrift import config
from streamdrift.detectors import make_detector
from streamdrift.drift.fleet import MonitorFleet
from streamdrift.records import AlertStatus

SCENARIO_DIR = Path(__file__).parent / "scenarios"
DRIFT_SCENARIOS = ("sudden", "gradual", "incremental", "recurring", "prediction")
STANDARDISE_EVENTS = 2000


@dataclass(frozen=True, slots=True)
class RiverMethod:
    name: str  # column label
    detector: str  # registry name
    params: dict[str, Any]
    standardise: bool


RIVER_METHODS = (
    RiverMethod("ADWIN", "adwin", {"delta": 0.002}, True),
    RiverMethod("PageHinkley", "page_hinkley", {"delta": 0.25, "threshold": 50.0}, True),
    RiverMethod(
        "KSWIN", "kswin", {"alpha": 1e-4, "window_size": 100, "stat_size": 30, "seed": 7}, False
    ),
    RiverMethod(
        "PageHinkley (River defaults)",
        "page_hinkley",
        {"delta": 0.005, "threshold": 50.0},
        True,
    ),
)
STREAMDRIFT = "streamdrift"
METHODS = (STREAMDRIFT, *(m.name for m in RIVER_METHODS))


@dataclass(frozen=True, slots=True)
class Sizes:
    """How much to run: stationary events (whole model) and KSWIN's stationary exposure."""

    stationary_events: int = 1_000_000
    kswin_streams: int = 4
    kswin_events: int = 100_000


FULL = Sizes()
QUICK = Sizes(stationary_events=200_000, kswin_streams=1, kswin_events=20_000)


# -- running River detectors (in worker processes) ----------------------------------------


def run_detector(method: RiverMethod, values: npt.NDArray[np.float64]) -> list[int]:
    """Positions in ``values`` at which ``method`` fired."""
    x = values
    if method.standardise:
        head = x[:STANDARDISE_EVENTS]
        std = float(head.std()) or 1.0
        x = (x - float(head.mean())) / std
    return make_detector(method.detector, **method.params).update_many(x)


class _Inline(Executor):
    """Runs submitted calls at once (``--jobs 1``; tests)."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        future.set_result(fn(*args, **kwargs))
        return future


# -- one drift scenario -------------------------------------------------------------------


@dataclass(slots=True)
class Target:
    """The stream a change point moves, as each method sees it."""

    feature: str | None  # None: the prediction
    stream: str  # feature name or PREDICTION
    start: int
    end: int | None
    kind: str
    description: str
    category: str | None = None
    models: tuple[str, ...] | None = None
    segments: tuple[str, ...] | None = None
    indices: list[npt.NDArray[np.int64]] = field(default_factory=list)
    values: list[npt.NDArray[np.float64]] = field(default_factory=list)


@dataclass(slots=True)
class Observed:
    """What one scenario run produced, before scoring."""

    scenario: Scenario
    targets: list[Target]
    firings: list[tuple[str, int, str]]  # streamdrift: (stream, event index, detector)
    psi: dict[str, list[tuple[int, float]]]  # stream -> (window end index, PSI)
    moved: dict[str, int]  # stream -> the first (non-seasonal) change point that moves it
    events: int
    seconds: float
    pending: dict[tuple[str, int], Future[list[int]]] = field(default_factory=dict)
    river: dict[tuple[str, int], list[int]] = field(default_factory=dict)  # -> event indices


def _timing(scenario: Scenario) -> Timing:
    t = scenario.timing
    return t if t.mode == "replay" else Timing("replay")


def observe_scenario(
    scenario: Scenario,
    pool: Executor,
    *,
    methods: Sequence[str] = METHODS,
    events: int | None = None,
    progress: Callable[[str], None] = lambda s: None,
) -> Observed:
    """Generate the stream, run streamdrift on it, submit the River runs to ``pool``."""
    started = time.perf_counter()
    timing = _timing(scenario)
    gen = TrafficGenerator(scenario, timing=timing, malformed=False)
    specs = config.load({}, environ={}).model_specs()
    fleet = MonitorFleet(specs)
    targets = []
    moved: dict[str, int] = {}
    for cp, drift in zip(gen.change_points, scenario.drifts, strict=True):
        if not cp.streams:
            continue
        stream = cp.feature if cp.feature is not None else PREDICTION
        targets.append(
            Target(
                cp.feature,
                stream,
                cp.start,
                cp.end,
                cp.kind,
                cp.description,
                drift.category,
                cp.models,
                cp.segments,
            )
        )
        if cp.kind != "recurring":
            for s in cp.streams:
                moved[s] = min(moved.get(s, cp.start), cp.start)
    plotted = {t.stream for t in targets}
    firings: list[tuple[str, int, str]] = []
    psi: dict[str, list[tuple[int, float]]] = {s: [] for s in plotted}

    def index_of(stamp: float) -> int:
        return round((stamp - timing.start) / timing.spacing)

    total = scenario.events if events is None else events
    for chunk in gen.chunks(total):
        update = fleet.observe(chunk.batches)
        for alert in update.alerts:
            if alert.status is AlertStatus.FIRING:
                stream = alert.feature if alert.feature is not None else PREDICTION
                firings.append((stream, index_of(alert.window.end), alert.detector))
        for window in update.windows:
            for test in window.tests:
                if test.detector == "psi" and test.feature in plotted:
                    psi[test.feature].append((index_of(window.window.end), test.value))
        for target in targets:
            _collect(target, chunk, scenario)
    seconds = time.perf_counter() - started
    progress(
        f"{scenario.name}: streamdrift on {total:,} events in {seconds:.1f}s, "
        f"{len(firings)} firing alert(s)"
    )
    observed = Observed(scenario, targets, firings, psi, moved, total, seconds)
    for method in RIVER_METHODS:
        if method.name not in methods:
            continue
        for k, target in enumerate(targets):
            values = np.concatenate(target.values) if target.values else np.empty(0)
            observed.pending[(method.name, k)] = pool.submit(run_detector, method, values)
    return observed


def _collect(target: Target, chunk: Chunk, scenario: Scenario) -> None:
    keep = np.ones(len(chunk), dtype=bool)
    if target.models is not None:
        keep &= np.isin(chunk.model_ids, np.array(target.models, dtype=object))
    if target.segments is not None:
        keep &= np.isin(chunk.segments, np.array(target.segments, dtype=object))
    if target.feature is None:
        pred = scenario.prediction
        if pred.output == "score":
            values = chunk.predictions.astype(np.float64)
        else:
            values = (chunk.predictions == pred.classes[1]).astype(np.float64)
    else:
        feature = scenario.features[target.feature]
        raw = chunk.values[target.feature]
        if isinstance(feature, CategoricalFeature):
            values = (raw == target.category).astype(np.float64)
            keep &= raw != None  # noqa: E711  (object array: elementwise)
        else:
            values = raw.astype(np.float64)
    keep &= np.isfinite(values)
    target.indices.append(chunk.indices[keep])
    target.values.append(values[keep])


def finish(observed: Observed) -> None:
    """Wait for the River runs and map their positions to event indices."""
    for (name, k), future in observed.pending.items():
        positions = future.result()
        target = observed.targets[k]
        indices = np.concatenate(target.indices) if target.indices else np.empty(0, np.int64)
        observed.river[(name, k)] = indices[positions].tolist() if positions else []
    observed.pending.clear()


# -- scoring ------------------------------------------------------------------------------


def score(observed: Observed, methods: Sequence[str] = METHODS) -> dict[str, Any]:
    """Delays, misses and false alarms of every method on one scenario (JSON-able)."""
    scenario = observed.scenario
    horizon = scenario.horizon
    targets = observed.targets
    seasonal = {t.stream for t in targets if t.kind == "recurring"}
    moved = observed.moved
    results: dict[str, Any] = {}
    for method in methods:
        delays: list[int | None] = []
        false_alarms: list[dict[str, Any]] = []
        if method == STREAMDRIFT:
            per_stream: dict[str, list[int]] = {}
            for stream, index, detector in observed.firings:
                per_stream.setdefault(stream, []).append(index)
                first = moved.get(stream)
                if stream in seasonal or first is None or index < first:
                    false_alarms.append({"stream": stream, "index": index, "detector": detector})
            for t in targets:
                if t.kind != "recurring":
                    delays.append(_first_after(per_stream.get(t.stream, []), t.start, horizon))
        else:
            seen = False
            for k, t in enumerate(targets):
                if (method, k) not in observed.river:
                    continue
                seen = True
                fired = observed.river[(method, k)]
                if t.kind == "recurring":
                    early = fired
                else:
                    early = [i for i in fired if i < t.start]
                    delays.append(_first_after(fired, t.start, horizon))
                false_alarms.extend({"stream": t.stream, "index": i} for i in early)
            if not seen:
                continue
        results[method] = {
            "delays": delays,
            "misses": sum(d is None for d in delays),
            "false_alarms": len(false_alarms),
            "false_alarm_detail": false_alarms[:50],
        }
    return {
        "scenario": scenario.name,
        "description": " ".join(scenario.description.split()),
        "events": observed.events,
        "horizon": horizon,
        "change_points": [
            {
                "stream": t.stream,
                "start": t.start,
                "end": t.end,
                "kind": t.kind,
                "description": t.description,
            }
            for t in targets
        ],
        "methods": results,
    }


def _first_after(indices: Iterable[int], start: int, horizon: int) -> int | None:
    hits = [i - start for i in indices if start <= i <= start + horizon]
    return min(hits) if hits else None


# -- stationary: false alarms per million events -------------------------------------------


def stationary(
    sizes: Sizes,
    pool: Executor,
    *,
    path: Path = SCENARIO_DIR / "stationary.toml",
    methods: Sequence[str] = METHODS,
    progress: Callable[[str], None] = lambda s: None,
) -> dict[str, Any]:
    """False alarms per million events of a stream without drift."""
    scenario = load_scenario(path)
    gen = TrafficGenerator(scenario, timing=_timing(scenario), malformed=False)
    fleet = MonitorFleet(config.load({}, environ={}).model_specs())
    numeric = [n for n, f in scenario.features.items() if not isinstance(f, CategoricalFeature)]
    columns: dict[str, list[npt.NDArray[np.float64]]] = {n: [] for n in numeric}
    firings: list[dict[str, Any]] = []
    started = time.perf_counter()
    last = started
    n = sizes.stationary_events
    streams = 0
    for chunk in gen.chunks(n):
        update = fleet.observe(chunk.batches)
        firings.extend(
            {
                "stream": a.feature or PREDICTION,
                "detector": a.detector,
                "value": a.value,
                "index": round((a.window.end - gen.timing.start) / gen.timing.spacing),
            }
            for a in update.alerts
            if a.status is AlertStatus.FIRING
        )
        for name in numeric:
            x = chunk.values[name]
            columns[name].append(x[np.isfinite(x)])
        if time.perf_counter() - last > 5:
            last = time.perf_counter()
            progress(f"stationary: {gen.produced:,}/{n:,} events through streamdrift")
    for monitor in fleet.monitors.values():
        streams = max(streams, len(monitor.profiles))
    progress(
        f"stationary: streamdrift on {n:,} events in {time.perf_counter() - started:.1f}s, "
        f"{len(firings)} firing alert(s)"
    )
    out: dict[str, Any] = {
        "events": n,
        "numeric_streams": len(numeric),
        STREAMDRIFT: {
            "streams": streams,
            "false_alarms": len(firings),
            "per_million": len(firings) / n * 1e6,
            "per_million_per_stream": len(firings) / n * 1e6 / max(streams, 1),
            "detail": firings[:50],
        },
    }
    futures: dict[str, list[tuple[str, Future[list[int]], int]]] = {}
    for method in RIVER_METHODS:
        if method.name not in methods:
            continue
        chosen = numeric[: sizes.kswin_streams] if method.detector == "kswin" else numeric
        limit = sizes.kswin_events if method.detector == "kswin" else n
        for name in chosen:
            values = np.concatenate(columns[name])[:limit]
            futures.setdefault(method.name, []).append(
                (name, pool.submit(run_detector, method, values), len(values))
            )
    for method_name, runs in futures.items():
        alarms = 0
        exposure = 0
        detail = {}
        for name, future, count in runs:
            fired = future.result()
            alarms += len(fired)
            exposure += count
            detail[name] = len(fired)
        out[method_name] = {
            "streams": len(runs),
            "events_per_stream": max(c for _, _, c in runs),
            "false_alarms": alarms,
            "per_million_per_stream": alarms / exposure * 1e6,
            "per_million": alarms / exposure * 1e6 * len(numeric),
            "per_stream": detail,
        }
        progress(f"stationary: {method_name} done, {alarms} alarm(s) in {exposure:,} values")
    return out


# -- the whole evaluation -----------------------------------------------------------------


def evaluate(
    sizes: Sizes = FULL,
    *,
    scenarios: Sequence[str | Path] = DRIFT_SCENARIOS,
    stationary_path: Path | None = SCENARIO_DIR / "stationary.toml",
    methods: Sequence[str] = METHODS,
    jobs: int = 1,
    out: Path | None = None,
    plots: bool = True,
    progress: Callable[[str], None] = lambda s: None,
) -> dict[str, Any]:
    """Run everything; write ``evaluation.md``, ``evaluation.json`` and PNGs under ``out``.

    ``scenarios`` are names in ``load/scenarios`` or paths to scenario files.
    """
    started = time.perf_counter()
    pool: Executor = ProcessPoolExecutor(jobs) if jobs > 1 else _Inline()
    try:
        observed = []
        for item in scenarios:
            path = Path(item)
            if not path.suffix:
                path = SCENARIO_DIR / f"{item}.toml"
            observed.append(
                observe_scenario(load_scenario(path), pool, methods=methods, progress=progress)
            )
        still = (
            stationary(sizes, pool, path=stationary_path, methods=methods, progress=progress)
            if stationary_path is not None
            else None
        )
        results = []
        for obs in observed:
            finish(obs)
            progress(f"{obs.scenario.name}: River detectors done")
            results.append(score(obs, methods))
    finally:
        pool.shutdown()
    report = {
        "sizes": {
            "stationary_events": sizes.stationary_events,
            "kswin_streams": sizes.kswin_streams,
            "kswin_events": sizes.kswin_events,
        },
        "methods": {
            m.name: {"detector": m.detector, "params": m.params, "standardised": m.standardise}
            for m in RIVER_METHODS
            if m.name in methods
        },
        "scenarios": results,
        "stationary": still,
        "seconds": round(time.perf_counter() - started, 1),
    }
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        (out / "evaluation.json").write_text(json.dumps(report, indent=2) + "\n")
        (out / "evaluation.md").write_text(markdown(report))
        if plots:
            for obs in observed:
                plot(obs, out / f"{obs.scenario.name}.png")
    return report


# -- output -------------------------------------------------------------------------------


def table(report: dict[str, Any]) -> str:
    """The method × scenario table (Markdown): delay / misses / false alarms, and FA/1M."""
    scenarios = report["scenarios"]
    still = report.get("stationary")
    methods = [m for m in METHODS if any(m in s["methods"] for s in scenarios)]
    head = ["method", *(s["scenario"] for s in scenarios)]
    if still:
        head += ["FA/1M per stream", "FA/1M whole model"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for method in methods:
        cells = [method]
        for s in scenarios:
            r = s["methods"].get(method)
            if r is None:
                cells.append("–")
                continue
            delays = ", ".join("miss" if d is None else f"{d:,}" for d in r["delays"]) or "–"
            cells.append(f"{delays} / {r['misses']} / {r['false_alarms']}")
        if still:
            st = still.get(method)
            if st is None:
                cells += ["–", "–"]
            else:
                cells.append(_rate(st["per_million_per_stream"]))
                cells.append(_rate(st["per_million"]))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _rate(x: float) -> str:
    return f"{x:.2f}" if x < 10 else f"{x:,.0f}"


def markdown(report: dict[str, Any]) -> str:
    still = report.get("stationary")
    parts = [
        "# streamdrift detection quality\n\n",
        "Produced by `python -m load.evaluate` (the method: `load/evaluate.py`).\n\n",
        "Cells: **delay in events** (per change point; `miss`: nothing within the horizon) "
        "/ **misses** / **false alarms** (firings before the change point or on a stream "
        "that did not move; recurring: every firing). FA/1M: false alarms per million "
        "stationary events.\n\n",
        table(report),
        "\nChange points:\n\n",
    ]
    for s in report["scenarios"]:
        cps = "; ".join(c["description"] for c in s["change_points"]) or "none"
        parts.append(
            f"- **{s['scenario']}** ({s['events']:,} events, horizon {s['horizon']:,}): {cps}\n"
        )
    parts.append(
        "\nstreamdrift: default specs (reference = first 2,000 events, tumbling windows of "
        "1,000 events, PSI ≥ 0.2 / Cohen's w ≥ 0.1 / missing share ± 0.1 and "
        "Benjamini–Hochberg at α = 0.01); a detection is counted at the last event of the "
        "window that fired. River detectors run per event on the drifted stream; ADWIN and "
        "PageHinkley see it standardised by its first 2,000 events' mean and standard "
        "deviation:\n\n"
    )
    for name, m in report["methods"].items():
        params = ", ".join(f"{k}={v}" for k, v in m["params"].items())
        scale = "standardised" if m["standardised"] else "raw values"
        parts.append(f"- {name}: `{m['detector']}({params})`, {scale}\n")
    if still:
        sd = still[STREAMDRIFT]
        parts.append(
            f"\nFalse alarms on `stationary.toml` ({still['events']:,} events): streamdrift "
            f"{sd['false_alarms']} firing alert(s) over the whole model ({sd['streams']} "
            "monitored streams: the features and the prediction; per stream = that / "
            f"{sd['streams']}). River, per numeric feature stream; whole model = per stream × "
            f"{still['numeric_streams']} numeric streams:\n\n"
        )
        for name in report["methods"]:
            st = still.get(name)
            if st:
                parts.append(
                    f"- {name}: {st['false_alarms']:,} alarm(s) on {st['streams']} stream(s) × "
                    f"{st['events_per_stream']:,} events\n"
                )
    parts.append(f"\nRun time: {report['seconds']:.0f} s.\n")
    return "".join(parts)


def plot(observed: Observed, path: Path) -> None:
    """Per-window PSI of the drifted stream(s), change points, and every detection."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (top, bottom) = plt.subplots(
        2, 1, figsize=(11, 6), sharex=True, gridspec_kw={"height_ratios": [3, 2]}
    )
    for stream, series in sorted(observed.psi.items()):
        if series:
            label = "prediction" if stream == PREDICTION else stream
            top.plot(*np.array(series).T, marker=".", label=f"PSI of {label}")
    top.axhline(0.2, color="grey", linestyle=":", label="PSI threshold 0.2")
    top.set_ylim(bottom=0)
    top.set_ylabel("PSI per 1,000-event window")
    top.set_title(
        f"{observed.scenario.name}: " + "; ".join(t.description for t in observed.targets)
    )
    rows = [STREAMDRIFT, *(m.name for m in RIVER_METHODS)]
    for y, method in enumerate(rows):
        if method == STREAMDRIFT:
            xs = [i for _, i, _ in observed.firings]
        else:
            xs = [i for (name, _), v in observed.river.items() if name == method for i in v]
        bottom.scatter(xs, [y] * len(xs), marker="|", s=200)
    bottom.set_yticks(range(len(rows)), rows)
    bottom.set_ylim(-0.5, len(rows) - 0.5)
    bottom.set_xlabel("event index")
    for axis in (top, bottom):
        for t in observed.targets:
            if t.kind == "recurring":
                continue
            axis.axvline(t.start, color="red", linewidth=1)
            if t.end is not None and t.end > t.start:
                axis.axvspan(t.start, t.end, color="red", alpha=0.08)
        axis.set_xlim(0, observed.events)
    top.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m load.evaluate",
        description="Measure detection delay, misses and false alarms of streamdrift (default "
        "specs, no Kafka) and of River's ADWIN, PageHinkley and KSWIN on the drift "
        "scenarios in load/scenarios, and false alarms per million stationary events.",
    )
    parser.add_argument("--out", type=Path, default=Path("load/results"), help="output folder")
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"{QUICK.stationary_events:,} stationary events instead of "
        f"{FULL.stationary_events:,}, KSWIN on fewer stationary values (under 2 minutes)",
    )
    parser.add_argument(
        "--jobs",
        type=int,
        default=min(2, os.cpu_count() or 1),
        help="processes for the River detectors (default: %(default)s)",
    )
    parser.add_argument("--no-plots", action="store_true", help="skip the PNGs")
    args = parser.parse_args(argv)
    if args.jobs < 1:
        parser.error("--jobs must be at least 1")
    started = time.perf_counter()

    def progress(message: str) -> None:
        print(f"[{time.perf_counter() - started:6.1f}s] {message}", file=sys.stderr, flush=True)

    report = evaluate(
        QUICK if args.quick else FULL,
        jobs=args.jobs,
        out=args.out,
        plots=not args.no_plots,
        progress=progress,
    )
    print(table(report))
    section = cbpe_eval.section()  # label-free performance estimates (load/cbpe_eval.py)
    print(section)
    with (args.out / "evaluation.md").open("a") as f:
        f.write("\n" + section)
    print(f"written: {args.out / 'evaluation.md'}, .json and PNGs ({report['seconds']:.0f} s)")
    progress("champion/challenger simulations (load/experiments.py)")
    ab = experiments.evaluate(experiments.QUICK if args.quick else experiments.FULL)
    (args.out / "experiments.json").write_text(json.dumps(ab, indent=2))
    print(experiments.table(ab))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
