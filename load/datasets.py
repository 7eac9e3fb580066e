"""Real, public datasets for the evaluation, read from files that installed packages ship
(nothing is downloaded at run time), rows in their stored order, as numpy columns.

=================  =====================================================================
name               what it is
=================  =====================================================================
``tmy3``           Hourly typical-meteorological-year weather of Greensboro, NC (TMY3
                   station 723170, 8,760 rows, one year in calendar order: strong daily
                   and seasonal autocorrelation). Label: it rained in that hour
                   (``Lprecip depth > 0``, about 4 % of hours). Source: NREL's National
                   Solar Radiation Data Base, TMY3 (Wilcox and Marion, 2008,
                   NREL/TP-581-43156), a work of the U.S. government, public domain; the
                   file ships in **pvlib** (``pvlib/data/723170TYA.CSV``, BSD-3-Clause).
``trump_approval`` Daily approval polls of five agencies (1,001 days in date order,
                   strongly autocorrelated); label (regression target, not used here):
                   FiveThirtyEight's model. Source: FiveThirtyEight's Trump approval
                   data (CC BY 4.0), reshaped and shipped in **River**
                   (``river/datasets/trump_approval.csv.gz``, BSD-3-Clause).
``shuttle``        Statlog (Shuttle) sensor readings of NASA's space shuttle, as the ODDS
                   anomaly benchmark (49,097 rows, 9 numeric features, label: anomaly,
                   about 7 %). Its rows are stored shuffled (lag-1 autocorrelation of every
                   feature below 0.01): the i.i.d. real dataset. Source: UCI Machine
                   Learning Repository, dataset 148 (CC BY 4.0); the file ships in
                   **River** (``river/datasets/shuttle.csv.gz``).
=================  =====================================================================

:func:`prediction_events` turns rows into prediction batches and feedback events (replay
timestamps, one model id, the scores of a simple scikit-learn model trained on the
reference rows).
"""

from __future__ import annotations

import csv
import gzip
import importlib.util
import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from streamdrift.records import FeedbackEvent, PredictionBatch

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class Dataset:
    """Rows in stored order, column-wise. Numeric columns are float64 (NaN: missing);
    categorical ones are object arrays of str. ``label`` is 0/1 (binary) or None."""

    name: str
    columns: dict[str, npt.NDArray[Any]]
    types: dict[str, str]  # feature -> "numeric" | "categorical"
    label: npt.NDArray[np.int64] | None
    ordered: bool  # rows in time order (autocorrelated), not shuffled
    seconds_per_row: float  # the data's own time step (assumed where it has none)
    source: str
    licence: str

    def __len__(self) -> int:
        return len(next(iter(self.columns.values())))

    @property
    def numeric(self) -> list[str]:
        return [n for n, t in self.types.items() if t == "numeric"]

    def rows(self, index: npt.NDArray[np.int64] | slice) -> Dataset:
        """A subset of the rows (in the order ``index`` gives), same metadata."""
        label = None if self.label is None else self.label[index]
        return Dataset(
            self.name,
            {n: c[index] for n, c in self.columns.items()},
            self.types,
            label,
            self.ordered,
            self.seconds_per_row,
            self.source,
            self.licence,
        )

    def with_column(self, name: str, values: npt.NDArray[Any]) -> Dataset:
        """The same rows with column ``name`` replaced (an injected shift)."""
        return Dataset(
            self.name,
            {**self.columns, name: values},
            self.types,
            self.label,
            self.ordered,
            self.seconds_per_row,
            self.source,
            self.licence,
        )


# -- readers ------------------------------------------------------------------------------

TMY3_COLUMNS = {  # TMY3 header -> feature name (numeric unless in TMY3_CATEGORICAL)
    "GHI (W/m^2)": "ghi",
    "DNI (W/m^2)": "dni",
    "DHI (W/m^2)": "dhi",
    "TotCld (tenths)": "total_cloud",
    "OpqCld (tenths)": "opaque_cloud",
    "Dry-bulb (C)": "dry_bulb",
    "Dew-point (C)": "dew_point",
    "RHum (%)": "rel_humidity",
    "Pressure (mbar)": "pressure",
    "Wdir (degrees)": "wind_dir",
    "Wspd (m/s)": "wind_speed",
    "Hvis (m)": "visibility",
}
TMY3_CATEGORICAL = frozenset({"total_cloud"})
TMY3_RAIN = "Lprecip depth (mm)"


def read_tmy3(text: str) -> tuple[dict[str, npt.NDArray[Any]], npt.NDArray[np.int64]]:
    """TMY3 CSV text (a station line, a header line, one line per hour) -> feature
    columns and the rain label, in file order."""
    lines = text.splitlines()
    rows = list(csv.reader(lines[1:]))
    header, body = rows[0], rows[1:]
    columns: dict[str, npt.NDArray[Any]] = {}
    for title, name in TMY3_COLUMNS.items():
        j = header.index(title)
        raw = [r[j] for r in body]
        if name in TMY3_CATEGORICAL:
            columns[name] = np.array([str(int(float(v))) for v in raw], dtype=object)
        else:
            columns[name] = np.array(raw, dtype=np.float64)
    j = header.index(TMY3_RAIN)
    rain = (np.array([r[j] for r in body], dtype=np.float64) > 0).astype(np.int64)
    return columns, rain


def _numeric_csv(text: str) -> tuple[list[str], FloatArray]:
    rows = list(csv.reader(io.StringIO(text)))
    return rows[0], np.array(rows[1:], dtype=np.float64)


def _package_file(package: str, name: str) -> Path:
    """A data file inside an installed package, found without importing the package."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(f"{package} is not installed (pip install {package})")
    path = Path(next(iter(spec.submodule_search_locations))) / name
    if not path.is_file():
        raise FileNotFoundError(f"{package} does not ship {name}")
    return path


def _read_gzip(path: Path) -> str:
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return f.read()


def load_tmy3() -> Dataset:
    path = _package_file("pvlib", "data/723170TYA.CSV")
    columns, rain = read_tmy3(path.read_text(encoding="utf-8"))
    types = {n: "categorical" if n in TMY3_CATEGORICAL else "numeric" for n in columns}
    return Dataset(
        "tmy3",
        columns,
        types,
        rain,
        ordered=True,
        seconds_per_row=3600.0,
        source="NREL NSRDB TMY3, station 723170 (Greensboro, NC), shipped in pvlib",
        licence="public domain (U.S. government work); pvlib BSD-3-Clause",
    )


def load_trump_approval() -> Dataset:
    path = _package_file("river", "datasets/trump_approval.csv.gz")
    header, data = _numeric_csv(_read_gzip(path))
    features = ["gallup", "ipsos", "morning_consult", "rasmussen", "you_gov"]
    columns = {n: data[:, header.index(n)].copy() for n in features}
    return Dataset(
        "trump_approval",
        columns,
        dict.fromkeys(features, "numeric"),
        None,
        ordered=True,
        seconds_per_row=86400.0,
        source="FiveThirtyEight Trump approval ratings, shipped in River",
        licence="CC BY 4.0 (FiveThirtyEight); River BSD-3-Clause",
    )


def load_shuttle() -> Dataset:
    path = _package_file("river", "datasets/shuttle.csv.gz")
    header, data = _numeric_csv(_read_gzip(path))
    features = [h for h in header if h != "anomaly"]
    columns = {n: data[:, header.index(n)].copy() for n in features}
    return Dataset(
        "shuttle",
        columns,
        dict.fromkeys(features, "numeric"),
        data[:, header.index("anomaly")].astype(np.int64),
        ordered=False,
        seconds_per_row=1.0,  # assumed: it has no time
        source="UCI Statlog (Shuttle), ODDS version, shipped in River",
        licence="CC BY 4.0 (UCI); River BSD-3-Clause",
    )


LOADERS: dict[str, Callable[[], Dataset]] = {
    "tmy3": load_tmy3,
    "trump_approval": load_trump_approval,
    "shuttle": load_shuttle,
}


def load(name: str) -> Dataset:
    """The named dataset (see the module docstring), rows in stored order."""
    try:
        return LOADERS[name]()
    except KeyError:
        raise KeyError(f"unknown dataset {name!r}; known: {', '.join(LOADERS)}") from None


# -- a model and its events ---------------------------------------------------------------


def fit_scores(dataset: Dataset, train: slice | npt.NDArray[np.int64]) -> FloatArray:
    """Scores (probability of label 1) of every row from a logistic regression trained on
    the rows ``train`` (numeric features standardised, categorical ones one-hot)."""
    if dataset.label is None:
        raise ValueError(f"{dataset.name} has no label")
    from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped]
    from sklearn.preprocessing import OneHotEncoder, StandardScaler  # type: ignore[import-untyped]

    numeric = np.column_stack([dataset.columns[n] for n in dataset.numeric])
    numeric = np.nan_to_num(numeric)
    scaler = StandardScaler().fit(numeric[train])
    parts = [scaler.transform(numeric)]
    categorical = [n for n, t in dataset.types.items() if t == "categorical"]
    if categorical:
        cats = np.column_stack([dataset.columns[n] for n in categorical]).astype(str)
        encoder = OneHotEncoder(handle_unknown="ignore", sparse_output=False)
        parts.append(encoder.fit(cats[train]).transform(cats))
    x = np.hstack(parts)
    model = LogisticRegression(max_iter=1000).fit(x[train], dataset.label[train])
    scores: FloatArray = model.predict_proba(x)[:, 1].astype(np.float64)
    return scores


@dataclass(frozen=True, slots=True)
class Events:
    """One model's prediction batches and (optional) feedback, in event order."""

    batches: list[PredictionBatch]
    feedback: list[list[FeedbackEvent]]  # per batch, the labels of its rows
    timestamps: FloatArray


def prediction_events(
    dataset: Dataset,
    *,
    model_id: str = "model",
    version: str = "1",
    start: float = 1_700_000_000.0,
    spacing: float = 1.0,
    first_index: int = 0,
    scores: FloatArray | None = None,
    labels: npt.NDArray[np.int64] | None = None,
    label_delay: float = 0.5,
    batch_size: int = 1000,
) -> Events:
    """Row ``i`` becomes a prediction at ``start + (first_index + i) * spacing`` with id
    ``p<first_index + i>``; ``scores`` become the published prediction; ``labels`` (when
    given) one feedback event per row, ``label_delay`` seconds later."""
    n = len(dataset)
    stamps = start + (first_index + np.arange(n, dtype=np.float64)) * spacing
    batches: list[PredictionBatch] = []
    feedback: list[list[FeedbackEvent]] = []
    for lo in range(0, n, batch_size):
        hi = min(lo + batch_size, n)
        ids = [f"p{first_index + i}" for i in range(lo, hi)]
        ts = stamps[lo:hi].tolist()
        features = {name: _cells(col[lo:hi]) for name, col in dataset.columns.items()}
        preds = [] if scores is None else scores[lo:hi].tolist()
        batches.append(PredictionBatch(model_id, version, None, ids, ts, features, preds))
        if labels is None:
            feedback.append([])
        else:
            feedback.append(
                [
                    FeedbackEvent(model_id, pid, t + label_delay, int(y))
                    for pid, t, y in zip(ids, ts, labels[lo:hi].tolist(), strict=True)
                ]
            )
    return Events(batches, feedback, stamps)


def _cells(column: npt.NDArray[Any]) -> list[Any]:
    if column.dtype == object:
        return list(column.tolist())
    out: list[Any] = column.tolist()
    return [None if v != v else v for v in out] if np.isnan(column).any() else out
