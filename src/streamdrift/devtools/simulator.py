"""A simulated model server: a credit-risk model's predictions, with a drift after a while.

Seeded and reproducible. Features: ``income`` and ``age``, ``debt_ratio`` (numeric),
``region`` and ``channel`` (categorical); the prediction is a probability from a fixed
logistic model. After ``drift_after`` events, ``drift_feature`` shifts by ``shift_sigmas``
standard deviations (numeric) and everything else stays as it was.

Timestamps are live (wall clock) or a replay of history: ``replay_start`` plus
``replay_spacing`` seconds per event, produced as fast as the rate allows.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from streamdrift.records import PredictionEvent

NUMERIC = {"income": (52_000.0, 12_000.0), "age": (41.0, 11.0), "debt_ratio": (0.35, 0.12)}
REGIONS = ("north", "south", "east", "west")
REGION_P = (0.4, 0.3, 0.2, 0.1)
CHANNELS = ("web", "app", "branch")
CHANNEL_P = (0.5, 0.35, 0.15)


@dataclass(frozen=True, slots=True)
class Scenario:
    model_id: str = "credit-risk"
    model_version: str = "7"
    drift_after: int | None = 20_000
    drift_feature: str = "income"
    shift_sigmas: float = 1.0
    segment: str | None = None
    seed: int = 42


def generate(
    scenario: Scenario,
    count: int,
    *,
    start: int = 0,
    timestamp: Callable[[int], float] = lambda i: time.time(),
    chunk: int = 1000,
) -> Iterator[PredictionEvent]:
    """Yield ``count`` events, the ``start``-th first; deterministic for a given scenario."""
    rng = np.random.default_rng(scenario.seed)
    # skip what earlier calls produced so a resumed stream stays the same stream
    produced = 0
    index = 0
    while produced < count:
        n = chunk
        cols = {name: rng.normal(mu, sd, n) for name, (mu, sd) in NUMERIC.items()}
        regions = rng.choice(len(REGIONS), n, p=REGION_P)
        channels = rng.choice(len(CHANNELS), n, p=CHANNEL_P)
        rows = np.arange(index, index + n)
        index += n
        if scenario.drift_after is not None and scenario.drift_feature in NUMERIC:
            sd = NUMERIC[scenario.drift_feature][1]
            shifted = rows >= scenario.drift_after
            cols[scenario.drift_feature] = cols[scenario.drift_feature] + np.where(
                shifted, scenario.shift_sigmas * sd, 0.0
            )
        z = (
            -1.0
            - (cols["income"] - 52_000.0) / 20_000.0
            + 4.0 * (cols["debt_ratio"] - 0.35)
            - (cols["age"] - 41.0) / 40.0
        )
        score = 1.0 / (1.0 + np.exp(-z))
        for j in range(n):
            i = int(rows[j])
            if i < start:
                continue
            if produced >= count:
                return
            yield PredictionEvent(
                model_id=scenario.model_id,
                model_version=scenario.model_version,
                prediction_id=f"{scenario.model_id}-{scenario.seed}-{i}",
                timestamp=timestamp(i),
                features={
                    "income": round(float(cols["income"][j]), 2),
                    "age": round(float(cols["age"][j]), 1),
                    "debt_ratio": round(float(cols["debt_ratio"][j]), 4),
                    "region": REGIONS[regions[j]],
                    "channel": CHANNELS[channels[j]],
                },
                prediction=round(float(score[j]), 4),
                segment=scenario.segment,
            )
            produced += 1


async def run(
    broker: str,
    scenario: Scenario,
    *,
    events: int | None,
    rate: float | None,
    topic: str = "predictions",
    envelopes: bool = False,
    replay_start: float | None = None,
    replay_spacing: float = 0.01,
    progress: Callable[[int], None] | None = None,
    producer_options: dict[str, Any] | None = None,
) -> int:
    """Publish the scenario's events; ``events=None`` runs until cancelled. Returns the count."""
    from streamdrift.client import PredictionClient

    if replay_start is not None:

        def stamp(i: int) -> float:
            return replay_start + i * replay_spacing
    else:

        def stamp(i: int) -> float:
            return time.time()

    total = events if events is not None else 1 << 62
    sent = 0
    started = time.monotonic()
    async with PredictionClient(
        broker, topic=topic, envelopes=envelopes, producer_options=producer_options
    ) as client:
        for event in generate(scenario, total, timestamp=stamp):
            await client.publish(event)
            sent += 1
            if sent % 500 == 0:
                if progress is not None:
                    progress(sent)
                if rate:
                    ahead = sent / rate - (time.monotonic() - started)
                    if ahead > 0:
                        await asyncio.sleep(ahead)
                else:
                    await asyncio.sleep(0)
        if replay_start is not None and events is not None:  # a finite replay: close its windows
            await client.end_of_input(scenario.model_id, scenario.model_version)
        await client.flush()
    if progress is not None:
        progress(sent)
    return sent
