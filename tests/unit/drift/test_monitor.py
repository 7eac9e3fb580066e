"""DriftMonitor: reference, windows, tests, BH correction, rolling mode, detectors, state.

Inputs are seeded numpy streams fed as ``PredictionBatch`` objects (event time
``T0 + i * DT``); no broker.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

import numpy as np
import pytest

from streamdrift.alerts.policy import AlertPolicy
from streamdrift.config.spec import MonitorSpec, ReferenceSpec
from streamdrift.drift.monitor import DriftMonitor
from streamdrift.drift.windows import WindowSpec
from streamdrift.records import (
    PREDICTION,
    AlertKind,
    AlertStatus,
    CheckResult,
    PredictionBatch,
    Scalar,
    WindowResult,
)
from streamdrift.stats import CategoricalReference, NumericReference

T0 = 1.7e9
DT = 0.01
Columns = dict[str, list[Scalar]]


# --- helpers ------------------------------------------------------------------------------


def make_batch(
    columns: Columns,
    start: int,
    predictions: Sequence[Any] | None = None,
    *,
    dt: float = DT,
) -> PredictionBatch:
    """Rows ``start .. start + n - 1`` of a stream, at event time ``T0 + i * dt``."""
    n = len(next(iter(columns.values()))) if columns else len(predictions or ())
    return PredictionBatch(
        model_id="m",
        model_version="1",
        segment=None,
        prediction_ids=[f"p{start + i}" for i in range(n)],
        timestamps=[T0 + (start + i) * dt for i in range(n)],
        features={k: list(v) for k, v in columns.items()},
        predictions=[] if predictions is None else list(predictions),
    )


def feed(
    monitor: DriftMonitor,
    columns: Columns,
    predictions: Sequence[Any] | None = None,
    *,
    sizes: Sequence[int] | int = 250,
    start: int = 0,
    dt: float = DT,
) -> list[WindowResult]:
    """Feed a stream cut into batches of ``sizes`` (one size, or a cycle of sizes)."""
    n = len(next(iter(columns.values()))) if columns else len(predictions or ())
    cycle = [sizes] if isinstance(sizes, int) else list(sizes)
    out: list[WindowResult] = []
    a, j = 0, 0
    while a < n:
        b = min(n, a + cycle[j % len(cycle)])
        part = {k: v[a:b] for k, v in columns.items()}
        preds = None if predictions is None else predictions[a:b]
        out.extend(monitor.observe(make_batch(part, start + a, preds, dt=dt)))
        a, j = b, j + 1
    return out


def normal(rng: np.random.Generator, n: int, mean: float = 0.0, sd: float = 1.0) -> list[Scalar]:
    return rng.normal(mean, sd, n).tolist()


def categorical(
    rng: np.random.Generator, n: int, probs: Sequence[float], labels: str = "abcd"
) -> list[Scalar]:
    return rng.choice(list(labels[: len(probs)]), size=n, p=list(probs)).tolist()


def monitor_of(spec: MonitorSpec) -> DriftMonitor:
    return DriftMonitor("m", "1", None, spec)


def checks_of(results: Sequence[WindowResult], feature: str, test: str) -> list[CheckResult]:
    """The ``test`` check of ``feature`` in each window (one per window)."""
    out = []
    for r in results:
        found = [c for c in r.tests if c.feature == feature and c.detector == test]
        assert len(found) == 1, (r.index, feature, test, found)
        out.append(found[0])
    return out


def drifted_features(result: WindowResult) -> set[str]:
    return {c.feature for c in result.drifted}


def flat(results: Sequence[WindowResult]) -> list[tuple[Any, ...]]:
    """What must agree between two runs: index, window and every check."""
    return [(r.index, r.window, r.reference_count, r.tests) for r in results]


SMALL = MonitorSpec(window=WindowSpec(size=500), reference=ReferenceSpec(size=1000))


# --- first-events reference and count windows ---------------------------------------------


def test_no_window_before_the_reference_is_complete_then_count_windows() -> None:
    rng = np.random.default_rng(1)
    spec = MonitorSpec(window=WindowSpec(size=250), reference=ReferenceSpec(size=500))
    mon = monitor_of(spec)
    x = normal(rng, 1600)
    c = categorical(rng, 1600, [0.5, 0.3, 0.2])

    assert feed(mon, {"x": x[:499], "c": c[:499]}, sizes=100) == []
    assert not mon.has_reference
    assert mon.buffered == 499
    assert mon.reference_count == 0
    # the 500th event completes the reference; no window yet
    assert feed(mon, {"x": x[499:500], "c": c[499:500]}, start=499) == []
    assert mon.has_reference
    assert mon.reference_count == 500
    assert mon.reference_source == "first-events"
    assert isinstance(mon.profiles["x"], NumericReference)
    assert isinstance(mon.profiles["c"], CategoricalReference)
    assert mon.buffered == 0

    results = feed(mon, {"x": x[500:], "c": c[500:]}, sizes=130, start=500)
    assert [r.index for r in results] == [0, 1, 2, 3]  # 1100 events: 4 full windows
    assert mon.buffered == 100
    for k, r in enumerate(results):
        first = 500 + 250 * k
        assert r.window.count == 250
        assert r.window.start == T0 + first * DT
        assert r.window.end == T0 + (first + 249) * DT
        assert r.reference_count == 500
        assert (r.model_id, r.model_version, r.segment) == ("m", "1", None)
    assert mon.windows_closed == 4
    assert mon.events_seen == 1600


def test_a_batch_straddling_the_reference_boundary_goes_on_to_the_windows() -> None:
    rng = np.random.default_rng(2)
    x = normal(rng, 1700)
    whole = feed(monitor_of(SMALL), {"x": x}, sizes=1700)
    small = feed(monitor_of(SMALL), {"x": x}, sizes=[7, 333, 91])
    assert [r.index for r in whole] == [0]
    assert whole[0].window.start == T0 + 1000 * DT
    assert flat(whole) == flat(small)


def test_a_one_sigma_shift_is_flagged_by_the_first_window_after_it() -> None:
    rng = np.random.default_rng(3)
    n, shift_at = 4000, 2300  # windows of 500 after 1000 reference events
    x = normal(rng, shift_at) + normal(rng, n - shift_at, mean=1.0)
    cols = {
        "x": x,
        "y": normal(rng, n, mean=5.0, sd=2.0),
        "c": categorical(rng, n, [0.4, 0.3, 0.2, 0.1]),
    }
    results = feed(monitor_of(SMALL), cols, sizes=300)
    assert [r.index for r in results] == [0, 1, 2, 3, 4, 5]
    psi = checks_of(results, "x", "psi")
    # window 3 (events 2500..2999) is the first made only of shifted events
    assert psi[3].drifted
    # the threshold comes from the reference's own windows at the false-alarm budget
    assert psi[3].threshold_source == "reference"
    assert psi[3].value >= psi[3].threshold
    assert psi[3].p_value is not None and psi[3].p_value < 1e-6
    assert psi[3].kind is AlertKind.DATA_DRIFT
    assert all(c.drifted for c in psi[3:])
    assert not psi[0].drifted and not psi[1].drifted
    for r in results:
        assert drifted_features(r) <= {"x"}
        assert {c.detector for c in r.drifted} <= {"psi", "cusum_bins"}


def test_stable_features_are_never_flagged() -> None:
    rng = np.random.default_rng(4)
    n = 6000
    cols = {
        "num": normal(rng, n),
        "skewed": rng.exponential(3.0, n).tolist(),
        "ints": rng.integers(0, 20, n).tolist(),
        "cat": categorical(rng, n, [0.25, 0.25, 0.25, 0.25]),
        "flag": (rng.random(n) < 0.3).tolist(),
        "sparse": [
            None if m else v for m, v in zip(rng.random(n) < 0.2, normal(rng, n), strict=True)
        ],
    }
    results = feed(monitor_of(SMALL), cols, sizes=400)
    assert len(results) == 10
    assert all(r.drifted == () for r in results)
    assert {c.feature for c in results[0].tests} == set(cols)


def test_a_category_whose_share_rises_by_ten_points_drifts_under_chi2() -> None:
    rng = np.random.default_rng(5)
    spec = MonitorSpec(window=WindowSpec(size=1000), reference=ReferenceSpec(size=2000))
    before = [0.25, 0.25, 0.25, 0.25]
    after = [0.35, 0.65 / 3, 0.65 / 3, 0.65 / 3]
    cols = {
        "c": categorical(rng, 3000, before) + categorical(rng, 2000, after),
        "x": normal(rng, 5000),
    }
    results = feed(monitor_of(spec), cols, sizes=500)
    chi2 = checks_of(results, "c", "chi2")
    assert not chi2[0].drifted
    # the first shifted window drifts by itself; in the next, at a reference of 2,000
    # events, w = 0.25 sits at the budget's calibrated threshold: the feature is flagged
    # by its per-window checks or by the evidence accumulated over both windows
    assert chi2[1].drifted
    assert drifted_features(results[2]) == {"c"}
    assert chi2[1].statistic == "cohens_w"
    assert 0.15 < chi2[1].value < 0.3  # Cohen's w of the shift is 0.23
    assert all(drifted_features(r) <= {"c"} for r in results)


@pytest.mark.parametrize("absent", ["none_values", "key_left_out"])
def test_a_feature_that_starts_arriving_missing_drifts_under_missing(absent: str) -> None:
    rng = np.random.default_rng(6)
    mon = monitor_of(SMALL)
    head = {"x": normal(rng, 2000), "z": normal(rng, 2000)}
    tail: Columns = {"x": normal(rng, 1000)}
    if absent == "none_values":
        tail["z"] = [None] * 1000
    results = feed(mon, head, sizes=250) + feed(mon, tail, sizes=250, start=2000)
    missing = checks_of(results, "z", "missing")
    assert [c.drifted for c in missing] == [False, False, True, True]
    assert missing[2].value == pytest.approx(1.0)
    assert missing[2].statistic == "missing_share_delta"
    assert all(drifted_features(r) <= {"z"} for r in results)


def test_shifted_numeric_scores_are_prediction_drift() -> None:
    rng = np.random.default_rng(7)
    scores = rng.beta(2, 5, 2000).tolist() + rng.beta(5, 2, 1000).tolist()
    cols = {"x": normal(rng, 3000)}
    results = feed(monitor_of(SMALL), cols, scores, sizes=250)
    psi = checks_of(results, PREDICTION, "psi")
    assert [c.drifted for c in psi] == [False, False, True, True]
    assert psi[2].kind is AlertKind.PREDICTION_DRIFT
    assert {(c.feature, c.kind) for r in results for c in r.drifted} == {
        (PREDICTION, AlertKind.PREDICTION_DRIFT)
    }


def test_class_probabilities_are_monitored_as_the_predicted_class() -> None:
    rng = np.random.default_rng(8)
    p_yes = np.concatenate([rng.beta(2, 4, 2000), rng.beta(4, 2, 1000)])
    preds = [{"no": 1.0 - p, "yes": p} for p in p_yes.tolist()]
    mon = monitor_of(SMALL)
    results = feed(mon, {"x": normal(rng, 3000)}, preds, sizes=250)
    ref = mon.profiles[PREDICTION]
    assert isinstance(ref, CategoricalReference)
    assert set(ref.categories) == {"yes", "no"}
    chi2 = checks_of(results, PREDICTION, "chi2")
    assert [c.drifted for c in chi2] == [False, False, True, True]
    assert chi2[2].kind is AlertKind.PREDICTION_DRIFT


def test_types_override_makes_numeric_codes_categorical() -> None:
    rng = np.random.default_rng(9)
    codes = rng.choice([1, 2, 3, 4], size=2000, p=[0.4, 0.3, 0.2, 0.1]).tolist()
    inferred = monitor_of(SMALL)
    declared = monitor_of(
        MonitorSpec(window=SMALL.window, reference=SMALL.reference, types={"code": "categorical"})
    )
    got = {}
    for name, mon in (("inferred", inferred), ("declared", declared)):
        got[name] = feed(mon, {"code": codes}, sizes=500)
    assert isinstance(inferred.profiles["code"], NumericReference)
    assert isinstance(declared.profiles["code"], CategoricalReference)
    assert set(declared.profiles["code"].categories) == {"1", "2", "3", "4"}
    assert {c.detector for c in got["inferred"][0].tests} == {
        "psi",
        "missing",
        "cusum_bins",
        "cusum_missing",
    }
    assert {c.detector for c in got["declared"][0].tests} == {
        "psi",
        "chi2",
        "missing",
        "cusum_bins",
        "cusum_missing",
    }


def test_watch_and_ignore_lists_choose_the_tested_features() -> None:
    rng = np.random.default_rng(10)
    cols = {name: normal(rng, 1500) for name in ("a", "b", "c", "d")}
    preds = rng.random(1500).tolist()
    base = {"window": SMALL.window, "reference": SMALL.reference}
    watched = monitor_of(MonitorSpec(**base, watch=("a", "b")))
    ignored = monitor_of(MonitorSpec(**base, ignore=("b", "d")))
    both = monitor_of(MonitorSpec(**base, watch=("a", "b"), ignore=("b",)))
    for mon, tested in ((watched, {"a", "b"}), (ignored, {"a", "c"}), (both, {"a"})):
        (result,) = feed(mon, cols, preds)
        assert {c.feature for c in result.tests} == tested | {PREDICTION}
        assert set(mon.profiles) == tested | {PREDICTION}
        assert mon.untracked_features == {"a", "b", "c", "d"} - tested


def test_max_features_bounds_the_tracked_features() -> None:
    rng = np.random.default_rng(11)
    names = [f"f{i}" for i in range(6)]
    cols = {name: normal(rng, 1500) for name in names}
    mon = monitor_of(MonitorSpec(window=SMALL.window, reference=SMALL.reference, max_features=4))
    (result,) = feed(mon, cols)
    assert set(mon.profiles) == {"f0", "f1", "f2", "f3"}
    assert mon.untracked_features == {"f4", "f5"}
    assert {c.feature for c in result.tests} == {"f0", "f1", "f2", "f3"}


def test_max_features_counts_features_not_the_prediction() -> None:
    rng = np.random.default_rng(12)
    mon = monitor_of(MonitorSpec(window=SMALL.window, reference=SMALL.reference, max_features=2))
    preds = rng.random(1500).tolist()
    # "b" first arrives in the second batch, while the reference is still open
    feed(mon, {"a": normal(rng, 100)}, preds[:100])
    feed(mon, {"a": normal(rng, 1400), "b": normal(rng, 1400)}, preds[100:], start=100)
    assert mon.untracked_features == set()
    assert set(mon.profiles) == {"a", "b", PREDICTION}


def test_features_first_seen_after_the_reference_are_untracked() -> None:
    rng = np.random.default_rng(13)
    mon = monitor_of(SMALL)
    feed(mon, {"x": normal(rng, 1000)})
    assert mon.has_reference
    results = feed(mon, {"x": normal(rng, 1000), "late": normal(rng, 1000, 9.0)}, start=1000)
    assert mon.untracked_features == {"late"}
    assert "late" not in mon.profiles
    assert len(results) == 2
    assert all(c.feature == "x" for r in results for c in r.tests)


# --- time windows: live-spaced vs replayed -------------------------------------------------


def test_time_windows_give_the_same_results_live_or_replayed() -> None:
    rng = np.random.default_rng(14)
    spec = MonitorSpec(
        window=WindowSpec(kind="time", size=10.0),
        reference=ReferenceSpec(size=1000),
        sequential=("adwin",),
    )
    n, dt = 9000, 0.02  # 500 events per 10-second window
    x = normal(rng, 5000) + normal(rng, 4000, mean=1.0)
    cols = {"x": x, "c": categorical(rng, n, [0.5, 0.3, 0.2]), "y": normal(rng, n)}
    scores = rng.random(n).tolist()

    live = monitor_of(spec)
    sizes = rng.integers(1, 40, 400).tolist()  # a few events at a time, as they happen
    live_results = feed(live, cols, scores, sizes=sizes, dt=dt)
    replay = monitor_of(spec)
    replay_results = feed(replay, cols, scores, sizes=2000, dt=dt)  # as fast as possible
    assert len(live_results) == 15
    assert flat(live_results) == flat(replay_results)
    end = T0 + n * dt + 10.0
    assert flat(live.advance(end)) == flat(replay.advance(end))
    # the time windows are [k*10, k*10 + 10) of event time
    for r in live_results:
        assert r.window.start % 10.0 == 0.0
        assert r.window.end - r.window.start == 10.0
    assert any("x" in drifted_features(r) for r in live_results)


def test_prediction_detector_verdicts_do_not_depend_on_batch_splits() -> None:
    rng = np.random.default_rng(15)
    n = 1200
    scores = rng.normal(0.2, 0.05, 650).tolist() + rng.normal(0.8, 0.05, n - 650).tolist()
    cols = {"x": normal(rng, n)}
    spec = MonitorSpec(
        window=WindowSpec(size=200),
        reference=ReferenceSpec(size=200),
        prediction_detectors=("page_hinkley",),
    )

    def hits(results: list[WindowResult]) -> list[int]:
        return [r.index for r in results for c in r.drifted if c.detector == "page_hinkley_scores"]

    live = feed(monitor_of(spec), cols, scores, sizes=10)
    replay = feed(monitor_of(spec), cols, scores, sizes=n)
    # the change is at event 650, in window 2 (events 600..799)
    assert hits(live) == [2]
    assert hits(replay) == [2]  # fails: [0], a window that ended before the change


# --- rolling reference ---------------------------------------------------------------------


def seasonal(rng: np.random.Generator, means: Sequence[float], size: int) -> list[Scalar]:
    return [v for m in means for v in normal(rng, size, mean=m)]


def test_rolling_reference_tests_nothing_for_the_first_lag_windows() -> None:
    rng = np.random.default_rng(16)
    spec = MonitorSpec(window=WindowSpec(size=500), reference=ReferenceSpec(mode="rolling", lag=3))
    mon = monitor_of(spec)
    assert mon.has_reference
    x = normal(rng, 3000)
    first = feed(mon, {"x": x[:1500]}, sizes=250)
    assert first == []  # windows 0, 1, 2 closed, nothing to compare them with
    later = feed(mon, {"x": x[1500:]}, sizes=250, start=1500)
    assert [r.index for r in later] == [0, 1, 2]  # windows 3, 4, 5 vs 0, 1, 2
    assert later[0].window.start == T0 + 1500 * DT
    assert all(r.drifted == () for r in later)


def test_rolling_reference_compares_window_k_with_window_k_minus_lag() -> None:
    rng = np.random.default_rng(17)
    spec = MonitorSpec(window=WindowSpec(size=500), reference=ReferenceSpec(mode="rolling", lag=3))
    # a pattern repeating every 3 windows: each window differs wildly from its neighbours
    period = [0.0, 3.0, -3.0]
    levels = period * 4 + [0.0, 4.0, -3.0]  # window 13 departs from window 10
    cats = [[0.6, 0.2, 0.2], [0.2, 0.6, 0.2], [0.2, 0.2, 0.6]] * 5
    cols = {
        "x": seasonal(rng, levels, 500),
        "c": [v for p in cats for v in categorical(rng, 500, p)],
    }
    results = feed(monitor_of(spec), cols, sizes=500)
    assert len(results) == 12  # windows 3..14
    by_window = {r.index + 3: r for r in results}
    assert all(by_window[k].drifted == () for k in range(3, 13))
    assert drifted_features(by_window[13]) == {"x"}
    assert by_window[14].drifted == ()  # window 14 is like window 11 (not like window 13)
    # the same pattern against a first-events reference alarms all the time
    first = feed(
        monitor_of(MonitorSpec(window=WindowSpec(size=500), reference=ReferenceSpec(size=500))),
        cols,
        sizes=500,
    )
    assert sum(1 for r in first if "x" in drifted_features(r)) >= 9


# --- Benjamini–Hochberg ----------------------------------------------------------------------


def bh_reject(p_values: Sequence[float | None], q: float) -> list[bool]:
    """Independent Benjamini–Hochberg: reject the k smallest, k the largest rank with
    p_(k) <= k q / m."""
    m = len(p_values)
    ranked = sorted(
        (i for i, p in enumerate(p_values) if p is not None and p == p), key=lambda i: p_values[i]
    )
    k = 0
    for rank, i in enumerate(ranked, start=1):
        p = p_values[i]
        assert p is not None
        if p <= q * rank / m:
            k = rank
    chosen = set(ranked[:k])
    return [i in chosen for i in range(m)]


def stationary_columns(rng: np.random.Generator, n: int) -> Columns:
    cols: Columns = {}
    for i in range(12):
        cols[f"num{i}"] = normal(rng, n, mean=i, sd=1.0 + i / 4)
    probs = [[0.25] * 4, [0.4, 0.3, 0.2, 0.1], [0.7, 0.1, 0.1, 0.1], [0.5, 0.5]]
    for i in range(8):
        cols[f"cat{i}"] = categorical(rng, n, probs[i % 4])
    return cols


@pytest.fixture(scope="module")
def stationary_results() -> list[WindowResult]:
    """20 stationary features (12 numeric, 8 categorical), 60 windows of 200 events, with
    the fixed effect gates and Benjamini–Hochberg (``threshold_mode = "fixed"``)."""
    rng = np.random.default_rng(20240611)
    spec = MonitorSpec(
        window=WindowSpec(size=200), reference=ReferenceSpec(size=2000), threshold_mode="fixed"
    )
    return feed(monitor_of(spec), stationary_columns(rng, 2000 + 60 * 200), sizes=1000)


def test_twenty_stationary_features_over_sixty_windows_raise_nothing_with_calibration() -> None:
    rng = np.random.default_rng(20240611)
    spec = MonitorSpec(window=WindowSpec(size=200), reference=ReferenceSpec(size=2000))
    results = feed(monitor_of(spec), stationary_columns(rng, 2000 + 60 * 200), sizes=1000)
    assert len(results) == 60
    # per window: 12 numeric features × (psi, missing), 8 categorical × (psi, chi2,
    # missing), and the accumulated check of each feature's two statistic families
    assert all(len(r.tests) == 12 * 2 + 8 * 3 + 20 * 2 for r in results)
    assert [c for r in results for c in r.drifted] == []
    assert {c.threshold_source for r in results for c in r.tests} == {"reference"}


def test_twenty_stationary_features_over_sixty_windows_raise_nothing(
    stationary_results: list[WindowResult],
) -> None:
    results = stationary_results
    assert len(results) == 60
    assert all(len(r.tests) == 12 * 2 + 8 * 3 for r in results)
    assert [c for r in results for c in r.drifted] == []
    # without the correction there would have been alarms: checks whose effect passed
    # the gate and whose raw p-value was below alpha
    uncorrected = [
        c
        for r in results
        for c in r.tests
        if c.value >= c.threshold and c.p_value is not None and c.p_value < 0.01
    ]
    assert uncorrected


def test_drifted_is_the_effect_gate_and_benjamini_hochberg_over_the_window() -> None:
    rng = np.random.default_rng(21)
    n_ref, size, windows = 2000, 300, 12
    n = n_ref + size * windows
    cols: Columns = {}
    for i, shift in enumerate([0.0, 0.0, 0.0, 0.0, 0.1, 0.15, 0.2, 0.25, 0.3, 0.5]):
        cols[f"x{i}"] = normal(rng, n_ref) + normal(rng, n - n_ref, mean=shift)
    spec = MonitorSpec(
        window=WindowSpec(size=size),
        reference=ReferenceSpec(size=n_ref),
        tests=("psi", "ks", "missing"),
        thresholds={"psi": 0.01, "ks": 0.02, "missing": 0.1},
        alpha=0.01,
        threshold_mode="fixed",
    )
    results = feed(monitor_of(spec), cols, sizes=700)
    assert len(results) == windows
    bites = 0
    for r in results:
        p = [c.p_value for c in r.tests]
        expected = [
            gate and bh
            for gate, bh in zip(
                [c.value >= c.threshold for c in r.tests], bh_reject(p, spec.alpha), strict=True
            )
        ]
        assert [c.drifted for c in r.tests] == expected
        bites += sum(
            1
            for c, e in zip(r.tests, expected, strict=True)
            if not e and c.value >= c.threshold and c.p_value is not None and c.p_value < 0.01
        )
    assert any(r.drifted for r in results)
    assert bites > 0  # some checks were significant alone but not after the correction


def test_a_tiny_alpha_keeps_a_moderate_drift_from_being_flagged() -> None:
    rng = np.random.default_rng(22)
    cols = {"x": normal(rng, 1000) + normal(rng, 1000, mean=0.35), "y": normal(rng, 2000)}

    def run(alpha: float) -> list[CheckResult]:
        spec = MonitorSpec(
            window=SMALL.window,
            reference=SMALL.reference,
            thresholds={"psi": 0.05},
            alpha=alpha,
            threshold_mode="fixed",
        )
        return checks_of(feed(monitor_of(spec), cols), "x", "psi")

    assert all(c.drifted for c in run(0.01))
    tiny = run(1e-12)
    assert all(c.value >= c.threshold for c in tiny)  # the effect is there …
    assert all(c.p_value is not None and c.p_value > 1e-12 for c in tiny)
    assert not any(c.drifted for c in tiny)  # … but not significant at alpha


# --- sequential detectors ------------------------------------------------------------------


DETECTING = MonitorSpec(
    window=WindowSpec(size=100),
    reference=ReferenceSpec(size=200),
    sequential=("adwin",),
    prediction_detectors=("page_hinkley",),
)


def detector_stream(rng: np.random.Generator, n: int, change: int) -> tuple[Columns, list[float]]:
    cols = {
        "x": normal(rng, change) + normal(rng, n - change, mean=2.0),
        "c": categorical(rng, n, [0.5, 0.3, 0.2]),
    }
    scores = rng.normal(0.2, 0.05, change).tolist() + rng.normal(0.8, 0.05, n - change).tolist()
    return cols, scores


def test_sequential_detectors_report_checks_without_p_values() -> None:
    rng = np.random.default_rng(23)
    cols, scores = detector_stream(rng, 7200, change=4200)
    results = feed(monitor_of(DETECTING), cols, scores, sizes=100)
    assert len(results) == 70
    for r in results:
        seq = [c for c in r.tests if c.p_value is None]
        assert {(c.feature, c.detector) for c in seq} == {
            ("x", "adwin"),
            ("c", "adwin"),
            (PREDICTION, "adwin"),
            (PREDICTION, "page_hinkley_scores"),
        }
        for c in seq:
            kind = AlertKind.PREDICTION_DRIFT if c.feature == PREDICTION else AlertKind.DATA_DRIFT
            assert c.kind is kind
        ph = next(c for c in seq if c.detector == "page_hinkley_scores")
        assert ph.statistic == "score_change"
        assert ph.threshold == 50.0
    adwin_x = checks_of(results, "x", "adwin")
    assert adwin_x[0].statistic == "psi_series"
    assert adwin_x[0].threshold == 0.002
    # the change is at event 4200: window 40 (events 4200..4299)
    ph_hits = [r.index for r in results for c in r.drifted if c.detector.endswith("_scores")]
    assert ph_hits and min(ph_hits) == 40
    # ADWIN checks for a cut every 32 values: it sees the PSI jump by window 64
    assert any(c.drifted for c in adwin_x[40:])
    assert not any(c.drifted for c in adwin_x[:40])
    assert not any(c.drifted for c in checks_of(results, "c", "adwin"))


def round_trip(mon: DriftMonitor) -> DriftMonitor:
    return DriftMonitor.from_dict(json.loads(json.dumps(mon.to_dict())), mon.spec)


@pytest.mark.parametrize("cut", [150, 2550, 4230])  # in the reference, mid-window, after change
def test_detector_state_survives_to_dict_and_from_dict(cut: int) -> None:
    rng = np.random.default_rng(24)
    cols, scores = detector_stream(rng, 5000, change=4200)
    original = monitor_of(DETECTING)
    head = feed(original, {k: v[:cut] for k, v in cols.items()}, scores[:cut], sizes=70)
    restored = round_trip(original)
    assert restored.to_dict() == json.loads(json.dumps(original.to_dict()))

    def tail(mon: DriftMonitor) -> list[WindowResult]:
        rest = {k: v[cut:] for k, v in cols.items()}
        return feed(mon, rest, scores[cut:], sizes=70, start=cut)

    a, b = tail(original), tail(restored)
    assert flat(a) == flat(b)
    assert len(head) + len(a) == 48
    assert any(c.detector == "page_hinkley_scores" and c.drifted for r in a for c in r.tests)
    assert original.to_dict() == restored.to_dict()


@pytest.mark.parametrize(
    "spec",
    [
        SMALL,
        MonitorSpec(
            window=WindowSpec(kind="time", size=10.0, slide=5.0), reference=ReferenceSpec(size=1000)
        ),
        MonitorSpec(window=WindowSpec(size=500), reference=ReferenceSpec(mode="rolling", lag=2)),
    ],
    ids=["count", "sliding-time", "rolling"],
)
def test_monitor_state_round_trip_continues_identically(spec: MonitorSpec) -> None:
    rng = np.random.default_rng(25)
    n, cut = 6000, 3333
    cols = {
        "x": normal(rng, 4000) + normal(rng, 2000, mean=1.0),
        "c": categorical(rng, n, [0.5, 0.3, 0.2]),
        "m": [None if r < 0.1 else v for r, v in zip(rng.random(n), normal(rng, n), strict=True)],
    }
    original = monitor_of(spec)
    feed(original, {k: v[:cut] for k, v in cols.items()}, sizes=400)
    restored = round_trip(original)
    rest = {k: v[cut:] for k, v in cols.items()}
    a = feed(original, rest, sizes=400, start=cut)
    b = feed(restored, rest, sizes=400, start=cut)
    assert a and flat(a) == flat(b)
    assert any(r.drifted for r in a)


def test_wasserstein_and_js_checks_carry_the_statistics_when_configured() -> None:
    """They are computed only when a test needs them; when it does, the check holds the
    very value ``compare_numeric`` / ``compare_categorical`` give on the window."""
    from streamdrift.stats import compare_categorical, compare_numeric

    rng = np.random.default_rng(12)
    spec = MonitorSpec(
        window=WindowSpec(size=500),
        reference=ReferenceSpec(size=1000),
        tests=("psi", "wasserstein", "js", "chi2"),
    )
    mon = monitor_of(spec)
    x = normal(rng, 1500) + normal(rng, 500, 0.5)
    c = categorical(rng, 2000, [0.5, 0.3, 0.2])
    results = feed(mon, {"x": x, "c": c})
    assert len(results) == 2
    for i, r in enumerate(results):
        rows = slice(1000 + 500 * i, 1500 + 500 * i)
        want = compare_numeric(mon.profiles["x"], np.array(x[rows]))  # type: ignore[arg-type]
        cwant = compare_categorical(mon.profiles["c"], c[rows])  # type: ignore[arg-type]
        got = {(t.feature, t.detector): t.value for t in r.tests}
        assert got[("x", "wasserstein")] == want.wasserstein_norm
        assert got[("x", "js")] == want.jensen_shannon
        assert got[("c", "js")] == cwant.jensen_shannon
    default = feed(monitor_of(SMALL), {"x": x, "c": c})
    assert {t.detector for r in default for t in r.tests} == {
        "psi",
        "chi2",
        "missing",
        "cusum_bins",
        "cusum_missing",
    }


def test_sequential_alerts_say_what_their_number_is_compared_with() -> None:
    # a sequential detector has no threshold on the value: the message names the detector,
    # its deciding parameter and the series it watches (not "(threshold 0.002)")
    rng = np.random.default_rng(23)
    cols, scores = detector_stream(rng, 7200, change=4200)
    policy = AlertPolicy(clock=lambda: 0.0)
    alerts = [
        a for r in feed(monitor_of(DETECTING), cols, scores, sizes=100) for a in policy.decide(r)
    ]
    by_detector = {
        (a.feature, a.detector): a.message for a in alerts if a.status is AlertStatus.FIRING
    }
    assert re.search(
        r"feature 'x' of m v1 drifted: psi_series=\d\.\d{3} in this window; adwin "
        r"\(delta=0\.002\) watches the per-window PSI series \(\d+ windows\)$",
        by_detector["x", "adwin"],
    ), by_detector["x", "adwin"]
    assert re.search(
        r"the prediction of m v1 drifted: score_change=1\.000 in this window \(1: fired, 0: "
        r"not\); page_hinkley \(threshold=50\) watches the per-event prediction scores",
        by_detector[None, "page_hinkley_scores"],
    ), by_detector[None, "page_hinkley_scores"]
    assert not any("(threshold " in a.message for a in alerts if a.p_value is None)
