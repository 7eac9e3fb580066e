"""The domain records that flow through streamdrift: plain, slotted, free of I/O.

A :class:`PredictionBatch` is the unit the core works on: many predictions of one model,
version and segment, stored column-wise so that statistics run on whole numpy arrays.
A single-event message becomes a batch of one; consecutive events of the same key are
merged by :func:`to_batches` before they reach the core.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from itertools import chain
from operator import attrgetter, itemgetter
from typing import Any

Scalar = float | int | str | bool | None
PREDICTION = "__prediction__"  # the pseudo-feature under which the model output is tested
# the pseudo-feature under which the class the model decided (``predicted_label``) is tested
PREDICTED_LABEL = "__predicted_label__"


@dataclass(slots=True)
class PredictionEvent:
    """One prediction as a model server published it (DESIGN.md, "A prediction event")."""

    model_id: str
    model_version: str
    prediction_id: str
    timestamp: float  # event time, unix seconds
    features: dict[str, Scalar]
    prediction: Any = None
    segment: str | None = None
    # the class the model decided (its own threshold, top-k, business rules), when it says
    predicted_label: Scalar = None
    # champion/challenger (README, "Champion and challenger"): the experiment and variant
    experiment: str | None = None
    variant: str | None = None


Label = float | int | str | bool


@dataclass(frozen=True, slots=True)
class EndOfInput:
    """A control message on the predictions topic (``"kind": "end_of_input"``): a finite
    input of ``model_id`` (of one ``model_version``, or all) has ended, so its partial
    windows are closed and tested. Keyed by model_id, it follows that model's events."""

    model_id: str
    model_version: str | None = None


@dataclass(slots=True)
class FeedbackEvent:
    """The ground truth for one prediction (DESIGN.md, "A feedback event")."""

    model_id: str
    prediction_id: str
    timestamp: float  # event time of the label, unix seconds
    label: Label


@dataclass(slots=True)
class PredictionBatch:
    """Predictions of one model/version/segment, column-wise; every column has ``len(self)``."""

    model_id: str
    model_version: str
    segment: str | None
    prediction_ids: list[str]
    timestamps: list[float]
    features: dict[str, list[Scalar]]
    predictions: list[Any] = field(default_factory=list)
    # a batch envelope may name a segment per row; to_batches() splits it by segment
    row_segments: list[str | None] | None = None
    # rows of an envelope that were invalid and left out: (row, reason, message)
    rejected: list[tuple[int, str, str]] = field(default_factory=list)
    # the class each row's model decided; None when no row of the batch names one
    predicted_labels: list[Scalar] | None = None
    # each row's experiment and variant; None when no row of the batch names one
    experiments: list[str | None] | None = None
    variants: list[str | None] | None = None

    def __len__(self) -> int:
        return len(self.prediction_ids)

    @property
    def key(self) -> tuple[str, str, str | None]:
        return (self.model_id, self.model_version, self.segment)


Key = tuple[str, str, str | None]
_EVENT_KEY = attrgetter("model_id", "model_version", "segment")
# the columns of a batch, in _from_events' order
_EVENT_COLUMNS = attrgetter(
    "prediction_id",
    "timestamp",
    "prediction",
    "predicted_label",
    "experiment",
    "variant",
    "features",
)


def to_batches(items: Iterable[PredictionEvent | PredictionBatch]) -> list[PredictionBatch]:
    """One batch per (model, version, segment), rows in arrival order.

    Single events and batch envelopes may be interleaved; a feature absent from some rows
    is ``None`` (missing) there.
    """
    parts: dict[Key, list[PredictionBatch | list[PredictionEvent]]] = {}
    key_of = _EVENT_KEY
    for item in items:
        if isinstance(item, PredictionEvent):
            key = key_of(item)
            plist = parts.get(key)
            if plist is None:
                parts[key] = [[item]]
            elif type(last := plist[-1]) is list:
                last.append(item)
            else:
                plist.append([item])
        elif item.row_segments is not None:
            for part in _split_segments(item):
                parts.setdefault(part.key, []).append(part)
        else:
            parts.setdefault(item.key, []).append(item)
    return [
        _concat([_from_events(p) if isinstance(p, list) else p for p in plist])
        for plist in parts.values()
    ]


def event_keys(events: list[Any]) -> list[Key]:
    """(model, version, segment) of each event (as :func:`batches_of_events` groups them)."""
    return list(map(_EVENT_KEY, events))


def batches_of_events(events: list[Any], keys: list[Key] | None = None) -> list[PredictionBatch]:
    """One batch per (model, version, segment) of a run of single events (any objects with
    :class:`PredictionEvent`'s fields, ``model_version`` a string: the codec's
    ``single_event``), keys in first-seen order, rows in arrival order: what
    :func:`to_batches` makes of the same events as :class:`PredictionEvent` objects, without
    building one per event. A run of one key (the usual case: a partition's messages of one
    model) is checked and gathered in C. ``keys``: :func:`event_keys` of ``events``, when
    the caller has them."""
    if keys is None:
        keys = list(map(_EVENT_KEY, events))
    first = keys[0]
    if keys.count(first) == len(keys):
        return [_from_events(events)]
    groups: dict[Key, list[Any]] = {}
    for key, event in zip(keys, events, strict=True):
        group = groups.get(key)
        if group is None:
            groups[key] = [event]
        else:
            group.append(event)
    return [_from_events(group) for group in groups.values()]


def _split_segments(batch: PredictionBatch) -> list[PredictionBatch]:
    rows_of: dict[str | None, list[int]] = {}
    for i, segment in enumerate(batch.row_segments or ()):
        rows_of.setdefault(segment, []).append(i)
    parts = []
    for segment, rows in rows_of.items():
        parts.append(
            PredictionBatch(
                model_id=batch.model_id,
                model_version=batch.model_version,
                segment=segment,
                prediction_ids=[batch.prediction_ids[i] for i in rows],
                timestamps=[batch.timestamps[i] for i in rows],
                features={k: [v[i] for i in rows] for k, v in batch.features.items()},
                predictions=[batch.predictions[i] for i in rows] if batch.predictions else [],
                predicted_labels=None
                if batch.predicted_labels is None
                else [batch.predicted_labels[i] for i in rows],
                experiments=None
                if batch.experiments is None
                else [batch.experiments[i] for i in rows],
                variants=None if batch.variants is None else [batch.variants[i] for i in rows],
            )
        )
    return parts


def _from_events(events: list[Any]) -> PredictionBatch:
    first = events[0]
    ids, stamps, preds, decided, experiments, variants, rows = map(
        list, zip(*map(_EVENT_COLUMNS, events), strict=True)
    )
    return PredictionBatch(
        model_id=first.model_id,
        model_version=first.model_version,
        segment=first.segment,
        prediction_ids=ids,
        timestamps=stamps,
        features=_transpose(rows),
        predictions=preds,
        predicted_labels=decided if decided.count(None) < len(decided) else None,
        experiments=_optional(experiments),
        variants=_optional(variants),
    )


def _optional(column: list[str | None]) -> list[str | None] | None:
    return column if column.count(None) < len(column) else None


def _transpose(rows: list[dict[str, Scalar]]) -> dict[str, list[Scalar]]:
    """Columns of per-event feature dicts; a name absent from a row is None there. When
    every row has the first row's names (the usual case) one ``itemgetter`` per row does
    it in C: rows of one size that all have those names have no other."""
    names = list(rows[0])
    if len(names) > 1 and len(set(map(len, rows))) == 1:
        try:
            columns = zip(*map(itemgetter(*names), rows), strict=True)
            return {name: list(column) for name, column in zip(names, columns, strict=True)}
        except KeyError:
            pass
    names = list(dict.fromkeys(chain.from_iterable(rows)))  # every name, first-seen order
    return {name: [row.get(name) for row in rows] for name in names}


def _concat(parts: list[PredictionBatch]) -> PredictionBatch:
    if len(parts) == 1:
        return parts[0]
    names: dict[str, None] = {}
    for part in parts:
        names.update(dict.fromkeys(part.features))
    columns: dict[str, list[Scalar]] = {name: [] for name in names}
    ids: list[str] = []
    stamps: list[float] = []
    preds: list[Any] = []
    decided: list[Scalar] = []
    experiments: list[str | None] = []
    variants: list[str | None] = []
    for part in parts:
        n = len(part)
        for name, column in columns.items():
            column.extend(part.features.get(name) or [None] * n)
        ids.extend(part.prediction_ids)
        stamps.extend(part.timestamps)
        preds.extend(part.predictions or [None] * n)
        decided.extend(part.predicted_labels or [None] * n)
        experiments.extend(part.experiments or [None] * n)
        variants.extend(part.variants or [None] * n)
    first = parts[0]
    return PredictionBatch(
        first.model_id,
        first.model_version,
        first.segment,
        ids,
        stamps,
        columns,
        preds,
        predicted_labels=decided if decided.count(None) < len(decided) else None,
        experiments=_optional(experiments),
        variants=_optional(variants),
    )


class AlertKind(StrEnum):
    DATA_DRIFT = "data_drift"
    PREDICTION_DRIFT = "prediction_drift"
    CONCEPT_DRIFT = "concept_drift"
    PERFORMANCE_DEGRADATION = "performance_degradation"
    LABEL_HEALTH = "label_health"
    ESTIMATED_PERFORMANCE = "estimated_performance"
    ESTIMATOR_DIVERGENCE = "estimator_divergence"
    TRAFFIC = "traffic"  # a model's or segment's event rate fell (engine/traffic.py)


class AlertStatus(StrEnum):
    FIRING = "firing"
    RESOLVED = "resolved"


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


@dataclass(frozen=True, slots=True)
class WindowInfo:
    """The window a decision was made on: event-time span (unix seconds) and event count;
    ``partial``: closed early by an end-of-input marker."""

    start: float
    end: float
    count: int
    partial: bool = False


@dataclass(frozen=True, slots=True)
class Alert:
    """A drift or degradation alert (topics/alert.schema.json)."""

    alert_id: str
    kind: AlertKind
    status: AlertStatus
    severity: Severity
    model_id: str
    model_version: str
    segment: str | None
    feature: str | None
    detector: str
    statistic: str
    value: float
    threshold: float
    p_value: float | None
    window: WindowInfo
    reference_count: int
    detected_at: float  # wall clock, unix seconds; not part of the id
    message: str = ""
    window_index: int | None = None  # the monitor's index of ``window`` (drift-windows)
    # why a resolved alert ended without a clean window: "stopped", "retired" (engine/endings.py)
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": 1,
            "alert_id": self.alert_id,
            "kind": self.kind.value,
            "status": self.status.value,
            "severity": self.severity.value,
            "model_id": self.model_id,
            "model_version": self.model_version,
            "segment": self.segment,
            "feature": self.feature,
            "detector": self.detector,
            "statistic": self.statistic,
            "value": self.value,
            "threshold": self.threshold,
            "p_value": self.p_value,
            "window": {
                **({} if self.window_index is None else {"index": self.window_index}),
                "start": self.window.start,
                "end": self.window.end,
                "count": self.window.count,
                **({"partial": True} if self.window.partial else {}),
            },
            "reference": {"count": self.reference_count},
            "detected_at": self.detected_at,
            "message": self.message,
            **({} if self.reason is None else {"reason": self.reason}),
        }


@dataclass(frozen=True, slots=True)
class CheckResult:
    """One statistical check of one feature in one window."""

    feature: str  # PREDICTION for the model output
    kind: AlertKind
    detector: str  # e.g. "psi_ks", "psi_chi2", "missing_share"
    statistic: str  # the effect statistic compared with ``threshold``
    value: float
    threshold: float
    p_value: float | None  # None for sequential detectors, which give no p-value
    drifted: bool = False
    detail: str = ""
    # where ``threshold`` came from: "configured" (the model's spec) or "detector" (a
    # sequential detector's sensitivity parameter, not compared with ``value``)
    threshold_source: str = "configured"
    # (statistic, value, threshold) of the test that decided this check when it is not the
    # check's own statistic (PSI, JS and Cohen's w are decided by the binned chi-squared,
    # Wasserstein by KS): then ``drifted`` follows it, not ``value >= threshold``
    decided_by: tuple[str, float, float] | None = None


@dataclass(frozen=True, slots=True)
class WindowResult:
    model_id: str
    model_version: str
    segment: str | None
    index: int  # 0-based window number since the reference was fitted
    window: WindowInfo
    reference_count: int
    tests: tuple[CheckResult, ...]
    # what the window measured besides its tests (performance metrics, label coverage)
    metrics: tuple[tuple[str, float], ...] = ()

    @property
    def drifted(self) -> tuple[CheckResult, ...]:
        return tuple(t for t in self.tests if t.drifted)


def predicted_class(scores: dict[str, Any]) -> str | None:
    """The arg-max class of an object of class -> score; None when it has no numeric score."""
    numeric = [(v, k) for k, v in scores.items() if type(v) in (int, float)]
    return max(numeric)[1] if numeric else None
