"""Through the real broker: a champion/challenger experiment whose challenger is better
reaches ``superior`` on ``experiment-decisions``; a fresh worker replaying the same input
publishes the same decision (same record id, same evidence). The worker reads the two input
topics in no fixed order: labels that come before their predictions wait for them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from streamdrift.broker import LocalBroker
from streamdrift.client import PredictionClient
from streamdrift.config import Settings
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
"""
N = 6000
START = 1_700_000_000.0


async def publish(settings: Settings) -> None:
    """``N`` requests, each to one variant (50/50); the champion is right 70 % of the time,
    the challenger 85 %; every label follows. Both variants share one envelope stream
    (the SRM test takes the order of arrival for the order of assignment)."""
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
                    "ranker", "1", f"q{i}",
                    START + i * 0.1, {"x": float(i % 5)}, float(decided),
                    experiment="ranker-v2", variant=variant,
                )
            )  # fmt: skip
        await client.flush()
        for i in range(N):
            await client.publish_feedback(
                FeedbackEvent("ranker", f"q{i}", START + i * 0.1 + 5.0, int(labels[i]))
            )
        await client.flush()


def decisions(settings: Settings, timeout: float, count: int = 1) -> list[dict[str, Any]]:
    found = run(
        read_alerts(
            settings,
            until=lambda docs: sum(d.get("decision") == "superior" for d in docs) >= count,
            timeout=timeout,
            topics=(settings.topic_experiment_decisions,),
        )
    )
    return [d for d in found if d["kind"] == "decision"]


def test_a_better_challenger_reaches_superior_and_a_replay_gives_the_same_decision(
    kafka_broker: LocalBroker, tmp_path: Path
) -> None:
    config = tmp_path / "experiments.toml"
    config.write_text(TOML, encoding="utf-8")
    settings = unique_settings(kafka_broker.url, tmp_path / "a", config=str(config))
    with running_worker(settings, tmp_path / "a.log") as worker:
        run(publish(settings))
        first = decisions(settings, 120)
        assert [d["decision"] for d in first] == ["superior"], worker.log_text()[-3000:]
    decision = first[0]
    assert decision["lower"] > 0 and decision["experiment"] == "ranker-v2"
    assert decision["n"]["champion"] >= 100 and decision["n"]["challenger"] >= 100

    # a fresh worker (new group, no checkpoint) replays the input: the same decision again
    replay = settings.replace(app_id=settings.app_id + "-replay", data_dir=str(tmp_path / "b"))
    with running_worker(replay, tmp_path / "b.log") as worker:
        both = decisions(settings, 120, count=2)
        assert len(both) == 2, worker.log_text()[-3000:]
    # the same record id and the same evidence; the SRM snapshot in it counts the predictions
    # read so far, which depends on how the worker interleaved the two input topics
    assert [without_srm(d) for d in both] == [without_srm(decision)] * 2
    assert both[1]["srm"]["counts"]["champion"] + both[1]["srm"]["counts"]["challenger"] <= N


def without_srm(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in doc.items() if k != "srm"}
