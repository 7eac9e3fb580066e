"""``streamdrift reference build`` without a broker: reading data files, building and
parsing reference profiles (reference.py).

The oracle for "the same type inference and statistics as the monitor" is a
:class:`DriftMonitor` whose first-events reference is made of the same rows.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from streamdrift import codec
from streamdrift.config.settings import ConfigError
from streamdrift.config.spec import MonitorSpec, ReferenceSpec
from streamdrift.drift.monitor import DriftMonitor
from streamdrift.drift.profiles import fit_profiles
from streamdrift.drift.threshold_calibration import calibrate_profiles
from streamdrift.engine.references import (
    FORMAT_VERSION,
    build_profile,
    parse_profile,
    profile_key,
    read_columns,
)
from streamdrift.records import PREDICTION, PredictionBatch
from streamdrift.stats import CategoricalReference, NumericReference

N = 200


def rows(n: int = N, seed: int = 0) -> list[dict[str, Any]]:
    """Training rows: numeric, categorical, boolean, mixed, sparse, empty, id and label."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        out.append(
            {
                "id": f"row-{i}",
                "income": round(float(rng.normal(50_000, 8_000)), 2),
                "age": int(rng.integers(18, 90)),
                "region": str(rng.choice(["north", "south", "east"])),
                "member": bool(rng.random() < 0.3),
                "code": int(rng.integers(1, 4)),  # a number the config may call categorical
                "mixed": 1 if i % 2 else "one",
                "sparse": None if i % 3 else float(i),
                "empty": None,
                "label": int(rng.random() < 0.2),
                "prediction": round(float(rng.random()), 4),
            }
        )
    return out


def as_columns(data: list[dict[str, Any]]) -> dict[str, list[Any]]:
    return {name: [r[name] for r in data] for name in data[0]}


def write_jsonl(path: Path, data: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in data), encoding="utf-8")
    return path


def spec(**kw: Any) -> MonitorSpec:
    return MonitorSpec(reference=ReferenceSpec(size=N), **kw)


def monitor_profiles(columns: dict[str, list[Any]], monitor_spec: MonitorSpec) -> Any:
    """What a monitor learns from the same rows as its first-events reference."""
    n = len(columns["id"])
    features = {k: v for k, v in columns.items() if k not in ("id", "label", "prediction")}
    batch = PredictionBatch(
        "m",
        "1",
        None,
        [str(x) for x in columns["id"]],
        [1.7e9 + i for i in range(n)],
        features,
        list(columns["prediction"]),
    )
    monitor = DriftMonitor("m", "1", None, monitor_spec)
    monitor.observe(batch)
    assert monitor.reference_count == n
    return monitor.profiles


# -- read_columns ---------------------------------------------------------------------------


def test_csv_numbers_are_parsed_and_empty_cells_are_missing(tmp_path: Path) -> None:
    path = tmp_path / "train.csv"
    path.write_text(
        "a,b,c,d\n1,x,2.5,\n-3,,1e3,y\n4.0,z,7,\n",
        encoding="utf-8",
    )
    columns = read_columns(path)
    assert columns == {
        "a": [1, -3, 4.0],
        "b": ["x", None, "z"],
        "c": [2.5, 1000.0, 7],
        "d": [None, "y", None],
    }
    # numbers (subclasses that remember their text, for columns declared categorical)
    assert [int if isinstance(v, int) else float for v in columns["a"]] == [int, int, float]


def test_csv_with_only_a_header_has_no_rows(tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_text("a,b\n", encoding="utf-8")
    assert read_columns(path) == {}
    with pytest.raises(ConfigError, match=r"^--from: .*no rows"):
        build_profile("m", "1", read_columns(path), spec())


def test_jsonl_rows_become_columns_with_missing_keys_as_none(tmp_path: Path) -> None:
    path = tmp_path / "train.jsonl"
    path.write_text('{"a": 1, "b": "x"}\n\n{"a": 2.5, "c": true}\n{"b": null}\n', encoding="utf-8")
    assert read_columns(path) == {
        "a": [1, 2.5, None],
        "b": ["x", None, None],
        "c": [None, True, None],
    }


@pytest.mark.parametrize("suffix", [".ndjson", ".json", ".JSONL"])
def test_other_json_lines_suffixes(tmp_path: Path, suffix: str) -> None:
    path = write_jsonl(tmp_path / f"train{suffix}", [{"a": 1}, {"a": 2}])
    assert read_columns(path) == {"a": [1, 2]}


@pytest.mark.parametrize("suffix", [".parquet", ".pq"])
def test_parquet_columns(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"train{suffix}"
    table = pa.table(
        {
            "x": pa.array([1.5, None, 3.0], type=pa.float64()),
            "n": pa.array([1, 2, 3], type=pa.int64()),
            "s": pa.array(["a", None, "c"], type=pa.string()),
            "flag": pa.array([True, False, None], type=pa.bool_()),
        }
    )
    pq.write_table(table, path)
    assert read_columns(path) == {
        "x": [1.5, None, 3.0],
        "n": [1, 2, 3],
        "s": ["a", None, "c"],
        "flag": [True, False, None],
    }


def test_the_three_formats_give_the_same_columns(tmp_path: Path) -> None:
    data = [{k: v for k, v in r.items() if k not in ("mixed", "empty")} for r in rows(30)]
    columns = as_columns(data)
    write_jsonl(tmp_path / "t.jsonl", data)
    pq.write_table(pa.table(columns), tmp_path / "t.parquet")
    with (tmp_path / "t.csv").open("w", encoding="utf-8") as f:
        f.write(",".join(columns) + "\n")
        for r in data:
            cells = ["" if v is None else str(v) for v in r.values()]  # True as Python writes it
            f.write(",".join(cells) + "\n")
    from_jsonl = read_columns(tmp_path / "t.jsonl")
    assert read_columns(tmp_path / "t.parquet") == from_jsonl == columns
    from_csv = read_columns(tmp_path / "t.csv")
    for name in ("income", "age", "code", "sparse", "label", "prediction", "region", "id"):
        assert from_csv[name] == columns[name], name
    assert from_csv["member"] == columns["member"]  # booleans, as JSON and Parquet carry them


def test_unsupported_suffix_is_a_config_error_naming_from(tmp_path: Path) -> None:
    path = tmp_path / "train.xlsx"
    path.write_bytes(b"PK")
    with pytest.raises(ConfigError, match=r"^--from: unsupported file type '\.xlsx'"):
        read_columns(path)


@pytest.mark.parametrize("name", ["missing.csv", "missing.parquet", "missing.txt"])
def test_missing_file_is_a_config_error_naming_from(tmp_path: Path, name: str) -> None:
    with pytest.raises(ConfigError, match=r"^--from: file not found: .*missing"):
        read_columns(tmp_path / name)


def test_malformed_jsonl_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"a": 1}\n{"a": \n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"^--from: "):
        read_columns(path)


def test_ragged_csv_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "ragged.csv"
    path.write_text("a,b\n1,2\n3,4,5\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"^--from: "):
        read_columns(path)


# -- build_profile -----------------------------------------------------------------------------


def test_profile_document() -> None:
    doc = build_profile("credit-risk", "7", as_columns(rows()), spec(), ignore=("id", "label"))
    assert doc["format"] == "streamdrift.reference"
    assert doc["version"] == FORMAT_VERSION
    assert (doc["model_id"], doc["model_version"], doc["count"]) == ("credit-risk", "7", N)
    json.dumps(doc, allow_nan=False)
    assert profile_key("credit-risk", "7") == b"credit-risk/7"


def test_prediction_column_is_profiled_as_the_prediction_and_ignored_columns_left_out() -> None:
    columns = as_columns(rows())
    doc = build_profile("m", "1", columns, spec(), ignore=("id", "label"))
    profiles = doc["profiles"]
    assert PREDICTION in profiles and "prediction" not in profiles
    assert profiles[PREDICTION]["type"] == "numeric"
    assert "id" not in profiles and "label" not in profiles
    assert "empty" not in profiles  # no value at all: nothing to profile
    assert set(profiles) == {
        "income",
        "age",
        "region",
        "member",
        "code",
        "mixed",
        "sparse",
        PREDICTION,
    }


def test_another_prediction_column() -> None:
    columns = as_columns(rows())
    columns["score"] = columns.pop("prediction")
    doc = build_profile(
        "m", "1", columns, spec(), prediction_column="score", ignore=("id", "label")
    )
    assert PREDICTION in doc["profiles"] and "score" not in doc["profiles"]
    plain = build_profile("m", "1", columns, spec(), ignore=("id", "label"))
    assert PREDICTION not in plain["profiles"] and "score" in plain["profiles"]


def test_ignoring_the_prediction_column_leaves_it_out() -> None:
    doc = build_profile("m", "1", as_columns(rows()), spec(), ignore=("prediction",))
    assert PREDICTION not in doc["profiles"]


def test_watch_and_ignore_of_the_spec_are_honoured() -> None:
    columns = as_columns(rows())
    watched = build_profile("m", "1", columns, spec(watch=("income", "region")))
    assert set(watched["profiles"]) == {"income", "region", PREDICTION}
    ignored = build_profile(
        "m", "1", columns, spec(ignore=("income", "id", "label")), ignore=("mixed",)
    )
    assert set(ignored["profiles"]) == {
        "age",
        "region",
        "member",
        "code",
        "sparse",
        PREDICTION,
    }


def test_types_and_statistics_are_those_the_monitor_learns(tmp_path: Path) -> None:
    data = rows()
    path = write_jsonl(tmp_path / "train.jsonl", data)
    monitor_spec = spec(types={"code": "categorical", "mixed": "numeric"})
    doc = build_profile("m", "1", read_columns(path), monitor_spec, ignore=("id", "label"))
    _, _, profiles, count = parse_profile(codec.dumps(doc))
    assert count == N
    expected = monitor_profiles(as_columns(data), monitor_spec)
    assert set(profiles) == set(expected)
    for name, ref in expected.items():
        assert profiles[name] == ref, name
    kinds = {name: type(ref).__name__ for name, ref in profiles.items()}
    assert kinds == {
        "income": "NumericReference",
        "age": "NumericReference",
        "sparse": "NumericReference",
        "mixed": "NumericReference",  # declared numeric: the strings count as missing
        "region": "CategoricalReference",
        "member": "CategoricalReference",
        "code": "CategoricalReference",  # declared categorical
        PREDICTION: "NumericReference",
    }
    assert profiles["sparse"].n_missing == N - math.ceil(N / 3)
    assert profiles["mixed"].n_missing == N // 2


def test_undeclared_mixed_column_is_categorical() -> None:
    doc = build_profile("m", "1", as_columns(rows()), spec())
    assert doc["profiles"]["mixed"]["type"] == "categorical"
    assert doc["profiles"]["code"]["type"] == "numeric"


def test_csv_column_declared_categorical_keeps_its_text(tmp_path: Path) -> None:
    path = tmp_path / "train.csv"
    path.write_text("zip_code,x\n" + "".join(f"0{1000 + i % 5},{i}\n" for i in range(60)))
    monitor_spec = spec(types={"zip_code": "categorical"})
    doc = build_profile("m", "1", read_columns(path), monitor_spec)
    _, _, profiles, _ = parse_profile(codec.dumps(doc))
    ref = profiles["zip_code"]
    assert isinstance(ref, CategoricalReference)
    assert set(ref.categories) == {"01000", "01001", "01002", "01003", "01004"}


# -- parse_profile ------------------------------------------------------------------------------


def test_parse_profile_round_trip() -> None:
    columns = as_columns(rows())
    monitor_spec = spec()
    doc = build_profile("credit-risk", "7", columns, monitor_spec, ignore=("id", "label"))
    model, version, profiles, count = parse_profile(codec.dumps(doc))
    assert (model, version, count) == ("credit-risk", "7", N)
    selected = {k: v for k, v in columns.items() if k not in ("id", "label", "prediction")}
    selected[PREDICTION] = columns["prediction"]
    fitted = fit_profiles(selected, monitor_spec)  # calibrated on the rows in file order
    window, tests = monitor_spec.calibration_window, monitor_spec.tests
    assert profiles == calibrate_profiles(fitted, selected, window, tests)
    assert all(ref.calibration for ref in profiles.values())
    assert isinstance(profiles["income"], NumericReference)
    assert isinstance(profiles["region"], CategoricalReference)


@pytest.mark.parametrize(
    "doc",
    [
        {"format": "something-else", "version": 1},
        {"version": 1, "model_id": "m"},
        {"format": "streamdrift.reference", "version": 2, "model_id": "m"},
        {"format": "streamdrift.reference"},
    ],
)
def test_a_document_that_is_not_a_profile_is_rejected(doc: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="not a streamdrift reference profile"):
        parse_profile(codec.dumps(doc))


def test_invalid_json_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        parse_profile(b"{not json")


@pytest.mark.parametrize("raw", [b"[1, 2]", b"null", b'"profile"'])
def test_a_json_value_that_is_not_an_object_is_a_value_error(raw: bytes) -> None:
    with pytest.raises(ValueError):
        parse_profile(raw)
