"""load/datasets.py and load/ar1.py: real datasets in stored order, no network; AR(1)."""

from __future__ import annotations

import csv
import gzip
import socket
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from load import datasets
from load.ar1 import ar1, ar1_dataset
from load.datasets import TMY3_COLUMNS, TMY3_RAIN, load, prediction_events, read_tmy3
from scipy import stats


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("a dataset loader opened a network connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def _river_csv(name: str) -> tuple[list[str], np.ndarray]:
    path = datasets._package_file("river", f"datasets/{name}")
    with gzip.open(path, "rt") as f:
        rows = list(csv.reader(f))
    return rows[0], np.array(rows[1:], dtype=np.float64)


def test_shuttle_has_its_rows_in_stored_order_and_a_binary_label(no_network: None) -> None:
    d = load("shuttle")
    header, raw = _river_csv("shuttle.csv.gz")
    assert len(d) == raw.shape[0] == 49_097
    assert list(d.columns) == [h for h in header if h != "anomaly"]
    for name, column in d.columns.items():
        np.testing.assert_array_equal(column, raw[:, header.index(name)])
    assert d.label is not None
    np.testing.assert_array_equal(d.label, raw[:, -1].astype(np.int64))
    assert set(np.unique(d.label)) == {0, 1}
    assert not d.ordered


def test_trump_approval_rows_are_in_date_order_and_autocorrelated(no_network: None) -> None:
    d = load("trump_approval")
    header, raw = _river_csv("trump_approval.csv.gz")
    dates = raw[:, header.index("ordinal_date")]
    assert len(d) == len(dates) == 1001
    assert np.all(np.diff(dates) > 0)  # the file is in date order, and so are the rows
    np.testing.assert_array_equal(d.columns["gallup"], raw[:, header.index("gallup")])
    assert d.ordered and d.seconds_per_row == 86400.0
    for column in d.columns.values():
        assert stats.pearsonr(column[1:], column[:-1]).statistic > 0.5


def _tmy3_text(hours: int) -> str:
    """A TMY3 file of ``hours`` rows in the real layout: station line, header, data."""
    header = ["Date (MM/DD/YYYY)", "Time (HH:MM)", *TMY3_COLUMNS, "x", TMY3_RAIN]
    lines = ['723170,"GREENSBORO",NC,-5.0,36.1,-79.95,273', ",".join(header)]
    for h in range(hours):
        cells = [f"01/{1 + h // 24:02d}/1988", f"{1 + h % 24:02d}:00"]
        cells += [str(h * 10 + j) for j in range(len(TMY3_COLUMNS))]
        cells += ["A", "0.5" if h % 3 == 0 else "0"]
        lines.append(",".join(cells))
    return "\n".join(lines) + "\n"


def test_tmy3_reader_keeps_hour_order_and_labels_rain() -> None:
    columns, rain = read_tmy3(_tmy3_text(48))
    assert list(columns) == list(TMY3_COLUMNS.values())
    np.testing.assert_array_equal(columns["ghi"], np.arange(48) * 10.0)
    assert columns["total_cloud"].dtype == object
    assert columns["total_cloud"][1] == "13"  # column 3 of hour 1: a category, as str
    np.testing.assert_array_equal(rain, (np.arange(48) % 3 == 0).astype(np.int64))


def test_a_missing_package_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(datasets.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(FileNotFoundError, match="pip install pvlib"):
        load("tmy3")
    with pytest.raises(KeyError, match="known: tmy3"):
        load("nope")


def test_prediction_events_carry_rows_scores_and_labels_in_order() -> None:
    d = load("shuttle").rows(slice(0, 2500))
    assert d.label is not None
    scores = np.linspace(0, 1, len(d))
    ev = prediction_events(
        d, model_id="m", start=100.0, spacing=2.0, first_index=10, scores=scores, labels=d.label
    )
    assert [len(b) for b in ev.batches] == [1000, 1000, 500]
    first = ev.batches[0]
    assert first.model_id == "m" and first.prediction_ids[0] == "p10"
    assert first.timestamps[:2] == [120.0, 122.0]
    assert first.features["f1"] == d.columns["f1"][:1000].tolist()
    np.testing.assert_allclose(np.concatenate([b.predictions for b in ev.batches]), scores)
    labels = [e.label for part in ev.feedback for e in part]
    assert labels == d.label.tolist()
    assert ev.feedback[2][0].prediction_id == "p2010"
    assert ev.feedback[2][0].timestamp == pytest.approx(100.0 + 2010 * 2.0 + 0.5)


def test_a_missing_numeric_value_is_none_in_the_batch() -> None:
    d = load("trump_approval").rows(slice(0, 10))
    column = d.columns["gallup"].copy()
    column[3] = np.nan
    ev = prediction_events(d.with_column("gallup", column))
    assert ev.batches[0].features["gallup"][3] is None
    assert ev.batches[0].features["gallup"][2] == column[2]


def test_fit_scores_learns_the_shuttle_anomalies_from_the_reference_rows() -> None:
    d = load("shuttle")
    assert d.label is not None
    scores = datasets.fit_scores(d, slice(0, 10_000))
    later = slice(10_000, None)
    accuracy = float(((scores[later] > 0.5) == d.label[later]).mean())
    assert accuracy > 0.95 > 1 - d.label[later].mean()  # better than the majority class


@pytest.mark.parametrize("phi", [0.5, 0.9])
def test_ar1_lag1_autocorrelation_is_phi_and_its_law_is_standard_normal(phi: float) -> None:
    x = ar1(200_000, phi, np.random.default_rng(3), streams=2)
    for j in range(2):
        r = stats.pearsonr(x[1:, j], x[:-1, j]).statistic
        # the estimate's standard error is about sqrt((1 - phi^2) / n) <= 0.002
        assert r == pytest.approx(phi, abs=0.01)
        assert np.std(x[:, j]) == pytest.approx(1.0, abs=0.05)
    starts = ar1(5, phi, np.random.default_rng(4), streams=20_000)[0]
    assert stats.kstest(starts, "norm").pvalue > 1e-3


def test_ar1_dataset_shifts_the_named_features_from_the_change_point() -> None:
    base = ar1_dataset(10_000, 0.9, features=3, seed=5)
    moved = ar1_dataset(10_000, 0.9, features=3, seed=5, shift=1.0, shift_at=6000)
    np.testing.assert_array_equal(moved.columns["x1"], base.columns["x1"])
    diff = moved.columns["x0"] - base.columns["x0"]
    np.testing.assert_array_equal(diff[:6000], 0.0)
    np.testing.assert_allclose(diff[6000:], 1.0)
    assert moved.ordered and moved.numeric == ["x0", "x1", "x2"]


def test_loaders_read_files_inside_installed_packages() -> None:
    path = datasets._package_file("river", "datasets/shuttle.csv.gz")
    assert isinstance(path, Path) and path.is_file()
