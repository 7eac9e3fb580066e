"""Seeded synthetic traffic for integration tests: column-wise batches and feedback."""

from __future__ import annotations

import asyncio
import csv
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from streamdrift import codec
from streamdrift.client import PredictionClient
from streamdrift.config.settings import Settings
from streamdrift.records import FeedbackEvent, PredictionBatch, PredictionEvent

T0 = 1_700_000_000.0
SPACING = 0.01  # seconds of event time between predictions (a replay produced at full speed)


def batch(
    model: str,
    start: int,
    n: int,
    rng: np.random.Generator,
    *,
    version: str = "1",
    segment: str | None = None,
    income_shift: float = 0.0,
    region_p: Sequence[float] = (0.4, 0.3, 0.2, 0.1),
    score_shift: float = 0.0,
    features: int = 0,
) -> PredictionBatch:
    """Rows ``start .. start+n`` of a model: income, age (numeric), region (categorical),
    a score, plus ``features`` extra stationary columns (numeric and categorical)."""
    cols: dict[str, list[Any]] = {
        "income": (rng.normal(52_000, 12_000, n) + income_shift * 12_000).round(2).tolist(),
        "age": rng.normal(41, 11, n).round(1).tolist(),
        "region": np.array(["north", "south", "east", "west"])[
            rng.choice(4, n, p=list(region_p))
        ].tolist(),
    }
    for j in range(features):
        if j % 3 == 2:
            cols[f"cat{j}"] = np.array(["a", "b", "c", "d", "e"])[rng.choice(5, n)].tolist()
        else:
            cols[f"num{j}"] = rng.lognormal(j % 4, 0.5, n).round(4).tolist()
    scores = np.clip(rng.beta(2, 5, n) + score_shift, 0, 1).round(4).tolist()
    return PredictionBatch(
        model_id=model,
        model_version=version,
        segment=segment,
        prediction_ids=[f"{model}-{version}-{segment}-{start + i}" for i in range(n)],
        timestamps=[T0 + (start + i) * SPACING for i in range(n)],
        features=cols,
        predictions=scores,
    )


def write_csv(b: PredictionBatch, path: Path) -> Path:
    """``b`` as a training file for ``reference build``: id, timestamp, features, score."""
    with path.open("w", newline="") as f:
        out = csv.writer(f)
        out.writerow(["prediction_id", "timestamp", *b.features, "prediction"])
        for i in range(len(b)):
            out.writerow(
                [
                    b.prediction_ids[i],
                    b.timestamps[i],
                    *(v[i] for v in b.features.values()),
                    b.predictions[i],
                ]
            )
    return path


def rows(b: PredictionBatch) -> list[PredictionEvent]:
    """The batch as single events (the format any producer can write)."""
    return [
        PredictionEvent(
            b.model_id,
            b.model_version,
            b.prediction_ids[i],
            b.timestamps[i],
            {k: v[i] for k, v in b.features.items()},
            b.predictions[i],
            b.segment,
        )
        for i in range(len(b))
    ]


async def publish(
    settings: Settings, batches: Sequence[PredictionBatch], *, envelopes: bool = True
) -> int:
    sent = 0
    async with PredictionClient(
        settings.broker, topic=settings.topic_predictions, envelopes=envelopes
    ) as client:
        for b in batches:
            for event in rows(b):
                await client.publish(event)
            sent += len(b)
    return sent


async def publish_feedback(settings: Settings, events: Sequence[FeedbackEvent]) -> None:
    from aiokafka import AIOKafkaProducer

    producer = AIOKafkaProducer(
        bootstrap_servers=settings.broker_address.bootstrap_servers, acks="all"
    )
    await producer.start()
    try:
        for event in events:
            await producer.send(
                settings.topic_feedback, codec.encode_feedback(event), key=event.model_id.encode()
            )
        await producer.flush()
    finally:
        await producer.stop()


async def publish_raw(
    settings: Settings, topic: str, messages: Sequence[tuple[bytes, bytes]]
) -> None:
    from aiokafka import AIOKafkaProducer

    producer = AIOKafkaProducer(
        bootstrap_servers=settings.broker_address.bootstrap_servers, acks="all"
    )
    await producer.start()
    try:
        for key, value in messages:
            await producer.send(topic, value, key=key)
        await producer.flush()
    finally:
        await producer.stop()


def classifier(
    model: str, n: int, change_at: int, before: float, after: float, seed: int
) -> tuple[PredictionBatch, list[FeedbackEvent]]:
    """A binary classifier whose accuracy drops from ``before`` to ``after`` at ``change_at``;
    each label arrives 3 s of event time after its prediction."""
    rng = np.random.default_rng(seed)
    truth = (rng.random(n) < 0.3).astype(int)
    accuracy = np.where(np.arange(n) < change_at, before, after)
    correct = rng.random(n) < accuracy
    predicted = np.where(correct, truth, 1 - truth)
    scores = np.clip(rng.normal(np.where(predicted == 1, 0.75, 0.25), 0.1), 0, 1).round(4)
    b = PredictionBatch(
        model_id=model,
        model_version="1",
        segment=None,
        prediction_ids=[f"{model}-{i}" for i in range(n)],
        timestamps=[T0 + i * SPACING for i in range(n)],
        features={"x": rng.normal(0, 1, n).round(4).tolist()},
        predictions=scores.tolist(),
    )
    feedback = [
        FeedbackEvent(model, b.prediction_ids[i], b.timestamps[i] + 3.0, int(truth[i]))
        for i in range(n)
    ]
    return b, feedback


def run(coro: Any) -> Any:
    return asyncio.run(coro)
