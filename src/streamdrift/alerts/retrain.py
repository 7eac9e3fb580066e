"""Retrain requests: one record when a model version's trouble persists.

A version needs retraining when, for ``after`` seconds of event time, either its
performance is degraded (a ``performance_degradation`` or ``concept_drift`` alert fires) or
at least ``drift_share`` of its monitored features drift (``data_drift`` alerts fire, any
segment). Each such *episode* yields one :class:`RetrainRequest`, whose id is a hash of
model, version, reason and the episode's ordinal: the ordinal only depends on the windows
and alerts seen, so a replay of the same input gives the same id.

Time is the event time of closed windows (``window.end``), never the wall clock.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from streamdrift.config.retrain import RetrainSpec
from streamdrift.records import Alert, AlertKind, AlertStatus, WindowInfo, WindowResult

DEGRADATION = "degradation"
DRIFT = "drift"
DEGRADATION_KINDS = frozenset({AlertKind.PERFORMANCE_DEGRADATION, AlertKind.CONCEPT_DRIFT})

VersionKey = tuple[str, str]


def request_id(model_id: str, version: str, reason: str, episode: int) -> str:
    """Deterministic: the same version, reason and episode ordinal give the same id."""
    text = "\x1f".join([model_id, version, reason, str(episode)])
    return hashlib.blake2b(text.encode(), digest_size=12).hexdigest()


def window_dict(window: WindowInfo, index: int | None, segment: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "segment": segment,
        "index": index,
        "start": window.start,
        "end": window.end,
        "count": window.count,
    }
    if window.partial:
        out["partial"] = True
    return out


@dataclass(frozen=True, slots=True)
class RetrainRequest:
    """topics/retrain-request.schema.json (``reference`` and ``detected_at`` added on emit)."""

    request_id: str
    model_id: str
    model_version: str
    reason: str  # DEGRADATION or DRIFT
    episode: int
    since: float  # event time the condition started (start of its first window)
    at: float  # event time it had persisted ``after`` seconds (end of the window)
    after: float
    drifted_features: tuple[str, ...]
    monitored_features: int
    windows: tuple[dict[str, Any], ...]  # the evidence: each alert's window, then the last one
    alert_ids: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": 1,
            "request_id": self.request_id,
            "model_id": self.model_id,
            "model_version": self.model_version,
            "reason": self.reason,
            "episode": self.episode,
            "since": self.since,
            "at": self.at,
            "persisted": self.at - self.since,
            "after": self.after,
            "drifted_features": list(self.drifted_features),
            "monitored_features": self.monitored_features,
            "windows": [dict(w) for w in self.windows],
            "alert_ids": list(self.alert_ids),
        }


@dataclass(slots=True)
class _Firing:
    """A firing alert of the version, with the window (and its index) that opened it."""

    alert_id: str
    kind: str
    feature: str | None
    window: dict[str, Any]


@dataclass(slots=True)
class _Episode:
    ordinal: int
    since: float
    requested: bool = False


@dataclass(slots=True)
class _Version:
    firing: dict[str, _Firing] = field(default_factory=dict)  # by alert episode key
    features: set[str] = field(default_factory=set)  # features tested for data drift
    now: float = float("-inf")  # newest window end seen
    episodes: dict[str, _Episode] = field(default_factory=dict)  # open, by reason
    count: dict[str, int] = field(default_factory=dict)  # episodes opened, by reason


@dataclass(slots=True)
class RetrainPolicy:
    """Watches one partition's windows and alerts; returns the retrain requests due."""

    versions: dict[VersionKey, _Version] = field(default_factory=dict)

    def observe(
        self,
        windows: Sequence[WindowResult],
        alerts: Sequence[Alert],
        spec_for: Callable[[str], RetrainSpec],
    ) -> list[RetrainRequest]:
        """``windows`` in the order they closed; ``alerts`` in the same order, each right
        after the window that produced it (as the fleets return them)."""
        out: list[RetrainRequest] = []
        j = 0
        for result in windows:
            mine = []
            while j < len(alerts) and _produced_by(alerts[j], result):
                mine.append(alerts[j])
                j += 1
            spec = spec_for(result.model_id)
            if spec.enabled:
                out.extend(self._window(result, mine, spec))
        return out

    def _window(
        self, result: WindowResult, alerts: list[Alert], spec: RetrainSpec
    ) -> list[RetrainRequest]:
        key = (result.model_id, result.model_version)
        state = self.versions.setdefault(key, _Version())
        state.now = max(state.now, result.window.end)
        state.features.update(
            t.feature for t in result.tests if t.kind is AlertKind.DATA_DRIFT and t.feature
        )
        where = window_dict(result.window, result.index, result.segment)
        for alert in alerts:
            name = _episode_key(alert)
            if alert.status is AlertStatus.FIRING:
                state.firing[name] = _Firing(alert.alert_id, alert.kind.value, alert.feature, where)
            else:
                state.firing.pop(name, None)
        out = []
        for reason in (DEGRADATION, DRIFT):
            held, drifted = self._holds(state, reason, spec)
            episode = state.episodes.get(reason)
            if not held:
                state.episodes.pop(reason, None)
                continue
            if episode is None:
                ordinal = state.count.get(reason, 0)
                state.count[reason] = ordinal + 1
                episode = state.episodes[reason] = _Episode(ordinal, result.window.start)
            if not episode.requested and state.now - episode.since >= spec.after:
                episode.requested = True
                out.append(self._request(key, state, reason, episode, drifted, where, spec))
        return out

    @staticmethod
    def _holds(state: _Version, reason: str, spec: RetrainSpec) -> tuple[bool, tuple[str, ...]]:
        if reason == DEGRADATION:
            return any(AlertKind(f.kind) in DEGRADATION_KINDS for f in state.firing.values()), ()
        drifted = tuple(
            sorted(
                {
                    f.feature
                    for f in state.firing.values()
                    if f.kind == AlertKind.DATA_DRIFT.value and f.feature
                }
            )
        )
        monitored = len(state.features | set(drifted))
        return bool(drifted) and len(drifted) >= spec.drift_share * monitored, drifted

    @staticmethod
    def _request(
        key: VersionKey,
        state: _Version,
        reason: str,
        episode: _Episode,
        drifted: tuple[str, ...],
        last: dict[str, Any],
        spec: RetrainSpec,
    ) -> RetrainRequest:
        kinds = (
            {k.value for k in DEGRADATION_KINDS}
            if reason == DEGRADATION
            else {AlertKind.DATA_DRIFT.value}
        )
        evidence = sorted(
            (f for f in state.firing.values() if f.kind in kinds),
            key=lambda f: (f.window["start"], f.alert_id),
        )
        windows: list[dict[str, Any]] = []
        for item in [*(f.window for f in evidence), last]:
            if item not in windows:
                windows.append(item)
        model_id, version = key
        return RetrainRequest(
            request_id=request_id(model_id, version, reason, episode.ordinal),
            model_id=model_id,
            model_version=version,
            reason=reason,
            episode=episode.ordinal,
            since=episode.since,
            at=state.now,
            after=spec.after,
            drifted_features=drifted,
            monitored_features=len(state.features | set(drifted)),
            windows=tuple(windows),
            alert_ids=tuple(f.alert_id for f in evidence),
        )

    # -- state ------------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        return {
            "versions": [
                {
                    "model_id": m,
                    "model_version": v,
                    "firing": [
                        [k, f.alert_id, f.kind, f.feature, f.window] for k, f in s.firing.items()
                    ],
                    "features": sorted(s.features),
                    "now": s.now if s.now != float("-inf") else None,
                    "episodes": [
                        [r, e.ordinal, e.since, e.requested] for r, e in s.episodes.items()
                    ],
                    "count": dict(s.count),
                }
                for (m, v), s in self.versions.items()
            ]
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any] | None) -> RetrainPolicy:
        policy = cls()
        for item in (d or {}).get("versions", []):
            state = _Version(
                firing={k: _Firing(a, kind, f, w) for k, a, kind, f, w in item["firing"]},
                features=set(item["features"]),
                now=float("-inf") if item["now"] is None else float(item["now"]),
                episodes={r: _Episode(o, s, q) for r, o, s, q in item["episodes"]},
                count={str(k): int(v) for k, v in item["count"].items()},
            )
            policy.versions[(item["model_id"], item["model_version"])] = state
        return policy


def _episode_key(alert: Alert) -> str:
    """What pairs a resolved alert with its firing one (the alert policy's key)."""
    return "\x1f".join([alert.kind.value, alert.segment or "", alert.feature or "", alert.detector])


def _produced_by(alert: Alert, result: WindowResult) -> bool:
    return (
        alert.model_id == result.model_id
        and alert.model_version == result.model_version
        and alert.segment == result.segment
        and alert.window == result.window
    )
