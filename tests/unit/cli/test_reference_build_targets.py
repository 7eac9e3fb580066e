"""``streamdrift reference build`` for several models/versions at once, the columns it
leaves out by default, and what it prints."""

from __future__ import annotations

import csv
import os
from pathlib import Path
from typing import Any

import pytest
from tests.unit.cli.test_reference_build import rows, spec

from streamdrift.cli import main as cli
from streamdrift.engine.references import (
    build_profile,
    parse_reference,
    read_columns,
    select_columns,
)


@pytest.fixture(autouse=True)
def _clean(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("STREAMDRIFT_"):
            monkeypatch.delenv(name)
    monkeypatch.setattr(cli.logging, "basicConfig", lambda **kwargs: None)


def events_file(path: Path) -> Path:
    """Rows as a model server logs them: the event's id and timestamp beside the features."""
    data = [
        {"prediction_id": r["id"], "timestamp": 1_700_000_000 + i, **r}
        for i, r in enumerate(rows())
    ]
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(data[0]))
        writer.writeheader()
        writer.writerows([{k: "" if v is None else v for k, v in r.items()} for r in data])
    return path


def build(tmp_path: Path, *args: str) -> tuple[str, list[dict[str, Any]]]:
    out = tmp_path / "profiles.jsonl"
    source = events_file(tmp_path / "events.csv")
    argv = ["reference", "build", "--from", str(source), "--out", str(out), "--no-publish"]
    assert cli.main([*argv, *args]) == 0
    docs = [parse_reference(line) for line in out.read_bytes().splitlines()]
    return str(out), [
        {"key": (d.model_id, d.model_version), "profiles": set(d.profiles), "count": d.count}
        for d in docs
    ]


def test_one_build_publishes_the_same_profile_for_every_model_and_version(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, docs = build(
        tmp_path,
        "--model",
        "a",
        "--model",
        "b",
        "--version",
        "1",
        "--version",
        "2",
        "--ignore",
        "id",
    )
    assert [d["key"] for d in docs] == [("a", "1"), ("a", "2"), ("b", "1"), ("b", "2")]
    assert all(d["profiles"] == docs[0]["profiles"] and d["count"] == 200 for d in docs)
    printed = capsys.readouterr().out
    assert printed.count("profiled 200 rows") == 1  # the file is profiled once
    assert "for a/1, a/2, b/1, b/2" in printed


def test_models_configured_differently_get_their_own_profile(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "models.toml"
    config.write_text('[models.b]\nwatch = ["income"]\n', encoding="utf-8")
    _, docs = build(
        tmp_path, "--model", "a", "--model", "b", "--version", "1", "--config", str(config)
    )
    profiled = {d["key"]: d["profiles"] for d in docs}
    assert profiled[("b", "1")] == {"income", "__prediction__"}
    assert "region" in profiled[("a", "1")]
    assert "not watched by the model's config" in capsys.readouterr().out


def test_the_event_id_and_timestamp_are_left_out_and_the_output_says_why(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, (doc,) = build(tmp_path, "--model", "a", "--version", "1", "--label-column", "label")
    assert not {"prediction_id", "timestamp", "label"} & doc["profiles"]
    printed = capsys.readouterr().out
    assert "prediction_id (the event id)" in printed
    assert "timestamp (the event timestamp)" in printed
    assert "label (the label column)" in printed
    assert "empty (no values)" in printed
    assert "numeric (" in printed and "income" in printed
    assert "region (3 categories)" in printed


def test_id_and_timestamp_columns_can_be_named(tmp_path: Path) -> None:
    columns = read_columns(events_file(tmp_path / "e.csv"))
    selected, left_out = select_columns(
        columns, spec(), id_column="id", timestamp_column="age", label_column="label"
    )
    assert left_out == {
        "id": "the event id",
        "age": "the event timestamp",
        "label": "the label column",
    }
    assert "prediction_id" in selected and "timestamp" in selected
    profile = build_profile("m", "1", columns, spec(), id_column="id", timestamp_column="age")
    assert "age" not in profile["profiles"] and "id" not in profile["profiles"]
