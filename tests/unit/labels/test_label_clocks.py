"""DegradationFleet with models on different clocks: per-model TTLs from the model
config, label coverage judged by each model's time, and the ``label_expiry`` check of
label health (labels lost to expiry raise an alert and resolve when they stop)."""

from __future__ import annotations

import json
import tomllib
from typing import Any

from streamdrift.alerts.policy import AlertPolicy
from streamdrift.config.spec import ModelSpecs, MonitorSpec
from streamdrift.labels.degradation import DegradationFleet, DegradationUpdate
from streamdrift.labels.join import FeedbackEvent
from streamdrift.labels.performance import PerformanceSpec
from streamdrift.records import AlertKind, AlertStatus, PredictionBatch

T2019 = 1_546_300_800.0
T2026 = 1_767_225_600.0
PERIOD = 60.0


def clock() -> float:
    return 1_800_000_000.0


def fleet_of(toml: str = "") -> DegradationFleet:
    base = MonitorSpec(
        performance=PerformanceSpec(
            prediction_ttl=600.0,
            feedback_ttl=120.0,
            coverage_period=PERIOD,
            min_labels=10,
            min_coverage=0.9,
        )
    )
    specs = ModelSpecs.from_mapping(tomllib.loads(toml), base)
    return DegradationFleet(specs, AlertPolicy(clock=clock))


def step(
    fleet: DegradationFleet, model: str, t0: float, s: int, *, labels: bool = True, n: int = 20
) -> list[DegradationUpdate]:
    """Second ``s`` of a model: n predictions, and labels for those of 30 s earlier (the
    labels of the even ones, or of none, carry ids that were never predicted)."""
    ids = [f"{model}-{s}-{i}" for i in range(n)]
    out = [
        fleet.add_predictions([PredictionBatch(model, "1", None, ids, [t0 + s] * n, {}, [0.9] * n)])
    ]
    if s >= 30:
        pid = f"{model}-{s - 30}" if labels else f"{model}-lost-{s - 30}"
        events = [FeedbackEvent(model, f"{pid}-{i}", t0 + s, 1) for i in range(n)]
        out.append(fleet.add_feedback(events))
    return out


def health_alerts(updates: list[DegradationUpdate]) -> list[Any]:
    return [a for u in updates for a in u.alerts if a.kind is AlertKind.LABEL_HEALTH]


def test_a_backfill_beside_live_traffic_loses_no_label_and_raises_no_label_health() -> None:
    fleet = fleet_of()
    updates: list[DegradationUpdate] = []
    for s in range(1000):
        updates += step(fleet, "backfill", T2019, s)
        updates += step(fleet, "live", T2026, s)
    join = fleet.join
    assert join.labelled == {"backfill": 970 * 20, "live": 970 * 20}
    assert join.unlabelled_expired == {} and join.orphan_feedback_expired == {}
    assert health_alerts(updates) == []
    judged = [w for u in updates for w in u.windows if w.tests[0].detector == "label_coverage"]
    assert {w.model_id for w in judged} == {"backfill", "live"}
    assert all(w.tests[0].value == 1.0 for w in judged)


def test_per_model_ttls_from_the_model_config() -> None:
    fleet = fleet_of(
        """
        [models.slow.performance]
        prediction_ttl = 100000
        [models.fast.performance]
        prediction_ttl = 10
        feedback_ttl = 5
        """
    )
    assert fleet.join.ttls("slow") == (100000.0, 120.0)
    assert fleet.join.ttls("fast") == (10.0, 5.0)
    assert fleet.join.ttls("other") == (600.0, 120.0)
    for s in range(1000):  # labels 30 s late: within slow's TTL, past fast's
        step(fleet, "slow", T2026, s)
        step(fleet, "fast", T2026, s)
    assert fleet.join.labelled["slow"] == 970 * 20
    assert "fast" not in fleet.join.labelled
    restored = DegradationFleet.from_dict(
        json.loads(json.dumps(fleet.to_dict())), fleet.specs, fleet.alerts
    )
    assert restored.join.ttls("fast") == (10.0, 5.0)


def test_labels_lost_to_expiry_raise_label_health_and_resolve() -> None:
    fleet = fleet_of()
    updates: list[DegradationUpdate] = []
    lost = range(300, 600)  # labels of these seconds name predictions never sent
    for s in range(1200):
        updates += step(fleet, "m", T2026, s, labels=s - 30 not in lost)
    checks = [
        (w.index, w.tests[0])
        for u in updates
        for w in u.windows
        if w.tests[0].detector == "label_expiry"
    ]
    assert checks and all(
        w.model_version == "*"
        for u in updates
        for w in u.windows
        if w.tests[0].detector == "label_expiry"
    )
    shares = {i: c.value for i, c in checks}
    lost_periods = {int((T2026 + s + 30) // PERIOD) for s in lost}
    assert all(shares[i] > 0.1 for i in lost_periods if i in shares)
    assert all(v == 0.0 for i, v in shares.items() if i not in lost_periods)
    alerts = [a for a in health_alerts(updates) if a.detector == "label_expiry"]
    assert [a.status for a in alerts] == [AlertStatus.FIRING, AlertStatus.RESOLVED]
    firing = alerts[0]
    assert firing.model_id == "m" and firing.statistic == "expired_label_share"
    assert firing.threshold == 0.1
    assert "expired without their prediction" in firing.message
    assert fleet.join.orphan_feedback_expired == {"m": 300 * 20}


def test_label_loss_periods_survive_a_checkpoint() -> None:
    fleet = fleet_of()
    for s in range(400):
        step(fleet, "m", T2026, s, labels=s < 200)
    d = json.loads(json.dumps(fleet.to_dict()))
    restored = DegradationFleet.from_dict(d, fleet.specs, fleet.alerts)
    assert restored.loss.to_dict() == fleet.loss.to_dict()
    assert restored.join.to_dict() == fleet.join.to_dict()
