"""Detection quality on real, public datasets and on AR(1) streams (issue #13, item 4).

    python -m load.evaluate_real [--out load/results] [--quick] [--no-plots]

Every case is a stream of rows in their stored order: the first ``reference`` rows are the
model's reference (``reference.mode = "first"``), the rows after them are live traffic cut
into tumbling count windows of ``window`` events. Two kinds of case:

* **replay**: the live rows are the reference rows themselves, in the same order. Nothing
  changed, so every firing alert is a false alarm (target 0).
* **shift**: a change is injected at a window boundary of the live rows (a feature moved by
  a multiple of its reference standard deviation, or labels flipped so that the model's
  accuracy falls by about 3 points); the delay is counted from that row to the last row of
  the first window whose alert names the moved stream.

Methods: streamdrift under each configuration of :data:`CONFIGS` (driven in-process like
``load/evaluate.py``: :class:`MonitorFleet` for drift, :class:`DegradationFleet` for labels
and scores), and River's ADWIN, PageHinkley and KSWIN as ``load/evaluate.py`` runs them, on
the moved stream's raw values (on a replay: each numeric feature, KSWIN on the first one).

Results: ``<out>/real_data.md`` and ``.json``, one PNG per case (``<out>/real_<case>.png``).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from load.ar1 import ar1_dataset
from load.datasets import Dataset, fit_scores, load, prediction_events
from load.evaluate import RIVER_METHODS, RiverMethod, run_detector
from streamdrift.alerts.policy import AlertPolicy
from streamdrift.config.spec import ModelSpecs, MonitorSpec
from streamdrift.drift.fleet import MonitorFleet
from streamdrift.engine.references import build_performance
from streamdrift.labels.degradation import DegradationFleet
from streamdrift.labels.labelled_metrics import ReferencePerformance
from streamdrift.records import PREDICTION, AlertKind, AlertStatus, WindowResult

PERFORMANCE = "performance"  # the moved "stream" of an accuracy change
START = 1_700_000_000.0
PLOTTED = 500  # firings kept per method in the JSON (and the plot)


@dataclass(frozen=True, slots=True)
class Config:
    """One streamdrift configuration: spec overrides on top of the per-case window and
    reference, and how its alerts split into columns (per-window / accumulated)."""

    name: str
    overrides: Mapping[str, Any] = field(default_factory=dict)
    columns: tuple[str, ...] = ("",)  # every column, even one nothing fired in
    column: Callable[[str], str] = lambda detector: ""


def _decision(detector: str) -> str:
    """Which decision an alert of the calibrated method came from."""
    return "accumulated" if detector.startswith("cusum") else "per-window"


CONFIGS: tuple[Config, ...] = (
    # the defaults before issue #13: fixed effect gates (PSI >= 0.2 ...) and BH at alpha
    Config("previous defaults", {"threshold_mode": "fixed"}),
    # thresholds from the reference's own windows, the 30-day budget, CUSUM accumulation
    Config("calibrated", {}, ("per-window", "accumulated"), _decision),
)


@dataclass(frozen=True, slots=True)
class Case:
    name: str
    data: Dataset  # reference rows, then live rows, in play order
    reference: int
    window: int
    description: str
    scores: npt.NDArray[np.float64] | None = None
    labels: npt.NDArray[np.int64] | None = None
    change: int | None = None  # row of the stream where the injected change starts
    moved: tuple[str, ...] = ()  # streams the change moves (features, PREDICTION, PERFORMANCE)
    river_streams: tuple[str, ...] = ()  # streams River's detectors watch
    seconds_per_row: float = 1.0  # the data's clock, for alerts per 30 days

    @property
    def live_windows(self) -> int:
        return (len(self.data) - self.reference) // self.window


@dataclass(frozen=True, slots=True)
class Sizes:
    ar1_events: int = 500_000
    shuttle_live: int = 50_000
    kswin_events: int = 100_000


FULL = Sizes()
QUICK = Sizes(ar1_events=100_000, shuttle_live=30_000, kswin_events=0)  # 0: no KSWIN


# -- the cases ----------------------------------------------------------------------------


def _replay(data: Dataset, reference: int) -> Dataset:
    head = data.rows(slice(0, reference))
    both = np.concatenate([np.arange(reference), np.arange(reference)])
    return head.rows(both)


def _shift_feature(data: Dataset, feature: str, at: int, sigmas: float, reference: int) -> Dataset:
    column = data.columns[feature].astype(np.float64).copy()
    column[at:] += sigmas * float(np.nanstd(column[:reference]))
    return data.with_column(feature, column)


def _flip(labels: npt.NDArray[np.int64], at: int, share: float, seed: int) -> npt.NDArray[np.int64]:
    """Labels with a random ``share`` of the rows from ``at`` on flipped (0 <-> 1)."""
    rng = np.random.default_rng(seed)
    out = labels.copy()
    flip = np.zeros(len(out), dtype=bool)
    flip[at:] = rng.random(len(out) - at) < share
    out[flip] = 1 - out[flip]
    return out


def tmy3_cases(sizes: Sizes) -> list[Case]:
    """TMY3: one year of hourly weather is the reference; weekly windows."""
    out: list[Case] = []
    tmy = load("tmy3")
    week, year = 168, len(tmy)
    stream = _replay(tmy, year)
    assert tmy.label is not None
    scores = fit_scores(stream, slice(0, year))
    labels = stream.label
    out.append(
        Case(
            "tmy3_replay",
            stream,
            year,
            week,
            "TMY3 hourly weather: the reference year replayed",
            scores,
            labels,
            seconds_per_row=3600.0,
            river_streams=tuple(tmy.numeric),
        )
    )
    at = year + 26 * week
    shifted = _shift_feature(stream, "dry_bulb", at, 1.0, year)
    out.append(
        Case(
            "tmy3_shift",
            shifted,
            year,
            week,
            "TMY3: dry_bulb +1σ from week 27 of the replay (a miscalibrated sensor)",
            fit_scores(shifted, slice(0, year)),
            labels,
            at,
            ("dry_bulb", PREDICTION),
            ("dry_bulb",),
            3600.0,
        )
    )
    return out


def approval_cases(sizes: Sizes) -> list[Case]:
    """Approval polls: 1,001 days (1,000 used); windows of 100 days."""
    out: list[Case] = []
    polls = load("trump_approval")
    n = len(polls) // 100 * 100
    stream = _replay(polls, n)
    out.append(
        Case(
            "approval_replay",
            stream,
            n,
            100,
            "Approval polls (daily): the reference replayed",
            seconds_per_row=86400.0,
            river_streams=tuple(polls.numeric),
        )
    )
    at = n + 500
    out.append(
        Case(
            "approval_shift",
            _shift_feature(stream, "gallup", at, 1.0, n),
            n,
            100,
            "Approval polls: gallup +1σ from day 501 of the replay",
            change=at,
            moved=("gallup",),
            river_streams=("gallup",),
            seconds_per_row=86400.0,
        )
    )
    return out


def shuttle_cases(sizes: Sizes) -> list[Case]:
    """Shuttle (i.i.d.): 25,000 reference rows; the later rows, cycled, are live traffic."""
    out: list[Case] = []
    shuttle = load("shuttle")
    ref = 25_000
    later = np.arange(ref, len(shuttle))
    live = np.resize(later, sizes.shuttle_live)
    order = np.concatenate([np.arange(ref), live])
    stream = shuttle.rows(order)
    assert stream.label is not None
    scores = fit_scores(stream, slice(0, ref))
    at = ref + (sizes.shuttle_live // 5000 // 2) * 5000
    hourly = 3600.0 / 5000  # no clock: one 5,000-row window an hour
    out.append(
        Case(
            "shuttle_replay",
            _replay(shuttle, ref),
            ref,
            5000,
            "Shuttle: the reference replayed",
            scores[np.r_[0:ref, 0:ref]],
            stream.label[np.r_[0:ref, 0:ref]],
            seconds_per_row=hourly,
            river_streams=("f1",),
        )
    )
    out.append(
        Case(
            "shuttle_accuracy",
            stream,
            ref,
            5000,
            "Shuttle: 3 % of the labels flipped "
            "from the middle of the live rows (accuracy about −3 points)",
            scores,
            _flip(stream.label, at, 0.03, seed=13),
            at,
            (PERFORMANCE,),
            (PERFORMANCE,),
            hourly,
        )
    )
    moved = _shift_feature(stream, "f1", at, 1.0, ref)
    out.append(
        Case(
            "shuttle_shift",
            moved,
            ref,
            5000,
            "Shuttle: f1 +1σ from the middle of the live rows",
            fit_scores(moved, slice(0, ref)),
            stream.label,
            at,
            ("f1", PREDICTION, PERFORMANCE),
            ("f1",),
            hourly,
        )
    )
    return out


def ar1_cases(sizes: Sizes) -> list[Case]:
    """AR(1): 5 features, reference 5,000 events, windows of 1,000."""
    out: list[Case] = []
    for phi in (0.5, 0.9):
        n = sizes.ar1_events
        out.append(
            Case(
                f"ar1_{phi:g}_stationary",
                ar1_dataset(n, phi, seed=7),
                5000,
                1000,
                f"AR(1) φ = {phi:g}, 5 features, {n:,} events, stationary",
                seconds_per_row=3.6,
                river_streams=("x0",),
            )
        )
        at = 25_000
        for sigmas, tag in ((0.5, "0.5sd"), (1.0, "1sd")):
            out.append(
                Case(
                    f"ar1_{phi:g}_shift_{tag}",
                    ar1_dataset(40_000, phi, seed=8, shift=sigmas, shift_at=at),
                    5000,
                    1000,
                    f"AR(1) φ = {phi:g}: x0 +{sigmas:g}σ from event {at:,}",
                    change=at,
                    moved=("x0",),
                    river_streams=("x0",),
                    seconds_per_row=3.6,
                )
            )
    return out


GROUPS: dict[str, Callable[[Sizes], list[Case]]] = {
    "tmy3": tmy3_cases,
    "approval": approval_cases,
    "shuttle": shuttle_cases,
    "ar1": ar1_cases,
}


def cases(sizes: Sizes, groups: Sequence[str] = tuple(GROUPS)) -> list[Case]:
    """The evaluated cases (see the module docstring) of ``groups``; deterministic."""
    return [case for g in groups for case in GROUPS[g](sizes)]


# -- running streamdrift ------------------------------------------------------------------


@dataclass(slots=True)
class Firing:
    stream: str  # feature, PREDICTION or PERFORMANCE
    index: int  # row of the stream at the end of the window that fired
    kind: str
    detector: str
    column: str


def _specs(case: Case, config: Config) -> ModelSpecs:
    doc: dict[str, Any] = {
        "window": {"kind": "count", "size": case.window},
        "reference": {"mode": "first", "size": case.reference},
        "min_window_count": min(100, case.window),
        "types": dict(case.data.types),
        "performance": {
            "window": {"kind": "count", "size": case.window},
            "min_labels": min(100, case.window),
        },
    }
    for key, value in config.overrides.items():
        if isinstance(value, Mapping) and isinstance(doc.get(key), Mapping):
            doc[key] = {**doc[key], **value}
        else:
            doc[key] = value
    return ModelSpecs.from_mapping({"defaults": doc}, MonitorSpec())


def run_streamdrift(case: Case, config: Config) -> tuple[list[Firing], list[WindowResult]]:
    """Every firing alert and every window result of one case under one configuration."""
    specs = _specs(case, config)
    policy = AlertPolicy()
    drift = MonitorFleet(specs, policy)
    degradation = DegradationFleet(specs, policy)
    spacing = case.seconds_per_row  # the data's own clock: the window rate is real
    events = prediction_events(
        case.data,
        start=START,
        spacing=spacing,
        scores=case.scores,
        labels=case.labels,
        label_delay=0.25 * spacing,
    )
    if case.labels is not None and case.scores is not None:
        # the labelled reference is all reference rows, as `reference build --label-column`
        # profiles them (in the drift fleet, reference.mode = "first" takes the same rows)
        ref = slice(0, case.reference)
        columns = {"label": case.labels[ref].tolist(), "prediction": case.scores[ref].tolist()}
        built = build_performance(columns, specs.default, "label")
        degradation.set_reference("model", "1", ReferencePerformance.from_dict(built))
    firings: list[Firing] = []
    windows: list[WindowResult] = []

    def row(stamp: float) -> int:
        return math.floor((stamp - START) / spacing + 1e-6)

    for batch, feedback in zip(events.batches, events.feedback, strict=True):
        updates = [drift.observe([batch])]
        if case.labels is not None:
            updates.append(degradation.add_predictions([batch]))
            updates.append(degradation.add_feedback(feedback))
        for update in updates:
            windows.extend(update.windows)
            for alert in update.alerts:
                if alert.status is not AlertStatus.FIRING:
                    continue
                if alert.kind in (AlertKind.PERFORMANCE_DEGRADATION, AlertKind.CONCEPT_DRIFT):
                    stream = PERFORMANCE
                else:
                    stream = alert.feature or PREDICTION
                firings.append(
                    Firing(
                        stream,
                        row(alert.window.end),
                        str(alert.kind),
                        alert.detector,
                        config.column(alert.detector),
                    )
                )
    return firings, windows


# -- River ----------------------------------------------------------------------------------


def _river_values(case: Case, stream: str) -> npt.NDArray[np.float64]:
    if stream == PERFORMANCE:
        assert case.scores is not None and case.labels is not None
        errors: npt.NDArray[np.float64] = (
            (case.scores > 0.5).astype(np.int64) != case.labels
        ).astype(np.float64)
        return errors
    values: npt.NDArray[np.float64] = np.nan_to_num(case.data.columns[stream].astype(np.float64))
    return values


def kswin_rows(case: Case, kswin_events: int) -> int:
    """Rows KSWIN (0.5 ms a value) sees: ``kswin_events`` without a change, else up to
    ten windows past it."""
    if case.change is None:
        return min(kswin_events, len(case.data))
    return min(case.change + 10 * case.window, len(case.data))


def run_river(case: Case, method: RiverMethod, kswin_events: int) -> dict[str, list[int]]:
    """Rows at which ``method`` fired, per watched stream (KSWIN: the first, capped by
    :func:`kswin_rows`)."""
    streams = case.river_streams
    if method.detector == "kswin":
        streams = streams[:1]
    out = {}
    for stream in streams:
        values = _river_values(case, stream)
        if method.detector == "kswin":
            values = values[: kswin_rows(case, kswin_events)]
        out[stream] = run_detector(method, values)
    return out


# -- scoring ------------------------------------------------------------------------------


def _score(
    case: Case, indices: dict[str, list[int]], column: str, rows_seen: int | None = None
) -> dict[str, Any]:
    """False alarms (and their rate per 30 days of the rows watched: ``rows_seen`` of the
    stream, default all), and the delay on the moved streams."""
    live_start = case.reference
    end = len(case.data) if rows_seen is None else min(rows_seen, len(case.data))
    false_alarms = 0
    delays: list[int] = []
    for stream, rows in indices.items():
        for i in rows:
            if case.change is None or i < case.change or stream not in case.moved:
                if case.change is not None or i >= live_start:
                    false_alarms += 1
            elif i >= case.change:
                delays.append(i - case.change)
    # the stretch where a firing can only be false: live rows (replay), or before the change
    quiet = end if case.change is None else min(case.change, end)
    live_days = max(quiet - live_start, 0) * case.seconds_per_row / 86400.0
    delay = min(delays) if delays else None
    return {
        "column": column,
        "false_alarms": false_alarms,
        "per_30_days": false_alarms / live_days * 30 if live_days else None,
        "delay": delay,
        "delay_windows": None if delay is None else delay // case.window + 1,
    }


RIVER = RIVER_METHODS[:3]  # ADWIN, PageHinkley, KSWIN as load/evaluate.py sets them


def evaluate_case(
    case: Case,
    sizes: Sizes,
    progress: Callable[[str], None] = lambda s: None,
    river: Sequence[RiverMethod] = RIVER,
) -> dict[str, Any]:
    results: dict[str, Any] = {}
    series: dict[str, list[tuple[int, float, float]]] = {}
    for config in CONFIGS:
        started = time.perf_counter()
        firings, windows = run_streamdrift(case, config)
        series = _psi_series(case, windows)  # the last configuration's is plotted
        for column in config.columns:
            rows: dict[str, list[int]] = {}
            for f in firings:
                if f.column == column:
                    rows.setdefault(f.stream, []).append(f.index)
            name = config.name + (f" {column}" if column else "")
            scored = _score(case, rows, column)
            if scored["delay"] is not None:
                assert case.change is not None
                hit = case.change + scored["delay"]
                scored["by"] = next(
                    f.detector
                    for f in firings
                    if f.column == column and f.index == hit and f.stream in case.moved
                )
            results[name] = scored | {
                "firings": [
                    [f.stream, f.index, f.kind, f.detector] for f in firings if f.column == column
                ][:PLOTTED],
                "windows": sum(1 for w in windows if w.index >= 0),
            }
        progress(
            f"{case.name}: {config.name}: {len(firings)} firing alert(s) in "
            f"{time.perf_counter() - started:.1f}s"
        )
    for method in river:
        if method.detector == "kswin" and sizes.kswin_events == 0:
            continue  # about 1 ms a value: --quick leaves it out
        fired = run_river(case, method, sizes.kswin_events)
        live_only = fired
        if case.change is None:  # a replay: River runs from row 0; count the live rows
            live_only = {s: [i for i in r if i >= case.reference] for s, r in fired.items()}
        seen = kswin_rows(case, sizes.kswin_events) if method.detector == "kswin" else None
        results[method.name] = _score(case, live_only, "", seen) | {
            "streams": list(fired),
            "alarms_whole_stream": sum(len(r) for r in fired.values()),
            "firings": [[st, i, "", method.detector] for st, r in fired.items() for i in r][
                :PLOTTED
            ],
        }
    progress(f"{case.name}: River done")
    return {
        "case": case.name,
        "description": case.description,
        "rows": len(case.data),
        "reference": case.reference,
        "window": case.window,
        "change": case.change,
        "moved": list(case.moved),
        "live_windows": case.live_windows,
        "seconds_per_row": case.seconds_per_row,
        "methods": results,
        "psi": {k: v for k, v in series.items()},
    }


def _psi_series(
    case: Case, windows: list[WindowResult]
) -> dict[str, list[tuple[int, float, float]]]:
    watched = [s for s in case.moved if s not in (PERFORMANCE,)] or list(case.data.numeric[:1])
    out: dict[str, list[tuple[int, float, float]]] = {s: [] for s in watched}
    for w in windows:
        for t in w.tests:
            if t.feature in out and t.statistic == "psi":
                end = math.floor((w.window.end - START) / case.seconds_per_row + 1e-6)
                out[t.feature].append((end, t.value, t.threshold))
    return out


# -- the whole evaluation and its output ----------------------------------------------------


def evaluate(
    sizes: Sizes = FULL,
    *,
    groups: Sequence[str] = tuple(GROUPS),
    only: Sequence[str] | None = None,
    river: Sequence[RiverMethod] = RIVER,
    out: Path | None = None,
    plots: bool = True,
    progress: Callable[[str], None] = lambda s: None,
) -> dict[str, Any]:
    """Run every case (or those named in ``only``); write ``real_data.md``/``.json`` and
    PNGs under ``out``."""
    started = time.perf_counter()
    chosen = [c for c in cases(sizes, groups) if only is None or c.name in only]
    results = [evaluate_case(c, sizes, progress, river) for c in chosen]
    report = {
        "sizes": {
            "ar1_events": sizes.ar1_events,
            "shuttle_live": sizes.shuttle_live,
            "kswin_events": sizes.kswin_events,
        },
        "configs": [c.name for c in CONFIGS],
        "cases": results,
        "seconds": round(time.perf_counter() - started, 1),
    }
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        (out / "real_data.json").write_text(json.dumps(report, indent=2) + "\n")
        (out / "real_data.md").write_text(markdown(report))
        if plots:
            for r in results:
                plot(r, out / f"real_{r['case']}.png")
    return report


def _cell(r: dict[str, Any], shift: bool) -> str:
    if shift:
        by = f", {r['by']}" if r.get("by") else ""
        delay = "miss" if r["delay"] is None else f"{r['delay']:,} ({r['delay_windows']} w{by})"
        return f"{delay} / {r['false_alarms']}"
    rate = r["per_30_days"]
    return f"{r['false_alarms']} ({rate:.2g}/30 d)" if rate is not None else str(r["false_alarms"])


def table(report: dict[str, Any]) -> str:
    """Cases × methods. Replay and stationary rows: false alarms (per 30 days at the case's
    clock). Shift rows: delay in events (windows) / false alarms."""
    methods: list[str] = []
    for c in report["cases"]:
        methods.extend(m for m in c["methods"] if m not in methods)
    head = ["case", "windows", *methods]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for c in report["cases"]:
        cells = [c["case"], f"{c['live_windows']} × {c['window']:,}"]
        for m in methods:
            r = c["methods"].get(m)
            cells.append("–" if r is None else _cell(r, c["change"] is not None))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def markdown(report: dict[str, Any]) -> str:
    parts = [
        "# streamdrift on real data and AR(1) streams\n\n",
        "Produced by `python -m load.evaluate_real` (the method: `load/evaluate_real.py`).\n\n",
        "Replay / stationary rows: **firing alerts on the live rows** (every one false; per "
        "30 days at the case's clock). Shift rows: **delay** in events from the injected "
        "change to the last row of the first window that flagged a moved stream (in "
        "windows) / **false alarms** (firings before the change or on an unmoved stream). "
        "River's detectors run per event on the moved stream (replays: every numeric "
        "feature, KSWIN on the first one).\n\n",
        table(report),
        "\nCases:\n\n",
    ]
    for c in report["cases"]:
        parts.append(
            f"- **{c['case']}**: {c['description']}; reference {c['reference']:,} rows, "
            f"windows of {c['window']:,}, {c['rows']:,} rows in all\n"
        )
    parts.append(f"\nRun time: {report['seconds']:.0f} s.\n")
    return "".join(parts)


def plot(result: dict[str, Any], path: Path) -> None:
    """Per-window PSI of the watched stream and its threshold; the change; detections."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (top, bottom) = plt.subplots(
        2, 1, figsize=(11, 5.5), sharex=True, gridspec_kw={"height_ratios": [3, 2]}
    )
    for stream, series in result["psi"].items():
        if series:
            x, psi, threshold = np.array(series).T
            label = "prediction" if stream == PREDICTION else stream
            top.plot(x, psi, marker=".", label=f"PSI of {label}")
            top.step(x, threshold, where="post", linestyle=":", label=f"threshold ({label})")
    top.set_ylabel(f"PSI per {result['window']:,}-row window")
    top.set_yscale("symlog", linthresh=0.1)
    top.set_title(f"{result['case']}: {result['description']}", fontsize=10)
    methods = list(result["methods"])
    for y, name in enumerate(methods):
        r = result["methods"][name]
        xs = [f[1] for f in r.get("firings", [])]
        bottom.scatter(xs, [y] * len(xs), marker="|", s=200)
    bottom.set_yticks(range(len(methods)), methods, fontsize=8)
    bottom.set_ylim(-0.5, len(methods) - 0.5)
    bottom.set_xlabel("row of the stream (reference, then live)")
    for axis in (top, bottom):
        axis.axvline(result["reference"], color="grey", linewidth=1)
        if result["change"] is not None:
            axis.axvline(result["change"], color="red", linewidth=1)
        axis.set_xlim(0, result["rows"])
    top.legend(loc="upper left", fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m load.evaluate_real",
        description="False alarms on reference replays and detection delays of injected "
        "shifts, on real public datasets and AR(1) streams (no Kafka).",
    )
    parser.add_argument("--out", type=Path, default=Path("load/results"), help="output folder")
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"AR(1) stationary streams of {QUICK.ar1_events:,} events instead of "
        f"{FULL.ar1_events:,}, fewer live Shuttle rows, no KSWIN",
    )
    parser.add_argument(
        "--group",
        action="append",
        choices=list(GROUPS),
        help="only the cases of this dataset (repeatable; default: all)",
    )
    parser.add_argument("--case", action="append", help="only this case (repeatable)")
    parser.add_argument("--no-plots", action="store_true", help="skip the PNGs")
    args = parser.parse_args(argv)
    started = time.perf_counter()

    def progress(message: str) -> None:
        print(f"[{time.perf_counter() - started:6.1f}s] {message}", file=sys.stderr, flush=True)

    report = evaluate(
        QUICK if args.quick else FULL,
        groups=args.group or tuple(GROUPS),
        only=args.case,
        out=args.out,
        plots=not args.no_plots,
        progress=progress,
    )
    print(table(report))
    print(f"written: {args.out / 'real_data.md'}, .json and PNGs ({report['seconds']:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
