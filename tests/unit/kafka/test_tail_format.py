"""``alerts tail`` prints the window's index and its event-time span."""

from __future__ import annotations

from streamdrift.kafka.tail import format_alert, format_window

ALERT = {
    "alert_id": "abc",
    "kind": "data_drift",
    "status": "firing",
    "severity": "warning",
    "model_id": "credit-risk",
    "model_version": "7",
    "segment": None,
    "feature": "income",
    "detector": "psi",
    "statistic": "psi",
    "value": 0.31,
    "threshold": 0.2,
    "window": {"index": 12, "start": 1764431400.0, "end": 1764431409.5, "count": 1000},
}


def test_the_line_names_the_window_index_and_its_utc_times() -> None:
    line = format_alert(ALERT)
    assert "window 12 2025-11-29 15:50:00 → 15:50:09 UTC, 1000 events" in line
    assert line.startswith("FIRING") and "id=abc" in line


def test_windows_over_midnight_partial_and_without_an_index() -> None:
    window = {"start": 1764460700.0, "end": 1764460900.0, "count": 180, "partial": True}
    assert format_window(window) == (
        "window 2025-11-29 23:58:20 → 2025-11-30 00:01:40 UTC, 180 events (partial)"
    )
