"""Traffic alerts: a model (or one of its segments) whose event rate fell below a share of
its own usual rate, or to zero, for a configured period.

Rates are counted in event-time buckets of ``period / 4`` seconds; the usual rate is an
exponentially weighted mean of the bucket rates (horizon ten periods), updated only by
buckets that are not low, so an outage never becomes the new normal. The first bucket of a
stream (entered mid-way) is not counted, and a stream alerts only once it has sent for a
period of event time *and* of processing time (a backfill replayed at full speed has not).
A stream that stops sends no event that could close a bucket: :meth:`TrafficMonitor.advance`
closes buckets up to an event time the caller estimates from processing time
(``engine/clock.py``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from streamdrift.alerts.policy import alert_id
from streamdrift.config.runtime import BUCKETS_PER_PERIOD, TrafficRule
from streamdrift.records import Alert, AlertKind, AlertStatus, Severity, WindowInfo

DETECTOR = "event_rate"


@dataclass(slots=True)
class TrafficMonitor:
    """The event rate of one model (``segment`` None) or one of its segments."""

    model_id: str
    segment: str | None
    version: str = ""  # the last version seen (named in alerts)
    bucket: int | None = None  # the open bucket: [bucket * width, (bucket + 1) * width)
    count: int = 0  # events in the open bucket
    usual: float = 0.0  # events per second
    counted: int = 0  # buckets that fed ``usual``
    entered: bool = False  # the first bucket (entered mid-way, not counted) was closed
    low: int = 0  # consecutive low buckets
    firing: int | None = None  # the bucket that started the open episode
    since: float | None = None  # processing time of the first event
    until: float | None = None  # processing time of the latest event

    def observe(
        self, stamps: np.ndarray, version: str, rule: TrafficRule, now: float
    ) -> list[Alert]:
        """Count events (any order; those of closed buckets count in the open one) that
        arrived at processing time ``now``."""
        self.version = version
        if self.since is None:
            self.since = now
        self.until = now
        if stamps.size == 0:
            return []
        idx = np.floor(stamps / rule.width).astype(np.int64)
        if self.bucket is None:
            self.bucket = int(idx.min())
        alerts: list[Alert] = []
        for b, n in zip(*np.unique(np.maximum(idx, self.bucket), return_counts=True), strict=True):
            if b > self.bucket:
                alerts.extend(self._close_until(int(b), rule, now))
            self.count += int(n)
        return alerts

    def advance(self, event_time: float, rule: TrafficRule, now: float) -> list[Alert]:
        """Close the buckets that end at or before ``event_time`` (an idle stream)."""
        if self.bucket is None:
            return []
        return self._close_until(math.floor(event_time / rule.width), rule, now)

    def _close_until(self, bucket: int, rule: TrafficRule, now: float) -> list[Alert]:
        """Close buckets up to ``bucket`` (excluded); a long gap of empty buckets is closed
        in constant time (once an episode fires, more empty buckets change nothing)."""
        assert self.bucket is not None
        alerts: list[Alert] = []
        while self.bucket < bucket:
            alert = self._close(rule, now)
            if alert is not None:
                alerts.append(alert)
            if self.firing is not None and self.count == 0 and self.bucket < bucket:
                self.low += bucket - self.bucket
                self.bucket = bucket
        return alerts

    def _close(self, rule: TrafficRule, now: float) -> Alert | None:
        assert self.bucket is not None
        index, count = self.bucket, self.count
        self.bucket, self.count = index + 1, 0
        rate = count / rule.width
        if not self.entered:
            self.entered = True
            return None
        sent_for = (self.until or 0.0) - (self.since or 0.0)
        warm = self.counted >= BUCKETS_PER_PERIOD and sent_for >= rule.period
        if warm and self.usual > 0 and rate < rule.share * self.usual:
            self.low += 1
            if self.firing is None and self.low * rule.width >= rule.period:
                self.firing = index
                return self._alert(AlertStatus.FIRING, index, rate, count, rule)
            return None
        self.low = 0
        self.usual = rate if self.counted == 0 else self.usual + rule.alpha * (rate - self.usual)
        self.counted += 1
        if self.firing is not None:
            return self._alert(AlertStatus.RESOLVED, index, rate, count, rule)
        return None

    def end(self, rule: TrafficRule, reason: str) -> Alert | None:
        """The stream is retired: resolve an open episode (with ``reason``)."""
        if self.firing is None or self.bucket is None:
            return None
        return self._alert(AlertStatus.RESOLVED, self.bucket, 0.0, 0, rule, reason)

    def _alert(
        self,
        status: AlertStatus,
        index: int,
        rate: float,
        count: int,
        rule: TrafficRule,
        reason: str | None = None,
    ) -> Alert:
        episode = self.firing
        assert episode is not None
        key = (AlertKind.TRAFFIC, self.model_id, "", self.segment, None, DETECTOR)
        share = rate / self.usual if self.usual > 0 else 0.0
        where = "" if self.segment is None else f" [{self.segment}]"
        if status is AlertStatus.FIRING:
            severity = Severity.CRITICAL if count == 0 else Severity.WARNING
            what = "stopped sending" if count == 0 else "sends far less than usual"
            message = (
                f"the traffic of {self.model_id}{where} {what}: {rate:.3g} events/s for "
                f"{self.low * rule.width:g} s, usually {self.usual:.3g} (alert below "
                f"{rule.share:g} of usual)"
            )
        else:
            severity = Severity.INFO
            message = f"the traffic of {self.model_id}{where} " + (
                f"ended ({reason})" if reason else f"is back: {rate:.3g} events/s"
            )
            self.firing = None
        start = index * rule.width
        return Alert(
            alert_id=alert_id(key, episode, status),
            kind=AlertKind.TRAFFIC,
            status=status,
            severity=severity,
            model_id=self.model_id,
            model_version=self.version or "unknown",
            segment=self.segment,
            feature=None,
            detector=DETECTOR,
            statistic="rate_share",
            value=share,
            threshold=rule.share,
            p_value=None,
            window=WindowInfo(start, start + rule.width, count),
            reference_count=0,
            detected_at=0.0,
            message=message,
            window_index=index,
            reason=reason,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "model_id": self.model_id,
            "segment": self.segment,
            "version": self.version,
            "bucket": self.bucket,
            "count": self.count,
            "usual": self.usual,
            "counted": self.counted,
            "entered": self.entered,
            "low": self.low,
            "firing": self.firing,
            "since": self.since,
            "until": self.until,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TrafficMonitor:
        return cls(**d)


TrafficKey = tuple[str, str | None]


@dataclass(slots=True)
class TrafficFleet:
    """The traffic monitors of one partition: per model, and per segment of a model."""

    monitors: dict[TrafficKey, TrafficMonitor] = field(default_factory=dict)

    def monitor(self, model_id: str, segment: str | None) -> TrafficMonitor:
        key = (model_id, segment)
        monitor = self.monitors.get(key)
        if monitor is None:
            monitor = self.monitors[key] = TrafficMonitor(model_id, segment)
        return monitor

    def to_dict(self) -> list[dict[str, Any]]:
        return [m.to_dict() for m in self.monitors.values()]

    @classmethod
    def from_dict(cls, d: list[dict[str, Any]]) -> TrafficFleet:
        fleet = cls()
        for state in d:
            monitor = TrafficMonitor.from_dict(state)
            fleet.monitors[(monitor.model_id, monitor.segment)] = monitor
        return fleet
