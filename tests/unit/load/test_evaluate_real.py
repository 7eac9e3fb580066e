"""load/evaluate_real.py on a small slice: the scores it reports are those of the alerts."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from load import evaluate_real as ev
from load.evaluate_real import Sizes

SMALL = Sizes(ar1_events=20_000, shuttle_live=10_000, kswin_events=3_000)
SMOKE = ("approval_replay", "ar1_0.5_stationary", "ar1_0.5_shift_0.5sd")


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    out = tmp_path_factory.mktemp("real")
    return ev.evaluate(
        SMALL,
        groups=("approval", "ar1"),
        only=SMOKE,
        river=ev.RIVER[:2],  # KSWIN costs 0.5 ms a value
        out=out,
        plots=True,
    ) | {"out": out}


def test_the_report_covers_every_case_and_method_and_writes_its_files(
    report: dict[str, object],
) -> None:
    out = report["out"]
    assert isinstance(out, Path)
    names = [c["case"] for c in report["cases"]]  # type: ignore[attr-defined]
    assert names == list(SMOKE)
    md = (out / "real_data.md").read_text()
    for name in names:
        assert f"| {name} |" in md
        assert (out / f"real_{name}.png").stat().st_size > 5_000
    for case in report["cases"]:  # type: ignore[attr-defined]
        assert set(case["methods"]) == {
            "previous defaults",
            "calibrated per-window",
            "calibrated accumulated",
            "ADWIN",
            "PageHinkley",
        }


def _case(name: str) -> ev.Case:
    return next(c for c in ev.cases(SMALL, ("approval", "ar1")) if c.name == name)


def test_a_replay_counts_every_live_firing_as_a_false_alarm(report: dict[str, object]) -> None:
    case = _case("approval_replay")
    firings, windows = ev.run_streamdrift(case, ev.CONFIGS[0])
    live = [f for f in firings if f.index >= case.reference]
    scored = next(c for c in report["cases"] if c["case"] == case.name)  # type: ignore[attr-defined]
    r = scored["methods"][ev.CONFIGS[0].name]
    assert r["false_alarms"] == len(live)
    days = (len(case.data) - case.reference) * case.seconds_per_row / 86400
    assert r["per_30_days"] == pytest.approx(len(live) / days * 30)
    # an alert is dated by the last row of its window: windows end on multiples of the size
    assert all((f.index + 1) % case.window == 0 for f in firings)
    live_from = ev.START + case.reference * case.seconds_per_row
    assert len([w for w in windows if w.window.end >= live_from]) == 10


def test_a_shift_is_timed_from_the_change_to_the_first_window_that_flags_it() -> None:
    case = _case("ar1_0.5_shift_0.5sd")
    assert case.change is not None
    firings, _ = ev.run_streamdrift(case, ev.CONFIGS[0])
    on_x0 = sorted(f.index for f in firings if f.stream == "x0" and f.index >= case.change)
    scored = ev.evaluate_case(case, SMALL, river=())["methods"][ev.CONFIGS[0].name]
    if on_x0:
        assert scored["delay"] == on_x0[0] - case.change
        assert scored["delay_windows"] == (on_x0[0] - case.change) // case.window + 1
    else:
        assert scored["delay"] is None
    early = [f for f in firings if f.index < case.change or f.stream != "x0"]
    assert scored["false_alarms"] == len(early)


def test_river_sees_the_moved_stream_and_its_alarms_are_scored() -> None:
    case = _case("ar1_0.9_shift_1sd")
    fired = ev.run_river(case, ev.RIVER_METHODS[0], SMALL.kswin_events)
    assert list(fired) == ["x0"]
    assert case.change is not None
    after = [i for i in fired["x0"] if i >= case.change]
    scored = ev._score(case, fired, "")
    assert scored["delay"] == (after[0] - case.change if after else None)
    assert scored["false_alarms"] == len(fired["x0"]) - len(after)


def test_flipping_labels_lowers_accuracy_by_the_flipped_share() -> None:
    rng = np.random.default_rng(2)
    labels = (rng.random(200_000) < 0.07).astype(np.int64)
    flipped = ev._flip(labels, 100_000, 0.03, seed=5)
    np.testing.assert_array_equal(flipped[:100_000], labels[:100_000])
    assert (flipped[100_000:] != labels[100_000:]).mean() == pytest.approx(0.03, abs=0.002)
