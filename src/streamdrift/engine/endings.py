"""Endings: a stream that stops does not keep an alert firing forever.

After ``silence_after`` seconds without an event of a stream (model, version, segment),
its open episodes resolve with the reason ``stopped``; once every stream of a version is
silent, so do the version's model-level episodes. A version silent for ``retire_after``
seconds is *retired*: its monitors leave memory (and so the checkpoints), and what is
still open resolves with the reason ``retired``. Its next event starts it afresh.
"""

from __future__ import annotations

from collections.abc import Callable

from streamdrift.alerts.policy import AlertKey, AlertPolicy, alert_id
from streamdrift.engine.partition import PartitionState
from streamdrift.records import Alert, AlertKind, AlertStatus, Severity, WindowInfo

STOPPED = "stopped"
RETIRED = "retired"


def end_episodes(
    policy: AlertPolicy,
    match: Callable[[AlertKey], bool],
    reason: str,
    *,
    last_ts: float,
    event_time: float,
    silent_for: float,
    threshold: float,
    now: float,
) -> list[Alert]:
    """Resolve the open (non-traffic) episodes that ``match``, with ``reason``."""
    ended = policy.end(lambda key: key[0] is not AlertKind.TRAFFIC and match(key))
    return [
        _resolved(key, start, reason, last_ts, event_time, silent_for, threshold, now)
        for key, start in ended
    ]


def retire_version(state: PartitionState, model_id: str, version: str) -> None:
    """Drop every monitor of (model, version) from the partition's state. Its predictions
    still waiting for a label stay in the join, bounded by ``prediction_ttl`` and
    ``max_pending`` as every waiting prediction."""
    for monitors in (state.fleet.monitors, state.labels.monitors):
        for key in [k for k in monitors if k[0] == model_id and k[1] == version]:
            del monitors[key]
    state.fleet.segments.pop((model_id, version), None)
    state.estimates.estimators.pop((model_id, version), None)
    state.estimates.divergence.pop((model_id, version), None)
    state.labels.coverage.forget((model_id, version))
    state.retrain.versions.pop((model_id, version), None)
    state.runtime.forget_version(model_id, version)


def _resolved(
    key: AlertKey,
    start: int,
    reason: str,
    last_ts: float,
    event_time: float,
    silent_for: float,
    threshold: float,
    now: float,
) -> Alert:
    kind, model_id, version, segment, feature, detector = key
    where = "" if segment is None else f" [{segment}]"
    what = f"feature {feature!r}" if feature else kind.value.replace("_", " ")
    verb = "was retired" if reason == RETIRED else "stopped sending"
    return Alert(
        alert_id=alert_id(key, start, AlertStatus.RESOLVED),
        kind=kind,
        status=AlertStatus.RESOLVED,
        severity=Severity.INFO,
        model_id=model_id,
        model_version=version,
        segment=segment,
        feature=feature,
        detector=detector,
        statistic="silence_seconds",
        value=silent_for,
        threshold=threshold,
        p_value=None,
        window=WindowInfo(last_ts, max(last_ts, event_time), 0),
        reference_count=0,
        detected_at=now,
        message=(
            f"{what} of {model_id} v{version}{where}: resolved ({reason}), the stream {verb}; "
            f"no event for {silent_for:.0f} s"
        ),
        reason=reason,
    )
