"""``streamdrift reference build``: a reference profile from a training or validation set.

The file (CSV, JSON Lines or Parquet) has one row per example and one column per feature;
a column named by ``prediction_column`` (default ``prediction``) is profiled as the model
output, and ``ignore`` columns (ids, labels …) are skipped. The profile is what a monitor
would have learned from those rows: the same type inference and the same statistics.

With a ``label_column`` the profile also carries the model's reference performance on
those rows (``performance``: the task and its metric window, computed exactly as the
online performance monitor computes a window): the degradation check then compares every
performance window with it instead of with the first labelled window.

It is published to the compacted references topic, keyed ``<model_id>/<version>``, so
every worker uses the same one; a monitor whose spec says ``reference.mode = "profile"``
takes it as its reference (see README, "References"); the performance monitors of that
version take its ``performance`` whatever their mode.
"""

from __future__ import annotations

import csv
import dataclasses
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from streamdrift import codec
from streamdrift.config.settings import ConfigError
from streamdrift.config.spec import MonitorSpec
from streamdrift.drift.columns import prediction_values
from streamdrift.drift.profiles import Profiles, fit_profiles, profiles_from_dict, profiles_to_dict
from streamdrift.drift.threshold_calibration import calibrate_profiles
from streamdrift.labels.calibration_profile import CalibrationProfile, build_calibration
from streamdrift.labels.labelled_metrics import (
    ReferencePerformance,
    infer_task_of,
    task_metrics,
    with_decided,
)
from streamdrift.labels.multiclass_calibration import (
    Calibration,
    build_multiclass_calibration,
    calibration_from_dict,
)
from streamdrift.labels.performance import ERROR_DETECTORS
from streamdrift.labels.performance_calibration import calibrate_errors
from streamdrift.records import PREDICTED_LABEL, PREDICTION, Scalar

FORMAT_VERSION = 1
PREDICTED_LABEL_COLUMN = "predicted_label"


def read_columns(path: Path) -> dict[str, list[Scalar]]:
    """A data file as columns; CSV cells are typed per column as JSON would carry them
    (see :func:`_csv_column`), empty ones are missing."""
    suffix = path.suffix.lower()
    if not path.exists():
        raise ConfigError(f"--from: file not found: {path}")
    if suffix == ".csv":
        with path.open(newline="") as f:
            rows = list(csv.DictReader(f))
        for line, row in enumerate(rows, start=2):
            if None in row:
                raise ConfigError(f"--from: {path} line {line}: more cells than the header")
        return {k: _csv_column(v) for k, v in _columns(rows).items()}
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


def _mixed(values: list[Scalar]) -> bool:
    """Numbers beside other values: the monitor will see the column as categorical."""
    types = {type(v) for v in values if v is not None}
    return bool(types & {_CsvInt, _CsvFloat}) and not types <= {_CsvInt, _CsvFloat}


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


_BOOLEAN_WORDS = {"true": True, "false": False}


def _csv_column(cells: list[Any]) -> list[Scalar]:
    """A CSV column typed as the same values arrive as JSON: a column whose every present
    cell is ``true`` or ``false`` (any case: ``True`` as pandas and Python write it) holds
    booleans, so its categories are "true"/"false" like JSON booleans'; otherwise cells
    that parse as numbers are numbers (remembering their text), the rest strings."""
    present = {c for c in cells if c}
    if present and {c.lower() for c in present} <= _BOOLEAN_WORDS.keys():
        return [_BOOLEAN_WORDS[c.lower()] if c else None for c in cells]
    return [_cell(c) for c in cells]


def _columns(rows: Sequence[Mapping[str, Any]]) -> dict[str, list[Scalar]]:
    names: dict[str, None] = {}
    for row in rows:
        names.update(dict.fromkeys(row))
    return {name: [row.get(name) for row in rows] for name in names}


ID_COLUMN = "prediction_id"
TIMESTAMP_COLUMN = "timestamp"


def select_columns(
    columns: dict[str, list[Scalar]],
    spec: MonitorSpec,
    *,
    prediction_column: str = "prediction",
    ignore: Sequence[str] = (),
    label_column: str | None = None,
    id_column: str | None = ID_COLUMN,
    timestamp_column: str | None = TIMESTAMP_COLUMN,
) -> tuple[dict[str, list[Scalar]], dict[str, str]]:
    """The columns to profile (the prediction under its pseudo-feature name) and the
    columns left out, each with why: the event's id and timestamp, the label, ``ignore``
    and what the spec does not watch."""
    selected: dict[str, list[Scalar]] = {}
    left_out: dict[str, str] = {}
    for name, values in columns.items():
        why = (
            "the event id" if name == id_column
            else "the event timestamp" if name == timestamp_column
            else "the label column" if name == label_column
            else "--ignore" if name in ignore
            else None if name in (prediction_column, PREDICTED_LABEL_COLUMN)
            else None if spec.watches(name)
            else "not watched by the model's config"
        )  # fmt: skip
        if why is not None:
            left_out[name] = why
            continue
        declared = spec.types.get(name)
        if declared == "categorical" or (declared is None and _mixed(values)):
            # a CSV cell keeps its text in a categorical column ("01234" stays "01234")
            values = [getattr(v, "text", v) for v in values]
        else:  # plain numbers: the monitor's type inference knows int and float only
            values = [_plain(v) for v in values]
        if name == prediction_column:  # class probabilities: their arg-max, as online
            selected[PREDICTION] = prediction_values(values)
        elif name == PREDICTED_LABEL_COLUMN:  # the class the model decided, as events name it
            selected[PREDICTED_LABEL] = values
        else:
            selected[name] = values
    return selected, left_out


def build_profile(
    model_id: str,
    version: str,
    columns: dict[str, list[Scalar]],
    spec: MonitorSpec,
    *,
    prediction_column: str = "prediction",
    ignore: Sequence[str] = (),
    label_column: str | None = None,
    id_column: str | None = ID_COLUMN,
    timestamp_column: str | None = TIMESTAMP_COLUMN,
) -> dict[str, Any]:
    """The reference profile document (JSON-able) of the rows in ``columns``; with a
    ``label_column``, also the model's performance on them (see :func:`build_performance`).
    The event's id and timestamp columns are left out (see :func:`select_columns`)."""
    count = max((len(v) for v in columns.values()), default=0)
    if count == 0:
        raise ConfigError("--from: the file has no rows")
    performance = None
    if label_column is not None:
        performance = build_performance(columns, spec, label_column, prediction_column)
    selected, _ = select_columns(
        columns,
        spec,
        prediction_column=prediction_column,
        ignore=ignore,
        label_column=label_column,
        id_column=id_column,
        timestamp_column=timestamp_column,
    )
    profiles = fit_profiles(selected, spec)
    if spec.threshold_mode == "reference":  # the file's row order calibrates the thresholds
        profiles = calibrate_profiles(profiles, selected, spec.calibration_window, spec.tests)
    doc = {
        "format": "streamdrift.reference",
        "version": FORMAT_VERSION,
        "model_id": model_id,
        "model_version": version,
        "count": count,
        "profiles": profiles_to_dict(profiles),
    }
    if performance is not None:
        doc["performance"] = performance
        if performance["task"] == "binary":
            calibration = build_score_calibration(
                columns, label_column or "", prediction_column, spec.performance.score_threshold
            )
            if calibration is not None:
                doc["calibration"] = calibration.to_dict()
        elif performance["task"] == "multiclass":
            multiclass = build_class_calibration(columns, label_column or "", prediction_column)
            if multiclass is not None:
                doc["calibration"] = multiclass.to_dict()
    return doc


def build_score_calibration(
    columns: dict[str, list[Scalar]],
    label_column: str,
    prediction_column: str,
    score_threshold: float,
) -> CalibrationProfile | None:
    """The isotonic calibration of a binary model's scores on the labelled rows, for
    label-free estimates (``labels/calibration_profile.py``); None below its minimum rows."""
    n = len(columns[label_column])
    decided = columns.get(PREDICTED_LABEL_COLUMN) or [None] * n
    return build_calibration(
        [_plain(v) for v in columns[label_column]],
        [_plain(v) for v in columns[prediction_column]],
        [_plain(v) for v in decided],
        score_threshold,
    )


def build_class_calibration(
    columns: dict[str, list[Scalar]], label_column: str, prediction_column: str
) -> Calibration | None:
    """The one-vs-rest calibration of a multiclass model's class probabilities (an object
    per row), ``labels/multiclass_calibration.py``; None below its minimum rows."""
    decided = columns.get(PREDICTED_LABEL_COLUMN)
    return build_multiclass_calibration(
        [_plain(v) for v in columns[label_column]],
        columns[prediction_column],
        None if decided is None else [_plain(v) for v in decided],
    )


def build_performance(
    columns: dict[str, list[Scalar]],
    spec: MonitorSpec,
    label_column: str,
    prediction_column: str = "prediction",
) -> dict[str, Any]:
    """The model's reference performance on the rows that have both a label and a
    prediction: ``{"task", "metrics", "rows", "rows_without_label"}``.

    The task is the spec's ``performance.task`` or inferred from those rows as the online
    monitor infers it; a ``predicted_label`` column is the class the model decided, as in
    events, and binary predictions without one are thresholded at
    ``performance.score_threshold``.
    A label or prediction that does not fit the task is an error (the profile would
    otherwise be built on a silently different set of rows).
    """
    for flag, name in (
        ("--label-column", label_column),
        ("--prediction-column", prediction_column),
    ):
        if name not in columns:
            known = ", ".join(sorted(columns))
            raise ConfigError(f"{flag}: no column {name!r} in the file; columns: {known}")
    if label_column == prediction_column:
        raise ConfigError("--label-column: must differ from --prediction-column")
    labels: list[Any] = []
    scores: list[Any] = []
    classes: list[Any] = []
    missing = 0
    n = len(columns[label_column])
    decided = columns.get(PREDICTED_LABEL_COLUMN) or [None] * n
    for label, pred, cls in zip(
        columns[label_column], columns[prediction_column], decided, strict=True
    ):
        if label is None or (pred is None and cls is None):
            missing += 1
            continue
        labels.append(_plain(label))
        scores.append(_plain(pred))
        classes.append(_plain(cls))
    preds = with_decided(scores, classes if classes.count(None) < len(classes) else None)
    if not labels:
        raise ConfigError(f"--label-column: no row has both {label_column!r} and a prediction")
    perf = spec.performance
    task = perf.task if perf.task != "auto" else infer_task_of(labels, preds)
    metrics, errors, rejected = task_metrics(task, labels, preds, perf.score_threshold)
    if rejected:
        raise ConfigError(
            f"--label-column: {rejected} of {len(labels)} rows have a label or prediction "
            f"that does not fit the task {task!r}"
        )
    reference = ReferencePerformance.of_window(task, metrics)
    if spec.threshold_mode == "reference":  # the rows in file order calibrate the checks
        calibration = calibrate_errors(errors, ERROR_DETECTORS, task == "regression")
        reference = dataclasses.replace(reference, calibration=calibration)
    return {
        **reference.to_dict(),
        "rows": metrics.count,
        "rows_without_label": missing,
    }


def for_targets(
    profile: Mapping[str, Any], targets: Sequence[tuple[str, str]]
) -> list[dict[str, Any]]:
    """The same profile document for each (model, version) of ``targets`` (one profiling
    of the file, published under several keys)."""
    return [{**profile, "model_id": m, "model_version": v} for m, v in targets]


def describe(
    profile: Mapping[str, Any],
    columns: Mapping[str, list[Scalar]],
    left_out: Mapping[str, str],
    prediction_column: str = "prediction",
) -> list[str]:
    """What ``reference build`` prints: the columns profiled, by type, and those left out
    and why."""
    numeric: list[str] = []
    categorical: list[str] = []
    for name, ref in profile["profiles"].items():
        label = prediction_column if name == PREDICTION else name
        if ref["type"] == "numeric":
            numeric.append(label)
        else:
            categorical.append(f"{label} ({len(ref['categories'])} categories)")
    profiled = {prediction_column if n == PREDICTION else n for n in profile["profiles"]}
    gone = [f"{name} ({why})" for name, why in left_out.items()]
    gone += [f"{n} (no values)" for n in columns if n not in left_out and n not in profiled]
    return [
        f"  numeric ({len(numeric)}): {', '.join(numeric) or '-'}",
        f"  categorical ({len(categorical)}): {', '.join(categorical) or '-'}",
        f"  left out ({len(gone)}): {', '.join(gone) or '-'}",
    ]


@dataclass(frozen=True, slots=True)
class ReferenceProfile:
    """A references-topic message, parsed."""

    model_id: str
    model_version: str
    profiles: Profiles
    count: int
    performance: ReferencePerformance | None = None
    calibration: Calibration | None = None


def parse_reference(raw: bytes) -> ReferenceProfile:
    """A references-topic message; ValueError if it is not a valid profile."""
    doc = codec.loads(raw)
    if not isinstance(doc, dict):
        raise ValueError("a reference profile must be a JSON object")
    if doc.get("format") != "streamdrift.reference" or doc.get("version") != FORMAT_VERSION:
        raise ValueError("not a streamdrift reference profile (format/version)")
    if not isinstance(doc.get("profiles"), dict):
        raise ValueError("not a streamdrift reference profile: 'profiles' must be an object")
    performance = doc.get("performance")
    return ReferenceProfile(
        str(doc["model_id"]),
        str(doc["model_version"]),
        profiles_from_dict(doc["profiles"]),
        int(doc["count"]),
        None if performance is None else ReferencePerformance.from_dict(performance),
        None if (cal := doc.get("calibration")) is None else calibration_from_dict(cal),
    )


def parse_profile(raw: bytes) -> tuple[str, str, Profiles, int]:
    """(model_id, version, profiles, count) of a references-topic message (without its
    performance: see :func:`parse_reference`)."""
    ref = parse_reference(raw)
    return ref.model_id, ref.model_version, ref.profiles, ref.count


def profile_key(model_id: str, version: str) -> bytes:
    return f"{model_id}/{version}".encode()
