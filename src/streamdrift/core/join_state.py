"""The records and the checkpoint form of :class:`~streamdrift.core.join.FeedbackJoin`.

Import them from :mod:`streamdrift.core.join`; this module only keeps that one short.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from streamdrift.records import Label

if TYPE_CHECKING:
    from streamdrift.core.join import FeedbackJoin

__all__ = ["COUNTERS", "Expired", "LabelledPrediction", "join_from_dict", "join_to_dict"]

COUNTERS = (
    "predictions_seen",  # prediction rows received, duplicates included
    "feedback_seen",  # feedback events received, duplicates included
    "labelled",  # predictions joined with a label (each at most once)
    "early_feedback",  # of ``labelled``: the label arrived before its prediction
    "duplicates",  # labels for a prediction already labelled (or already waiting feedback)
    "duplicate_predictions",  # predictions whose id was already waiting or labelled
    "unlabelled_expired",  # predictions dropped by expire() without a label
    "orphan_feedback_expired",  # feedback dropped by expire() without its prediction
    "evicted",  # waiting predictions dropped because more than max_pending waited
    "feedback_evicted",  # waiting feedback dropped because more than max_pending waited
    "labels_forgotten",  # labelled ids dropped early because more than max_pending were kept
)

STATE_VERSION = 1


@dataclass(slots=True)
class LabelledPrediction:
    """A prediction joined with its label."""

    model_id: str
    model_version: str
    segment: str | None
    prediction_id: str
    prediction: Any
    label: Label
    predicted_at: float  # unix seconds
    labelled_at: float  # unix seconds, the feedback's timestamp

    @property
    def delay(self) -> float:
        """Label delay in seconds; negative when the label's timestamp is the earlier one."""
        return self.labelled_at - self.predicted_at


@dataclass(slots=True)
class Expired:
    """What one :meth:`FeedbackJoin.expire` call dropped, per model_id."""

    unlabelled: dict[str, int] = field(default_factory=dict)
    orphan_feedback: dict[str, int] = field(default_factory=dict)
    # the timestamps of the labels counted in ``orphan_feedback``, per model
    orphan_feedback_at: dict[str, list[float]] = field(
        default_factory=dict, repr=False, compare=False
    )

    @property
    def empty(self) -> bool:
        return not self.unlabelled and not self.orphan_feedback


def bump(counter: dict[str, int], model_id: str, n: int = 1) -> None:
    if n:
        counter[model_id] = counter.get(model_id, 0) + n


def join_to_dict(join: FeedbackJoin) -> dict[str, Any]:
    """The memory part of :meth:`FeedbackJoin.to_dict` (JSON types)."""
    wm = join.watermark
    out: dict[str, Any] = {
        "version": STATE_VERSION,
        "prediction_ttl": join.prediction_ttl,
        "feedback_ttl": join.feedback_ttl,
        "max_pending": join.max_pending,
        "watermark": None if wm == -math.inf else wm,
        "watermarks": [_finite(join.prediction_watermark), _finite(join.feedback_watermark)],
        "model_watermarks": {
            model: [_finite(p_wm), _finite(f_wm)]
            for model, (p_wm, f_wm) in join.model_watermarks().items()
        },
        "pending": {
            model: [[pid, row[0], row[1], row[2], row[3]] for pid, row in d.items()]
            for model, d in join._pending.items()
            if d
        },
        "feedback": {
            model: [[pid, fb[0], fb[1]] for pid, fb in d.items()]
            for model, d in join._feedback.items()
            if d
        },
        "labelled": {
            model: [[pid, ts] for pid, ts in d.items()] for model, d in join._labelled.items() if d
        },
        "counters": join.counters(),
    }
    if join.model_ttls:
        out["model_ttls"] = {m: list(t) for m, t in join.model_ttls.items()}
    return out


def join_from_dict(cls: type[FeedbackJoin], d: dict[str, Any]) -> FeedbackJoin:
    """Restore a join saved by :meth:`to_dict`; it continues exactly as the original."""
    from streamdrift.core.join_memory import rebuild_heaps  # an import cycle

    if d.get("version") != STATE_VERSION:
        raise ValueError(f"unsupported FeedbackJoin state version {d.get('version')!r}")
    out = cls(
        d["prediction_ttl"],
        d["feedback_ttl"],
        d["max_pending"],
        max_remembered=d.get("max_remembered"),
    )
    spill = d.get("spill")
    if spill is not None and (spill["segments"] or spill["retired"]):
        out._spill_state = spill  # restored by attach_spill()
    wm = d["watermark"]
    out.watermark = -math.inf if wm is None else float(wm)
    if "watermarks" in d:
        p_wm, f_wm = d["watermarks"]
        out.prediction_watermark = -math.inf if p_wm is None else float(p_wm)
        out.feedback_watermark = -math.inf if f_wm is None else float(f_wm)
    else:  # states written before per-stream watermarks
        out.prediction_watermark = out.feedback_watermark = out.watermark
    for model, rows in d["pending"].items():
        pend = out._pending[model] = {}
        for pid, ts, pred, version, segment in rows:
            pend[pid] = (ts, pred, version, segment)
    for model, rows in d["feedback"].items():
        wait = out._feedback[model] = {}
        for pid, ts, label in rows:
            wait[pid] = (ts, label)
    for model, rows in d["labelled"].items():
        lab = out._labelled[model] = {}
        for pid, ts in rows:
            lab[pid] = ts
    out._pheap = rebuild_heaps(out._pending)
    out._fheap = rebuild_heaps(out._feedback)
    out._lheap = rebuild_heaps(out._labelled)
    if d.get("model_ttls"):
        out.set_model_ttls({m: (p, f) for m, (p, f) in d["model_ttls"].items()})
    if "model_watermarks" in d:
        for model, (p_wm, f_wm) in d["model_watermarks"].items():
            if p_wm is not None:
                out.prediction_watermarks[model] = float(p_wm)
            if f_wm is not None:
                out.feedback_watermarks[model] = float(f_wm)
    else:  # written before per-model clocks: what the state holds bounds them from below
        _lower_bounds(out.prediction_watermarks, out._pheap, out._lheap)
        _lower_bounds(out.feedback_watermarks, out._fheap)
    out._dirty.update(out._pheap, out._fheap, out._lheap)
    out._dirty.update(out.prediction_watermarks, out.feedback_watermarks)
    out._n_pending = sum(len(v) for v in out._pending.values())
    out._n_feedback = sum(len(v) for v in out._feedback.values())
    out._n_labelled = sum(len(v) for v in out._labelled.values())
    counters = d["counters"]
    for name in COUNTERS:
        setattr(out, name, {m: int(k) for m, k in counters.get(name, {}).items()})
    return out


def _lower_bounds(watermarks: dict[str, float], *heaps: dict[str, list[Any]]) -> None:
    """Each model's newest timestamp in ``heaps``: a lower bound of its watermark, so the
    restored join expires later than the original would, never earlier."""
    for store in heaps:
        for model, heap in store.items():
            if heap:
                top = max(entry[0] for entry in heap)
                watermarks[model] = max(watermarks.get(model, -math.inf), top)


def _finite(value: float) -> float | None:
    return None if value == -math.inf else value
