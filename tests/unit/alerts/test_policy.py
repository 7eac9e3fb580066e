"""AlertPolicy: one firing alert per episode, quiet while drift persists, resolved when clean."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterable
from pathlib import Path

import orjson
import pytest
from jsonschema import Draft202012Validator

from streamdrift.alerts.policy import AlertPolicy, alert_id, severity
from streamdrift.codec import encode_alert
from streamdrift.records import (
    PREDICTION,
    Alert,
    AlertKind,
    AlertStatus,
    CheckResult,
    Severity,
    WindowInfo,
    WindowResult,
)

KEY = (AlertKind.DATA_DRIFT, "credit-risk", "7", "tenant-a", "income", "psi_ks")


def check(
    drifted: bool,
    *,
    feature: str = "income",
    kind: AlertKind = AlertKind.DATA_DRIFT,
    detector: str = "psi_ks",
    value: float | None = None,
    threshold: float = 0.2,
) -> CheckResult:
    if value is None:
        value = 0.3 if drifted else 0.02
    return CheckResult(
        feature=feature,
        kind=kind,
        detector=detector,
        statistic="psi",
        value=value,
        threshold=threshold,
        p_value=1e-8 if drifted else 0.6,
        drifted=drifted,
        detail="ks=0.41",
    )


def window(
    index: int,
    *checks: CheckResult,
    model: str = "credit-risk",
    version: str = "7",
    segment: str | None = "tenant-a",
) -> WindowResult:
    return WindowResult(
        model_id=model,
        model_version=version,
        segment=segment,
        index=index,
        window=WindowInfo(start=1000.0 * index, end=1000.0 * index + 999.0, count=1000),
        reference_count=2000,
        tests=checks,
    )


def run(policy: AlertPolicy, pattern: str) -> list[list[Alert]]:
    """Feed one window per character: 'D' drifted, '.' clean. Returns the alerts per window."""
    return [policy.decide(window(i, check(c == "D"))) for i, c in enumerate(pattern)]


def fixed_clock(t: float = 1_764_435_000.0) -> Callable[[], float]:
    return lambda: t


def statuses(per_window: Iterable[list[Alert]]) -> list[str]:
    return ["".join(a.status.value[0].upper() for a in alerts) or "-" for alerts in per_window]


def test_clean_windows_give_no_alerts() -> None:
    policy = AlertPolicy(clock=fixed_clock())
    assert run(policy, ".....") == [[], [], [], [], []]
    assert policy.active == {}


def test_fires_on_first_drifted_window_and_stays_quiet_while_drift_persists() -> None:
    policy = AlertPolicy(resolve_after=3, clock=fixed_clock())
    per_window = run(policy, "..DDDD")
    assert statuses(per_window) == ["-", "-", "F", "-", "-", "-"]
    (alert,) = per_window[2]
    assert alert.status is AlertStatus.FIRING
    assert alert.alert_id == alert_id(KEY, 2, AlertStatus.FIRING)
    assert alert.kind is AlertKind.DATA_DRIFT
    assert (alert.model_id, alert.model_version, alert.segment) == ("credit-risk", "7", "tenant-a")
    assert alert.feature == "income"
    assert (alert.detector, alert.statistic) == ("psi_ks", "psi")
    assert (alert.value, alert.threshold, alert.p_value) == (0.3, 0.2, 1e-8)
    assert alert.window == WindowInfo(2000.0, 2999.0, 1000)
    assert alert.reference_count == 2000
    assert alert.detected_at == 1_764_435_000.0
    assert "feature 'income' of credit-risk v7 [tenant-a] drifted" in alert.message
    assert len(policy.active) == 1


@pytest.mark.parametrize("resolve_after", [1, 2, 3, 5])
def test_resolves_after_exactly_resolve_after_clean_windows(resolve_after: int) -> None:
    policy = AlertPolicy(resolve_after=resolve_after, clock=fixed_clock())
    pattern = "DD" + "." * (resolve_after + 2)
    per_window = run(policy, pattern)
    expected = ["F", "-"] + ["-"] * (resolve_after - 1) + ["R", "-", "-"]
    assert statuses(per_window) == expected
    (resolved,) = per_window[1 + resolve_after]
    assert resolved.status is AlertStatus.RESOLVED
    assert resolved.severity is Severity.INFO
    assert resolved.alert_id == alert_id(KEY, 0, AlertStatus.RESOLVED)  # episode began at 0
    assert resolved.window.start == 1000.0 * (1 + resolve_after)  # the window that cleared it
    assert "is back to normal" in resolved.message
    assert policy.active == {}


def test_drift_during_the_clean_streak_restarts_it() -> None:
    policy = AlertPolicy(resolve_after=3, clock=fixed_clock())
    assert statuses(run(policy, "D..D..D...")) == [
        "F", "-", "-", "-", "-", "-", "-", "-", "-", "R"
    ]  # fmt: skip


def test_new_episode_after_resolution_gets_a_new_id() -> None:
    policy = AlertPolicy(resolve_after=2, clock=fixed_clock())
    per_window = run(policy, "D..D..")
    assert statuses(per_window) == ["F", "-", "R", "F", "-", "R"]
    ids = [a.alert_id for alerts in per_window for a in alerts]
    assert len(ids) == len(set(ids)) == 4
    assert ids == [
        alert_id(KEY, 0, AlertStatus.FIRING),
        alert_id(KEY, 0, AlertStatus.RESOLVED),
        alert_id(KEY, 3, AlertStatus.FIRING),
        alert_id(KEY, 3, AlertStatus.RESOLVED),
    ]


def test_firing_and_resolved_ids_differ() -> None:
    assert alert_id(KEY, 4, AlertStatus.FIRING) != alert_id(KEY, 4, AlertStatus.RESOLVED)


def test_alert_id_is_deterministic_and_depends_on_every_part_of_the_key() -> None:
    first = alert_id(KEY, 4, AlertStatus.FIRING)
    assert first == alert_id(tuple(KEY), 4, AlertStatus.FIRING)  # type: ignore[arg-type]
    assert len(first) == 24 and int(first, 16) >= 0
    variants = [
        (AlertKind.PREDICTION_DRIFT, *KEY[1:]),
        (KEY[0], "other", *KEY[2:]),
        (*KEY[:2], "8", *KEY[3:]),
        (*KEY[:3], None, *KEY[4:]),
        (*KEY[:4], None, KEY[5]),
        (*KEY[:5], "psi_chi2"),
    ]
    ids = {alert_id(v, 4, AlertStatus.FIRING) for v in variants}  # type: ignore[arg-type]
    ids.add(alert_id(KEY, 5, AlertStatus.FIRING))
    assert first not in ids
    assert len(ids) == len(variants) + 1


def test_fresh_policies_fed_the_same_windows_give_identical_alerts() -> None:
    def feed(clock_time: float) -> list[Alert]:
        policy = AlertPolicy(resolve_after=2, clock=fixed_clock(clock_time))
        alerts: list[Alert] = []
        for i, pattern in enumerate(["DD", "D.", "..", ".D", "D.", "..", ".."]):
            checks = (
                check(pattern[0] == "D", feature="income"),
                check(pattern[1] == "D", feature=PREDICTION, kind=AlertKind.PREDICTION_DRIFT),
            )
            alerts.extend(policy.decide(window(i, *checks)))
        return alerts

    a, b = feed(1.0), feed(2.0)
    assert len(a) == len(b) == 8
    assert [x.alert_id for x in a] == [y.alert_id for y in b]
    assert [x.detected_at for x in a] == [1.0] * 8
    assert [y.detected_at for y in b] == [2.0] * 8
    assert [dataclasses.replace(x, detected_at=0.0) for x in a] == [
        dataclasses.replace(y, detected_at=0.0) for y in b
    ]


def test_keys_are_tracked_independently() -> None:
    policy = AlertPolicy(resolve_after=1, clock=fixed_clock())
    w0 = window(0, check(True, feature="income"), check(True, feature="age"))
    fired = policy.decide(w0)
    assert sorted(a.feature or "" for a in fired) == ["age", "income"]
    w1 = window(1, check(False, feature="income"), check(True, feature="age"))
    (resolved,) = policy.decide(w1)
    assert (resolved.feature, resolved.status) == ("income", AlertStatus.RESOLVED)
    # the same feature of another segment, version or detector is another alert
    others = [
        window(2, check(True, feature="age"), segment="tenant-b"),
        window(2, check(True, feature="age"), version="8"),
        window(2, check(True, feature="age", detector="wasserstein")),
        window(2, check(True, feature="age", kind=AlertKind.CONCEPT_DRIFT)),
    ]
    new = [a for w in others for a in policy.decide(w)]
    assert [a.status for a in new] == [AlertStatus.FIRING] * 4
    assert len({a.alert_id for a in new}) == 4


def test_prediction_checks_have_no_feature_name() -> None:
    policy = AlertPolicy(clock=fixed_clock())
    pred_check = check(True, feature=PREDICTION, kind=AlertKind.PREDICTION_DRIFT)
    (alert,) = policy.decide(window(0, pred_check, segment=None))
    assert alert.feature is None
    assert alert.segment is None
    assert alert.message.startswith("the prediction of credit-risk v7 drifted")
    key = (AlertKind.PREDICTION_DRIFT, "credit-risk", "7", None, None, "psi_ks")
    assert alert.alert_id == alert_id(key, 0, AlertStatus.FIRING)


def test_clean_check_without_episode_does_nothing() -> None:
    policy = AlertPolicy(resolve_after=1, clock=fixed_clock())
    assert policy.decide(window(0, check(False), check(False, feature="age"))) == []
    assert policy.active == {}


@pytest.mark.parametrize(
    ("value", "threshold", "expected"),
    [
        (0.21, 0.2, Severity.WARNING),
        (0.39, 0.2, Severity.WARNING),
        (0.4, 0.2, Severity.CRITICAL),
        (1.0, 0.2, Severity.CRITICAL),
        (0.05, 0.1, Severity.WARNING),
        (0.2, 0.1, Severity.CRITICAL),
    ],
)
def test_severity_is_critical_at_twice_the_threshold(
    value: float, threshold: float, expected: Severity
) -> None:
    assert severity(value, threshold) is expected
    policy = AlertPolicy(clock=fixed_clock())
    (alert,) = policy.decide(window(0, check(True, value=value, threshold=threshold)))
    assert alert.severity is expected


def test_resolved_alert_severity_is_info_even_for_a_critical_episode() -> None:
    policy = AlertPolicy(resolve_after=1, clock=fixed_clock())
    (fired,) = policy.decide(window(0, check(True, value=5.0)))
    (resolved,) = policy.decide(window(1, check(False)))
    assert fired.severity is Severity.CRITICAL
    assert resolved.severity is Severity.INFO


def test_policy_alerts_encode_to_valid_schema_documents() -> None:
    schema_path = Path(__file__).resolve().parents[3] / "topics" / "alert.schema.json"
    validator = Draft202012Validator(json.loads(schema_path.read_text(encoding="utf-8")))
    policy = AlertPolicy(resolve_after=1, clock=fixed_clock())
    prediction = check(True, feature=PREDICTION, kind=AlertKind.PREDICTION_DRIFT)
    alerts = [*run(policy, "D."), policy.decide(window(2, prediction, segment=None))]
    docs = [orjson.loads(encode_alert(a)) for per_window in alerts for a in per_window]
    assert [d["status"] for d in docs] == ["firing", "resolved", "firing"]
    for doc in docs:
        validator.validate(doc)
