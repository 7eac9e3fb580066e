"""Time that moves without events: what an idle partition does on each tick.

The processor calls :func:`observed` with every batch it monitors and :func:`tick` with
the processing time ``now`` (an injected clock) while partitions are idle. Per stream, event
time is estimated as its last event time plus the processing time elapsed since that event
arrived (:meth:`~streamdrift.engine.runtime.Stream.event_time`). Then

* an event-time window whose ``end + allowed_lateness + idle_timeout`` has passed closes
  and is tested (``DriftMonitor.advance``);
* a count window that received no event for ``idle_timeout`` is tested when it holds at
  least ``min_window_count`` events, as a partial window (``DriftMonitor.flush``);
* endings (``engine/endings.py``) and traffic buckets (``engine/traffic.py``) move on.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable

import numpy as np

from streamdrift.alerts.policy import AlertKey
from streamdrift.config.runtime import RuntimeSpec
from streamdrift.drift.fleet import OTHER_SEGMENT, FleetUpdate
from streamdrift.engine.endings import RETIRED, STOPPED, end_episodes, retire_version
from streamdrift.engine.partition import PartitionState
from streamdrift.engine.runtime import StreamKey
from streamdrift.records import Alert, PredictionBatch


def observed(
    state: PartitionState, batches: Iterable[PredictionBatch], now: float, spec: RuntimeSpec
) -> list[Alert]:
    """Note the streams that sent (after the fleet saw the batches); traffic alerts."""
    runtime, alerts = state.runtime, []
    for batch in batches:
        if not len(batch):
            continue
        segment = batch.segment
        if segment is not None and segment not in state.fleet.segments.get(
            (batch.model_id, batch.model_version), ()
        ):
            segment = OTHER_SEGMENT
        stamps = np.asarray(batch.timestamps, dtype=np.float64)
        runtime.seen((batch.model_id, batch.model_version, segment), float(stamps.max()), now)
        if spec.traffic.period > 0:
            for key in (None,) if segment is None else (None, segment):
                monitor = runtime.traffic.monitor(batch.model_id, key)
                alerts.extend(monitor.observe(stamps, batch.model_version, spec.traffic, now))
    return [dataclasses.replace(a, detected_at=now) for a in alerts]


def tick(state: PartitionState, now: float, spec: RuntimeSpec) -> FleetUpdate:
    """Close idle windows, end silent streams, retire silent versions, close traffic
    buckets, as of processing time ``now``."""
    update = FleetUpdate()
    runtime, fleet = state.runtime, state.fleet
    versions: dict[tuple[str, str], list[StreamKey]] = {}
    newly_ended: set[tuple[str, str]] = set()
    model_time: dict[tuple[str, str | None], float] = {}
    for key, stream in runtime.streams.items():
        versions.setdefault((key[0], key[1]), []).append(key)
        idle = now - stream.wall
        event_time = stream.event_time(now)
        for traffic_key in ((key[0], None), (key[0], key[2])):
            model_time[traffic_key] = max(model_time.get(traffic_key, event_time), event_time)
        monitor = fleet.monitors.get(key)
        if monitor is not None and idle >= spec.idle_timeout:
            window = monitor.spec.window
            if window.kind == "time":
                results = monitor.advance(event_time - window.allowed_lateness - spec.idle_timeout)
            elif monitor.has_reference and monitor.buffered >= monitor.spec.min_window_count:
                results = monitor.flush()
            else:
                results = []
            for result in results:
                update.windows.append(result)
                update.alerts.extend(fleet.alerts.decide(result, monitor.spec.resolve_after))
        if not stream.ended and idle >= spec.silence_after:
            stream.ended = True
            newly_ended.add((key[0], key[1]))
            update.alerts.extend(
                end_episodes(
                    fleet.alerts,
                    _of_stream(key),
                    STOPPED,
                    last_ts=stream.last_ts,
                    event_time=event_time,
                    silent_for=idle,
                    threshold=spec.silence_after,
                    now=now,
                )
            )
    for (model, version), keys in versions.items():
        streams = [runtime.streams[k] for k in keys]
        idle = now - max(s.wall for s in streams)
        last_ts = max(s.last_ts for s in streams)
        event_time = max(s.event_time(now) for s in streams)
        retired = idle >= spec.retire_after
        if not retired and not ((model, version) in newly_ended and all(s.ended for s in streams)):
            continue
        update.alerts.extend(
            end_episodes(
                fleet.alerts,
                _of_version(model, version),
                RETIRED if retired else STOPPED,
                last_ts=last_ts,
                event_time=event_time,
                silent_for=idle,
                threshold=spec.retire_after if retired else spec.silence_after,
                now=now,
            )
        )
        if retired:
            retire_version(state, model, version)
    if spec.traffic.period > 0:
        update.alerts.extend(_traffic(state, now, spec, model_time))
    return update


def _of_stream(stream: StreamKey) -> Callable[[AlertKey], bool]:
    return lambda key: key[1:4] == stream


def _of_version(model_id: str, version: str) -> Callable[[AlertKey], bool]:
    return lambda key: key[1] == model_id and key[2] == version


def _traffic(
    state: PartitionState,
    now: float,
    spec: RuntimeSpec,
    model_time: dict[tuple[str, str | None], float],
) -> list[Alert]:
    alerts: list[Alert] = []
    fleet = state.runtime.traffic
    for key, monitor in list(fleet.monitors.items()):
        if key[0] not in state.runtime.versions:  # every version of the model retired
            alert = monitor.end(spec.traffic, RETIRED)
            if alert is not None:
                alerts.append(alert)
            del fleet.monitors[key]
            continue
        event_time = model_time.get(key)
        if event_time is not None:
            alerts.extend(monitor.advance(event_time, spec.traffic, now))
    return [dataclasses.replace(a, detected_at=now) for a in alerts]
