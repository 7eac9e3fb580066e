"""Through the real broker: alerts reach a real Alertmanager (and resolve there), and a
webhook that fails (a stub that answers 503) loses nothing: offsets are committed only
after a 2xx, also across a forwarder killed while the endpoint is down."""

from __future__ import annotations

import signal
import time
import urllib.parse
from pathlib import Path
from typing import Any

import pytest

from streamdrift import codec
from streamdrift.alerts.policy import AlertPolicy
from streamdrift.config.settings import Settings
from streamdrift.devtools.broker import LocalBroker
from streamdrift.kafka.forward import partitions
from streamdrift.records import Alert, AlertKind, CheckResult, WindowInfo, WindowResult
from streamdrift.service.worker import ensure_topics
from tests.integration.http_services import (
    Server,
    faulty_endpoint,
    get_json,
    running_forwarder,
)
from tests.integration.kafka_helpers import run, unique_settings, wait_for
from tests.integration.traffic import publish_raw

pytestmark = pytest.mark.integration

T0 = time.time() - 600


def episode(
    feature: str | None, kind: AlertKind, *, model: str = "credit-risk", resolve: bool = True
) -> list[Alert]:
    """The firing (and resolved) alert of one episode, made by the real alert policy."""
    policy = AlertPolicy(resolve_after=1, clock=time.time)

    def result(index: int, drifted: bool) -> WindowResult:
        check = CheckResult(
            feature or "accuracy",
            kind,
            "psi_ks" if feature else "z_test",
            "psi",
            0.9 if drifted else 0.0,
            0.2,
            1e-12,
            drifted,
        )
        info = WindowInfo(T0 + index * 10, T0 + index * 10 + 10, 1000)
        return WindowResult(model, "7", None, index, info, 2000, (check,))

    alerts = policy.decide(result(5, True))
    if resolve:
        alerts += policy.decide(result(6, False))
    return alerts


def publish(settings: Settings, alerts: list[Alert]) -> None:
    messages: dict[str, list[tuple[bytes, bytes]]] = {}
    for alert in alerts:
        topic = (
            settings.topic_drift_alerts
            if alert.kind is AlertKind.DATA_DRIFT
            else settings.topic_degradation_alerts
        )
        messages.setdefault(topic, []).append((alert.model_id.encode(), codec.encode_alert(alert)))
    for topic, batch in messages.items():
        run(publish_raw(settings, topic, batch))


def active(am: Server) -> list[dict[str, Any]]:
    return get_json(am.url + "/api/v2/alerts?" + urllib.parse.urlencode({"active": "true"}))  # type: ignore[no-any-return]


def by_feature(am: Server) -> dict[str, dict[str, Any]]:
    return {a["labels"].get("feature", a["labels"]["alertname"]): a for a in active(am)}


def test_alerts_reach_alertmanager_stay_while_firing_and_resolve(
    kafka_broker: LocalBroker, alertmanager: Server, tmp_path: Path
) -> None:
    settings = unique_settings(kafka_broker.url, tmp_path / "w")
    ensure_topics(settings)
    income_firing, income_resolved = episode("income", AlertKind.DATA_DRIFT)
    (degraded,) = episode(None, AlertKind.PERFORMANCE_DEGRADATION, resolve=False)
    publish(settings, [income_firing, income_firing, degraded])  # one duplicate
    log = tmp_path / "forward.log"
    extra = (
        "--from-beginning",
        "--resend-interval",
        "1",
        "--report-url",
        "http://r/{model_id}.html",
    )
    with running_forwarder(settings, "alertmanager", alertmanager.url, log, *extra) as proc:
        assert wait_for(lambda: len(active(alertmanager)) == 2, 30), log.read_text()[-3000:]
        alerts = by_feature(alertmanager)
        income = alerts["income"]
        assert income["labels"] == {
            "alertname": "data_drift",
            "model": "credit-risk",
            "version": "7",
            "feature": "income",
            "detector": "psi_ks",
            "severity": "critical",
        }
        assert income["annotations"]["summary"] == income_firing.message
        assert income["annotations"]["window"].endswith("1000 events")
        assert income["annotations"]["report"] == "http://r/credit-risk.html"
        assert alerts["performance_degradation"]["labels"]["model"] == "credit-risk"
        # endsAt is 4 re-send intervals ahead: still active after 6 s only if re-sent
        time.sleep(6)
        assert set(by_feature(alertmanager)) == {"income", "performance_degradation"}

        publish(settings, [income_resolved])
        assert wait_for(lambda: set(by_feature(alertmanager)) == {"performance_degradation"}, 30)
        assert proc.poll() is None, log.read_text()[-3000:]
    text = log.read_text()
    assert text.count(f"delivered firing {income_firing.alert_id}") == 1  # the duplicate dropped
    assert f"delivered resolved {income_resolved.alert_id}" in text


def test_nothing_is_lost_while_the_webhook_fails_and_offsets_wait_for_a_2xx(
    kafka_broker: LocalBroker, tmp_path: Path
) -> None:
    settings = unique_settings(kafka_broker.url, tmp_path / "w")
    ensure_topics(settings)
    alerts = [
        *episode("income", AlertKind.DATA_DRIFT),
        *episode("age", AlertKind.DATA_DRIFT, resolve=False),
    ]
    publish(settings, alerts)
    group = f"{settings.app_id}.forward-webhook"
    log = tmp_path / "forward.log"
    extra = ("--from-beginning", "--max-backoff", "0.5")
    with faulty_endpoint() as (url, endpoint):
        with running_forwarder(settings, "webhook", url, log, *extra) as proc:
            assert wait_for(lambda: endpoint.answered(503) >= 4, 30), log.read_text()[-3000:]
            assert run(committed(settings, group)) == 0  # nothing acknowledged, nothing committed
            proc.send_signal(signal.SIGKILL)  # a crash while the endpoint is down
            proc.wait()
        with running_forwarder(settings, "webhook", url, log, *extra):
            assert wait_for(lambda: endpoint.answered(503) >= 6, 30)
            endpoint.status = 200
            assert wait_for(lambda: len(endpoint.accepted()) == len(alerts), 30), log.read_text()[
                -3000:
            ]
            assert wait_for(lambda: run(committed(settings, group)) == len(alerts), 15)
    delivered = endpoint.accepted()
    assert [d["alert_id"] for d in delivered] == [a.alert_id for a in alerts]  # in order, once
    assert delivered[0]["text"].startswith(":rotating_light: *FIRING* data_drift")
    assert {k: v for k, v in delivered[1].items() if k != "text"} == codec.loads(
        codec.encode_alert(alerts[1])
    )
    assert "retry" in log.read_text()


async def committed(settings: Settings, group: str) -> int:
    """Offsets the group committed on the drift-alerts topic, summed over partitions."""
    from aiokafka import AIOKafkaConsumer, TopicPartition

    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.broker_address.bootstrap_servers,
        group_id=group,
        enable_auto_commit=False,
    )
    await consumer.start()
    try:
        total = 0
        for p in await partitions(consumer, settings.topic_drift_alerts):
            total += await consumer.committed(TopicPartition(settings.topic_drift_alerts, p)) or 0
        return total
    finally:
        await consumer.stop()
