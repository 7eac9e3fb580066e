"""Alert lifecycle: firing once, quiet while drift persists, resolved when it ends.

State is kept per :data:`AlertKey` (kind, model, version, segment, feature, detector).
An *episode* starts at the first drifted window and ends after ``resolve_after``
consecutive clean windows. Each episode yields exactly two alerts, ``firing`` and
``resolved``, whose ids are a hash of the key, the index of the window that started the
episode and the status. Window indices count events of one monitor in partition order, so
processing the same input again (a replay, a restart from a checkpoint) yields the same
ids: consumers deduplicate by ``alert_id``.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from streamdrift.records import (
    PREDICTED_LABEL,
    PREDICTION,
    Alert,
    AlertKind,
    AlertStatus,
    CheckResult,
    Severity,
    WindowInfo,
    WindowResult,
)

AlertKey = tuple[AlertKind, str, str, str | None, str | None, str]


def alert_id(key: AlertKey, episode: int, status: AlertStatus) -> str:
    """Deterministic id: the same key, episode and status always give the same id."""
    kind, model_id, version, segment, feature, detector = key
    text = "\x1f".join(
        [
            kind.value,
            model_id,
            version,
            segment or "",
            feature or "",
            detector,
            str(episode),
            status.value,
        ]
    )
    return hashlib.blake2b(text.encode(), digest_size=12).hexdigest()


def severity(value: float, threshold: float) -> Severity:
    """Critical when the effect is at least twice its threshold, else warning."""
    return Severity.CRITICAL if value >= 2 * threshold else Severity.WARNING


def _severity(test: CheckResult, status: AlertStatus) -> Severity:
    if status is AlertStatus.RESOLVED:
        return Severity.INFO
    if test.p_value is None:  # a sequential detector: a change, of no measured size
        return Severity.WARNING
    return severity(test.value, test.threshold)


@dataclass(slots=True)
class _Episode:
    start_window: int
    clean_streak: int = 0


@dataclass(slots=True)
class AlertPolicy:
    """Turns window results into firing/resolved alerts, at most one of each per episode."""

    resolve_after: int = 3
    clock: Callable[[], float] = time.time
    active: dict[AlertKey, _Episode] = field(default_factory=dict)

    def decide(self, result: WindowResult, resolve_after: int | None = None) -> list[Alert]:
        """Alerts for one window result; ``resolve_after`` overrides the policy's default."""
        needed = self.resolve_after if resolve_after is None else resolve_after
        alerts: list[Alert] = []
        for test in result.tests:
            key: AlertKey = (
                test.kind,
                result.model_id,
                result.model_version,
                result.segment,
                _feature_name(test),
                test.detector,
            )
            episode = self.active.get(key)
            if test.drifted:
                if episode is None:
                    self.active[key] = _Episode(result.index)
                    alerts.append(self._alert(key, result, test, result.index, AlertStatus.FIRING))
                else:
                    episode.clean_streak = 0
            elif episode is not None:
                episode.clean_streak += 1
                if episode.clean_streak >= needed:
                    del self.active[key]
                    alerts.append(
                        self._alert(key, result, test, episode.start_window, AlertStatus.RESOLVED)
                    )
        return alerts

    def end(self, match: Callable[[AlertKey], bool]) -> list[tuple[AlertKey, int]]:
        """Close the open episodes whose key ``match``es, without a clean window (their
        stream stopped, see ``engine/endings.py``): ``(key, start window)`` of each."""
        ended = [(key, e.start_window) for key, e in self.active.items() if match(key)]
        for key, _ in ended:
            del self.active[key]
        return ended

    def to_dict(self) -> dict[str, Any]:
        """The open episodes (JSON-able), for checkpoints."""
        return {
            "resolve_after": self.resolve_after,
            "active": [
                [k.value, m, v, s, f, d, e.start_window, e.clean_streak]
                for (k, m, v, s, f, d), e in self.active.items()
            ],
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any], clock: Callable[[], float] = time.time) -> AlertPolicy:
        policy = cls(resolve_after=d["resolve_after"], clock=clock)
        for kind, m, v, s, f, det, start, streak in d["active"]:
            policy.active[(AlertKind(kind), m, v, s, f, det)] = _Episode(start, streak)
        return policy

    def _alert(
        self,
        key: AlertKey,
        result: WindowResult,
        test: CheckResult,
        episode: int,
        status: AlertStatus,
    ) -> Alert:
        feature = key[4]
        subject, verb = _DETECTOR_WORDING.get(test.detector) or _WORDING[test.kind]
        if test.kind is AlertKind.DATA_DRIFT:
            subject = f"feature {feature!r}"
        elif test.feature == PREDICTED_LABEL:
            subject = "the predicted class (predicted_label)"
        if status is AlertStatus.RESOLVED:
            verb = "is back to normal"
        message = (
            f"{subject} of {result.model_id} v{result.model_version}"
            f"{'' if result.segment is None else f' [{result.segment}]'} {verb}: "
            f"{_measurement(test)}{_partial(result.window)}"
        )
        return Alert(
            alert_id=alert_id(key, episode, status),
            kind=test.kind,
            status=status,
            severity=_severity(test, status),
            model_id=result.model_id,
            model_version=result.model_version,
            segment=result.segment,
            feature=feature,
            detector=test.detector,
            statistic=test.statistic,
            value=float(test.value),
            threshold=float(test.threshold),
            p_value=None if test.p_value is None else float(test.p_value),
            window=result.window,
            reference_count=result.reference_count,
            detected_at=self.clock(),
            message=message,
            window_index=result.index,
        )


_WORDING = {
    AlertKind.DATA_DRIFT: ("a feature", "drifted"),
    AlertKind.PREDICTION_DRIFT: ("the prediction", "drifted"),
    AlertKind.PERFORMANCE_DEGRADATION: ("the performance", "degraded"),
    AlertKind.CONCEPT_DRIFT: ("the error stream", "changed (concept drift)"),
    AlertKind.LABEL_HEALTH: ("label coverage", "is too low"),
    AlertKind.ESTIMATED_PERFORMANCE: ("the estimated accuracy (no labels)", "dropped"),
    AlertKind.ESTIMATOR_DIVERGENCE: (
        "the realized accuracy",
        "left the label-free estimate's interval (P(y|x) moved)",
    ),
    AlertKind.TRAFFIC: ("the event rate", "fell"),
}

_DETECTOR_WORDING = {"label_expiry": ("the labels", "expire before they join")}


def _partial(window: WindowInfo) -> str:
    if not window.partial:
        return ""
    return f" (a partial window of {window.count} events, closed early: end of input or idle)"


def _measurement(test: CheckResult) -> str:
    """The statistic and what it is compared with: a threshold (and the p-value that must
    survive Benjamini-Hochberg), a minimum (label coverage), or, for a sequential detector,
    which has no threshold on the value, the detector and the series it watches (the
    check's detail says so)."""
    value = f"{test.statistic}={test.value:.3f}"
    if test.kind is AlertKind.LABEL_HEALTH:  # coverage has a minimum, expired labels a maximum
        bound = "maximum" if test.detector == "label_expiry" else "minimum"
        return f"{value} ({bound} {test.threshold:g}), {test.detail}"
    if test.p_value is None:
        return f"{value} {test.detail}"
    if test.threshold_source == "reference":  # the detail says where the threshold comes from
        if test.decided_by is not None and test.value < test.threshold:
            # another statistic decided (the detail names it and its threshold)
            return f"{value} (below its equivalent threshold {test.threshold:.3g}), {test.detail}"
        side = "above" if test.value >= test.threshold else "below"
        return f"{value} {side} {test.threshold:.3g}, {test.detail}"
    return f"{value} (threshold {test.threshold:g}), p={test.p_value:.2e}, {test.detail}"


def _feature_name(test: CheckResult) -> str | None:
    """Alerts name a feature only for data drift, and ``predicted_label`` for the drift of
    the class the model decided (beside its score's); other model-level alerts have none."""
    if test.feature == PREDICTED_LABEL:
        return "predicted_label"
    if test.kind is not AlertKind.DATA_DRIFT or test.feature == PREDICTION:
        return None
    return test.feature
