"""A real Prometheus scrapes a running worker and evaluates deploy/prometheus/rules.yml:
the worker is up, and the drift it reports puts StreamdriftDriftFiring into pending."""

from __future__ import annotations

import urllib.parse
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from streamdrift.devtools.broker import LocalBroker
from tests.integration.http_services import Server, get_json, start_prometheus
from tests.integration.kafka_helpers import run, running_worker, unique_settings, wait_for
from tests.integration.traffic import batch, publish

pytestmark = pytest.mark.integration

RULES = Path(__file__).resolve().parents[2] / "deploy" / "prometheus" / "rules.yml"


def query(prometheus: Server, expr: str) -> list[dict[str, Any]]:
    url = prometheus.url + "/api/v1/query?" + urllib.parse.urlencode({"query": expr})
    return get_json(url)["data"]["result"]  # type: ignore[no-any-return]


def rules(prometheus: Server) -> dict[str, dict[str, Any]]:
    groups = get_json(prometheus.url + "/api/v1/rules")["data"]["groups"]
    return {r["name"]: r for g in groups for r in g["rules"]}


def test_prometheus_scrapes_the_worker_and_evaluates_the_rules(
    kafka_broker: LocalBroker, tmp_path: Path
) -> None:
    settings = unique_settings(
        kafka_broker.url, tmp_path / "worker", reference_size=500, window_size=500
    )
    with running_worker(settings, tmp_path / "worker.log") as worker:
        target = f"127.0.0.1:{settings.metrics_port}"
        prometheus = start_prometheus(tmp_path / "prometheus", [target], [RULES])
        try:
            up = f'up{{job="streamdrift",instance="{target}"}}'
            assert wait_for(lambda: query(prometheus, up)[0]["value"][1] == "1", 60), (
                prometheus.log_text() + worker.log_text()[-2000:]
            )
            loaded = rules(prometheus)
            assert "StreamdriftWorkerDown" in loaded and "StreamdriftDriftFiring" in loaded
            rng = np.random.default_rng(7)
            run(
                publish(
                    settings,
                    [batch("m", 0, 500, rng), batch("m", 500, 1000, rng, income_shift=1.0)],
                )
            )
            assert wait_for(
                lambda: rules(prometheus)["StreamdriftDriftFiring"]["state"] == "pending", 45
            ), worker.log_text()[-2000:]
            final = rules(prometheus)
            assert all(r["health"] == "ok" for r in final.values()), final
            assert final["StreamdriftWorkerDown"]["state"] == "inactive"
            (alert,) = final["StreamdriftDriftFiring"]["alerts"]
            assert alert["labels"]["kind"] == "data_drift"
            assert alert["labels"]["instance"] == target
        finally:
            prometheus.stop()
