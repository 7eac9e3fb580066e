"""One form of every value, whatever the input path: a reference profile built from a CSV,
JSON Lines or Parquet file and the same rows sent as single events, batch envelopes or
through the client compare equal (PSI 0 on an unchanged feature)."""

from __future__ import annotations

import asyncio
import csv
import json
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from streamdrift import codec
from streamdrift.client import PredictionClient
from streamdrift.config.spec import MonitorSpec, ReferenceSpec
from streamdrift.drift.columns import as_categories, category, coerce_numeric
from streamdrift.drift.monitor import DriftMonitor
from streamdrift.drift.profiles import Profiles, profiles_from_dict
from streamdrift.engine.references import build_profile, read_columns
from streamdrift.records import PREDICTION, PredictionEvent, to_batches
from streamdrift.stats import CategoricalReference, compare_categorical, compare_numeric

T0 = 1.7e9


def write_csv(path: Path, rows: list[dict[str, Any]]) -> Path:
    """As Python's csv module (and pandas' ``to_csv``) write them: ``True``, ``False``."""
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows([{k: "" if v is None else v for k, v in r.items()} for r in rows])
    return path


def events(rows: list[dict[str, Any]]) -> list[PredictionEvent]:
    return [
        PredictionEvent(
            "m",
            "1",
            f"p{i}",
            T0 + i,
            {k: v for k, v in r.items() if k != "prediction"},
            r.get("prediction"),
        )
        for i, r in enumerate(rows)
    ]


def test_a_csv_boolean_feature_and_the_same_rows_as_json_events_do_not_drift(
    tmp_path: Path,
) -> None:
    """The defect: ``True``/``False`` cells stayed strings while JSON booleans became
    "true"/"false", so the unchanged feature read PSI ≈ 17.7, Cohen's w 1.0, p = 0."""
    rng = np.random.default_rng(3)
    rows = [
        {"member": bool(rng.random() < 0.3), "income": round(float(rng.normal(5e4, 8e3)), 2)}
        for _ in range(3000)
    ]
    spec = MonitorSpec(reference=ReferenceSpec(mode="profile"))
    doc = build_profile("m", "1", read_columns(write_csv(tmp_path / "t.csv", rows)), spec)
    monitor = DriftMonitor("m", "1", None, spec)
    monitor.set_reference(profiles_from_dict(doc["profiles"]), doc["count"])
    decoded = [codec.decode_prediction(codec.encode_prediction(e)) for e in events(rows)]
    results = [r for b in to_batches(decoded) for r in monitor.observe(b)]
    assert len(results) == 3
    for result in results:
        member = {c.statistic: c for c in result.tests if c.feature == "member"}
        assert member["psi"].value < 0.01 and member["cohens_w"].value < 0.1, member
        assert not result.drifted, result.drifted


def test_category_is_the_json_form_of_a_value() -> None:
    values = [True, False, np.True_, 1, 2.5, np.int64(3), np.float64(0.5), "True", None]
    assert [category(v) for v in values] == [
        "true",
        "false",
        "true",
        "1",
        "2.5",
        "3",
        "0.5",
        "True",  # a string is the producer's own category: kept as it is
        None,
    ]
    assert as_categories(values) == [category(v) for v in values]


def test_csv_columns_are_typed_as_json_would_carry_them(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text(
        "flag,upper,mixed,zip,word\nTrue,TRUE,true,01234,x\nFalse,,1,A123,y\n,FALSE,maybe,00042,z\n"
    )
    columns = read_columns(path)
    assert columns["flag"] == [True, False, None]
    assert columns["upper"] == [True, None, False]
    # numbers beside other values make a categorical column: cells keep their text
    spec = MonitorSpec(reference=ReferenceSpec(size=50))
    profiles = profiles_from_dict(build_profile("m", "1", columns, spec)["profiles"])
    assert isinstance(profiles["zip"], CategoricalReference)
    assert set(profiles["zip"].categories) == {"01234", "A123", "00042"}
    assert isinstance(profiles["mixed"], CategoricalReference)
    assert set(profiles["mixed"].categories) == {"true", "1", "maybe"}


# -- every path, as a property ----------------------------------------------------------------

_WORDS = st.text("abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=6).filter(
    lambda s: s not in ("true", "false", "nan", "inf", "infinity")
)
_KINDS: dict[str, tuple[st.SearchStrategy[Any], Any]] = {
    "bool": (st.booleans(), pa.bool_()),
    "int": (st.integers(-(10**6), 10**6), pa.int64()),
    "float": (st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False), pa.float64()),
    "str": (st.sampled_from(["north", "south", "east"]) | _WORDS, pa.string()),
}


@st.composite
def tables(draw: st.DrawFn) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Rows of 1-4 features and a prediction, each column of one JSON type with nulls.
    (A string column of number-like text cannot survive CSV, which has no types.)"""
    n = draw(st.integers(50, 80))
    kinds = {f"f{i}": draw(st.sampled_from(sorted(_KINDS))) for i in range(draw(st.integers(1, 4)))}
    kinds["prediction"] = draw(st.sampled_from(["bool", "float", "str"]))
    columns = {
        name: draw(st.lists(_KINDS[kind][0] | st.none(), min_size=n, max_size=n))
        for name, kind in kinds.items()
    }
    rows = [{name: columns[name][i] for name in kinds} for i in range(n)]
    return rows, {name: _KINDS[kind][1] for name, kind in kinds.items()}


def as_numpy(value: Any) -> Any:
    """What a pandas row gives a model server: numpy scalars for typed columns."""
    if isinstance(value, bool):
        return np.bool_(value)
    if isinstance(value, int):
        return np.int64(value)
    if isinstance(value, float):
        return np.float64(value)
    return value


class _Producer:
    """Records what the client sends (the broker path is tested in tests/integration)."""

    def __init__(self) -> None:
        self.values: list[bytes] = []

    async def send(self, topic: str, value: bytes, key: bytes) -> asyncio.Future[None]:
        self.values.append(value)
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        future.set_result(None)
        return future

    async def flush(self) -> None:
        return None


def through_client(evs: list[PredictionEvent], *, envelopes: bool) -> list[bytes]:
    async def run() -> list[bytes]:
        client = PredictionClient("kafka://127.0.0.1:9", envelopes=envelopes, linger_ms=10**6)
        producer = _Producer()
        client._producer = producer
        for e in evs:
            numpy_row = {k: as_numpy(v) for k, v in e.features.items()}
            await client.publish(
                PredictionEvent(
                    e.model_id,
                    e.model_version,
                    e.prediction_id,
                    e.timestamp,
                    numpy_row,
                    as_numpy(e.prediction),
                )
            )
        await client.flush()
        return producer.values

    return asyncio.run(run())


def learned(raw: list[bytes], n: int) -> Profiles:
    """The first-events reference a monitor learns from these messages."""
    decoded = [codec.decode_prediction(value) for value in raw]
    monitor = DriftMonitor("m", "1", None, MonitorSpec(reference=ReferenceSpec(size=n)))
    for batch in to_batches(decoded):
        monitor.observe(batch)
    assert monitor.reference_count == n
    return monitor.profiles


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tables())
def test_every_input_path_gives_the_same_profile_and_psi_zero(
    tmp_path_factory: Any, table: tuple[list[dict[str, Any]], dict[str, Any]]
) -> None:
    rows, types = table
    n = len(rows)
    tmp = tmp_path_factory.mktemp("paths")
    spec = MonitorSpec(reference=ReferenceSpec(size=n))
    jsonl = tmp / "t.jsonl"
    jsonl.write_text("".join(json.dumps(r) + "\n" for r in rows))
    parquet = tmp / "t.parquet"
    pq.write_table(
        pa.table({k: pa.array([r[k] for r in rows], type=t) for k, t in types.items()}), parquet
    )
    from_files = {
        path.suffix: profiles_from_dict(
            build_profile("m", "1", read_columns(path), spec)["profiles"]
        )
        for path in (write_csv(tmp / "t.csv", rows), jsonl, parquet)
    }
    evs = events(rows)
    single = [codec.encode_prediction(e) for e in evs]
    envelopes = [codec.encode_prediction_batch(b) for b in to_batches(evs)]
    from_messages = {
        "events": learned(single, n),
        "envelopes": learned(envelopes, n),
        "client events": learned(through_client(evs, envelopes=False), n),
        "client envelopes": learned(through_client(evs, envelopes=True), n),
    }
    reference = from_files[".csv"]
    for path, profiles in {**from_files, **from_messages}.items():
        assert profiles == reference, path
    # the same rows as a window against the CSV reference: nothing moved
    window = to_batches([codec.decode_prediction(v) for v in single])[0]
    for name, ref in reference.items():
        values = window.predictions if name == PREDICTION else window.features[name]
        if isinstance(ref, CategoricalReference):
            psi = compare_categorical(ref, as_categories(values)).psi
        else:
            psi = compare_numeric(ref, coerce_numeric(values)).psi
        assert abs(psi) < 1e-9, (name, psi)
