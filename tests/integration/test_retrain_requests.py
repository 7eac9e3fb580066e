"""Through the real broker: drift of a share of a model's features that persists yields
exactly one retrain request; a restart adds none, and a full replay (a new worker group
reading the same input) republishes it with the same id."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from streamdrift.devtools.broker import LocalBroker
from tests.integration.kafka_helpers import (
    read_alerts,
    run,
    running_worker,
    scrape,
    unique_settings,
    wait_for,
)
from tests.integration.traffic import batch, publish

pytestmark = pytest.mark.integration

# income (1 of income, age, region) drifts: a share of 1/3 >= 0.3, for 20 s of event time
CONFIG = "[defaults.retrain]\nafter = 20\ndrift_share = 0.3\n"


def requests(settings: Any, n: int, timeout: float = 45) -> list[dict[str, Any]]:
    return run(  # type: ignore[no-any-return]
        read_alerts(
            settings,
            until=lambda r: len(r) >= n,
            timeout=timeout,
            topics=(settings.topic_retrain_requests,),
        )
    )


def test_persistent_drift_requests_one_retrain_and_a_replay_keeps_its_id(
    kafka_broker: LocalBroker, tmp_path: Path
) -> None:
    config = tmp_path / "models.toml"
    config.write_text(CONFIG, encoding="utf-8")
    settings = unique_settings(
        kafka_broker.url,
        tmp_path / "w",
        reference_size=500,
        window_size=500,
        config=str(config),
    )
    rng = np.random.default_rng(11)
    # 500 reference events, then 4,000 with income shifted by 1 sigma (40 s of event time)
    traffic = [batch("m", 0, 500, rng), batch("m", 500, 4000, rng, income_shift=1.0)]
    consumed = (
        f'streamdrift_events_consumed_total{{model="m",topic="{settings.topic_predictions}"}}'
    )

    with running_worker(settings, tmp_path / "a.log") as worker:
        run(publish(settings, traffic))
        (request,) = requests(settings, 1)
        assert worker.proc.poll() is None, worker.log_text()[-3000:]
    assert (request["model_id"], request["reason"]) == ("m", "drift")
    assert request["drifted_features"] == ["income"] and request["monitored_features"] == 3
    assert request["persisted"] >= 20
    assert request["alert_ids"]
    firing = run(read_alerts(settings, until=lambda a: False, timeout=3))
    assert set(request["alert_ids"]) <= {a["alert_id"] for a in firing if a["status"] == "firing"}

    # the same worker group restarts (from its checkpoint) and sees more of the same drift
    with running_worker(settings, tmp_path / "a2.log") as worker:
        run(publish(settings, [batch("m", 4500, 1000, rng, income_shift=1.0)]))
        assert wait_for(lambda: scrape(settings.metrics_port)[consumed] >= 1000, 60), (
            worker.log_text()[-3000:]
        )
    assert len(requests(settings, 2, timeout=5)) == 1  # still one: the episode was requested

    # a new group replays all the input: the request is published again, with the same id
    replay = settings.replace(app_id=settings.app_id + "-replay")
    with running_worker(replay, tmp_path / "b.log"):
        again = requests(settings, 2)
    assert len(again) == 2
    assert again[1]["request_id"] == request["request_id"]
    assert {k: v for k, v in again[1].items() if k != "detected_at"} == {
        k: v for k, v in request.items() if k != "detected_at"
    }
