"""``streamdrift report``: one self-contained HTML page (inline CSS, plots as base64 PNG)
from a model's ``drift-windows`` records and alerts. Pure: records in, HTML out.

Plots need matplotlib, an optional extra (``pip install 'streamdrift[report]'``).
"""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence
from datetime import UTC, datetime
from html import escape
from typing import TYPE_CHECKING, Any

from streamdrift.report import model
from streamdrift.report.model import PREDICTION, Doc, Episode

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

MAX_PLOTTED = 40  # features with a plot, by rank; the rest are in the table only
COLORS = ("#1f77b4", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22")
DRIFT, THRESHOLD, SHADE = "#d62728", "#555555", "#ff7f0e"


class ReportError(RuntimeError):
    """The report cannot be built (matplotlib missing, nothing to show)."""


def build(
    records: Sequence[Doc],
    alerts: Sequence[Doc],
    model_id: str,
    *,
    version: str | None = None,
    since: float | None = None,
    source: str = "drift-windows",
) -> str:
    """The report page of ``model_id`` (``version``; windows ending at or after ``since``)."""
    figure_class = _matplotlib()
    chosen = model.select(records, model_id, version, since)
    if not chosen:
        which = model_id if version is None else f"{model_id} v{version}"
        raise ReportError(f"no window of {which} in {source}" + (" since then" if since else ""))
    last_end = max(d["window"]["end"] for d in chosen)
    found = [
        e
        for e in model.episodes(alerts, model_id, last_end)
        if (version is None or e.stream[0] == version)
        and (e.end is None or since is None or e.end >= since)
    ]
    ranking = model.rank(chosen, found)
    summary = model.summarise(model_id, chosen, found)
    parts = [_head(model_id, version), _summary(summary, source, since)]
    parts.append(_ranking(ranking))
    parts.append(_episodes(found))
    parts.append("<h2>Features over windows</h2>")
    parts.append(
        '<p class="note">Each panel: one test of the feature per window (x: window end, UTC); '
        "dashed: its threshold; red crosses: drift verdicts; shaded: alert episodes "
        "(firing to resolved).</p>"
    )
    for row in ranking[:MAX_PLOTTED]:
        png = _feature_plot(figure_class, chosen, found, row.feature)
        if png:
            title = "prediction (model output)" if row.feature == PREDICTION else row.feature
            parts.append(f"<h3>{escape(title)}</h3>\n{_img(png, f'drift of {title}')}")
    if len(ranking) > MAX_PLOTTED:
        rest = ", ".join(escape(r.feature) for r in ranking[MAX_PLOTTED:])
        parts.append(f'<p class="note">Not plotted (lower evidence): {rest}</p>')
    parts.append(_performance(figure_class, chosen, found))
    parts.append("</main></body></html>\n")
    return "\n".join(parts)


def _matplotlib() -> type[Figure]:
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise ReportError(
            "the report draws its plots with matplotlib, which is not installed: "
            "pip install 'streamdrift[report]'"
        ) from None
    return Figure


# -- page parts ---------------------------------------------------------------------------

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#222;background:#fff}
main{max-width:1000px;margin:0 auto;padding:16px 24px}
h1{font-size:1.5em;margin:.2em 0}h2{font-size:1.2em;margin-top:1.6em;border-bottom:1px solid #ddd}
h3{font-size:1em;margin:1.2em 0 .2em}
table{border-collapse:collapse;font-size:.9em}td,th{padding:3px 10px;border-bottom:1px solid #eee;
text-align:right}td:first-child,th:first-child{text-align:left}
.note{color:#666;font-size:.85em}.drift{color:#d62728;font-weight:600}
img{max-width:100%;display:block}
"""


def _head(model_id: str, version: str | None) -> str:
    title = f"streamdrift report: {model_id}" + ("" if version is None else f" v{version}")
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>{_CSS}</style></head><body><main>"
        f"<h1>{escape(title)}</h1>"
    )


def _summary(s: model.Summary, source: str, since: float | None) -> str:
    span = "" if s.start is None or s.end is None else f"{_utc(s.start)} → {_utc(s.end)} UTC"
    windows = ", ".join(f"{n} {m.replace('_', ' ')}" for m, n in s.windows.items())
    since_text = "" if since is None else f" (windows ending since {_utc(since)} UTC)"
    return (
        f"<p>Versions {escape(', '.join(s.versions))}; {escape(span)}{since_text}.<br>"
        f"Windows: {escape(windows)}; alert episodes: {s.alerts}.</p>"
        f'<p class="note">From the topic {escape(source)} and the alert topics, '
        f"generated {_utc(datetime.now(UTC).timestamp())} UTC.</p>"
    )


def _ranking(rows: Sequence[model.FeatureEvidence]) -> str:
    if not rows:
        return "<h2>Features ranked by evidence</h2><p>No drift window yet.</p>"
    body = "".join(
        f"<tr><td>{escape(r.feature)}</td><td>{r.tested}</td>"
        f"<td{' class=drift' if r.drifted else ''}>{r.drifted}</td>"
        f"<td>{r.max_ratio:.2f}</td><td>{'–' if r.min_p is None else f'{r.min_p:.1e}'}</td>"
        f"<td>{r.episodes}</td></tr>"
        for r in rows
    )
    return (
        "<h2>Features ranked by evidence</h2><table><tr><th>feature</th><th>windows tested</th>"
        "<th>drifted</th><th>max effect / threshold</th><th>smallest p</th>"
        f"<th>alert episodes</th></tr>{body}</table>"
    )


def _episodes(found: Sequence[Episode]) -> str:
    if not found:
        return "<h2>Alert episodes</h2><p>None.</p>"

    def index(i: int | None) -> str:
        return "" if i is None else f"window {i}, "

    body = "".join(
        f"<tr><td>{escape(e.kind)}</td><td>{escape(_stream(e.stream))}</td>"
        f"<td>{escape(e.feature or '–')}</td><td>{escape(e.detector)}</td>"
        f"<td>{index(e.start_index)}{_utc(e.start)}</td>"
        f"<td>{'still firing' if e.end_index is None else index(e.end_index) + _utc(e.end or 0)}"
        "</td></tr>"
        for e in found
    )
    return (
        "<h2>Alert episodes</h2><table><tr><th>kind</th><th>version</th><th>feature</th>"
        f"<th>detector</th><th>firing</th><th>resolved</th></tr>{body}</table>"
    )


def _performance(
    figure_class: type[Figure], records: Sequence[Doc], found: Sequence[Episode]
) -> str:
    metrics = model.metric_series(records, "performance")
    coverage = model.metric_series(records, "label_health")
    if not metrics and not coverage:
        return "<h2>Performance</h2><p>No labelled window yet.</p>"
    fig = figure_class(figsize=(10, 4.6), dpi=80, layout="constrained")
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=(3, 2))
    colors = iter(COLORS * 4)
    for (stream, name), points in metrics.items():
        if name != "labels":
            _line(top, points, f"{name} {_stream(stream)}", next(colors))
    top.set_ylabel("metric")
    for (stream, _), points in ((k, v) for k, v in metrics.items() if k[1] == "labels"):
        xs, ys = zip(*points, strict=True)
        bottom.plot(
            [_dt(x) for x in xs],
            ys,
            drawstyle="steps-pre",
            color="#7f7f7f",
            label=f"labelled rows {_stream(stream)}",
        )
    bottom.set_ylabel("labelled rows")
    if coverage:
        twin = bottom.twinx()
        for (stream, _), points in coverage.items():
            _line(twin, points, f"label coverage {_stream(stream)}", "#2ca02c")
        twin.set_ylabel("label coverage")
        twin.set_ylim(0, 1.05)
        twin.legend(loc="lower right", fontsize=8)
    for episode in found:
        if episode.kind in ("performance_degradation", "concept_drift", "label_health"):
            for axes in (top, bottom):
                _shade(axes, episode)
    top.legend(loc="best", fontsize=8)
    if any(k[1] == "labels" for k in metrics):
        bottom.legend(loc="lower left", fontsize=8)
    _dates(bottom)
    return (
        "<h2>Performance and labels</h2>"
        '<p class="note">Metrics of each performance window; below: labelled rows per window '
        "and label coverage per period; shaded: degradation, concept-drift and label-health "
        "episodes.</p>" + _img(_png(fig), "performance and label coverage over windows")
    )


# -- plots --------------------------------------------------------------------------------


def _feature_plot(
    figure_class: type[Figure], records: Sequence[Doc], found: Sequence[Episode], feature: str
) -> str:
    by_test = model.series(records, "drift", feature)
    detectors = list(dict.fromkeys(d for _, d in by_test))
    if not detectors:
        return ""
    fig = figure_class(figsize=(10, 2.3), dpi=80, layout="constrained")
    axes_row = fig.subplots(1, len(detectors), squeeze=False)[0]
    streams = list(dict.fromkeys(s for s, _ in by_test))
    for axes, detector in zip(axes_row, detectors, strict=True):
        statistic = ""
        for i, stream in enumerate(streams):
            points = by_test.get((stream, detector), [])
            if not points:
                continue
            label = _stream(stream) if len(streams) > 1 else None
            _line(
                axes,
                [(p.end, p.value) for p in points if p.value is not None],
                label,
                COLORS[i % len(COLORS)],
            )
            hits = [p for p in points if p.drift and p.value is not None]
            if hits:
                axes.plot(
                    [_dt(p.end) for p in hits],
                    [p.value for p in hits],
                    "x",
                    color=DRIFT,
                    markersize=7,
                    markeredgewidth=2,
                )
            limits = [(p.end, p.threshold) for p in points if p.threshold is not None]
            if limits and i == 0:
                xs, ys = zip(*limits, strict=True)
                axes.plot([_dt(x) for x in xs], ys, "--", color=THRESHOLD, linewidth=1)
        for episode in found:
            if model.feature_of(episode) == feature and episode.detector == detector:
                _shade(axes, episode)
        statistic = _statistic(records, feature, detector)
        axes.set_title(f"{detector}: {statistic}", fontsize=9)
        if len(streams) > 1:
            axes.legend(fontsize=7, loc="upper left")
        _dates(axes)
    return _png(fig)


def _statistic(records: Sequence[Doc], feature: str, detector: str) -> str:
    for doc in records:
        for test in doc["tests"]:
            if test["feature"] == feature and test["detector"] == detector:
                return str(test["statistic"])
    return ""


def _line(axes: Axes, points: Sequence[tuple[float, Any]], label: str | None, color: str) -> None:
    if not points:
        return
    xs, ys = zip(*points, strict=True)
    axes.plot([_dt(x) for x in xs], ys, "-o", color=color, markersize=3, linewidth=1.3, label=label)


def _shade(axes: Axes, episode: Episode) -> None:
    axes.axvspan(
        _dt(episode.start),
        _dt(episode.end if episode.end is not None else episode.start),
        color=SHADE,
        alpha=0.18,
        linewidth=0,
    )


def _dates(axes: Axes) -> None:
    import matplotlib.dates as mdates

    locator = mdates.AutoDateLocator(tz=UTC, maxticks=8)  # type: ignore[no-untyped-call]
    axes.xaxis.set_major_locator(locator)
    formatter = mdates.ConciseDateFormatter(locator, tz=UTC)  # type: ignore[no-untyped-call]
    axes.xaxis.set_major_formatter(formatter)
    axes.tick_params(labelsize=8)
    axes.grid(alpha=0.3)


def _png(fig: Figure) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _img(png: str, alt: str) -> str:
    return f'<img alt="{escape(alt)}" src="data:image/png;base64,{png}">'


def _dt(seconds: float) -> float:
    """matplotlib's date number (days since its default epoch, 1970-01-01 UTC)."""
    return seconds / 86400.0


def _utc(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d %H:%M:%S")


def _stream(stream: model.StreamKey) -> str:
    version, segment = stream
    return f"v{version}" + ("" if segment is None else f" [{segment}]")
