"""Traffic alerts: a stream's event rate against its own usual rate, with an injected clock."""

from __future__ import annotations

import numpy as np
import pytest

from streamdrift.config.runtime import BUCKETS_PER_PERIOD, TrafficRule
from streamdrift.engine.traffic import TrafficMonitor
from streamdrift.records import Alert, AlertStatus

RULE = TrafficRule()  # the defaults: below 0.1 of usual for 120 s


def steady(monitor: TrafficMonitor, start: float, seconds: int, rate: float) -> list[Alert]:
    """``rate`` events/s for ``seconds``, one second of events per call."""
    alerts: list[Alert] = []
    for s in range(seconds):
        n = int(rate)
        stamps = start + s + np.arange(n) / max(n, 1)
        alerts.extend(monitor.observe(stamps, "1", RULE, now=start + s))
    return alerts


def idle(monitor: TrafficMonitor, last: float, seconds: int) -> list[tuple[float, Alert]]:
    """No events; the caller's event-time estimate moves 1 s per second (``engine/clock.py``)."""
    out = []
    for s in range(1, seconds + 1):
        out.extend((float(s), a) for a in monitor.advance(last + s, RULE, now=last + s))
    return out


def test_a_model_that_sent_100_per_second_and_stops_is_reported_within_5_minutes() -> None:
    monitor = TrafficMonitor("m", None)
    t0 = 1_764_000_000.0
    assert steady(monitor, t0, 1200, 100.0) == []
    fired = idle(monitor, t0 + 1200, 600)
    assert [a.status for _, a in fired] == [AlertStatus.FIRING]
    after, alert = fired[0]
    # the open bucket, then period / width empty ones: at most period + width seconds
    assert RULE.period <= after <= RULE.period + RULE.width <= 300
    assert (alert.kind.value, alert.value, alert.severity.value) == ("traffic", 0.0, "critical")
    back = steady(monitor, t0 + 1800, 60, 100.0)
    assert [a.status for a in back] == [AlertStatus.RESOLVED]
    assert back[0].alert_id != alert.alert_id and back[0].window_index is not None


@pytest.mark.parametrize(("share", "fires"), [(0.5, False), (0.05, True)])
def test_a_drop_to_a_share_of_the_usual_rate_fires_only_below_the_configured_share(
    share: float, fires: bool
) -> None:
    monitor = TrafficMonitor("m", None)
    t0 = 1_764_000_000.0
    steady(monitor, t0, 900, 100.0)
    alerts = steady(monitor, t0 + 900, 600, 100.0 * share)
    assert [a.status for a in alerts] == ([AlertStatus.FIRING] if fires else [])


def test_the_usual_rate_matches_a_brute_force_ewma_of_bucket_counts_whatever_the_batching() -> None:
    rng = np.random.default_rng(7)
    t0 = 1_764_000_000.0
    stamps = np.sort(t0 + rng.uniform(0, 3600, 200_000))
    monitor = TrafficMonitor("m", None)
    for chunk in np.array_split(stamps, rng.integers(1, 400, 1)[0] + 50):
        monitor.observe(chunk, "1", RULE, now=float(chunk[-1]))
    # oracle: histogram of every bucket, skip the first (entered mid-way), EWMA in a loop
    width = RULE.width
    first = int(np.floor(stamps[0] / width))
    last = int(np.floor(stamps[-1] / width))
    counts = np.bincount((np.floor(stamps / width).astype(int) - first), minlength=last - first)
    usual = 0.0
    for i, count in enumerate(counts[1 : last - first]):
        rate = count / width
        usual = rate if i == 0 else usual + RULE.alpha * (rate - usual)
    assert monitor.usual == pytest.approx(usual, rel=1e-12)
    assert monitor.counted == last - first - 1 >= BUCKETS_PER_PERIOD


def test_a_restored_monitor_raises_the_same_alerts_as_an_uninterrupted_one() -> None:
    t0 = 1_764_000_000.0
    whole = TrafficMonitor("m", "tenant-a")
    steady(whole, t0, 600, 50.0)
    restored = TrafficMonitor.from_dict(whole.to_dict())
    assert [a for _, a in idle(restored, t0 + 600, 400)] == [
        a for _, a in idle(whole, t0 + 600, 400)
    ]


def test_a_backfill_replayed_at_full_speed_raises_no_traffic_alert() -> None:
    monitor = TrafficMonitor("m", None)
    t0 = 1_764_000_000.0
    stamps = t0 + np.arange(360_000) / 100.0  # an hour of 100 events/s, sent within 10 s
    for i, chunk in enumerate(np.array_split(stamps, 10)):
        assert monitor.observe(chunk, "1", RULE, now=t0 + i) == []
    later = [monitor.advance(t0 + 3600 + s, RULE, now=t0 + 10 + s) for s in range(1, 900)]
    assert [a for alerts in later for a in alerts] == []  # it never sent for a period
    assert monitor.counted > BUCKETS_PER_PERIOD  # yet the usual rate is known


def test_a_long_gap_closes_in_constant_time_and_fires_once() -> None:
    monitor = TrafficMonitor("m", None)
    t0 = 1_764_000_000.0
    steady(monitor, t0, 900, 10.0)
    alerts = monitor.advance(t0 + 900 + 30 * 86400.0, RULE, now=t0 + 900 + 30 * 86400.0)
    assert [a.status for a in alerts] == [AlertStatus.FIRING]
