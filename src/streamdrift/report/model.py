"""The report's data: ``drift-windows`` records and alerts (as JSON-decoded dicts) turned
into per-feature series, alert episodes and a ranking of features by evidence. Pure."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

# thresholds a value is compared with (a detector's sensitivity parameter is not)
_COMPARED = ("configured", "reference")

PREDICTION = "__prediction__"
Doc = Mapping[str, Any]
StreamKey = tuple[str, str | None]  # (model version, segment)


@dataclass(frozen=True, slots=True)
class Point:
    """One test of one feature in one window."""

    index: int
    start: float
    end: float
    value: float | None
    threshold: float | None
    p_value: float | None
    drift: bool
    partial: bool


@dataclass(frozen=True, slots=True)
class Episode:
    """An alert episode: from the window of its firing alert to that of its resolved one
    (``end`` None: still firing at the last record read)."""

    kind: str
    stream: StreamKey
    feature: str | None
    detector: str
    start: float
    end: float | None
    start_index: int | None
    end_index: int | None


@dataclass(slots=True)
class FeatureEvidence:
    feature: str
    tested: int = 0  # windows in which the feature was tested
    drifted: int = 0  # windows in which one of its tests drifted
    max_ratio: float = 0.0  # the largest value / threshold of its configured tests
    min_p: float | None = None
    episodes: int = 0


def select(
    records: Iterable[Doc], model: str, version: str | None = None, since: float | None = None
) -> list[Doc]:
    """The records of ``model`` (and ``version``) whose window ends at or after ``since``,
    one per ``record_id`` (a replay publishes the same record again), in window order."""
    chosen: dict[str, Doc] = {}
    for doc in records:
        if doc.get("model_id") != model:
            continue
        if version is not None and doc.get("model_version") != version:
            continue
        if since is not None and doc["window"]["end"] < since:
            continue
        chosen[doc["record_id"]] = doc
    return sorted(chosen.values(), key=lambda d: (d["window"]["end"], d["window"]["index"]))


def stream_of(doc: Doc) -> StreamKey:
    return (str(doc["model_version"]), doc.get("segment"))


def streams(records: Sequence[Doc], monitor: str) -> list[StreamKey]:
    return list(dict.fromkeys(stream_of(d) for d in records if d["monitor"] == monitor))


def features(records: Sequence[Doc]) -> list[str]:
    """The drift monitors' features in first-seen order, the prediction last."""
    names = dict.fromkeys(
        t["feature"] for d in records if d["monitor"] == "drift" for t in d["tests"]
    )
    return [n for n in names if n != PREDICTION] + ([PREDICTION] if PREDICTION in names else [])


def series(
    records: Sequence[Doc], monitor: str, feature: str
) -> dict[tuple[StreamKey, str], list[Point]]:
    """Per (stream, detector): the feature's test in every window of ``monitor``."""
    out: dict[tuple[StreamKey, str], list[Point]] = {}
    for doc in records:
        if doc["monitor"] != monitor:
            continue
        window = doc["window"]
        for test in doc["tests"]:
            if test["feature"] != feature:
                continue
            out.setdefault((stream_of(doc), test["detector"]), []).append(
                Point(
                    window["index"],
                    window["start"],
                    window["end"],
                    test["value"],
                    test["threshold"] if test["threshold_source"] in _COMPARED else None,
                    test["p_value"],
                    test["verdict"] == "drift",
                    bool(window["partial"]),
                )
            )
    return out


def metric_series(records: Sequence[Doc], monitor: str) -> dict[tuple[StreamKey, str], list[Any]]:
    """Per (stream, metric): ``(window end, value)`` of the performance metrics, or of
    ``label_coverage`` and ``labels`` for label-health and performance windows."""
    out: dict[tuple[StreamKey, str], list[Any]] = {}
    for doc in records:
        if doc["monitor"] != monitor:
            continue
        values = dict(doc.get("metrics") or {})
        labels = doc.get("labels") or {}
        if monitor == "label_health":
            values = {"label_coverage": labels.get("coverage")}
        elif labels.get("count") is not None:
            values["labels"] = labels["count"]
        for name, value in values.items():
            if value is not None:
                point = (doc["window"]["end"], value)
                out.setdefault((stream_of(doc), name), []).append(point)
    return out


def episodes(alerts: Iterable[Doc], model: str, last_end: float | None = None) -> list[Episode]:
    """Alert episodes of ``model``: each firing alert paired with the next resolved alert
    of the same kind, stream, feature and detector (duplicates from replays count once)."""
    seen: set[tuple[str, str]] = set()
    ordered = []
    for alert in alerts:
        if alert.get("model_id") != model:
            continue
        key = (alert["alert_id"], alert["status"])
        if key not in seen:
            seen.add(key)
            ordered.append(alert)
    ordered.sort(key=lambda a: (a["window"]["end"], a["status"] == "firing"))
    open_: dict[tuple[Any, ...], Doc] = {}
    out: list[Episode] = []
    for alert in ordered:
        episode_key = (
            alert["kind"],
            str(alert["model_version"]),
            alert.get("segment"),
            alert.get("feature"),
            alert["detector"],
        )
        if alert["status"] == "firing":
            open_.setdefault(episode_key, alert)
            continue
        first = open_.pop(episode_key, None)
        if first is not None:
            out.append(_episode(episode_key, first, alert))
    out.extend(_episode(key, first, None, last_end) for key, first in open_.items())
    return sorted(out, key=lambda e: e.start)


def _episode(
    key: tuple[Any, ...], first: Doc, last: Doc | None, last_end: float | None = None
) -> Episode:
    kind, version, segment, feature, detector = key
    return Episode(
        kind,
        (version, segment),
        feature,
        detector,
        first["window"]["start"],
        last["window"]["end"] if last is not None else last_end,
        first["window"].get("index"),
        None if last is None else last["window"].get("index"),
    )


def feature_of(episode: Episode) -> str | None:
    """The feature an episode's alerts are about, as ``drift-windows`` names it."""
    if episode.kind == "prediction_drift":
        return PREDICTION
    return episode.feature if episode.kind == "data_drift" else None


def rank(records: Sequence[Doc], found: Sequence[Episode] = ()) -> list[FeatureEvidence]:
    """Features ranked by evidence: windows drifted, then the largest effect relative to its
    threshold, then the smallest p-value."""
    table: dict[str, FeatureEvidence] = {}
    for doc in records:
        if doc["monitor"] != "drift":
            continue
        tested: dict[str, bool] = {}
        for test in doc["tests"]:
            name = test["feature"]
            row = table.setdefault(name, FeatureEvidence(name))
            tested[name] = tested.get(name, False) or test["verdict"] == "drift"
            value, threshold = test["value"], test["threshold"]
            if test["threshold_source"] in _COMPARED and value is not None and threshold:
                row.max_ratio = max(row.max_ratio, value / threshold)
            p = test["p_value"]
            if p is not None and (row.min_p is None or p < row.min_p):
                row.min_p = p
        for name, drifted in tested.items():
            table[name].tested += 1
            table[name].drifted += drifted
    for episode in found:
        name = feature_of(episode)
        if name in table:
            table[name].episodes += 1
    return sorted(
        table.values(),
        key=lambda r: (-r.drifted, -r.max_ratio, 1.0 if r.min_p is None else r.min_p, r.feature),
    )


@dataclass(slots=True)
class Summary:
    model: str
    versions: list[str] = field(default_factory=list)
    windows: dict[str, int] = field(default_factory=dict)  # per monitor
    start: float | None = None
    end: float | None = None
    alerts: int = 0


def summarise(model: str, records: Sequence[Doc], found: Sequence[Episode]) -> Summary:
    out = Summary(model)
    out.versions = list(dict.fromkeys(str(d["model_version"]) for d in records))
    for doc in records:
        out.windows[doc["monitor"]] = out.windows.get(doc["monitor"], 0) + 1
    drift = [d["window"] for d in records if d["monitor"] != "label_health"] or [
        d["window"] for d in records
    ]
    if drift:
        out.start = min(w["start"] for w in drift)
        out.end = max(w["end"] for w in drift)
    out.alerts = len(found)
    return out
