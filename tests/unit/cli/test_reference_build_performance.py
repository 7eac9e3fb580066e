"""``streamdrift reference build --label-column``: the profile carries the model's reference
performance (engine/references.py, cli/reference.py). scikit-learn is the oracle for its metrics."""

from __future__ import annotations

import csv
import json
import math
import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sklearn import metrics as skm

from streamdrift import codec
from streamdrift.cli import main as cli
from streamdrift.config.settings import ConfigError
from streamdrift.config.spec import ModelSpecs, MonitorSpec
from streamdrift.engine.references import (
    build_performance,
    build_profile,
    parse_profile,
    parse_reference,
    read_columns,
)
from streamdrift.stats.performance import ClassificationWindow

N = 400


def rows(n: int = N, seed: int = 0) -> list[dict[str, Any]]:
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        score = round(float(rng.random()), 4)
        label = int(score >= 0.5) if rng.random() < 0.8 else int(score < 0.5)
        out.append(
            {
                "id": f"r{i}",
                "income": round(float(rng.normal(50_000, 8_000)), 2),
                "label": None if i % 10 == 0 else label,  # every 10th row unlabelled
                "prediction": score,
            }
        )
    return out


def write_csv(path: Path, data: list[dict[str, Any]]) -> Path:
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(data[0]))
        writer.writeheader()
        writer.writerows([{k: "" if v is None else v for k, v in r.items()} for r in data])
    return path


def labelled(data: list[dict[str, Any]]) -> tuple[np.ndarray, np.ndarray]:
    kept = [r for r in data if r["label"] is not None]
    return np.array([r["label"] for r in kept]), np.array([r["prediction"] for r in kept])


def test_a_csv_with_labels_gives_the_reference_performance(tmp_path: Path) -> None:
    data = rows()
    doc = build_profile(
        "m", "1", read_columns(write_csv(tmp_path / "t.csv", data)), MonitorSpec(),
        ignore=("id",), label_column="label",
    )  # fmt: skip
    assert "label" not in doc["profiles"]  # the label is not a feature
    perf = doc["performance"]
    y, s = labelled(data)
    assert (perf["task"], perf["rows"], perf["rows_without_label"]) == ("binary", y.size, N // 10)
    window = ClassificationWindow.from_dict(perf["metrics"])
    p = (s >= 0.5).astype(int)
    assert window.accuracy == pytest.approx(skm.accuracy_score(y, p))
    assert window.f1 == pytest.approx(skm.f1_score(y, p))
    assert perf["summary"]["roc_auc"] == pytest.approx(skm.roc_auc_score(y, s))
    assert window.log_loss == pytest.approx(skm.log_loss(y, s))

    ref = parse_reference(codec.dumps(doc))
    assert ref.performance is not None and ref.performance.task == "binary"
    assert ref.performance.window == window
    assert parse_profile(codec.dumps(doc))[3] == N  # the 4-tuple reading is unchanged


def test_the_model_spec_decides_task_and_threshold() -> None:
    data = rows(seed=1)
    columns = {k: [r[k] for r in data] for k in data[0]}
    spec = ModelSpecs.from_mapping(
        {"models": {"m": {"performance": {"score_threshold": 0.3}}}}, MonitorSpec()
    ).for_model("m")
    perf = build_performance(columns, spec, "label")
    y, s = labelled(data)
    window = ClassificationWindow.from_dict(perf["metrics"])
    assert window.accuracy == pytest.approx(skm.accuracy_score(y, (s >= 0.3).astype(int)))


def test_regression_from_jsonl(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    y = rng.normal(10.0, 2.0, 300)
    yhat = y + rng.normal(0.0, 1.0, 300)
    path = tmp_path / "t.jsonl"
    path.write_text(
        "".join(json.dumps({"y": a, "yhat": b}) + "\n" for a, b in zip(y, yhat, strict=True))
    )
    doc = build_profile(
        "m", "1", read_columns(path), MonitorSpec(), prediction_column="yhat", label_column="y"
    )
    ref = parse_reference(codec.dumps(doc)).performance
    assert ref is not None and ref.task == "regression"
    assert ref.window.mae == pytest.approx(skm.mean_absolute_error(y, yhat))  # type: ignore[union-attr]
    assert ref.window.rmse == pytest.approx(math.sqrt(skm.mean_squared_error(y, yhat)))  # type: ignore[union-attr]


def test_without_a_label_column_there_is_no_performance() -> None:
    data = rows()
    doc = build_profile("m", "1", {k: [r[k] for r in data] for k in data[0]}, MonitorSpec())
    assert "performance" not in doc
    assert parse_reference(codec.dumps(doc)).performance is None


@pytest.mark.parametrize(
    ("label_column", "prediction_column", "message"),
    [
        ("truth", "prediction", "--label-column: no column 'truth'"),
        ("label", "score", "--prediction-column: no column 'score'"),
        ("label", "label", "--label-column: must differ"),
        ("empty", "prediction", "no row has both 'empty'"),
    ],
)
def test_bad_label_columns_are_clear_errors(
    label_column: str, prediction_column: str, message: str
) -> None:
    data = rows()
    columns: dict[str, list[Any]] = {k: [r[k] for r in data] for k in data[0]}
    columns["empty"] = [None] * N
    with pytest.raises(ConfigError, match=message):
        build_performance(columns, MonitorSpec(), label_column, prediction_column)


def test_labels_that_do_not_fit_a_configured_task_are_an_error() -> None:
    spec = ModelSpecs.from_mapping(
        {"defaults": {"performance": {"task": "binary"}}}, MonitorSpec()
    ).default
    columns: dict[str, list[Any]] = {"label": [0, 1, 3], "prediction": [0.1, 0.9, 0.5]}
    with pytest.raises(
        ConfigError,
        match=r"1 of 3 rows have a label or prediction that does not fit the task 'binary'",
    ):
        build_performance(columns, spec, "label")


def test_a_profile_with_invalid_performance_is_refused() -> None:
    data = rows()
    doc = build_profile(
        "m", "1", {k: [r[k] for r in data] for k in data[0]}, MonitorSpec(), label_column="label"
    )
    doc["performance"]["metrics"] = {"tp": "many"}
    with pytest.raises(ValueError, match=r"performance\.metrics"):
        parse_reference(codec.dumps(doc))


def test_cli_builds_a_profile_with_performance(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in list(os.environ):
        if name.startswith("STREAMDRIFT_"):
            monkeypatch.delenv(name)
    # main() configures logging for the process; keep the test process's logging as it is
    monkeypatch.setattr(cli.logging, "basicConfig", lambda **kwargs: None)
    source = write_csv(tmp_path / "t.csv", rows())
    out = tmp_path / "profile.json"
    code = cli.main(
        ["reference", "build", "--model", "m", "--version", "1", "--from", str(source),
         "--ignore", "id", "--label-column", "label", "--out", str(out), "--no-publish"]
    )  # fmt: skip
    assert code == 0
    printed = capsys.readouterr().out
    y, _ = labelled(rows())
    assert f"reference performance (binary) on {y.size} labelled rows ({N // 10} without" in (
        printed
    )
    ref = parse_reference(out.read_bytes())
    assert ref.performance is not None and ref.performance.count == y.size
    assert f"accuracy {ref.performance.summary['accuracy']:.4g}, precision" in printed
