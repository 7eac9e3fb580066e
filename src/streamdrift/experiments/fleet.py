"""The experiments of one partition: its predictions and labels in, records out.

A prediction takes part when it names a configured ``experiment`` (and, where the
experiment names a ``model_id``, comes from that model) and one of its two variants;
others are counted (``unknown``) and otherwise monitored as usual. An experiment's
predictions must share one ``model_id`` (the Kafka key), so they and their labels meet in
one partition.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from streamdrift.config.experiments import ExperimentSpec
from streamdrift.experiments.experiment import ExperimentState
from streamdrift.experiments.join import ExperimentJoin, Scored
from streamdrift.records import FeedbackEvent, PredictionBatch


class ExperimentFleet:
    __slots__ = ("join", "named", "specs", "states", "unknown")

    def __init__(self, specs: Mapping[str, ExperimentSpec]) -> None:
        self.specs = specs
        self.named = frozenset(s.model_id for s in specs.values() if s.model_id is not None)
        self.join = ExperimentJoin()
        self.states: dict[str, ExperimentState] = {}
        self.unknown = 0  # predictions naming an unconfigured experiment or variant

    def add_predictions(self, batches: Sequence[PredictionBatch]) -> list[dict[str, Any]]:
        if not self.specs:
            return []
        out: list[dict[str, Any]] = []
        scored: list[Scored] = []
        # every assignment of the call before any is tested: the batches come grouped by
        # model version, not in the order of arrival (experiments/assignment.py)
        assigned: dict[str, list[int]] = {}
        stamps: dict[str, list[float]] = {}
        models: dict[str, str] = {}
        for batch in batches:
            if batch.experiments is None or batch.variants is None:
                continue
            decided = batch.predicted_labels or [None] * len(batch)
            preds = batch.predictions or [None] * len(batch)
            for i, (name, variant) in enumerate(
                zip(batch.experiments, batch.variants, strict=True)
            ):
                if name is None:
                    continue
                spec = self.specs.get(name)
                if (
                    spec is None
                    or variant is None
                    or variant not in spec.split
                    or (spec.model_id is not None and spec.model_id != batch.model_id)
                ):
                    self.unknown += 1
                    continue
                ts = batch.timestamps[i]
                assigned.setdefault(name, []).append(0 if variant == spec.champion else 1)
                stamps.setdefault(name, []).append(ts)
                models.setdefault(name, batch.model_id)
                row = self.join.add_prediction(
                    self.specs,
                    batch.model_id,
                    batch.prediction_ids[i],
                    ts,
                    name,
                    variant,
                    preds[i],
                    decided[i],
                )
                if row is not None:
                    scored.append(row)
        for name, variants in assigned.items():
            out.extend(self._state(name, models[name]).assigned(variants, stamps[name]))
        out.extend(self._labelled(scored))
        self.join.bound(self.specs, max(s.ttl for s in self.specs.values()))
        return out

    def add_feedback(self, events: Sequence[FeedbackEvent]) -> list[dict[str, Any]]:
        """Labels of models that take part: named by an experiment's ``model_id``, or seen
        with experiment predictions here. A label may come first (the worker reads the
        feedback topic beside the predictions topic, in no fixed order): it waits."""
        if not self.specs:
            return []
        models = self.join.models | self.named
        if not models:
            return []
        scored = [
            row
            for e in events
            if e.model_id in models
            and (
                row := self.join.add_label(
                    self.specs, e.model_id, e.prediction_id, e.timestamp, e.label
                )
            )
            is not None
        ]
        out = self._labelled(scored)
        self.join.bound(self.specs, max(s.ttl for s in self.specs.values()))
        return out

    def _state(self, name: str, model_id: str) -> ExperimentState:
        state = self.states.get(name)
        if state is None:
            state = self.states[name] = ExperimentState.fresh(self.specs[name], model_id)
        return state

    def _labelled(self, rows: list[Scored]) -> list[dict[str, Any]]:
        by: dict[str, list[Scored]] = {}
        for row in rows:
            by.setdefault(row.experiment, []).append(row)
        out: list[dict[str, Any]] = []
        for name, group in by.items():
            out.extend(self.states[name].labelled(group))
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "join": self.join.to_dict(),
            "states": {name: s.to_dict() for name, s in self.states.items()},
            "unknown": self.unknown,
        }

    @classmethod
    def from_dict(
        cls, d: dict[str, Any] | None, specs: Mapping[str, ExperimentSpec]
    ) -> ExperimentFleet:
        fleet = cls(specs)
        if d is None:
            return fleet
        fleet.join = ExperimentJoin.from_dict(d["join"])
        fleet.states = {
            name: ExperimentState.from_dict(s, specs[name])
            for name, s in d["states"].items()
            if name in specs  # an experiment removed from the config is forgotten
        }
        fleet.unknown = int(d["unknown"])
        return fleet
