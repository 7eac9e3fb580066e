"""``streamdrift alerts tail``: print alerts from the alert topics as they arrive."""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TextIO

from streamdrift import codec
from streamdrift.config.settings import Settings
from streamdrift.kafka.security import client_options


def format_alert(alert: dict[str, Any]) -> str:
    """One human line for an alert message."""
    where = f"{alert.get('model_id')} v{alert.get('model_version')}"
    if alert.get("segment"):
        where += f" [{alert['segment']}]"
    subject = alert.get("feature") or "prediction"
    window = alert.get("window") or {}
    return (
        f"{alert.get('status', '?').upper():8} {alert.get('severity', ''):8} "
        f"{alert.get('kind')}: {where} {subject} "
        f"{alert.get('statistic')}={alert.get('value', float('nan')):.3f} "
        f"(threshold {_number(alert.get('threshold'))}, detector {alert.get('detector')}, "
        f"{format_window(window)}) id={alert.get('alert_id')}"
    )


def _number(value: Any) -> str:
    """A threshold as people read it: three significant digits (a calibrated one is not a
    round number)."""
    return f"{value:.3g}" if isinstance(value, float) else str(value)


def format_window(window: dict[str, Any]) -> str:
    """``window 12 2025-11-29 15:50:00 → 15:50:09 UTC, 1000 events`` (the parts present)."""
    parts = ["window"]
    if window.get("index") is not None:
        parts.append(str(window["index"]))
    start, end = window.get("start"), window.get("end")
    if isinstance(start, (int, float)) and isinstance(end, (int, float)):
        first, last = _utc(start), _utc(end)
        same_day = first[:10] == last[:10]
        parts.append(f"{first} → {last[11:] if same_day else last} UTC")
    text = " ".join(parts)
    text += f", {window.get('count')} events"
    return text + (" (partial)" if window.get("partial") else "")


def _utc(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d %H:%M:%S")


async def tail_alerts(
    settings: Settings,
    *,
    from_beginning: bool = False,
    raw: bool = False,
    out: TextIO | None = sys.stdout,
    on_alert: Callable[[dict[str, Any]], None] | None = None,
) -> None:
    """Consume the alert topics until cancelled, printing each alert as one line to ``out``
    (``None``: only call ``on_alert``)."""
    from aiokafka import AIOKafkaConsumer

    consumer = AIOKafkaConsumer(
        settings.topic_drift_alerts,
        settings.topic_degradation_alerts,
        bootstrap_servers=settings.broker_address.bootstrap_servers,
        auto_offset_reset="earliest" if from_beginning else "latest",
        enable_auto_commit=False,
        group_id=None,
        **client_options(settings),
    )
    await consumer.start()
    try:
        async for message in consumer:
            try:
                alert = codec.loads(message.value)
            except ValueError:
                print(f"(undecodable alert at offset {message.offset})", file=out, flush=True)
                continue
            if on_alert is not None:
                on_alert(alert)
            if out is not None:
                line = message.value.decode() if raw else format_alert(alert)
                print(line, file=out, flush=True)
    finally:
        await consumer.stop()
