"""What a drift monitor does for one model: windows, reference, tests, thresholds, detectors.

A :class:`MonitorSpec` is immutable and validated on construction; every error names the
setting (``window.size``, ``thresholds.psi`` …) so a bad config fails at start-up.

Tests (per feature, per closed window). With ``threshold_mode = "reference"`` (default)
each is judged against a threshold calibrated on the reference at the model's budget
(:mod:`streamdrift.drift.threshold_calibration`; ``min_effect`` an optional floor); with ``"fixed"``
each needs an effect (the defaults below) *and* significance:

========== ============================ ============================= =========
test       effect statistic              p-value                       default
========== ============================ ============================= =========
psi        PSI on reference-decile bins  KS (numeric) / chi² (categ.)  0.2
ks         KS distance D                 KS                            0.1
wasserstein W₁ / reference std           KS                            0.25
js         Jensen–Shannon distance       KS / chi²                     0.1
chi2       Cohen's w (categorical)       two-sample chi²               0.1
missing    |Δ share of missing values|   two-proportion z              0.1
========== ============================ ============================= =========

p-values of all tests of one window are corrected together (Benjamini–Hochberg at
``alpha``), so the number of features does not raise the false-alarm rate.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from streamdrift.config.budget import BudgetSpec
from streamdrift.config.experiments import (
    ExperimentSpec,
    ExperimentSpecError,
    experiments_from_mapping,
)
from streamdrift.config.performance import PerformanceSpec, PerformanceSpecError
from streamdrift.config.retrain import RetrainSpec, RetrainSpecError
from streamdrift.config.windows import WindowSpec

TESTS: Mapping[str, float] = MappingProxyType(
    {"psi": 0.2, "ks": 0.1, "wasserstein": 0.25, "js": 0.1, "chi2": 0.1, "missing": 0.1}
)
NUMERIC_TESTS = frozenset({"psi", "ks", "wasserstein", "js", "missing"})
CATEGORICAL_TESTS = frozenset({"psi", "js", "chi2", "missing"})
SEQUENTIAL = ("adwin", "page_hinkley", "kswin")
REFERENCE_MODES = ("first", "profile", "rolling")
THRESHOLD_MODES = ("reference", "fixed")
CALIBRATION_WINDOW = 1000  # events per calibration window when windows are by time
FEATURE_TYPES = ("numeric", "categorical")


class SpecError(ValueError):
    """An invalid monitor setting; the message starts with the setting's name."""


@dataclass(frozen=True, slots=True)
class ReferenceSpec:
    """Where a version's reference comes from.

    * ``first``: its first ``size`` events (default);
    * ``profile``: a profile built offline by ``streamdrift reference build`` and read from
      the references topic; until one arrives, ``first`` is used;
    * ``rolling``: window k is compared with window k − ``lag`` (seasonal data: hourly
      time windows with ``lag = 24`` compare each hour with the same hour of the previous
      day). Until ``lag`` windows exist, nothing is tested.

    ``profile`` (with ``mode = "profile"``): the profile published for another model or
    version, ``"<model_id>/<version>"``, instead of the version's own (one profile for many).
    """

    mode: str = "first"
    size: int = 2000
    lag: int = 24
    profile: str | None = None

    def __post_init__(self) -> None:
        if self.mode not in REFERENCE_MODES:
            raise SpecError(f"reference.mode: expected one of {REFERENCE_MODES}, got {self.mode!r}")
        if self.profile is not None:
            model, _, version = str(self.profile).rpartition("/")
            if not isinstance(self.profile, str) or not model or not version:
                raise SpecError(
                    f'reference.profile: expected "<model_id>/<version>", got {self.profile!r}'
                )
            if self.mode != "profile":
                raise SpecError('reference.profile: needs reference.mode = "profile"')
        if self.size < 50:
            raise SpecError(f"reference.size: at least 50 events, got {self.size}")
        if self.lag < 1:
            raise SpecError(f"reference.lag: at least 1 window, got {self.lag}")

    def source(self, model_id: str, version: str) -> tuple[str, str]:
        """The (model, version) whose published profile a monitor of ``model_id`` and
        ``version`` takes: its own, unless ``profile`` names another."""
        if self.profile is None:
            return model_id, version
        model, _, other = self.profile.rpartition("/")
        return model, other


@dataclass(frozen=True, slots=True)
class MonitorSpec:
    window: WindowSpec = field(default_factory=WindowSpec)
    reference: ReferenceSpec = field(default_factory=ReferenceSpec)
    tests: tuple[str, ...] = ("psi", "chi2", "missing")
    thresholds: Mapping[str, float] = field(default_factory=lambda: dict(TESTS))
    alpha: float = 0.01
    sequential: tuple[str, ...] = ()  # River detectors on each feature's per-window PSI series
    prediction_detectors: tuple[str, ...] = ()  # River detectors on the per-event score stream
    watch: tuple[str, ...] | None = None  # only these features (None: all)
    ignore: tuple[str, ...] = ()
    types: Mapping[str, str] = field(default_factory=dict)  # feature -> numeric|categorical
    monitor_prediction: bool = True
    min_window_count: int = 100
    max_features: int = 200
    max_segments: int = 100
    max_categories: int = 50
    n_bins: int = 10
    resolve_after: int = 3
    performance: PerformanceSpec = field(default_factory=PerformanceSpec)
    retrain: RetrainSpec = field(default_factory=RetrainSpec)
    # "reference": thresholds from the reference's own windows and the budget
    # (core.threshold_calibration);
    # "fixed": the effect gates ``thresholds`` and Benjamini–Hochberg at ``alpha``
    threshold_mode: str = "reference"
    min_effect: Mapping[str, float] = field(default_factory=dict)  # optional, per test
    budget: BudgetSpec = field(default_factory=BudgetSpec)

    def __post_init__(self) -> None:
        if self.threshold_mode not in THRESHOLD_MODES:
            raise SpecError(
                f"threshold_mode: one of {THRESHOLD_MODES}, got {self.threshold_mode!r}"
            )
        for name, value in self.min_effect.items():
            if name not in TESTS:
                raise SpecError(f"min_effect.{name}: unknown test; known: {', '.join(TESTS)}")
            if not value >= 0:
                raise SpecError(f"min_effect.{name}: must be >= 0, got {value}")
        for test in self.tests:
            if test not in TESTS:
                raise SpecError(f"tests: unknown test {test!r}; known: {', '.join(TESTS)}")
        for name, value in self.thresholds.items():
            if name not in TESTS:
                raise SpecError(f"thresholds.{name}: unknown test; known: {', '.join(TESTS)}")
            if not value > 0:
                raise SpecError(f"thresholds.{name}: must be > 0, got {value}")
        for name in (*self.sequential, *self.prediction_detectors):
            if name not in SEQUENTIAL:
                raise SpecError(f"detectors: unknown detector {name!r}; known: {SEQUENTIAL}")
        if not 0 < self.alpha < 1:
            raise SpecError(f"alpha: must be in (0, 1), got {self.alpha}")
        for feature, kind in self.types.items():
            if kind not in FEATURE_TYPES:
                raise SpecError(f"types.{feature}: expected numeric or categorical, got {kind!r}")
        for name in ("min_window_count", "max_features", "max_segments", "resolve_after"):
            if getattr(self, name) < 1:
                raise SpecError(f"{name}: must be at least 1, got {getattr(self, name)}")
        if not 2 <= self.n_bins <= 100:
            raise SpecError(f"n_bins: must be in 2..100, got {self.n_bins}")
        if not 2 <= self.max_categories <= 10_000:
            raise SpecError(f"max_categories: must be in 2..10000, got {self.max_categories}")

    def threshold(self, test: str) -> float:
        return self.thresholds.get(test, TESTS[test])

    @property
    def calibration_window(self) -> int:
        """Events per window of the reference's calibration: the monitored count, or
        ``CALIBRATION_WINDOW`` for time windows."""
        if self.window.kind == "count":
            return int(self.window.size)
        return CALIBRATION_WINDOW

    def watches(self, feature: str) -> bool:
        if feature in self.ignore:
            return False
        return self.watch is None or feature in self.watch


_SPEC_KEYS = frozenset(MonitorSpec.__dataclass_fields__)
_WINDOW_KEYS = frozenset({"kind", "size", "slide", "allowed_lateness"})
_REFERENCE_KEYS = frozenset({"mode", "size", "lag", "profile"})
_BUDGET_KEYS = frozenset(BudgetSpec.__dataclass_fields__)
_TUPLE_KEYS = frozenset({"tests", "sequential", "prediction_detectors", "watch", "ignore"})


def spec_from_mapping(doc: Mapping[str, Any], base: MonitorSpec, where: str) -> MonitorSpec:
    """Overlay a ``[defaults]`` or ``[models.<id>]`` table on ``base``.

    Unknown keys and bad values raise :class:`SpecError` naming ``where.key``.
    """
    if not isinstance(doc, Mapping):
        raise SpecError(f"{where}: expected a table")
    changes: dict[str, Any] = {}
    for key, value in doc.items():
        if key in _SPEC_KEYS:
            _check_type(f"{where}.{key}", getattr(base, key), value)
        if key not in _SPEC_KEYS:
            raise SpecError(
                f"{where}.{key}: unknown setting; known: {', '.join(sorted(_SPEC_KEYS))}"
            )
        if key == "window":
            changes[key] = _sub(WindowSpec, base.window, value, _WINDOW_KEYS, f"{where}.window")
        elif key == "reference":
            changes[key] = _sub(
                ReferenceSpec, base.reference, value, _REFERENCE_KEYS, f"{where}.reference"
            )
        elif key == "performance":
            changes[key] = _performance(base.performance, value, f"{where}.performance")
        elif key == "retrain":
            changes[key] = _retrain(base.retrain, value, where)
        elif key == "budget":
            changes[key] = _sub(BudgetSpec, base.budget, value, _BUDGET_KEYS, f"{where}.budget")
        elif key == "min_effect":
            if not isinstance(value, Mapping):
                raise SpecError(f"{where}.min_effect: expected a table of test = number")
            for test, number in value.items():
                _check_type(f"{where}.min_effect.{test}", 0.0, number)
            changes[key] = {**base.min_effect, **value}
        elif key == "thresholds":
            if not isinstance(value, Mapping):
                raise SpecError(f"{where}.thresholds: expected a table of test = number")
            for test, number in value.items():
                _check_type(f"{where}.thresholds.{test}", 0.0, number)
            changes[key] = {**base.thresholds, **value}
        elif key == "types":
            if not isinstance(value, Mapping):
                raise SpecError(f"{where}.types: expected a table of feature = type")
            changes[key] = {**base.types, **value}
        elif key in _TUPLE_KEYS:
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise SpecError(f"{where}.{key}: expected a list of strings")
            changes[key] = tuple(value)
        else:
            changes[key] = value
    try:
        return dataclasses.replace(base, **changes)
    except SpecError as exc:
        raise SpecError(f"{where}.{exc}") from None
    except (TypeError, ValueError) as exc:
        raise SpecError(f"{where}: {exc}") from None


def _check_type(where: str, default: Any, value: Any) -> None:
    """Numbers where the default is a number (booleans are not numbers here)."""
    if isinstance(default, bool) or default is None:
        return
    if isinstance(default, (int, float)) and (
        isinstance(value, bool) or not isinstance(value, (int, float))
    ):
        raise SpecError(f"{where}: expected a number, got {value!r}")
    integer = isinstance(default, int) and not isinstance(default, bool)
    if integer and isinstance(value, float) and not value.is_integer():
        raise SpecError(f"{where}: expected an integer, got {value!r}")


_PERFORMANCE_KEYS = frozenset(PerformanceSpec.__dataclass_fields__)


def _performance(base: PerformanceSpec, value: Any, where: str) -> PerformanceSpec:
    if not isinstance(value, Mapping):
        raise SpecError(f"{where}: expected a table")
    value = dict(value)
    if "unknown_model_feedback" in value and not where.startswith("defaults."):
        raise SpecError(
            f"{where}.unknown_model_feedback: only in [defaults.performance] (feedback for a "
            "configured model is never unknown)"
        )
    if "window" in value:
        value["window"] = _sub(
            WindowSpec, base.window, value["window"], _WINDOW_KEYS, f"{where}.window"
        )
    if "error_detectors" in value:
        value["error_detectors"] = tuple(value["error_detectors"])
    try:
        return _sub(PerformanceSpec, base, value, _PERFORMANCE_KEYS, where)  # type: ignore[no-any-return]
    except PerformanceSpecError as exc:
        raise SpecError(str(exc)) from None


_RETRAIN_KEYS = frozenset(RetrainSpec.__dataclass_fields__)


def _retrain(base: RetrainSpec, value: Any, where: str) -> RetrainSpec:
    if not isinstance(value, Mapping):
        raise SpecError(f"{where}.retrain: expected a table")
    unknown = set(value) - _RETRAIN_KEYS
    if unknown:
        raise SpecError(
            f"{where}.retrain.{sorted(unknown)[0]}: unknown setting; known: {sorted(_RETRAIN_KEYS)}"
        )
    for key in ("after", "drift_share"):
        if key in value:
            _check_type(f"{where}.retrain.{key}", 0.0, value[key])
    try:
        return dataclasses.replace(base, **value)
    except RetrainSpecError as exc:
        raise SpecError(f"{where}.{exc}") from None


def _sub(cls: type[Any], base: Any, value: Any, keys: frozenset[str], where: str) -> Any:
    if not isinstance(value, Mapping):
        raise SpecError(f"{where}: expected a table")
    unknown = set(value) - keys
    if unknown:
        raise SpecError(f"{where}.{sorted(unknown)[0]}: unknown setting; known: {sorted(keys)}")
    try:
        return dataclasses.replace(base, **value)
    except (TypeError, ValueError) as exc:
        message = str(exc)
        raise SpecError(message if message.startswith(where) else f"{where}: {message}") from None


@dataclass(frozen=True, slots=True)
class ModelSpecs:
    """The spec of every model: ``default`` unless ``models`` has one of its own."""

    default: MonitorSpec = field(default_factory=MonitorSpec)
    models: Mapping[str, MonitorSpec] = field(default_factory=dict)
    # champion/challenger experiments by name ([experiments.<name>], experiments/spec.py)
    experiments: Mapping[str, ExperimentSpec] = field(default_factory=dict)

    def for_model(self, model_id: str) -> MonitorSpec:
        return self.models.get(model_id, self.default)

    @classmethod
    def from_mapping(cls, doc: Mapping[str, Any], base: MonitorSpec) -> ModelSpecs:
        for name in ("defaults", "models"):
            if name in doc and not isinstance(doc[name], Mapping):
                raise SpecError(f"{name}: expected a table [{name}]")
        unknown = set(doc) - {"defaults", "models", "experiments"}
        if unknown:
            raise SpecError(
                f"{sorted(unknown)[0]}: unknown table; use [defaults], [models.<id>] and "
                "[experiments.<name>]"
            )
        try:
            experiments = experiments_from_mapping(doc.get("experiments", {}))
        except ExperimentSpecError as exc:
            raise SpecError(str(exc)) from None
        default = spec_from_mapping(doc.get("defaults", {}), base, "defaults")
        models = {
            str(model): spec_from_mapping(table, default, f"models.{model}")
            for model, table in doc.get("models", {}).items()
        }
        return cls(default, models, experiments)
