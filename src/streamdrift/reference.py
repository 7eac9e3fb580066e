"""``streamdrift reference build``: a reference profile from a training or validation set.

The file (CSV, JSON Lines or Parquet) has one row per example and one column per feature;
a column named by ``prediction_column`` (default ``prediction``) is profiled as the model
output, and ``ignore`` columns (ids, labels …) are skipped. The profile is what a monitor
would have learned from those rows: the same type inference and the same statistics.

It is published to the compacted references topic, keyed ``<model_id>/<version>``, so
every worker uses the same one; a monitor whose spec says ``reference.mode = "profile"``
takes it as its reference (see README, "References").
"""

from __future__ import annotations

import csv
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from streamdrift import codec
from streamdrift.config import ConfigError
from streamdrift.core.monitor import Profiles, fit_profiles, profiles_from_dict, profiles_to_dict
from streamdrift.core.spec import MonitorSpec
from streamdrift.records import PREDICTION, Scalar

FORMAT_VERSION = 1


def read_columns(path: Path) -> dict[str, list[Scalar]]:
    """A data file as columns; CSV cells that parse as numbers become numbers, empty ones
    missing."""
    suffix = path.suffix.lower()
    if not path.exists():
        raise ConfigError(f"--from: file not found: {path}")
    if suffix == ".csv":
        with path.open(newline="") as f:
            rows = list(csv.DictReader(f))
        for line, row in enumerate(rows, start=2):
            if None in row:
                raise ConfigError(f"--from: {path} line {line}: more cells than the header")
        return _columns([{k: _cell(v) for k, v in row.items()} for row in rows])
    if suffix in (".jsonl", ".ndjson", ".json"):
        rows = []
        with path.open() as f:
            for line, text in enumerate(f, start=1):
                if not text.strip():
                    continue
                try:
                    row = json.loads(text)
                except json.JSONDecodeError as exc:
                    raise ConfigError(
                        f"--from: {path} line {line}: not valid JSON ({exc})"
                    ) from None
                if not isinstance(row, dict):
                    raise ConfigError(f"--from: {path} line {line}: expected a JSON object")
                rows.append(row)
        return _columns(rows)
    if suffix in (".parquet", ".pq"):
        try:
            import pyarrow.parquet as pq
        except ImportError:
            raise ConfigError(
                "--from: reading Parquet needs pyarrow (pip install 'streamdrift[parquet]')"
            ) from None
        table = pq.read_table(path)
        return {name: table.column(name).to_pylist() for name in table.column_names}
    raise ConfigError(f"--from: unsupported file type {suffix!r}; use .csv, .jsonl or .parquet")


class _CsvInt(int):
    """A CSV cell read as a number that remembers its text (``01234`` stays a category
    when the spec declares the column categorical)."""

    text: str


class _CsvFloat(float):
    text: str


def _plain(value: Scalar) -> Scalar:
    if isinstance(value, _CsvInt):
        return int(value)
    if isinstance(value, _CsvFloat):
        return float(value)
    return value


def _cell(text: str | None) -> Scalar:
    if text is None or text == "":
        return None
    try:
        number = float(text)
    except ValueError:
        return text
    whole = number.is_integer() and "." not in text and "e" not in text.lower()
    cell: _CsvInt | _CsvFloat = _CsvInt(int(number)) if whole else _CsvFloat(number)
    cell.text = text
    return cell


def _columns(rows: Sequence[Mapping[str, Any]]) -> dict[str, list[Scalar]]:
    names: dict[str, None] = {}
    for row in rows:
        names.update(dict.fromkeys(row))
    return {name: [row.get(name) for row in rows] for name in names}


def build_profile(
    model_id: str,
    version: str,
    columns: dict[str, list[Scalar]],
    spec: MonitorSpec,
    *,
    prediction_column: str = "prediction",
    ignore: Sequence[str] = (),
) -> dict[str, Any]:
    """The reference profile document (JSON-able) of the rows in ``columns``."""
    count = max((len(v) for v in columns.values()), default=0)
    if count == 0:
        raise ConfigError("--from: the file has no rows")
    selected: dict[str, list[Scalar]] = {}
    for name, values in columns.items():
        if name in ignore:
            continue
        if spec.types.get(name) == "categorical":
            values = [getattr(v, "text", v) for v in values]
        else:  # plain numbers: the monitor's type inference knows int and float only
            values = [_plain(v) for v in values]
        if name == prediction_column:
            selected[PREDICTION] = values
        elif spec.watches(name):
            selected[name] = values
    profiles = fit_profiles(selected, spec)
    return {
        "format": "streamdrift.reference",
        "version": FORMAT_VERSION,
        "model_id": model_id,
        "model_version": version,
        "count": count,
        "profiles": profiles_to_dict(profiles),
    }


def parse_profile(raw: bytes) -> tuple[str, str, Profiles, int]:
    """(model_id, version, profiles, count) of a references-topic message."""
    doc = codec.loads(raw)
    if not isinstance(doc, dict):
        raise ValueError("a reference profile must be a JSON object")
    if doc.get("format") != "streamdrift.reference" or doc.get("version") != FORMAT_VERSION:
        raise ValueError("not a streamdrift reference profile (format/version)")
    if not isinstance(doc.get("profiles"), dict):
        raise ValueError("not a streamdrift reference profile: 'profiles' must be an object")
    return (
        str(doc["model_id"]),
        str(doc["model_version"]),
        profiles_from_dict(doc["profiles"]),
        int(doc["count"]),
    )


def profile_key(model_id: str, version: str) -> bytes:
    return f"{model_id}/{version}".encode()


async def publish(
    bootstrap: str, topic: str, profile: Mapping[str, Any], options: Mapping[str, Any]
) -> None:
    from aiokafka import AIOKafkaProducer

    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, acks="all", max_request_size=16 * 1024 * 1024, **options
    )
    await producer.start()
    try:
        await producer.send_and_wait(
            topic,
            codec.dumps(profile),
            key=profile_key(profile["model_id"], profile["model_version"]),
        )
    finally:
        await producer.stop()
