"""The ``[experiments.<name>]`` tables of the model config file, validated on construction."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

METRICS = ("accuracy", "log_loss", "mae")
MODES = ("ab", "aa", "shadow")
EXPERIMENT_KEYS = frozenset(
    {
        "model_id",
        "split",
        "metric",
        "margin",
        "alpha",
        "mode",
        "report_every",
        "ttl",
        "srm_lateness",
    }
)


class ExperimentSpecError(ValueError):
    """An invalid experiment setting; the message names ``experiments.<name>.<key>``."""


@dataclass(frozen=True, slots=True)
class ExperimentSpec:
    """One experiment: two variants of ``model_id``, the first of ``split`` the champion.

    ``margin`` (δ ≥ 0, in units of the metric) is the non-inferiority margin; ``alpha``
    the error level of every decision (anytime-valid); ``report_every`` the labelled
    requests between two progress records (decisions are checked there); ``ttl`` the
    seconds of event time a prediction waits for its label (and a label for its prediction);
    ``srm_lateness`` the seconds of event time by which one variant's predictions may trail
    the other's (the sample-ratio test counts them in buckets that wide, see
    ``experiments/assignment.py``).
    """

    name: str
    split: Mapping[str, float] = field(default_factory=lambda: {"champion": 0.5, "challenger": 0.5})
    model_id: str | None = None  # None: any model whose predictions name this experiment
    metric: str = "accuracy"
    margin: float = 0.0
    alpha: float = 0.05
    mode: str = "ab"
    report_every: int = 1000
    ttl: float = 7 * 86400.0
    srm_lateness: float = 60.0

    def __post_init__(self) -> None:
        where = f"experiments.{self.name}"
        if len(self.split) != 2:
            raise ExperimentSpecError(
                f"{where}.split: exactly two variants, got {dict(self.split)}"
            )
        for variant, share in self.split.items():
            if isinstance(share, bool) or not isinstance(share, (int, float)) or not 0 < share < 1:
                raise ExperimentSpecError(
                    f"{where}.split.{variant}: a share in (0, 1), got {share!r}"
                )
        if not math.isclose(sum(self.split.values()), 1.0, abs_tol=1e-9):
            raise ExperimentSpecError(f"{where}.split: the shares must sum to 1")
        if self.metric not in METRICS:
            raise ExperimentSpecError(f"{where}.metric: one of {METRICS}, got {self.metric!r}")
        if self.mode not in MODES:
            raise ExperimentSpecError(f"{where}.mode: one of {MODES}, got {self.mode!r}")
        if not (math.isfinite(self.margin) and self.margin >= 0):
            raise ExperimentSpecError(f"{where}.margin: a number >= 0, got {self.margin!r}")
        if not 0 < self.alpha < 1:
            raise ExperimentSpecError(f"{where}.alpha: in (0, 1), got {self.alpha!r}")
        if self.report_every < 10:
            raise ExperimentSpecError(f"{where}.report_every: at least 10, got {self.report_every}")
        if not self.ttl > 0:
            raise ExperimentSpecError(f"{where}.ttl: > 0 seconds, got {self.ttl!r}")
        if not (math.isfinite(self.srm_lateness) and self.srm_lateness > 0):
            raise ExperimentSpecError(
                f"{where}.srm_lateness: > 0 seconds, got {self.srm_lateness!r}"
            )

    @property
    def champion(self) -> str:
        return next(iter(self.split))

    @property
    def challenger(self) -> str:
        return list(self.split)[1]

    @property
    def paired(self) -> bool:
        return self.mode == "shadow"

    @property
    def challenger_share(self) -> float:
        return float(self.split[self.challenger])


def experiments_from_mapping(doc: Any) -> dict[str, ExperimentSpec]:
    """The ``[experiments]`` table: name -> spec; unknown keys and bad values raise."""
    if not isinstance(doc, Mapping):
        raise ExperimentSpecError("experiments: expected a table [experiments.<name>]")
    out: dict[str, ExperimentSpec] = {}
    for name, table in doc.items():
        where = f"experiments.{name}"
        if not isinstance(table, Mapping):
            raise ExperimentSpecError(f"{where}: expected a table")
        unknown = set(table) - EXPERIMENT_KEYS
        if unknown:
            raise ExperimentSpecError(
                f"{where}.{sorted(unknown)[0]}: unknown setting; known: {sorted(EXPERIMENT_KEYS)}"
            )
        values = dict(table)
        if "split" in values and not isinstance(values["split"], Mapping):
            raise ExperimentSpecError(f"{where}.split: expected a table of variant = share")
        for key in ("margin", "alpha", "ttl", "report_every", "srm_lateness"):
            v = values.get(key, 0)
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                raise ExperimentSpecError(f"{where}.{key}: expected a number, got {v!r}")
        if isinstance(values.get("report_every"), float):
            values["report_every"] = int(values["report_every"])
        out[str(name)] = ExperimentSpec(name=str(name), **values)
    return out
