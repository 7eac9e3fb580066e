"""Alert → Alertmanager / webhook payloads, dedupe, back-off (no network)."""

from __future__ import annotations

import asyncio
from typing import Any

from streamdrift.alerts.policy import AlertPolicy
from streamdrift.alerts.routing import (
    AlertBook,
    Backoff,
    alertmanager_alert,
    retryable,
    slack_text,
    webhook_payload,
)
from streamdrift.kafka.forward import Alertmanager
from streamdrift.records import AlertKind, CheckResult, WindowInfo, WindowResult

T = 1_764_431_400.0


def alerts() -> tuple[dict[str, Any], dict[str, Any]]:
    """A firing and the resolved data_drift alert of one episode, from the alert policy."""
    policy = AlertPolicy(resolve_after=1, clock=lambda: T + 11.0)

    def result(index: int, drifted: bool) -> WindowResult:
        check = CheckResult(
            "income",
            AlertKind.DATA_DRIFT,
            "psi_ks",
            "psi",
            0.9 if drifted else 0.01,
            0.2,
            1e-9,
            drifted,
        )
        info = WindowInfo(T + 10 * index, T + 10 * index + 10, 1000)
        return WindowResult("credit-risk", "7", "eu", index, info, 2000, (check,))

    (firing,) = policy.decide(result(3, True))
    policy.clock = lambda: T + 61.0
    (resolved,) = policy.decide(result(4, False))
    return firing.to_dict(), resolved.to_dict()


def test_a_firing_alert_maps_to_alertmanager_labels_and_annotations() -> None:
    firing, _ = alerts()
    body = alertmanager_alert(
        firing, now=T + 20, hold=240, report_url="https://r/{model_id}/{model_version}.html"
    )
    assert body["labels"] == {
        "alertname": "data_drift",
        "model": "credit-risk",
        "version": "7",
        "segment": "eu",
        "feature": "income",
        "detector": "psi_ks",
        "severity": "critical",
    }
    assert body["annotations"]["summary"] == firing["message"]
    assert body["annotations"]["window"] == (
        "window 3: 2025-11-29T15:50:30.000Z → 2025-11-29T15:50:40.000Z, 1000 events"
    )
    assert body["annotations"]["report"] == "https://r/credit-risk/7.html"
    assert body["annotations"]["alert_id"] == firing["alert_id"]
    assert body["startsAt"] == "2025-11-29T15:50:11.000Z"
    assert body["endsAt"] == "2025-11-29T15:54:20.000Z"  # now + hold


def test_model_level_alerts_have_no_feature_label_and_the_window_index_is_shown() -> None:
    firing, _ = alerts()
    doc = {**firing, "feature": None, "segment": None, "window": {**firing["window"], "index": 12}}
    body = alertmanager_alert(doc, now=T, hold=60)
    assert "feature" not in body["labels"] and "segment" not in body["labels"]
    assert body["annotations"]["window"].startswith("window 12: ")
    assert "report" not in body["annotations"] and "generatorURL" not in body


def test_a_resolution_ends_the_firing_alert_with_its_labels() -> None:
    firing, resolved = alerts()
    book = AlertBook()
    assert book.record(firing) is firing
    assert book.record(firing) is None  # a duplicate alert_id
    assert book.record(resolved) is firing
    assert book.firing == {}
    am = Alertmanager("http://am:9093/", clock=lambda: T + 100)
    (body,) = am.payload(resolved, firing)
    assert am.url == "http://am:9093/api/v2/alerts"
    assert body["labels"]["severity"] == "critical"  # the firing one's, so Alertmanager matches
    assert body["endsAt"] == "2025-11-29T15:51:01.000Z"  # when it resolved


def test_firing_alerts_are_resent_with_a_hold_of_four_intervals() -> None:
    firing, _ = alerts()
    am = Alertmanager("http://am:9093", resend_interval=30, clock=lambda: T)
    posted: list[tuple[str, Any]] = []

    async def post(url: str, payload: Any) -> int:
        posted.append((url, payload))
        return 200

    assert asyncio.run(am.resend(post, [])) is None
    assert asyncio.run(am.resend(post, [firing])) == 200
    ((url, payload),) = posted
    assert url.endswith("/api/v2/alerts")
    assert payload[0]["endsAt"] == "2025-11-29T15:52:00.000Z"  # T + 120 s


def test_webhook_payload_is_the_alert_with_a_slack_text() -> None:
    firing, resolved = alerts()
    payload = webhook_payload(firing)
    assert {k: v for k, v in payload.items() if k != "text"} == firing
    assert payload["text"].startswith(":rotating_light: *FIRING* data_drift (critical)")
    assert "credit-risk v7 [eu]" in payload["text"]
    assert slack_text(resolved).startswith(":white_check_mark: *RESOLVED*")


def test_backoff_is_exponential_and_capped() -> None:
    b = Backoff(initial=0.5, factor=2, cap=5)
    assert [b.delay(i) for i in range(6)] == [0.5, 1, 2, 4, 5, 5]
    assert b.delay(10_000) == 5


def test_which_statuses_are_retried() -> None:
    assert [s for s in (200, 400, 404, 408, 422, 429, 500, 503) if retryable(s)] == [
        408,
        429,
        500,
        503,
    ]


def test_the_book_of_seen_ids_is_bounded() -> None:
    book = AlertBook(max_seen=2)
    firing, _ = alerts()
    for i in range(3):
        book.record({**firing, "alert_id": f"a{i}"})
    assert list(book.seen) == ["a1", "a2"]
