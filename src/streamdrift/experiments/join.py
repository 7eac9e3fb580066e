"""Labels meet the predictions of the variants of an experiment, by ``(model_id,
prediction_id)``: one prediction per variant may wait under one id (shadow mode scores the
same request twice), so this join lives beside the partition's feedback join, which keeps
its one-prediction-per-id rule. A request is complete when its label and one variant (A/B,
A/A) or both variants (shadow) are in; it is then returned and forgotten.

Entries wait at most their experiment's ``ttl`` of event time (the largest timestamp seen),
in arrival order, and at most ``max_entries`` in all; both drops are counted.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from streamdrift.config.experiments import ExperimentSpec

MAX_ENTRIES = 1_000_000
NO_LABEL = "__no_label__"  # a waiting entry without its label yet (labels are never this)


@dataclass(frozen=True, slots=True)
class Scored:
    """One complete request: the label and each variant's (prediction, decided class)."""

    experiment: str
    prediction_id: str
    timestamp: float  # the latest of its predictions' event times
    label: Any
    variants: dict[str, tuple[Any, Any]]


class ExperimentJoin:
    __slots__ = ("entries", "evicted", "expired", "max_entries", "models", "watermark")

    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self.max_entries = max_entries
        # "model\x1fpid" -> [experiment | None, first_ts, label | NO_LABEL,
        #                    {variant: [prediction, decided, ts]}]
        self.entries: dict[str, list[Any]] = {}
        self.models: set[str] = set()  # models that sent experiment predictions here
        self.watermark = -math.inf
        self.evicted = 0
        self.expired = 0

    def add_prediction(
        self,
        specs: Mapping[str, ExperimentSpec],
        model: str,
        pid: str,
        ts: float,
        experiment: str,
        variant: str,
        prediction: Any,
        decided: Any,
    ) -> Scored | None:
        self.models.add(model)
        key = f"{model}\x1f{pid}"
        entry = self.entries.get(key)
        if entry is None:
            entry = self.entries[key] = [experiment, ts, NO_LABEL, {}]
        entry[0] = experiment
        entry[3].setdefault(variant, [prediction, decided, ts])
        self.watermark = max(self.watermark, ts)
        return self._complete(specs, key, entry)

    def add_label(
        self, specs: Mapping[str, ExperimentSpec], model: str, pid: str, ts: float, label: Any
    ) -> Scored | None:
        """The label of a request; it waits for its predictions when they are not in yet
        (the caller passes only labels of models that take part in an experiment)."""
        key = f"{model}\x1f{pid}"
        entry = self.entries.get(key)
        if entry is None:
            entry = self.entries[key] = [None, ts, NO_LABEL, {}]
        if entry[2] == NO_LABEL:
            entry[2] = label
        self.watermark = max(self.watermark, ts)
        return self._complete(specs, key, entry)

    def _complete(
        self, specs: Mapping[str, ExperimentSpec], key: str, entry: list[Any]
    ) -> Scored | None:
        experiment, _, label, variants = entry
        spec = specs.get(experiment) if experiment is not None else None
        if spec is None or label == NO_LABEL or not variants:
            return None
        if spec.paired and not all(v in variants for v in spec.split):
            return None
        del self.entries[key]
        return Scored(
            experiment,
            key.split("\x1f", 1)[1],
            max(v[2] for v in variants.values()),
            label,
            {v: (p[0], p[1]) for v, p in variants.items()},
        )

    def bound(self, specs: Mapping[str, ExperimentSpec], default_ttl: float) -> None:
        """Drop entries past their ttl (from the front, arrival order) and beyond the bound."""
        entries = self.entries
        while entries:
            key = next(iter(entries))
            experiment, ts = entries[key][0], entries[key][1]
            spec = specs.get(experiment) if experiment is not None else None
            ttl = spec.ttl if spec is not None else default_ttl
            if len(entries) > self.max_entries:
                self.evicted += 1
            elif ts < self.watermark - ttl:
                self.expired += 1
            else:
                break
            del entries[key]

    def to_dict(self) -> dict[str, Any]:
        return {
            "entries": [[k, *v] for k, v in self.entries.items()],
            "models": sorted(self.models),
            "watermark": None if self.watermark == -math.inf else self.watermark,
            "evicted": self.evicted,
            "expired": self.expired,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ExperimentJoin:
        join = cls()
        join.entries = {row[0]: [row[1], row[2], row[3], row[4]] for row in d["entries"]}
        join.models = set(d["models"])
        join.watermark = -math.inf if d["watermark"] is None else float(d["watermark"])
        join.evicted, join.expired = int(d["evicted"]), int(d["expired"])
        return join
