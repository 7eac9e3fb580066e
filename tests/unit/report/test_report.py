"""The report and the terminal strips, from records the real processor made."""

from __future__ import annotations

import base64
import io
import re
import sys

import pytest
from tests.unit.report.conftest import T0, Docs

from streamdrift.kafka.report_reader import parse_since
from streamdrift.report import html, model, terminal


def test_windows_prints_one_mark_per_window_and_only_the_shifted_ones_drift(
    drift_docs: Docs,
) -> None:
    records, _ = drift_docs
    lines = terminal.lines(model.select(records, "m"))
    assert lines[0].startswith("drift v1: windows 0–17, 2025-11-24 ")
    strips = {line.split()[0]: line.split()[1] for line in lines[2:5]}
    # reference 500 events, windows of 250: the shifted events 2,000–2,999 are windows 6–9
    assert strips == {
        "income": "......XXXX........",
        "region": "." * 18,
        "__prediction__": "." * 18,
    }
    assert lines[2].endswith("4 drifted")
    assert terminal.lines(model.select(records, "m"), last=5)[0].endswith(
        "windows 13–17, the last 5 of 18, 2025-11-24 16:06:15 → 2025-11-24 16:08:19 UTC"
    )


def test_marks_for_untested_and_partial_windows() -> None:
    assert [terminal.mark([], False), terminal.mark(["ok", "drift"], False)] == ["?", "X"]
    assert [terminal.mark(["ok"], True), terminal.mark(["drift"], True)] == [",", "x"]


def test_episodes_pair_firing_and_resolved_by_window(drift_docs: Docs) -> None:
    records, alerts = drift_docs
    (episode,) = model.episodes(alerts + alerts, "m")  # a replay's duplicates count once
    assert (episode.feature, episode.start_index, episode.end_index) == ("income", 6, 12)
    by_index = {d["window"]["index"]: d["window"] for d in records}
    assert episode.start == by_index[6]["start"] and episode.end == by_index[12]["end"]
    still = model.episodes([a for a in alerts if a["status"] == "firing"], "m", last_end=9.0)
    assert still[0].end == 9.0 and still[0].end_index is None


def test_features_are_ranked_by_evidence(drift_docs: Docs) -> None:
    records, alerts = drift_docs
    ranking = model.rank(records, model.episodes(alerts, "m"))
    assert ranking[0].feature == "income"
    top = ranking[0]
    assert (top.tested, top.drifted, top.episodes) == (18, 4, 1)
    assert top.max_ratio > 5 and top.min_p is not None and top.min_p < 1e-20
    assert all(r.drifted == 0 and r.episodes == 0 for r in ranking[1:])


def test_select_filters_by_version_and_since_and_deduplicates(drift_docs: Docs) -> None:
    records, _ = drift_docs
    assert len(model.select(records + records, "m")) == 18
    assert model.select(records, "m", version="2") == []
    assert model.select(records, "other") == []
    since = records[10]["window"]["end"]
    assert [d["window"]["index"] for d in model.select(records, "m", since=since)] == list(
        range(10, 18)
    )


def images(page: str) -> list[bytes]:
    return [base64.b64decode(b) for b in re.findall(r'src="data:image/png;base64,([^"]+)"', page)]


def test_the_html_report_is_self_contained_with_one_plot_per_feature_and_performance(
    drift_docs: Docs, classifier_docs: Docs
) -> None:
    import matplotlib.image

    records = drift_docs[0] + classifier_docs[0]
    page = html.build(drift_docs[0], drift_docs[1], "m")
    assert "http://" not in page and "https://" not in page and "<script" not in page
    pngs = images(page)
    assert len(pngs) == 3  # income, region, prediction; no performance windows for m
    for png in pngs:
        pixels = matplotlib.image.imread(io.BytesIO(png))
        assert pixels.shape[1] == 800 and pixels.std() > 0.05  # drawn, not blank
    assert page.index("<h3>income</h3>") < page.index("<h3>region</h3>")
    assert "window 6, 2025-11-24" in page and "window 12, 2025-11-24" in page
    assert "No labelled window yet." in page

    clf = html.build(records, drift_docs[1] + classifier_docs[1], "clf")  # other models ignored
    assert "Performance and labels" in clf
    assert len(images(clf)) == 3  # x, the prediction, performance
    assert "performance_degradation" in clf


def test_no_window_and_a_missing_matplotlib_are_clear_errors(
    drift_docs: Docs, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(html.ReportError, match="no window of m v9 in drift-windows"):
        html.build(drift_docs[0], [], "m", version="9")
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    with pytest.raises(html.ReportError, match=r"pip install 'streamdrift\[report\]'"):
        html.build(drift_docs[0], [], "m")


def test_since_accepts_seconds_iso_times_and_ages() -> None:
    assert parse_since("1764000000") == 1_764_000_000.0
    assert parse_since("2025-11-24T16:00:00") == T0
    assert parse_since("2025-11-24T17:00:00+01:00") == T0
    assert parse_since("24h", now=T0) == T0 - 86400
    assert parse_since("90m", now=T0) == T0 - 5400
    with pytest.raises(ValueError, match="--since"):
        parse_since("yesterday")
