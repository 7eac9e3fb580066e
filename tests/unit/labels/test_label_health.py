"""Label health (labels/label_health.py) through DegradationFleet: coverage per period of
prediction time, judged also when labels stop altogether.

Streams are event time ``T0 + second + j / 10`` (10 predictions a second); a chosen share
of them is labelled 1 s later. The expected coverage of every period is counted from the
generated stream itself.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest

from streamdrift.alerts.policy import AlertPolicy
from streamdrift.config.spec import ModelSpecs, MonitorSpec
from streamdrift.drift.windows import WindowSpec
from streamdrift.labels.degradation import DegradationFleet, DegradationUpdate
from streamdrift.labels.join import FeedbackEvent
from streamdrift.labels.label_health import LabelCoverage
from streamdrift.labels.performance import PerformanceSpec
from streamdrift.records import AlertKind, AlertStatus, PredictionBatch, WindowResult

T0 = 1_764_000_000.0  # a multiple of the period: period k starts at T0 + k * PERIOD
PERIOD = 10.0
TTL = 5.0


def clock() -> float:
    return 1_764_100_000.0


def spec(min_coverage: float = 0.8, **kw: Any) -> PerformanceSpec:
    base: dict[str, Any] = {
        "window": WindowSpec(kind="time", size=10.0),
        "min_labels": 20,
        "prediction_ttl": TTL,
        "coverage_period": PERIOD,
        "min_coverage": min_coverage,
    }
    return PerformanceSpec(**{**base, **kw})


def fleet_of(perf: PerformanceSpec) -> DegradationFleet:
    return DegradationFleet(ModelSpecs(MonitorSpec(performance=perf)), AlertPolicy(clock=clock))


@dataclass
class Stream:
    """What was sent, per (model, period number): [predictions, labelled in time]."""

    truth: dict[tuple[str, int], list[int]] = field(default_factory=dict)
    updates: list[tuple[float, DegradationUpdate]] = field(default_factory=list)  # (pred wm, u)

    def health(self) -> list[WindowResult]:
        return [
            w
            for _, u in self.updates
            for w in u.windows
            if w.tests[0].kind is AlertKind.LABEL_HEALTH
        ]

    def alerts(self) -> list[tuple[float, Any]]:
        return [
            (wm, a) for wm, u in self.updates for a in u.alerts if a.kind is AlertKind.LABEL_HEALTH
        ]


def run(
    fleet: DegradationFleet,
    seconds: range,
    share: Callable[[str, int], float],
    *,
    models: Sequence[str] = ("m",),
    seed: int = 0,
    stream: Stream | None = None,
    chunk: int = 10,
) -> Stream:
    """Each second: the predictions of that second (in batches of ``chunk`` rows), then
    the labels of the previous second's predictions (a ``share`` of them, 1 s late)."""
    rng = np.random.default_rng(seed)
    out = stream or Stream()
    waiting: list[FeedbackEvent] = []
    for sec in seconds:
        for model in models:
            ids = [f"{model}-{sec}-{j}" for j in range(10)]
            stamps = [T0 + sec + j / 10 for j in range(10)]
            scores = rng.random(10).tolist()
            for i in range(0, 10, chunk):
                batch = PredictionBatch(
                    model,
                    "1",
                    None,
                    ids[i : i + chunk],
                    stamps[i : i + chunk],
                    {},
                    scores[i : i + chunk],
                )
                out.updates.append((stamps[-1], fleet.add_predictions([batch])))
            cell = out.truth.setdefault((model, math.floor((T0 + sec) / PERIOD)), [0, 0])
            cell[0] += 10
            chosen = [
                (pid, ts, sc)
                for pid, ts, sc in zip(ids, stamps, scores, strict=True)
                if rng.random() < share(model, sec)
            ]
            cell[1] += len(chosen)
            waiting.extend(FeedbackEvent(model, p, t + 1.0, int(s >= 0.5)) for p, t, s in chosen)
        out.updates.append((T0 + sec + 0.9, fleet.add_feedback(waiting)))
        waiting = []
    return out


def period_start(number: int) -> float:
    return number * PERIOD


def test_coverage_of_each_period_is_the_labelled_share_of_its_predictions() -> None:
    fleet = fleet_of(spec(0.8))
    stream = run(fleet, range(60), lambda m, s: 0.5)
    health = stream.health()
    assert len(health) >= 4
    for result in health:
        (check,) = result.tests
        n, labelled = stream.truth[("m", result.index)]
        assert result.window.start == period_start(result.index)
        assert result.window.end == result.window.start + PERIOD
        assert result.window.count == n
        assert check.value == labelled / n
        assert (check.feature, check.detector, check.statistic) == ("label_coverage",) * 3
        assert check.threshold == 0.8
        assert check.drifted == (check.value < 0.8)
        assert f"{labelled} of {n} predictions" in check.detail
    alerts = stream.alerts()
    assert [a.status for _, a in alerts] == [AlertStatus.FIRING]
    alert = alerts[0][1]
    assert (alert.detector, alert.feature, alert.model_version) == ("label_coverage", None, "1")
    assert alert.detected_at == clock()
    assert "label coverage of m v1 is too low" in alert.message
    # the number and what it is compared with: a minimum, not a "threshold" it exceeded
    assert f"label_coverage={alert.value:.3f} (minimum 0.8), " in alert.message


def test_full_coverage_raises_no_alert() -> None:
    fleet = fleet_of(spec(0.8))
    stream = run(fleet, range(60), lambda m, s: 1.0)
    health = stream.health()
    assert health and all(r.tests[0].value == 1.0 and not r.tests[0].drifted for r in health)
    assert stream.alerts() == []


def test_labels_stopping_altogether_fire_label_health() -> None:
    """One model, labels stop at second 40: the feedback watermark stops with them; the
    periods without labels are judged by the prediction watermark, at most 2 TTLs after
    their end (and the join expires their predictions by the same rule)."""
    fleet = fleet_of(spec(0.8))
    stop = 40
    stream = run(fleet, range(90), lambda m, s: 1.0 if s < stop else 0.0)
    assert fleet.join.pending_predictions < 10 * (2 * TTL + 1)  # not 500: they expired
    health = {r.index: r.tests[0] for r in stream.health()}
    first_stopped = math.floor((T0 + stop) / PERIOD)
    assert all(c.value == 1.0 for n, c in health.items() if n < first_stopped)
    assert health[first_stopped].value == 0.0 and health[first_stopped].drifted
    ((watermark, firing),) = stream.alerts()
    assert firing.status is AlertStatus.FIRING
    assert firing.window.start == period_start(first_stopped)
    deadline = firing.window.end + 2 * TTL
    assert deadline <= watermark < deadline + 1.0  # the first prediction past the deadline


def test_labels_stopping_for_one_model_fire_two_ttls_after_the_period() -> None:
    """Each model by its own clocks: another model's labels, still coming, do not move the
    clock of the model whose labels stopped (they are judged as stalled)."""
    fleet = fleet_of(spec(0.8))
    stream = run(
        fleet,
        range(80),
        lambda m, s: 0.0 if (m == "a" and s >= 40) else 1.0,
        models=("a", "b"),
    )
    alerts = stream.alerts()
    assert [(a.model_id, a.status) for _, a in alerts] == [("a", AlertStatus.FIRING)]
    watermark, firing = alerts[0]
    assert firing.window.start == period_start(math.floor((T0 + 40) / PERIOD))
    assert firing.window.end + 2 * TTL <= watermark < firing.window.end + 2 * TTL + 1.0


def test_coverage_recovers_and_the_alert_resolves() -> None:
    fleet = fleet_of(spec(0.8))
    stream = run(fleet, range(40), lambda m, s: 0.0, seed=1)
    run(fleet, range(40, 120), lambda m, s: 1.0, seed=2, stream=stream)
    statuses = [a.status for _, a in stream.alerts()]
    assert statuses == [AlertStatus.FIRING, AlertStatus.RESOLVED]
    firing, resolved = (a for _, a in stream.alerts())
    clean = [r.index for r in stream.health() if not r.tests[0].drifted]
    assert resolved.window.start == period_start(clean[2])  # resolve_after = 3 clean periods
    assert firing.alert_id != resolved.alert_id


def test_results_and_alert_ids_do_not_depend_on_batching() -> None:
    def outcome(chunk: int) -> tuple[list[Any], list[str]]:
        stream = run(fleet_of(spec(0.8)), range(70), lambda m, s: 0.5, seed=3, chunk=chunk)
        return stream.health(), [a.alert_id for _, a in stream.alerts()]

    one, by_three = outcome(10), outcome(3)
    assert one == by_three
    assert one[1]


def test_predictions_read_ahead_of_the_labels_judge_nothing_early() -> None:
    """A catch-up: the predictions run 8 s (less than 2 TTLs) ahead of their labels:
    every period is still judged fully covered."""
    fleet = fleet_of(spec(0.8))
    pending: list[FeedbackEvent] = []
    results: list[WindowResult] = []
    for sec in range(60):
        ids = [f"p{sec}-{j}" for j in range(10)]
        stamps = [T0 + sec + j / 10 for j in range(10)]
        update = fleet.add_predictions(
            [PredictionBatch("m", "1", None, ids, stamps, {}, [0.9] * 10)]
        )
        results.extend(update.windows)
        pending.extend(FeedbackEvent("m", p, t + 1.0, 1) for p, t in zip(ids, stamps, strict=True))
        if sec >= 8:  # labels of second sec - 8
            results.extend(fleet.add_feedback(pending[:10]).windows)
            pending = pending[10:]
    health = [r.tests[0] for r in results if r.tests[0].kind is AlertKind.LABEL_HEALTH]
    assert health and all(c.value == 1.0 for c in health)
    assert sum(fleet.coverage.late_labels.values()) == 0


def test_small_periods_are_not_judged() -> None:
    fleet = fleet_of(spec(0.8, min_labels=101))  # a period holds 100 predictions
    stream = run(fleet, range(60), lambda m, s: 0.0)
    assert stream.health() == [] and stream.alerts() == []


def test_min_coverage_zero_reports_coverage_without_alerting() -> None:
    fleet = fleet_of(spec(0.0))
    stream = run(fleet, range(60), lambda m, s: 0.0)
    assert stream.health() and all(r.tests[0].value == 0.0 for r in stream.health())
    assert stream.alerts() == []


def test_duplicate_predictions_are_counted_once() -> None:
    fleet = fleet_of(spec(0.8))
    ids = [f"d{j}" for j in range(30)]
    stamps = [T0 + j / 10 for j in range(30)]
    batch = PredictionBatch("m", "1", None, ids, stamps, {}, [0.9] * 30)
    fleet.add_predictions([batch])
    fleet.add_predictions([batch])  # a producer's retry
    assert fleet.coverage.periods[("m", "1")] == {math.floor(T0 / PERIOD): [30, 0]}


def test_a_period_is_judged_only_once_its_predictions_expired() -> None:
    fleet = fleet_of(spec(0.8))
    stamps = [T0 + j / 10 for j in range(30)]
    ids = [f"x{j}" for j in range(30)]
    fleet.add_predictions([PredictionBatch("m", "1", None, ids, stamps, {}, [0.9] * 30)])
    later = T0 + PERIOD + 2 * TTL + 1.0  # past the stalled-feedback deadline
    update = fleet.add_predictions([PredictionBatch("m", "1", None, ["y"], [later], {}, [0.9])])
    (result,) = update.windows
    assert result.tests[0].value == 0.0
    assert fleet.join.unlabelled_expired == {"m": 30}
    fleet.add_feedback([FeedbackEvent("m", "x0", T0 + 1.0, 1)])  # too late: it waits alone
    assert fleet.coverage.late_labels == {}
    assert fleet.join.pending_feedback == 1


def test_a_checkpoint_from_before_a_period_was_counted_counts_its_labels_late() -> None:
    fleet = fleet_of(spec(0.8))
    fleet.add_predictions([PredictionBatch("m", "1", None, ["x"], [T0], {}, [0.9])])
    fleet.coverage = LabelCoverage()  # as restored from a checkpoint without coverage
    fleet.add_feedback([FeedbackEvent("m", "x", T0 + 1.0, 1)])
    assert fleet.coverage.late_labels == {"m": 1}


def test_state_round_trip_mid_stream() -> None:
    perf = spec(0.8)
    original = fleet_of(perf)
    head = run(original, range(35), lambda m, s: 0.5, seed=7)
    assert head.alerts()
    d = json.loads(json.dumps(original.to_dict(), allow_nan=False))
    policy = AlertPolicy.from_dict(original.alerts.to_dict(), clock=clock)
    restored = DegradationFleet.from_dict(d, ModelSpecs(MonitorSpec(performance=perf)), policy)
    assert restored.to_dict() == original.to_dict()
    assert restored.coverage.to_dict() == original.coverage.to_dict()

    def tail(fleet: DegradationFleet) -> list[Any]:
        s = run(fleet, range(35, 90), lambda m, s: 1.0 if s > 60 else 0.5, seed=8)
        return [(u.windows, u.alerts, u.labelled) for _, u in s.updates]

    assert tail(restored) == tail(original)
    assert restored.to_dict() == original.to_dict()


def test_checkpoints_without_coverage_periods_restore() -> None:
    fleet = fleet_of(spec(0.8))
    run(fleet, range(20), lambda m, s: 1.0)
    d = fleet.to_dict()
    del d["coverage"], d["references"]
    restored = DegradationFleet.from_dict(d, fleet.specs, fleet.alerts)
    assert restored.coverage == LabelCoverage()


@pytest.mark.parametrize("bad", [0.0, -1.0, math.inf, math.nan])
def test_coverage_period_must_be_positive_seconds(bad: float) -> None:
    from streamdrift.labels.performance import PerformanceSpecError

    with pytest.raises(PerformanceSpecError, match=r"performance\.coverage_period"):
        spec(coverage_period=bad)


def test_a_batch_spanning_periods_is_counted_per_period() -> None:
    coverage = LabelCoverage()
    stamps = [T0 + 0.5 * i for i in range(50)]  # 25 s: periods 0, 1 and half of 2
    coverage.add_predictions(("m", "1"), stamps, PERIOD)
    first = math.floor(T0 / PERIOD)
    expected: dict[int, list[int]] = {}
    for ts in stamps:
        expected.setdefault(math.floor(ts / PERIOD), [0, 0])[0] += 1
    assert coverage.periods[("m", "1")] == expected
    assert sorted(expected) == [first, first + 1, first + 2]
