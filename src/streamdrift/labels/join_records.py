"""The records of :class:`~streamdrift.labels.join.FeedbackJoin`: what it returns and counts.

Import them from :mod:`streamdrift.labels.join`; the join's checkpoint form lives with its
fields (:meth:`~streamdrift.labels.join_memory.MemoryJoin.to_dict`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from streamdrift.records import Label

__all__ = ["COUNTERS", "STATE_VERSION", "Expired", "JoinCounters", "LabelledPrediction", "bump"]

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


class JoinCounters:
    """The join's counters, each ``{model_id: n}``: the first base of
    :class:`~streamdrift.labels.join_memory.MemoryJoin`."""

    __slots__ = COUNTERS

    def __init__(self) -> None:
        self.predictions_seen: dict[str, int] = {}
        self.feedback_seen: dict[str, int] = {}
        self.labelled: dict[str, int] = {}
        self.early_feedback: dict[str, int] = {}
        self.duplicates: dict[str, int] = {}
        self.duplicate_predictions: dict[str, int] = {}
        self.unlabelled_expired: dict[str, int] = {}
        self.orphan_feedback_expired: dict[str, int] = {}
        self.evicted: dict[str, int] = {}
        self.feedback_evicted: dict[str, int] = {}
        self.labels_forgotten: dict[str, int] = {}

    def counters(self) -> dict[str, dict[str, int]]:
        """Every counter, ``{name: {model_id: n}}`` (copies)."""
        return {name: dict(getattr(self, name)) for name in COUNTERS}

    def totals(self) -> dict[str, int]:
        """Every counter summed over models."""
        return {name: sum(getattr(self, name).values()) for name in COUNTERS}

    def _restore_counters(self, counters: dict[str, dict[str, int]]) -> None:
        """The counters of :meth:`counters`' form (a name missing: none counted)."""
        for name in COUNTERS:
            setattr(self, name, {m: int(k) for m, k in counters.get(name, {}).items()})


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
