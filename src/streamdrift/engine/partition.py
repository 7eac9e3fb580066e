"""Everything streamdrift keeps for one input partition, and the input offsets it covers.

Predictions and feedback are both keyed by ``model_id`` and have the same partition count,
so partition p of both topics holds the same models: one :class:`PartitionState` per
partition number is the unit of ownership, of checkpointing and of recovery. A checkpoint
is ``to_dict()``: the state *and* the next offset to read of every input topic, so
restoring it and replaying the input from those offsets reproduces an uninterrupted run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from streamdrift.alerts.retrain import RetrainPolicy
from streamdrift.config.spec import ModelSpecs
from streamdrift.drift.fleet import MonitorFleet
from streamdrift.engine.held_feedback import HeldFeedback
from streamdrift.engine.runtime import RuntimeState
from streamdrift.experiments.fleet import ExperimentFleet
from streamdrift.labels.degradation import DegradationFleet
from streamdrift.labels.estimates import EstimateFleet

STATE_VERSION = 1


@dataclass(slots=True)
class PartitionState:
    partition: int
    fleet: MonitorFleet
    labels: DegradationFleet
    offsets: dict[str, int] = field(default_factory=dict)  # topic -> next offset to process
    experiments: ExperimentFleet = field(default_factory=lambda: ExperimentFleet({}))
    retrain: RetrainPolicy = field(default_factory=RetrainPolicy)
    restored_estimates: EstimateFleet | None = None  # None: fresh label-free estimates
    estimates: EstimateFleet = field(init=False)
    runtime: RuntimeState = field(default_factory=RuntimeState)  # streams' clocks, traffic
    # feedback of models the partition does not know yet (engine/held_feedback.py)
    held: HeldFeedback = field(default_factory=HeldFeedback)

    def __post_init__(self) -> None:
        fresh = EstimateFleet(self.fleet.specs, self.fleet.alerts)
        self.estimates = self.restored_estimates or fresh
        self.restored_estimates = None

    @classmethod
    def fresh(cls, partition: int, fleet: MonitorFleet) -> PartitionState:
        """A new partition state; the label fleet shares the drift fleet's alert policy."""
        return cls(
            partition,
            fleet,
            DegradationFleet(fleet.specs, fleet.alerts),
            experiments=ExperimentFleet(fleet.specs.experiments),
        )

    def accepts(self, topic: str, offset: int) -> bool:
        """False for a record already covered (a re-delivery after a seek)."""
        return offset >= self.offsets.get(topic, 0)

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": STATE_VERSION,
            "partition": self.partition,
            "offsets": dict(self.offsets),
            "fleet": self.fleet.to_dict(),
            "labels": self.labels.to_dict(),
            **({"experiments": self.experiments.to_dict()} if self.experiments.specs else {}),
            "retrain": self.retrain.to_dict(),
            "estimates": self.estimates.to_dict(),
            "runtime": self.runtime.to_dict(),
            **({"held_feedback": self.held.to_list()} if self.held else {}),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any], specs: ModelSpecs) -> PartitionState:
        if d.get("version") != STATE_VERSION:
            raise ValueError(f"unsupported partition state version {d.get('version')!r}")
        fleet = MonitorFleet.from_dict(d["fleet"], specs)
        return cls(
            partition=int(d["partition"]),
            fleet=fleet,
            labels=DegradationFleet.from_dict(d["labels"], specs, fleet.alerts),
            offsets={str(k): int(v) for k, v in d["offsets"].items()},
            experiments=ExperimentFleet.from_dict(d.get("experiments"), specs.experiments),
            retrain=RetrainPolicy.from_dict(d.get("retrain")),  # absent before retrain requests
            restored_estimates=None
            if d.get("estimates") is None  # checkpoints before estimates: start afresh
            else EstimateFleet.from_dict(d["estimates"], specs, fleet.alerts),
            runtime=RuntimeState.from_dict(d.get("runtime")),
            held=HeldFeedback.from_list(d.get("held_feedback", ())),
        )
