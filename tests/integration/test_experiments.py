"""Through the real broker: a champion/challenger experiment whose challenger is better
reaches ``superior`` on ``experiment-decisions``, though each variant's predictions arrive
in lumps; a fresh worker replaying the same input publishes the same decision under the
same record id. The worker reads the two input topics in no fixed order: labels that come
before their predictions wait for them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from streamdrift.client import PredictionClient
from streamdrift.config.settings import Settings
from streamdrift.devtools.broker import LocalBroker
from streamdrift.records import FeedbackEvent, PredictionEvent
from tests.integration.kafka_helpers import read_alerts, run, running_worker, unique_settings

pytestmark = pytest.mark.integration

TOML = """
[experiments.ranker-v2]
model_id = "ranker"
split = { champion = 0.5, challenger = 0.5 }
metric = "accuracy"
alpha = 0.05
mode = "ab"
report_every = 500
srm_lateness = 20
"""
N = 6000
STEP = 0.01  # seconds of event time between two requests
START = 1_700_000_000.0
VERSION = {"champion": "1", "challenger": "2"}


async def publish(settings: Settings) -> None:
    """``N`` requests, each to one variant (50/50), 100 per second of event time; the
    champion is right 70 % of the time, the challenger 85 %; every label follows. Each
    variant is its own ``model_version``, so the client sends envelopes of one variant
    (500 predictions, 10 s of event time each): they arrive in lumps."""
    rng = np.random.default_rng(3)
    labels = (rng.random(N) < 0.5).astype(int)
    async with PredictionClient(
        settings.broker,
        topic=settings.topic_predictions,
        feedback_topic=settings.topic_feedback,
        envelopes=True,
    ) as client:
        for i in range(N):
            variant = "challenger" if rng.random() < 0.5 else "champion"
            right = rng.random() < (0.85 if variant == "challenger" else 0.7)
            decided = int(labels[i]) if right else 1 - int(labels[i])
            await client.publish(
                PredictionEvent(
                    "ranker", VERSION[variant], f"q{i}",
                    START + i * STEP, {"x": float(i % 5)}, float(decided),
                    experiment="ranker-v2", variant=variant,
                )
            )  # fmt: skip
        await client.flush()
        for i in range(N):
            await client.publish_feedback(
                FeedbackEvent("ranker", f"q{i}", START + i * STEP + 5.0, int(labels[i]))
            )
        await client.flush()


def records(settings: Settings, timeout: float, superior: int = 1) -> list[dict[str, Any]]:
    """The experiment's records until ``superior`` superior decisions and as many last
    progress records (every label counted) have come."""
    last = N // 500 - 1

    def done(docs: list[dict[str, Any]]) -> bool:
        return (
            sum(d.get("decision") == "superior" for d in docs) >= superior
            and sum(d.get("index") == last for d in docs) >= superior
        )

    return list(
        run(
            read_alerts(
                settings,
                until=done,
                timeout=timeout,
                topics=(settings.topic_experiment_decisions,),
            )
        )
    )


def decisions(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [d for d in docs if d["kind"] == "decision"]


def test_a_better_challenger_reaches_superior_and_a_replay_gives_the_same_decision(
    kafka_broker: LocalBroker, tmp_path: Path
) -> None:
    config = tmp_path / "experiments.toml"
    config.write_text(TOML, encoding="utf-8")
    settings = unique_settings(kafka_broker.url, tmp_path / "a", config=str(config))
    with running_worker(settings, tmp_path / "a.log") as worker:
        run(publish(settings))
        found = records(settings, 60)
        first = decisions(found)
        assert [d["decision"] for d in first] == ["superior"], worker.log_text()[-3000:]
    decision = first[0]
    assert decision["lower"] > 0 and decision["experiment"] == "ranker-v2"
    assert decision["n"]["champion"] >= 100 and decision["n"]["challenger"] >= 100
    # the lumps of one variant did not flag the correct split: the sample-ratio test took
    # the complete event-time buckets (the first of three 20 s buckets), nothing came late
    srm = max((d for d in found if d["kind"] == "progress"), key=lambda d: d["index"])["srm"]
    assert sum(srm["counts"].values()) >= 2000 and srm["late"] == 0
    assert sum(srm["counts"].values()) + sum(srm["pending"].values()) == N

    # a fresh worker (new group, no checkpoint) replays the input: the same decision again
    replay = settings.replace(app_id=settings.app_id + "-replay", data_dir=str(tmp_path / "b"))
    with running_worker(replay, tmp_path / "b.log") as worker:
        both = decisions(records(settings, 60, superior=2))
        assert len(both) == 2, worker.log_text()[-3000:]
    # the same decision under the same record id, so consumers that deduplicate by it see
    # one. Its evidence is where the replay reached it: the comparison takes requests in
    # the order they complete, which depends on how the worker interleaves the two input
    # topics (the same fetches give the same bytes: tests/unit/experiments)
    assert [d["record_id"] for d in both] == [decision["record_id"]] * 2
    assert all(d["decision"] == "superior" and d["lower"] > 0 for d in both)
