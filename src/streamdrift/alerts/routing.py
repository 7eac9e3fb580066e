"""Alerts for Alertmanager and webhooks: payloads, dedupe and the firing set (pure).

Alertmanager (v2 API, ``POST /api/v2/alerts``) identifies an alert by its label set and
resolves one that is not re-sent before its ``endsAt``; so a firing alert is posted with
``endsAt`` a few re-send intervals ahead and re-sent periodically while it fires, and its
resolved event is posted with the *firing* alert's labels and ``endsAt`` set to when it
resolved. Alerts are deduplicated by ``alert_id`` (a worker replay republishes ids).
"""

from __future__ import annotations

import datetime as dt
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

EpisodeKey = tuple[str, str, str, str, str, str]


def episode_key(alert: dict[str, Any]) -> EpisodeKey:
    """What a resolved alert shares with its firing one (the alert policy's key)."""
    return (
        str(alert["kind"]),
        str(alert["model_id"]),
        str(alert["model_version"]),
        alert.get("segment") or "",
        alert.get("feature") or "",
        str(alert["detector"]),
    )


def rfc3339(t: float) -> str:
    return (
        dt.datetime.fromtimestamp(t, dt.UTC)
        .isoformat(timespec="milliseconds")
        .replace("+00:00", "Z")
    )


def window_text(alert: dict[str, Any]) -> str:
    """``window 12: 2025-…Z → 2025-…Z, 1000 events (partial)``."""
    w = alert.get("window") or {}
    index = w.get("index")
    head = "window" if index is None else f"window {index}"
    text = f"{head}: {rfc3339(w['start'])} → {rfc3339(w['end'])}, {w['count']} events"
    return text + (" (partial)" if w.get("partial") else "")


def report_link(template: str, alert: dict[str, Any]) -> str:
    """``template`` with ``{model_id}``, ``{model_version}``, ``{feature}`` filled in."""
    return template.format(
        model_id=alert["model_id"],
        model_version=alert["model_version"],
        feature=alert.get("feature") or "",
    )


def alertmanager_alert(
    alert: dict[str, Any],
    *,
    now: float,
    hold: float,
    report_url: str = "",
    resolved_at: float | None = None,
) -> dict[str, Any]:
    """One element of Alertmanager's ``POST /api/v2/alerts`` body for a *firing* alert:
    ``endsAt`` is ``now + hold`` (re-send before then), or ``resolved_at`` once resolved."""
    labels = {
        "alertname": str(alert["kind"]),
        "model": str(alert["model_id"]),
        "version": str(alert["model_version"]),
        "segment": alert.get("segment") or "",
        "feature": alert.get("feature") or "",
        "detector": str(alert["detector"]),  # two tests of one feature are two alerts
        "severity": str(alert["severity"]),
    }
    annotations = {
        "summary": str(alert.get("message") or f"{alert['kind']} on {alert['model_id']}"),
        "window": window_text(alert),
        "alert_id": str(alert["alert_id"]),
    }
    if report_url:
        annotations["report"] = report_link(report_url, alert)
    body: dict[str, Any] = {
        "labels": {k: v for k, v in labels.items() if v != ""},
        "annotations": annotations,
        "startsAt": rfc3339(float(alert["detected_at"])),
        "endsAt": rfc3339(now + hold if resolved_at is None else resolved_at),
    }
    if report_url:
        body["generatorURL"] = annotations["report"]
    return body


def slack_text(alert: dict[str, Any]) -> str:
    """A one-line, Slack-compatible summary (mrkdwn)."""
    mark = ":rotating_light:" if alert.get("status") == "firing" else ":white_check_mark:"
    where = f"{alert['model_id']} v{alert['model_version']}"
    if alert.get("segment"):
        where += f" [{alert['segment']}]"
    return (
        f"{mark} *{str(alert.get('status', '')).upper()}* {alert['kind']} "
        f"({alert.get('severity')}) {where}: {alert.get('message', '')} — {window_text(alert)}"
    )


def webhook_payload(alert: dict[str, Any]) -> dict[str, Any]:
    """The alert as published, plus ``text`` (what Slack's incoming webhooks display)."""
    return {**alert, "text": slack_text(alert)}


@dataclass(frozen=True, slots=True)
class Backoff:
    """Capped exponential back-off: ``initial * factor**attempt``, at most ``cap`` seconds."""

    initial: float = 0.5
    factor: float = 2.0
    cap: float = 30.0

    def delay(self, attempt: int) -> float:
        return float(min(self.cap, self.initial * self.factor ** min(attempt, 64)))


def retryable(status: int) -> bool:
    """5xx, 408 and 429 may succeed later; other 4xx will not (a payload Alertmanager rejects)."""
    return status >= 500 or status in (408, 429)


@dataclass(slots=True)
class AlertBook:
    """The alerts seen (for dedupe) and those firing now (for re-sends and resolutions)."""

    max_seen: int = 100_000
    seen: OrderedDict[str, None] = field(default_factory=OrderedDict)
    firing: dict[EpisodeKey, dict[str, Any]] = field(default_factory=dict)

    def record(self, alert: dict[str, Any]) -> dict[str, Any] | None:
        """Note ``alert``; return the firing alert it belongs to (itself when firing, the
        earlier firing one when resolved), or None for a duplicate ``alert_id``."""
        alert_id = str(alert["alert_id"])
        if alert_id in self.seen:
            return None
        self.seen[alert_id] = None
        if len(self.seen) > self.max_seen:
            self.seen.popitem(last=False)
        key = episode_key(alert)
        if alert.get("status") == "resolved":
            earlier: dict[str, Any] = self.firing.pop(key, alert)
            return earlier
        self.firing[key] = alert
        return alert
