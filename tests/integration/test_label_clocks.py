"""Label clocks per model, through the real broker (issue #11, item 3).

Two models on one partition whose event times are seven years apart (a 2019 backfill
beside live 2026 traffic), labels late: every label of both joins. A third model whose
labels for a while name predictions that were never sent loses them to expiry, and that
raises a ``label_health`` alert on the degradation-alerts topic, resolved when the labels
join again.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from aiokafka.partitioner import murmur2

from streamdrift.config.settings import Settings
from streamdrift.devtools.broker import LocalBroker
from streamdrift.records import FeedbackEvent, PredictionBatch
from tests.integration import traffic
from tests.integration.kafka_helpers import (
    WorkerProcess,
    read_alerts,
    running_worker,
    scrape,
    unique_settings,
    wait_for,
)

pytestmark = pytest.mark.integration

T2019 = 1_546_300_800.0  # 2019-01-01
T2026 = 1_767_225_600.0  # 2026-01-01
N = 12_000  # predictions per model, 10 per second of event time
DELAY = 60.0  # s from a prediction to its label
PARTITIONS = 8  # topics/topics.toml

CONFIG = """
[defaults.performance]
prediction_ttl = 3600
feedback_ttl = 600
coverage_period = 60
min_labels = 100

[models.lossy.performance]
feedback_ttl = 30                         # a model's own TTL
"""


def partition_of(model: str) -> int:
    return (murmur2(model.encode()) & 0x7FFFFFFF) % PARTITIONS


def same_partition_pair() -> tuple[str, str]:
    """A backfill and a live model id whose keys land on one partition."""
    live = "live"
    for i in range(1000):
        backfill = f"backfill-{i}"
        if partition_of(backfill) == partition_of(live):
            return backfill, live
    raise AssertionError("no pair found")


@pytest.fixture(scope="module")
def worker(
    kafka_broker: LocalBroker, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Settings, WorkerProcess]]:
    tmp = tmp_path_factory.mktemp("label-clocks")
    (tmp / "models.toml").write_text(CONFIG)
    settings = unique_settings(kafka_broker.url, tmp / "state", config=str(tmp / "models.toml"))
    with running_worker(settings, tmp / "worker.log") as process:
        yield settings, process
        assert process.proc.poll() is None, f"the worker died:\n{process.log_text()[-3000:]}"


def predictions(model: str, t0: float, start: int, n: int) -> PredictionBatch:
    return PredictionBatch(
        model,
        "1",
        None,
        [f"{model}-{i}" for i in range(start, start + n)],
        [t0 + i / 10 for i in range(start, start + n)],
        {"x": [float(i % 7) for i in range(start, start + n)]},
        [0.8 if i % 3 else 0.2 for i in range(start, start + n)],
    )


def labels(
    model: str, t0: float, start: int, n: int, lost: range = range(0)
) -> list[FeedbackEvent]:
    """Labels ``DELAY`` s after their predictions; those of rows in ``lost`` name an id
    that was never predicted."""
    return [
        FeedbackEvent(
            model,
            f"{model}-never-{i}" if i in lost else f"{model}-{i}",
            t0 + i / 10 + DELAY,
            int(i % 3 != 0),
        )
        for i in range(start, start + n)
    ]


def publish(settings: Settings, models: dict[str, float], lost: dict[str, range]) -> None:
    """Chunk by chunk (100 s of event time each), every model's predictions, then the labels
    of the chunk before; the live model's labels first, so that a partition clock would
    run years ahead of the backfill's predictions before the backfill's labels come."""
    chunk = 1000
    for start in range(0, N + chunk, chunk):
        if start < N:
            batches = [predictions(m, t0, start, chunk) for m, t0 in models.items()]
            traffic.run(traffic.publish(settings, batches))
        if start:
            events = [
                e
                for m, t0 in sorted(models.items(), key=lambda kv: -kv[1])
                for e in labels(m, t0, start - chunk, chunk, lost.get(m, range(0)))
            ]
            traffic.run(traffic.publish_feedback(settings, events))


def metric(settings: Settings, name: str, **labels: str) -> float:
    inner = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    return scrape(settings.metrics_port).get(f"{name}{{{inner}}}", 0.0)


def consumed(settings: Settings, model: str, topic: str) -> float:
    return metric(settings, "streamdrift_events_consumed_total", model=model, topic=topic)


def test_two_models_years_apart_on_one_partition_join_every_label(worker: Any) -> None:
    """The predictions of both models first, then the live model's labels (they come
    sooner), then the backfill's: with one clock per partition the live labels expired
    every waiting prediction of the backfill, whose labels then expired unjoined."""
    settings, process = worker
    backfill, live = same_partition_pair()
    log = process.log_text
    for start in range(0, N, 1000):
        batches = [predictions(m, t0, start, 1000) for m, t0 in ((backfill, T2019), (live, T2026))]
        traffic.run(traffic.publish(settings, batches))
    topic = settings.topic_predictions
    assert wait_for(lambda: min(consumed(settings, m, topic) for m in (backfill, live)) >= N, 120)
    feedback = settings.topic_feedback
    for model, t0 in ((live, T2026), (backfill, T2019)):
        traffic.run(traffic.publish_feedback(settings, labels(model, t0, 0, N)))
        assert wait_for(lambda m=model: consumed(settings, m, feedback) >= N, 120), log()[-3000:]
        joined = {"model": model}
        assert wait_for(
            lambda j=joined: metric(settings, "streamdrift_labels_joined_total", **j) >= N, 30
        ), (model, metric(settings, "streamdrift_labels_joined_total", **joined))
    # the join's gauges are refreshed with each checkpoint: wait for one that has it all
    pending = {"kind": "predictions"}
    assert wait_for(lambda: metric(settings, "streamdrift_pending_joins", **pending) == 0, 60)
    for model in (backfill, live):
        assert metric(settings, "streamdrift_labels_joined_total", model=model) == N
        for counter in ("unlabelled_expired", "orphan_feedback_expired"):
            assert metric(settings, "streamdrift_join_events", model=model, counter=counter) == 0


def test_labels_lost_to_expiry_raise_label_health_on_the_degradation_topic(
    worker: Any,
) -> None:
    settings, process = worker
    lost = range(3000, 6000)  # 300 s of labels whose predictions never came
    publish(settings, {"lossy": T2026}, {"lossy": lost})

    def expiry(alerts: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [a for a in alerts if a["model_id"] == "lossy" and a["detector"] == "label_expiry"]

    found = traffic.run(
        read_alerts(
            settings,
            until=lambda a: len(expiry(a)) >= 2,
            timeout=180,
            topics=(settings.topic_degradation_alerts,),
        )
    )
    alerts = expiry(found)
    assert [a["status"] for a in alerts] == ["firing", "resolved"], process.log_text()[-3000:]
    firing = alerts[0]
    assert firing["kind"] == "label_health"
    assert firing["statistic"] == "expired_label_share"
    assert firing["threshold"] == 0.1 and firing["value"] > 0.1
    lost_from = T2026 + lost.start / 10 + DELAY
    assert lost_from - 60 <= firing["window"]["start"] < lost_from + 60
    orphans = {"model": "lossy", "counter": "orphan_feedback_expired"}
    assert wait_for(lambda: metric(settings, "streamdrift_join_events", **orphans) > 0, 60)
    assert metric(settings, "streamdrift_join_events", **orphans) == len(lost)
