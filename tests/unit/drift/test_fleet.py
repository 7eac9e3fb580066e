"""MonitorFleet: profile references, segments, versions, and checkpoint round trips.

Inputs are seeded numpy streams fed as ``PredictionBatch`` objects (event time
``T0 + i * dt``); no broker.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest

from streamdrift.alerts.policy import AlertPolicy
from streamdrift.config.spec import ModelSpecs, MonitorSpec, ReferenceSpec
from streamdrift.drift.fleet import OTHER_SEGMENT, FleetUpdate, MonitorFleet
from streamdrift.drift.profiles import Profiles
from streamdrift.drift.windows import WindowSpec
from streamdrift.records import (
    PREDICTION,
    AlertStatus,
    PredictionBatch,
    Scalar,
    WindowResult,
)
from streamdrift.stats import CategoricalReference, NumericReference

T0 = 1.7e9
DT = 0.01
Columns = dict[str, list[Scalar]]


def clock() -> float:
    return 1_700_000_123.5


@dataclass
class Stream:
    """One (model, version, segment) stream: columns and scores, fed from ``pos`` on."""

    columns: Columns
    scores: list[float]
    model: str = "m"
    version: str = "1"
    segment: str | None = None
    dt: float = DT
    pos: int = 0
    ts0: float = T0

    def __len__(self) -> int:
        return len(self.scores)

    def take(self, n: int) -> PredictionBatch | None:
        a, b = self.pos, min(len(self), self.pos + n)
        if a >= b:
            return None
        self.pos = b
        return PredictionBatch(
            model_id=self.model,
            model_version=self.version,
            segment=self.segment,
            prediction_ids=[f"{self.segment}-{i}" for i in range(a, b)],
            timestamps=[self.ts0 + i * self.dt for i in range(a, b)],
            features={k: v[a:b] for k, v in self.columns.items()},
            predictions=self.scores[a:b],
        )


@dataclass
class Collected:
    windows: list[WindowResult] = field(default_factory=list)
    alerts: list[dict[str, Any]] = field(default_factory=list)

    def add(self, update: FleetUpdate) -> None:
        self.windows.extend(update.windows)
        self.alerts.extend(a.to_dict() for a in update.alerts)


def batches(
    streams: Sequence[Stream], size: int, upto: int | None = None
) -> Iterator[PredictionBatch]:
    """Round-robin batches of ``size`` rows from each stream until ``upto`` (or the end)."""
    while True:
        emitted = False
        for s in streams:
            limit = len(s) if upto is None else min(len(s), upto)
            batch = s.take(min(size, limit - s.pos)) if s.pos < limit else None
            if batch is not None:
                emitted = True
                yield batch
        if not emitted:
            return


def run(
    fleet: MonitorFleet,
    streams: Sequence[Stream],
    size: int = 250,
    upto: int | None = None,
    per_call: int = 3,
) -> Collected:
    out = Collected()
    pending: list[PredictionBatch] = []
    for batch in batches(streams, size, upto):
        pending.append(batch)
        if len(pending) == per_call:
            out.add(fleet.observe(pending))
            pending = []
    out.add(fleet.observe(pending))
    return out


def normal(rng: np.random.Generator, n: int, mean: float = 0.0, sd: float = 1.0) -> list[Scalar]:
    return rng.normal(mean, sd, n).tolist()


def categorical(rng: np.random.Generator, n: int, probs: Sequence[float]) -> list[Scalar]:
    return rng.choice(list("abcdef"[: len(probs)]), size=n, p=list(probs)).tolist()


def stream(
    rng: np.random.Generator,
    n: int,
    *,
    mean: float = 0.0,
    shifted: tuple[int, int] | None = None,
    **kwargs: Any,
) -> Stream:
    """Features x (numeric, +1σ inside ``shifted``), c (categorical), scores in [0, 1]."""
    x = np.asarray(normal(rng, n, mean=mean))
    if shifted is not None:
        x[shifted[0] : shifted[1]] += 1.0
    cols: Columns = {"x": x.tolist(), "c": categorical(rng, n, [0.5, 0.3, 0.2])}
    return Stream(cols, rng.beta(2, 5, n).tolist(), **kwargs)


def fleet_of(spec: MonitorSpec, **models: MonitorSpec) -> MonitorFleet:
    return MonitorFleet(ModelSpecs(spec, models), AlertPolicy(clock=clock))


def flat(results: Sequence[WindowResult]) -> list[tuple[Any, ...]]:
    return [
        (r.model_id, r.model_version, r.segment, r.index, r.window, r.reference_count, r.tests)
        for r in results
    ]


def drifted_features(results: Sequence[WindowResult]) -> set[str]:
    return {c.feature for r in results for c in r.drifted}


SPEC = MonitorSpec(window=WindowSpec(size=500), reference=ReferenceSpec(size=1000))
PROFILE = MonitorSpec(
    window=WindowSpec(size=500), reference=ReferenceSpec(mode="profile", size=2000)
)


def profiles_of(rng: np.random.Generator, n: int = 5000, mean: float = 0.0) -> Profiles:
    """A reference built offline: x ~ N(mean, 1), c, beta(2, 5) scores."""
    return {
        "x": NumericReference.fit(rng.normal(mean, 1.0, n)),
        "c": CategoricalReference.fit(categorical(rng, n, [0.5, 0.3, 0.2])),
        PREDICTION: NumericReference.fit(rng.beta(2, 5, n)),
    }


# --- profile references --------------------------------------------------------------------


def test_a_profile_set_before_any_event_is_used_from_the_first_window() -> None:
    rng = np.random.default_rng(1)
    fleet = fleet_of(PROFILE)
    update = fleet.set_reference("m", "1", profiles_of(rng), 5000)
    assert update.windows == [] and update.alerts == []
    # events already shifted by 1σ: a first-events reference would have learned the shift
    got = run(fleet, [stream(rng, 1500, mean=1.0)])
    assert [r.index for r in got.windows] == [0, 1, 2]  # no reference.size events to wait for
    assert all(r.reference_count == 5000 for r in got.windows)
    assert got.windows[0].window.start == T0
    assert drifted_features(got.windows) == {"x"}
    assert all("x" in {c.feature for c in r.drifted} for r in got.windows)
    (monitor,) = fleet.monitors.values()
    assert monitor.reference_source == "profile"


def test_a_profile_arriving_later_sends_the_held_events_to_the_windows() -> None:
    rng = np.random.default_rng(2)
    fleet = fleet_of(PROFILE)
    s = stream(rng, 3000)
    s.columns["extra"] = normal(rng, 3000)  # not in the profile
    before = run(fleet, [s], upto=1700)
    assert before.windows == []
    (monitor,) = fleet.monitors.values()
    assert not monitor.has_reference
    assert monitor.buffered == 1700

    update = fleet.set_reference("m", "1", profiles_of(rng), 5000)
    assert [r.index for r in update.windows] == [0, 1, 2]  # 1700 held events: 3 windows
    assert update.windows[0].window.start == T0
    assert update.windows[2].window.end == T0 + 1499 * DT
    assert all(r.window.count == 500 for r in update.windows)
    assert monitor.buffered == 200
    assert {c.feature for c in update.windows[0].tests} == {"x", "c", PREDICTION}
    assert drifted_features(update.windows) == set()

    after = run(fleet, [s])
    assert [r.index for r in after.windows] == [3, 4, 5]
    assert after.windows[0].window.start == T0 + 1500 * DT
    assert "extra" in monitor.untracked_features
    assert drifted_features(after.windows) == set()


def test_a_profile_replaces_a_first_events_reference_already_fitted() -> None:
    rng = np.random.default_rng(3)
    fleet = fleet_of(PROFILE)
    s = stream(rng, 4000, mean=1.0)
    first = run(fleet, [s], upto=2500)
    (monitor,) = fleet.monitors.values()
    # until a profile arrives the first 2000 events are the reference: no drift against them
    assert monitor.reference_source == "first-events"
    assert monitor.reference_count == 2000
    assert [r.index for r in first.windows] == [0]
    assert drifted_features(first.windows) == set()

    update = fleet.set_reference("m", "1", profiles_of(rng), 5000)
    assert update.windows == []
    assert monitor.reference_source == "profile"
    later = run(fleet, [s])
    assert [r.index for r in later.windows] == [1, 2, 3]
    assert all(r.reference_count == 5000 for r in later.windows)
    assert drifted_features(later.windows) == {"x"}


def test_a_profile_reaches_segments_that_appear_later_but_not_first_mode_models() -> None:
    rng = np.random.default_rng(4)
    fleet = fleet_of(PROFILE, other=SPEC)
    fleet.set_reference("m", "1", profiles_of(rng), 5000)
    fleet.set_reference("other", "1", profiles_of(rng, mean=5.0), 5000)
    got = run(
        fleet,
        [
            stream(rng, 1000, segment="eu"),
            stream(rng, 1000, segment="us"),
            stream(rng, 1500, model="other"),
        ],
    )
    by_key = {(r.model_id, r.segment) for r in got.windows}
    assert by_key == {("m", "eu"), ("m", "us"), ("other", None)}
    for r in got.windows:
        expected = (5000, "profile") if r.model_id == "m" else (1000, "first-events")
        monitor = fleet.monitors[(r.model_id, r.model_version, r.segment)]
        assert (r.reference_count, monitor.reference_source) == expected
    assert drifted_features(got.windows) == set()
    assert got.alerts == []


# --- segments and versions -----------------------------------------------------------------


def test_segments_get_their_own_monitors_and_are_named_in_results() -> None:
    rng = np.random.default_rng(5)
    fleet = fleet_of(SPEC)
    # very different segments: a shared monitor would see drift all the time
    got = run(
        fleet,
        [
            stream(rng, 2500, mean=0.0, segment="eu"),
            stream(rng, 2500, mean=4.0, segment="us"),
            stream(rng, 2500, mean=-4.0, segment=None),
        ],
    )
    assert set(fleet.monitors) == {("m", "1", "eu"), ("m", "1", "us"), ("m", "1", None)}
    for segment in ("eu", "us", None):
        mine = [r for r in got.windows if r.segment == segment]
        assert [r.index for r in mine] == [0, 1, 2]
    assert drifted_features(got.windows) == set()
    assert fleet.overflow_events == 0


def test_segments_beyond_max_segments_share_the_other_monitor() -> None:
    rng = np.random.default_rng(6)
    spec = MonitorSpec(
        window=WindowSpec(size=500), reference=ReferenceSpec(size=1000), max_segments=2
    )
    fleet = fleet_of(spec)
    streams = [stream(rng, 1000, segment=s) for s in ("a", "b", "c", "d")]
    streams.append(stream(rng, 1000, segment=None))  # no segment: not bounded, not counted
    got = run(fleet, streams, size=200)
    assert set(fleet.monitors) == {
        ("m", "1", "a"),
        ("m", "1", "b"),
        ("m", "1", OTHER_SEGMENT),
        ("m", "1", None),
    }
    assert fleet.overflow_events == 2000  # every event of segments c and d
    assert fleet.segments == {("m", "1"): {"a", "b"}}
    other = fleet.monitors[("m", "1", OTHER_SEGMENT)]
    assert other.events_seen == 2000
    assert [r.index for r in got.windows if r.segment == OTHER_SEGMENT] == [0, 1]
    # a new version has its own segment budget
    run(fleet, [stream(rng, 100, version="2", segment=s) for s in ("c", "d")])
    assert ("m", "2", "c") in fleet.monitors and ("m", "2", "d") in fleet.monitors
    assert fleet.overflow_events == 2000


def test_a_new_version_gets_a_fresh_monitor_and_reference() -> None:
    rng = np.random.default_rng(7)
    fleet = fleet_of(SPEC)
    v1 = run(fleet, [stream(rng, 3000, version="1")])
    assert drifted_features(v1.windows) == set()
    # v2: a different but stable distribution of everything
    v2_stream = Stream(
        {
            "x": normal(rng, 4000, mean=3.0, sd=2.0),
            "c": categorical(rng, 4000, [0.1, 0.2, 0.7]),
        },
        rng.beta(5, 2, 4000).tolist(),
        version="2",
        ts0=T0 + 3000 * DT,
    )
    v2 = run(fleet, [v2_stream, stream(rng, 1000, version="1")])
    mine = [r for r in v2.windows if r.model_version == "2"]
    assert [r.index for r in mine] == [0, 1, 2, 3, 4, 5]
    assert all(r.reference_count == 1000 for r in mine)
    assert drifted_features(v2.windows) == set()
    assert v1.alerts == [] and v2.alerts == []
    new = fleet.monitors[("m", "2", None)]
    assert new is not fleet.monitors[("m", "1", None)]
    assert new.profiles["x"].mean == pytest.approx(3.0, abs=0.2)  # type: ignore[union-attr]


# --- checkpoint round trip -----------------------------------------------------------------


CASES = {
    "count": SPEC,
    "time": MonitorSpec(
        window=WindowSpec(kind="time", size=10.0, allowed_lateness=1.0),
        reference=ReferenceSpec(size=1000),
    ),
    "rolling": MonitorSpec(
        window=WindowSpec(size=500), reference=ReferenceSpec(mode="rolling", lag=2)
    ),
    "detectors": MonitorSpec(
        window=WindowSpec(size=250),
        reference=ReferenceSpec(size=1000),
        sequential=("adwin", "kswin", "page_hinkley"),
        # (KSWIN is left off the per-event scores: with River's defaults it runs a KS test
        # per event, ~1 ms each, and alarms every few hundred stationary events)
        prediction_detectors=("page_hinkley", "adwin"),
    ),
    "profile": PROFILE,
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_restored_fleet_continues_exactly_like_the_original(case: str) -> None:
    rng = np.random.default_rng(8)
    spec = CASES[case]
    dt = 0.02  # 500 events per 10-second time window

    def streams() -> list[Stream]:
        # x shifts by 1σ over events 3000..5000 of segment "eu": an episode that fires
        # before the checkpoint and resolves after it
        r = np.random.default_rng(9)
        return [
            stream(r, 8000, shifted=(3000, 5000), segment="eu", dt=dt),
            stream(r, 6000, segment="us", dt=dt),
            stream(r, 4000, model="n", dt=dt),
        ]

    original = fleet_of(spec, n=SPEC)
    live = streams()
    if case == "profile":
        original.set_reference("m", "1", profiles_of(rng), 5000)
    head = run(original, live, upto=4100)
    assert any(a["status"] == "firing" for a in head.alerts)

    state = json.loads(json.dumps(original.to_dict()))
    restored = MonitorFleet.from_dict(state, ModelSpecs(spec, {"n": SPEC}))
    restored.alerts.clock = clock  # the clock is not state
    assert restored.to_dict() == state

    replay = streams()
    for s in replay:
        s.pos = 4100 if len(s) > 4100 else len(s)
    a = run(original, live, size=170)
    b = run(restored, replay, size=170)
    a.add(original.advance(T0 + 9000 * dt))
    b.add(restored.advance(T0 + 9000 * dt))
    assert a.windows and flat(a.windows) == flat(b.windows)
    assert [x["alert_id"] for x in a.alerts] == [x["alert_id"] for x in b.alerts]
    assert a.alerts == b.alerts
    assert any(x["status"] == AlertStatus.RESOLVED.value for x in a.alerts)
    assert original.to_dict() == restored.to_dict()
    # (a stationary feature may raise the odd alert too: BH bounds the rate, not to 0)
    assert "x" in {x["feature"] for x in head.alerts + a.alerts}
