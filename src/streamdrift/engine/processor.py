"""Decode → core → emit, for the records of one input partition. No Kafka client here.

:class:`Processor` owns one :class:`~streamdrift.engine.partition.PartitionState` per
assigned partition. :meth:`Processor.process` takes the raw records the consumer fetched
(any mix of the predictions and feedback topics of one partition), makes one call per kind
of input into the fleets, and returns one :class:`~streamdrift.engine.update.Update`: the
records to publish (alerts, window records, dead-letter records for input that cannot be
processed) and what the metrics read. It never raises on bad input: every invalid message
goes to the dead-letter topic with its reason and its origin in headers and its bytes
untouched. It touches no metric.
"""

from __future__ import annotations

import logging
import time
import zlib
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from streamdrift import codec
from streamdrift.alerts.policy import AlertPolicy
from streamdrift.config.settings import Settings
from streamdrift.config.spec import ModelSpecs
from streamdrift.drift.fleet import FleetUpdate, MonitorFleet
from streamdrift.drift.profiles import Profiles, profiles_to_dict
from streamdrift.drift.window_record import monitor_of, window_record
from streamdrift.engine import clock as engine_clock
from streamdrift.engine.dead_letters import DeadLetters
from streamdrift.engine.held_feedback import model_of
from streamdrift.engine.intake import Intake
from streamdrift.engine.messages import (
    InputRecord,
    OutputRecord,
)
from streamdrift.engine.partition import PartitionState
from streamdrift.engine.retrain import retrain_records
from streamdrift.engine.update import StateGauges, Update
from streamdrift.experiments import shadow
from streamdrift.labels.degradation import DegradationUpdate
from streamdrift.labels.join_spill import SpillTier
from streamdrift.labels.multiclass_calibration import Calibration
from streamdrift.labels.performance import ReferencePerformance
from streamdrift.labels.spill_store import OpenSpillStore, SpillStore
from streamdrift.records import (
    Alert,
    AlertKind,
    AlertStatus,
    EndOfInput,
    FeedbackEvent,
    PredictionBatch,
    PredictionEvent,
    WindowResult,
    to_batches,
)

log = logging.getLogger(__name__)


class Processor:
    """The per-partition monitoring state of one worker and the code that drives it."""

    def __init__(
        self,
        settings: Settings,
        specs: ModelSpecs | None = None,
        clock: Callable[[], float] = time.time,
        spill_store: OpenSpillStore | None = None,
    ) -> None:
        self.settings = settings
        # opens the join's on-disk tier of a partition (the worker's: SQLite); without one,
        # a join that must spill fails saying so
        self.spill_store = spill_store or _no_spill_store
        self.specs = specs or settings.model_specs()
        self.clock = clock
        self.runtime = settings.runtime_spec()
        self.dead = DeadLetters(settings.topic_dead_letter, self.runtime)
        self.states: dict[int, PartitionState] = {}
        # reference profiles from the references topic, by (model, version)
        self.references: dict[tuple[str, str], tuple[Profiles, int]] = {}
        # reference performance carried by those profiles, by (model, version)
        self.performance_references: dict[tuple[str, str], ReferencePerformance] = {}
        # score calibrations carried by those profiles, by (model, version)
        self.calibrations: dict[tuple[str, str], Calibration] = {}
        # outputs produced outside process() (a reference applied on restore), per partition
        self.pending: dict[int, Update] = {}
        # join spill segments (seq, crc) retired by the last snapshot of each partition
        self.retired: dict[int, list[tuple[int, int]]] = {}

    # -- ownership --------------------------------------------------------------------------

    @property
    def owned(self) -> set[int]:
        return set(self.states)

    def restore(
        self,
        partition: int,
        snapshot: dict[str, Any] | None,
        segments: Mapping[int, bytes] | None = None,
    ) -> PartitionState:
        """Take ownership of ``partition``, from a checkpoint or fresh; ``segments``: the
        published join spill segments the local state directory lacks (by seq)."""
        if snapshot is None:
            state = PartitionState.fresh(partition, self._fleet())
        else:
            state = PartitionState.from_dict(snapshot, self.specs)
            state.fleet.alerts.clock = self.clock
            state.runtime.resumed(self.clock())
        old = self.states.get(partition)
        if old is not None and old.labels.join.tier is not None:
            old.labels.join.tier.close()  # restoring again (after a Kafka error)
        self.retired.pop(partition, None)
        join = state.labels.join
        if self.settings.memory_pending:
            join.attach_spill(self._spill_tier(partition), (segments or {}).get)
        elif join.restored_spill is not None and join.restored_spill["segments"]:
            raise ValueError(
                f"the checkpoint of partition {partition} has waiting predictions on disk: "
                "run the worker with memory_pending > 0 to restore it"
            )
        self.states[partition] = state
        out = Update()
        for (model, version), (profiles, count) in self.references.items():
            known = state.fleet.references.get((model, version))
            if (
                known is None
                or known[1] != count
                or (profiles_to_dict(known[0]) != profiles_to_dict(profiles))
            ):
                self._emit(state.fleet.set_reference(model, version, profiles, count), out, state)
        for (model, version), performance in self.performance_references.items():
            if state.labels.references.get((model, version)) != performance:
                update = state.labels.set_reference(model, version, performance)
                self._emit_labels(state, update, out)
        for (model, version), calibration in self.calibrations.items():
            state.estimates.set_calibration(model, version, calibration)
        if out.records:
            self.pending.setdefault(partition, Update()).extend(out)
        return state

    def take_pending(self) -> Update:
        """Outputs produced outside :meth:`process` (publish them before checkpointing)."""
        out = Update()
        for update in self.pending.values():
            out.extend(update)
        self.pending.clear()
        return out

    def set_reference(
        self,
        model_id: str,
        version: str,
        profiles: Profiles,
        count: int,
        performance: ReferencePerformance | None = None,
        calibration: Calibration | None = None,
    ) -> Update:
        """A reference profile arrived: every owned partition uses it from now on (its
        ``performance``, when it has one, as the reference of the performance monitors)."""
        self.references[(model_id, version)] = (profiles, count)
        out = Update()
        for state in self.states.values():
            self._emit(state.fleet.set_reference(model_id, version, profiles, count), out, state)
        if performance is not None:
            self.performance_references[(model_id, version)] = performance
            for state in self.states.values():
                update = state.labels.set_reference(model_id, version, performance)
                self._emit_labels(state, update, out)
        if calibration is not None:
            self.calibrations[(model_id, version)] = calibration
            for state in self.states.values():
                state.estimates.set_calibration(model_id, version, calibration)
        log.info("reference profile for %s v%s (%d rows)", model_id, version, count)
        return out

    def release(self, partition: int) -> None:
        state = self.states.pop(partition, None)
        self.pending.pop(partition, None)
        self.retired.pop(partition, None)
        if state is not None and state.labels.join.tier is not None:
            state.labels.join.tier.close()

    # -- the join's on-disk tier (see labels/join_spill.py) -------------------------------------

    def _spill_tier(self, partition: int) -> SpillTier:
        s = self.settings
        path = s.state_path / s.app_id / f"{s.topic_predictions}-{partition}.sqlite"
        return SpillTier(path, s.memory_pending, self.spill_store)

    def spill_key(self, partition: int, seq: int, crc: int) -> bytes:
        """Key of a segment in the spill topic: ``<predictions topic>/<partition>/<seq>-<crc>``
        (the CRC32 of its bytes, hex: a replay or a zombie writer that spills other rows
        under the same seq never overwrites a segment a checkpoint references)."""
        return f"{self.settings.topic_predictions}/{partition}/{seq}-{crc:08x}".encode()

    def needed_segments(self, partition: int, snapshot: dict[str, Any]) -> list[tuple[int, int]]:
        """``(seq, crc)`` of the spill segments a checkpoint references that the local state
        directory lacks."""
        spill = snapshot["labels"]["join"].get("spill")
        if not spill or not self.settings.memory_pending:
            return []
        return self._spill_tier(partition).needed(spill)

    def take_spilled(self, partitions: Sequence[int], topic: str) -> list[OutputRecord]:
        """New spill segments of ``partitions``: publish (and await) before checkpointing."""
        out: list[OutputRecord] = []
        for p in partitions:
            tier = self.states[p].labels.join.tier
            if tier is not None:
                for seq, blob in tier.take_segments():
                    key = self.spill_key(p, seq, zlib.crc32(blob))
                    out.append(OutputRecord(topic, key, blob))
        return out

    def checkpointed(self, partitions: Sequence[int], topic: str) -> list[OutputRecord]:
        """The checkpoints of ``partitions`` are durable: tombstones for the segments they
        no longer reference (their local copies are dropped)."""
        out: list[OutputRecord] = []
        for p in partitions:
            retired = self.retired.pop(p, [])
            tier = self.states[p].labels.join.tier if p in self.states else None
            if tier is not None:
                tier.forget([seq for seq, _ in retired])
            out.extend(OutputRecord(topic, self.spill_key(p, *r), None) for r in retired)
        return out

    def snapshot(self, partition: int) -> dict[str, Any]:
        """The partition's checkpoint."""
        state = self.states[partition]
        snapshot = state.to_dict()
        tier = state.labels.join.tier
        if tier is not None:
            self.retired.setdefault(partition, []).extend(tier.take_retired())
        return snapshot

    def gauges(self, partition: int) -> StateGauges:
        """The slow-moving state the gauges show: late events and join counters of
        ``partition``, waiting rows of every owned partition."""
        state = self.states[partition]
        out = StateGauges()
        for monitor in state.fleet.monitors.values():
            if monitor.late_events:
                out.late_events[monitor.model_id] = monitor.late_events
        out.pending = {
            "predictions": self._pending("pending_predictions"),
            "feedback": self._pending("pending_feedback"),
            "predictions_in_memory": self._pending("pending_in_memory"),
            "predictions_on_disk": self._pending("pending_on_disk"),
            "feedback_unknown_model": sum(st.held.events for st in self.states.values()),
        }
        join = state.labels.join
        for counter in ("unlabelled_expired", "orphan_feedback_expired", "duplicates", "evicted"):
            for model_id, n in getattr(join, counter).items():
                out.join_events[(model_id, counter)] = n
        return out

    def offsets(self, partition: int) -> dict[str, int]:
        return dict(self.states[partition].offsets)

    def _fleet(self) -> MonitorFleet:
        return MonitorFleet(
            self.specs, AlertPolicy(resolve_after=self.settings.resolve_after, clock=self.clock)
        )

    # -- processing -------------------------------------------------------------------------

    def process(self, partition: int, records: Sequence[InputRecord]) -> Update:
        """Process the fetched records of one partition; return what to publish."""
        state = self.states.get(partition)
        if state is None:  # fetched before the partition was revoked: not ours any more
            return Update()
        out = self.pending.pop(partition, None) or Update()
        intake = Intake(
            self.settings.topic_predictions,
            state.runtime,
            self.runtime,
            self.dead,
            state.offsets,
            out,
            lambda items: self._observe(state, items, out),
            lambda marker: self._end_of_input(state, marker, out),
        )
        items = intake.take(records)
        out.messages.update(intake.consumed)
        self._observe(state, items, out)
        feedback = self._known_feedback(state, intake.feedback, out)
        if feedback:
            for model, n in Counter(e.model_id for e in feedback).items():
                out.events[(self.settings.topic_feedback, model)] += n
            self._emit_labels(state, state.labels.add_feedback(feedback), out)
            self._experiment_records(state.experiments.add_feedback(feedback), out)
        return out

    def _experiment_records(self, records: list[dict[str, Any]], out: Update) -> None:
        """Progress and decisions of the experiments (``experiments/``), keyed by experiment."""
        topic = self.settings.topic_experiment_decisions
        for doc in records:
            if doc["kind"] == "decision":
                log.warning("EXPERIMENT %s", doc["message"])
            value = codec.encode_experiment_record(doc)
            out.records.append(OutputRecord(topic, doc["experiment"].encode(), value))

    def _observe(
        self,
        state: PartitionState,
        items: list[PredictionEvent | PredictionBatch],
        out: Update,
    ) -> None:
        if not items:
            return
        batches = to_batches(items)
        newest = max(max(b.timestamps) for b in batches)
        out.event_time_lags.append(max(0.0, self.clock() - newest))
        topic = self.settings.topic_predictions
        for batch in batches:
            out.events[(topic, batch.model_id)] += len(batch)
        self._emit(state.fleet.observe(batches), out, state)
        for alert in engine_clock.observed(state, batches, self.clock(), self.runtime):
            self._alert_record(alert, out)
        self._emit_estimates(state.estimates.observe(batches), "estimated_performance", out)
        served = shadow.served(batches, self.specs.experiments)  # not a shadow's second row
        self._emit_labels(state, state.labels.add_predictions(served), out)
        self._experiment_records(state.experiments.add_predictions(batches), out)

    def tick(self, partition: int, now: float | None = None) -> Update:
        """Processing time moved on (``engine/clock.py``): idle windows close, silent streams
        end, traffic buckets close, held feedback of unknown models goes to dead-letter.
        Call it only while the partition is read to the end of its input topics (the runner
        does): what a backlog holds comes first. ``now``: the injected clock's time by
        default."""
        state = self.states.get(partition)
        if state is None:
            return Update()
        out = self.pending.pop(partition, None) or Update()
        now = self.clock() if now is None else now
        before = len(state.fleet.monitors)
        self._reject_held(state, out)
        self._emit(engine_clock.tick(state, now, self.runtime), out, state)
        if len(state.fleet.monitors) < before:
            log.info(
                "partition %d: %d monitors retired (no traffic for %g s)",
                partition,
                before - len(state.fleet.monitors),
                self.runtime.retire_after,
            )
        return out

    def _end_of_input(self, state: PartitionState, marker: EndOfInput, out: Update) -> None:
        """Close the model's partial drift windows (see ``DriftMonitor.flush``)."""
        update = state.fleet.end_of_input(marker.model_id, marker.model_version)
        log.info(
            "end of input for %s%s: %d partial windows tested",
            marker.model_id,
            "" if marker.model_version is None else f" v{marker.model_version}",
            len(update.windows),
        )
        self._emit(update, out, state)

    def _emit_labels(self, state: PartitionState, update: DegradationUpdate, out: Update) -> None:
        out.label_delays.extend(max(0.0, row.delay) for row in update.labelled)
        out.labels_joined.update(row.model_id for row in update.labelled)
        self._window_records(update.windows, out, labels=True)
        for window in update.windows:
            monitor = state.labels.monitors.get(
                (window.model_id, window.model_version, window.segment)
            )
            out.label_windows.append((window, {} if monitor is None else dict(monitor.latest)))
        for alert in update.alerts:
            self._alert_record(alert, out)
        out.records.extend(retrain_records(self.settings, self.specs, state, update, self.clock))
        if update.labelled:
            estimates = state.estimates.add_labelled(update.labelled)
            self._emit_estimates(estimates, "estimator_divergence", out)

    def _emit_estimates(self, update: FleetUpdate, monitor: str, out: Update) -> None:
        """Windows and alerts of the label-free estimates (``labels/estimates.py``)."""
        topic = self.settings.topic_drift_windows
        for window in update.windows:
            doc = window_record(window, monitor)
            out.records.append(
                OutputRecord(topic, window.model_id.encode(), codec.encode_window_record(doc))
            )
        if monitor == "estimated_performance":
            out.estimate_windows.extend(update.windows)
        for alert in update.alerts:
            self._alert_record(alert, out)

    def _known_feedback(
        self,
        state: PartitionState,
        messages: list[tuple[InputRecord, list[FeedbackEvent]]],
        out: Update,
    ) -> list[FeedbackEvent]:
        """The feedback to join now: held messages whose models this call's predictions made
        known, then this call's messages of known models. A message with a model the
        partition does not know is held (``engine/held_feedback.py``) unless
        ``performance.unknown_model_feedback = "wait"``. Called after the call's predictions
        were added, so they make their model known."""
        labels, held = state.labels, state.held
        knows = labels.knows if labels.rejects_unknown else _anything
        ready = held.release(knows)  # all of them, if the configuration now says "wait"
        for record, events in messages:
            if knows(model_of(events)):
                ready.append((record, events))
            else:
                ready.extend(held.hold(record, events))
        return [e for _, events in ready for e in events]

    def _reject_held(self, state: PartitionState, out: Update) -> None:
        """The partition was read to the end of its predictions: held feedback whose model
        is still unknown, held since the last tick, goes to dead-letter (``unknown_model``)."""
        for record, events in state.held.take_due():
            error = (
                f"feedback for model {model_of(events)!r}, which is not configured and had sent no "
                "prediction to this partition when its predictions were read to their end"
            )
            self.dead.reject(record, "unknown_model", error, out, decode=False)

    def _pending(self, attribute: str) -> int:
        return sum(getattr(st.labels.join, attribute) for st in self.states.values())

    def _emit(self, update: FleetUpdate, out: Update, state: PartitionState) -> None:
        self._window_records(update.windows, out, labels=False)
        out.drift_windows.extend(update.windows)
        for alert in update.alerts:
            self._alert_record(alert, out)
        out.records.extend(retrain_records(self.settings, self.specs, state, update, self.clock))

    def _window_records(
        self, windows: Sequence[WindowResult], out: Update, *, labels: bool
    ) -> None:
        """One ``drift-windows`` record per closed window (``drift/window_record.py``)."""
        topic = self.settings.topic_drift_windows
        for window in windows:
            doc = window_record(window, monitor_of(window, labels=labels))
            out.records.append(
                OutputRecord(topic, window.model_id.encode(), codec.encode_window_record(doc))
            )

    def _alert_record(self, alert: Alert, out: Update) -> None:
        degradation = alert.kind in (
            AlertKind.PERFORMANCE_DEGRADATION,
            AlertKind.CONCEPT_DRIFT,
            AlertKind.LABEL_HEALTH,
            AlertKind.ESTIMATED_PERFORMANCE,
            AlertKind.ESTIMATOR_DIVERGENCE,
            AlertKind.TRAFFIC,
        )
        topic = (
            self.settings.topic_degradation_alerts
            if degradation
            else self.settings.topic_drift_alerts
        )
        out.alerts.append(alert)
        if alert.status is AlertStatus.FIRING:
            log.warning("ALERT %s", alert.message)
        else:
            log.info("resolved: %s", alert.message)
        out.records.append(OutputRecord(topic, alert.model_id.encode(), codec.encode_alert(alert)))


def _anything(model_id: str) -> bool:
    return True


def _no_spill_store(path: Path) -> SpillStore:
    raise RuntimeError(
        f"the join must spill to disk ({path}) but this Processor was given no spill_store; "
        "pass streamdrift.storage.sqlite_spill.SqliteSpillStore, or set memory_pending = 0"
    )
