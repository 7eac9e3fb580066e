"""What the engine keeps per partition about time and volume, beside the monitors: when
each stream last sent (event time, and the processing time it arrived), the traffic
monitors, and which models and versions are admitted within the caps.

A *stream* is one (model, version, segment): the key of a drift monitor (segments past
``max_segments`` are the fleet's ``__other__``). Serialised in the partition's checkpoint.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from streamdrift.config.runtime import RuntimeSpec
from streamdrift.engine.traffic import TrafficFleet

StreamKey = tuple[str, str, str | None]

TOO_MANY_MODELS = "too_many_models"
TOO_MANY_VERSIONS = "too_many_versions"
REFUSALS = (TOO_MANY_MODELS, TOO_MANY_VERSIONS)


@dataclass(slots=True)
class Stream:
    last_ts: float  # the largest event time seen
    wall: float  # processing time when it was seen
    ended: bool = False  # its episodes were resolved as stopped

    def event_time(self, now: float) -> float:
        """Event time estimated from processing time: it moves on while the stream is idle."""
        return self.last_ts + max(0.0, now - self.wall)


@dataclass(slots=True)
class RuntimeState:
    streams: dict[StreamKey, Stream] = field(default_factory=dict)
    traffic: TrafficFleet = field(default_factory=TrafficFleet)
    # admitted versions per model (streams' keys, plus those admitted in the running fetch)
    versions: dict[str, set[str]] = field(default_factory=dict)

    def admit(self, model_id: str, version: str, spec: RuntimeSpec) -> str | None:
        """None when events of (model, version) may be monitored, else the cap refusing them."""
        known = self.versions.get(model_id)
        if known is None:
            if len(self.versions) >= spec.max_models:
                return TOO_MANY_MODELS
            known = self.versions[model_id] = set()
        if version not in known:
            if len(known) >= spec.max_versions:
                return TOO_MANY_VERSIONS
            known.add(version)
        return None

    def seen(self, key: StreamKey, last_ts: float, now: float) -> None:
        stream = self.streams.get(key)
        if stream is None:
            self.streams[key] = Stream(last_ts, now)
            self.versions.setdefault(key[0], set()).add(key[1])
        else:
            stream.last_ts = max(stream.last_ts, last_ts)
            stream.wall = now
            stream.ended = False

    def resumed(self, now: float) -> None:
        """A worker took the partition over at ``now``: its downtime is not the streams'
        silence, so idleness counts from now (event-time estimates resume from there)."""
        for stream in self.streams.values():
            stream.last_ts = stream.event_time(stream.wall)
            stream.wall = now

    def forget_version(self, model_id: str, version: str) -> None:
        for key in [k for k in self.streams if k[0] == model_id and k[1] == version]:
            del self.streams[key]
        known = self.versions.get(model_id)
        if known is not None:
            known.discard(version)
            if not known:
                del self.versions[model_id]

    def to_dict(self) -> dict[str, Any]:
        return {
            "streams": [
                [m, v, s, st.last_ts, st.wall, st.ended] for (m, v, s), st in self.streams.items()
            ],
            "traffic": self.traffic.to_dict(),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any] | None) -> RuntimeState:
        state = cls()
        if d is None:  # a checkpoint from before streams were tracked
            return state
        for m, v, s, last_ts, wall, ended in d["streams"]:
            state.streams[(m, v, s)] = Stream(float(last_ts), float(wall), bool(ended))
            state.versions.setdefault(m, set()).add(v)
        state.traffic = TrafficFleet.from_dict(d["traffic"])
        return state
