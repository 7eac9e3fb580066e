"""``streamdrift forward alertmanager|webhook``: alerts from Kafka to where teams look.

At-least-once: the forwarder reads the alert topics with its own consumer group and commits
a record's offset only after the HTTP endpoint answered 2xx for it; until then it retries
with capped exponential back-off, so nothing is lost while the endpoint is down (a stopped
forwarder resumes at the first undelivered alert). Duplicates (a worker's replay
republishes alert ids) are dropped by ``alert_id``.

Why aiokafka and not a Faust agent: Faust acks an event in a ``finally`` around the
``yield`` of ``Stream.__aiter__`` (faust/streams.py, ``_py_aiter``), so an agent stopped or
crashed while it retries a POST acks, and later commits, an alert it never delivered.

On start, the records before the committed offsets are read again without being sent, to
know which alerts still fire (Alertmanager must hear them again, and their resolution must
carry their labels); a new group starts delivering at the end unless ``from_beginning``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from typing import Any, Protocol

from streamdrift import codec
from streamdrift.alerts.routing import (
    AlertBook,
    Backoff,
    alertmanager_alert,
    retryable,
    webhook_payload,
)
from streamdrift.config.settings import Settings
from streamdrift.kafka.security import client_options

log = logging.getLogger(__name__)


class Poster(Protocol):
    async def __call__(self, url: str, payload: Any) -> int: ...


class Alertmanager:
    """Alertmanager's v2 API: firing alerts with ``endsAt`` = now + ``hold``, re-sent every
    ``resend_interval``; a resolution ends the firing alert (same labels)."""

    name = "alertmanager"

    def __init__(
        self,
        url: str,
        *,
        report_url: str = "",
        resend_interval: float = 60.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.url = url.rstrip("/") + "/api/v2/alerts"
        self.report_url = report_url
        self.resend_interval = resend_interval
        self.hold = 4 * resend_interval  # as Prometheus does: a few missed re-sends
        self.clock = clock

    def payload(self, alert: dict[str, Any], firing: dict[str, Any]) -> list[dict[str, Any]]:
        now = self.clock()
        resolved_at = None
        if alert.get("status") == "resolved":
            resolved_at = min(now, float(alert["detected_at"]))
        body = alertmanager_alert(
            firing, now=now, hold=self.hold, report_url=self.report_url, resolved_at=resolved_at
        )
        return [body]

    async def deliver(self, post: Poster, alert: dict[str, Any], firing: dict[str, Any]) -> int:
        return await post(self.url, self.payload(alert, firing))

    async def resend(self, post: Poster, firing: list[dict[str, Any]]) -> int | None:
        if not firing:
            return None
        now = self.clock()
        bodies = [
            alertmanager_alert(a, now=now, hold=self.hold, report_url=self.report_url)
            for a in firing
        ]
        return await post(self.url, bodies)


class Webhook:
    """Any webhook (Slack's incoming webhooks included): the alert JSON plus ``text``."""

    name = "webhook"
    resend_interval = float("inf")

    def __init__(self, url: str) -> None:
        self.url = url

    async def deliver(self, post: Poster, alert: dict[str, Any], firing: dict[str, Any]) -> int:
        return await post(self.url, webhook_payload(alert))

    async def resend(self, post: Poster, firing: list[dict[str, Any]]) -> int | None:
        return None


class Forwarder:
    """Reads the alert topics and delivers each alert once it is new (see module doc)."""

    def __init__(
        self,
        settings: Settings,
        endpoint: Alertmanager | Webhook,
        *,
        group: str | None = None,
        from_beginning: bool = False,
        backoff: Backoff | None = None,
        timeout: float = 10.0,
    ) -> None:
        self.settings = settings
        self.endpoint = endpoint
        self.group = group or f"{settings.app_id}.forward-{endpoint.name}"
        self.from_beginning = from_beginning
        self.backoff = backoff or Backoff()
        self.timeout = timeout
        self.topics = (settings.topic_drift_alerts, settings.topic_degradation_alerts)
        self.book = AlertBook()
        self.delivered = 0
        self.rejected = 0
        self._stopping = asyncio.Event()
        self._session: Any = None

    def stop(self) -> None:
        self._stopping.set()

    async def run(self) -> None:
        import aiohttp
        from aiokafka import AIOKafkaConsumer, TopicPartition

        consumer = AIOKafkaConsumer(
            bootstrap_servers=self.settings.broker_address.bootstrap_servers,
            group_id=self.group,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            **client_options(self.settings),
        )
        await consumer.start()
        self._session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=self.timeout),
            headers={"Content-Type": "application/json"},
        )
        try:
            tps = [
                TopicPartition(topic, p)
                for topic in self.topics
                for p in await partitions(consumer, topic)
            ]
            if not tps:
                raise RuntimeError(f"none of the topics {self.topics} exists")
            consumer.assign(tps)
            ends = await consumer.end_offsets(tps)
            start: dict[Any, int] = {}
            for tp in tps:
                committed = await consumer.committed(tp)
                start[tp] = (
                    committed if committed is not None else (0 if self.from_beginning else ends[tp])
                )
            await consumer.seek_to_beginning(*tps)
            log.info(
                "forwarding %s to %s (group %s)",
                ", ".join(self.topics),
                self.endpoint.url,
                self.group,
            )
            await self._loop(consumer, start)
        finally:
            await self._session.close()
            await consumer.stop()

    async def _loop(self, consumer: Any, start: dict[Any, int]) -> None:
        from aiokafka import TopicPartition

        next_resend = time.monotonic() + self.endpoint.resend_interval
        while not self._stopping.is_set():
            batch = await consumer.getmany(timeout_ms=500)
            for tp, records in batch.items():
                for record in records:
                    alert = self._decode(record)
                    if record.offset < start[tp]:  # delivered before: only note it
                        if alert is not None:
                            self.book.record(alert)
                        continue
                    firing = None if alert is None else self.book.record(alert)
                    delivered = True
                    if firing is not None and alert is not None:
                        delivered = await self._deliver(alert, firing)
                    if not delivered:
                        return  # stopping: not committed, delivered after a restart
                    await consumer.commit(
                        {TopicPartition(tp.topic, tp.partition): record.offset + 1}
                    )
            if time.monotonic() >= next_resend:
                next_resend = time.monotonic() + self.endpoint.resend_interval
                await self._resend()

    def _decode(self, record: Any) -> dict[str, Any] | None:
        try:
            alert = codec.loads(record.value)
            if not isinstance(alert, dict) or "alert_id" not in alert:
                raise ValueError("not an alert")
            return alert
        except ValueError as exc:
            log.warning(
                "skipping %s[%d]@%d: %s", record.topic, record.partition, record.offset, exc
            )
            return None

    async def _post(self, url: str, payload: Any) -> int:
        async with self._session.post(url, data=codec.dumps(payload)) as response:
            await response.read()
            return int(response.status)

    async def _deliver(self, alert: dict[str, Any], firing: dict[str, Any]) -> bool:
        """POST until a 2xx (True); False when stopped first. A non-retryable 4xx is logged
        and counted in ``rejected`` (the payload will never be accepted)."""
        import aiohttp

        attempt = 0
        while not self._stopping.is_set():
            try:
                status = await self.endpoint.deliver(self._post, alert, firing)
                problem = f"HTTP {status}"
            except (aiohttp.ClientError, TimeoutError, OSError) as exc:
                status, problem = 0, f"{type(exc).__name__}: {exc}"
            if 200 <= status < 300:
                self.delivered += 1
                log.info("delivered %s %s (%s)", alert["status"], alert["alert_id"], alert["kind"])
                return True
            if status and not retryable(status):
                self.rejected += 1
                log.error(
                    "%s rejected alert %s: %s", self.endpoint.name, alert["alert_id"], problem
                )
                return True
            delay = self.backoff.delay(attempt)
            attempt += 1
            log.warning(
                "%s: %s for alert %s; retry %d in %.1f s",
                self.endpoint.name,
                problem,
                alert["alert_id"],
                attempt,
                delay,
            )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), delay)
        return False

    async def _resend(self) -> None:
        import aiohttp

        firing = list(self.book.firing.values())
        try:
            status = await self.endpoint.resend(self._post, firing)
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            log.warning("re-sending %d firing alerts failed: %s", len(firing), exc)
            return
        if status is not None and not 200 <= status < 300:
            log.warning("re-sending %d firing alerts: HTTP %d", len(firing), status)


async def partitions(consumer: Any, topic: str) -> list[int]:
    """The partitions of ``topic`` (aiokafka's ``partitions_for_topic`` only knows topics
    the consumer subscribed to, and ``topics()`` does not keep what it fetched)."""
    cluster = await consumer._client.fetch_all_metadata()
    return sorted(cluster.partitions_for_topic(topic) or ())


async def run_forwarder(forwarder: Forwarder) -> None:
    """Run until SIGINT/SIGTERM."""
    import signal

    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, forwarder.stop)
    await forwarder.run()
