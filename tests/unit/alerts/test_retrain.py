"""Retrain requests: one per persistent episode, deterministic ids, event time only."""

from __future__ import annotations

import json

from streamdrift.alerts.policy import AlertPolicy
from streamdrift.alerts.retrain import (
    DEGRADATION,
    DRIFT,
    RetrainPolicy,
    RetrainRequest,
    RetrainSpec,
    request_id,
)
from streamdrift.records import AlertKind, CheckResult, WindowInfo, WindowResult

FEATURES = ("age", "income", "region", "zip")


def window(
    index: int,
    drifted: tuple[str, ...] = (),
    *,
    kind: AlertKind = AlertKind.DATA_DRIFT,
    seconds: float = 600.0,
    model: str = "m",
    version: str = "1",
) -> WindowResult:
    """Window ``index`` spans [index * seconds, (index + 1) * seconds) of event time."""
    if kind is AlertKind.DATA_DRIFT:
        tests = tuple(
            CheckResult(
                f, kind, "psi_ks", "psi", 0.5 if f in drifted else 0.01, 0.2, 1e-9, f in drifted
            )
            for f in FEATURES
        )
    else:
        bad = bool(drifted)
        tests = (
            CheckResult(
                "accuracy", kind, "z_test", "accuracy_drop", 0.2 if bad else 0.0, 0.05, 1e-6, bad
            ),
        )
    info = WindowInfo(index * seconds, (index + 1) * seconds, 1000)
    return WindowResult(model, version, None, index, info, 2000, tests)


def run(
    windows: list[WindowResult], spec: RetrainSpec, split: int | None = None
) -> list[RetrainRequest]:
    """Feed windows through the alert policy and the retrain policy, as the processor does;
    with ``split``, both policies go through JSON (a checkpoint) before window ``split``."""
    alerts_policy = AlertPolicy(resolve_after=2, clock=lambda: 0.0)
    retrain = RetrainPolicy()
    out: list[RetrainRequest] = []
    for i, w in enumerate(windows):
        if i == split:
            alerts_policy = AlertPolicy.from_dict(json.loads(json.dumps(alerts_policy.to_dict())))
            retrain = RetrainPolicy.from_dict(json.loads(json.dumps(retrain.to_dict())))
        out.extend(retrain.observe([w], alerts_policy.decide(w), lambda _: spec))
    return out


def test_drift_of_half_the_features_for_an_hour_requests_one_retrain() -> None:
    windows = [window(i) for i in range(3)] + [window(i, ("age", "income")) for i in range(3, 12)]
    requests = run(windows, RetrainSpec(after=3600, drift_share=0.5))
    assert len(requests) == 1
    (r,) = requests
    assert r.reason == DRIFT
    assert r.drifted_features == ("age", "income")
    assert r.monitored_features == 4
    # drift started with window 3 (t=1800); window 8 ends at 5400: the first >= 1 h later
    assert (r.since, r.at) == (1800.0, 5400.0)
    assert [w["index"] for w in r.windows] == [3, 8]
    assert len(r.alert_ids) == 2 and len(set(r.alert_ids)) == 2
    assert r.request_id == request_id("m", "1", DRIFT, 0)


def test_the_request_names_the_firing_alerts() -> None:
    policy = AlertPolicy(resolve_after=2, clock=lambda: 0.0)
    first = window(0, ("age", "income"))
    fired = policy.decide(first)
    retrain = RetrainPolicy()
    spec = RetrainSpec(after=0)
    (r,) = retrain.observe([first], fired, lambda _: spec)
    assert set(r.alert_ids) == {a.alert_id for a in fired}
    assert r.to_dict()["persisted"] == 600.0  # the one window it was seen in


def test_fewer_drifting_features_than_the_share_request_nothing() -> None:
    windows = [window(i, ("age",)) for i in range(20)]
    assert run(windows, RetrainSpec(after=600, drift_share=0.5)) == []
    assert len(run(windows, RetrainSpec(after=600, drift_share=0.25))) == 1


def test_an_episode_shorter_than_after_requests_nothing() -> None:
    # drift in windows 0-3 (40 min), then clean: resolved after 2 clean windows
    windows = [window(i, ("age", "income")) for i in range(4)] + [window(i) for i in range(4, 9)]
    assert run(windows, RetrainSpec(after=3600)) == []


def test_a_second_episode_gets_a_second_id() -> None:
    drifted = ("age", "income", "zip")
    windows = (
        [window(i, drifted) for i in range(8)]
        + [window(i) for i in range(8, 12)]
        + [window(i, drifted) for i in range(12, 20)]
    )
    requests = run(windows, RetrainSpec(after=3000))
    assert [r.episode for r in requests] == [0, 1]
    assert len({r.request_id for r in requests}) == 2
    assert requests[1].since == 12 * 600.0


def test_persistent_degradation_requests_a_retrain() -> None:
    kind = AlertKind.PERFORMANCE_DEGRADATION
    windows = [window(i, (), kind=kind) for i in range(2)] + [
        window(i, ("x",), kind=kind) for i in range(2, 10)
    ]
    (r,) = run(windows, RetrainSpec(after=1800))
    assert r.reason == DEGRADATION
    assert r.drifted_features == ()
    assert (r.since, r.at) == (1200.0, 3000.0)
    assert r.request_id == request_id("m", "1", DEGRADATION, 0)


def test_versions_are_separate_and_disabled_specs_request_nothing() -> None:
    windows = [window(i, ("age", "income"), version=v) for i in range(10) for v in ("1", "2")]
    requests = run(windows, RetrainSpec(after=600))
    assert sorted(r.model_version for r in requests) == ["1", "2"]
    assert run(windows, RetrainSpec(after=600, enabled=False)) == []


def test_a_restart_from_a_checkpoint_gives_the_same_requests() -> None:
    drifted = ("age", "income")
    windows = (
        [window(i, drifted) for i in range(10)]
        + [window(i) for i in range(10, 13)]
        + [window(i, drifted) for i in range(13, 25)]
    )
    spec = RetrainSpec(after=3600)
    whole = run(windows, spec)
    assert len(whole) == 2
    for split in range(len(windows)):
        assert run(windows, spec, split=split) == whole, split


def test_alerts_are_paired_with_their_windows_in_one_update() -> None:
    """The fleets return a batch of windows and their alerts: same result as one by one."""
    windows = [window(i, ("age", "income")) for i in range(10)]
    spec = RetrainSpec(after=1200)
    alerts_policy = AlertPolicy(resolve_after=2, clock=lambda: 0.0)
    alerts = [a for w in windows for a in alerts_policy.decide(w)]
    together = RetrainPolicy().observe(windows, alerts, lambda _: spec)
    assert together == run(windows, spec)
    assert len(together) == 1
