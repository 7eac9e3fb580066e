"""Scenario files (``load/scenarios/*.toml``): what a synthetic traffic stream looks like.

A scenario is read once and validated strictly: an unknown key, a missing one or an
impossible value raises :class:`ScenarioError` whose message starts with the file and the
key's path (``sudden.toml: drift[0].shfit: unknown key; did you mean 'shift'?``).

Layout (every table but ``[scenario]``, ``[[models]]`` and ``[features.*]`` is optional)::

    [scenario]
    name = "sudden"            # required; part of every prediction_id
    description = "…"
    seed = 42                  # default 0
    events = 20000             # default stream length
    horizon = 5000             # evaluation: a detection must come within this many events
                               # of a change point's start

    [timing]                   # event timestamps
    mode = "replay"            # "replay": start + i * spacing; "live": now + i / rate
    start = 1767225600.0       # replay start, unix seconds
    spacing = 0.01             # replay: seconds of event time per event
    rate = 1000.0              # live: events per second

    [[models]]                 # one table per model (or per family of replicas)
    id = "credit-risk"         # with replicas > 1 a format string: "fraud-{i:02d}"
    version = "7"
    weight = 1.0               # share of the traffic (normalised over models)
    replicas = 1
    segments = { "tenant-a" = 0.7, "tenant-b" = 0.3 }   # default: no segment

    [features.income]          # numeric
    type = "numeric"
    distribution = "normal"    # normal(mean, std) | lognormal(mean, sigma of the log)
                               # | uniform(low, high) | exponential(scale)
    mean = 52000.0
    std = 12000.0
    decimals = 2               # rounding of the published value (default 4)
    missing = 0.0              # share of missing (null) values

    [features.region]          # categorical
    type = "categorical"
    categories = ["north", "south", "east", "west"]
    probabilities = [0.4, 0.3, 0.2, 0.1]

    [prediction]               # the model: a logistic score of the features
    output = "score"           # "score" (a probability) or "class" (classes[score >= threshold])
    intercept = -1.0
    weights = { income = -0.8, region = { north = 0.3 } }   # numeric: per standard deviation
    noise = 0.0                # std of noise added to the logit
    classes = [0, 1]           # negative, positive
    threshold = 0.5
    decimals = 4

    [labels]                   # feedback: the ground truth arrives later
    coverage = 1.0             # share of predictions that get a label
    accuracy = 0.9             # P(label == predicted class)
    delay = { distribution = "exponential", mean = 30.0 }   # seconds of event time:
                               # fixed(value) | uniform(low, high) | exponential(mean)
                               # | lognormal(median, sigma)

    [[drift]]                  # drift episodes; ``at`` counts events of the whole stream
    kind = "sudden"            # see KINDS below
    feature = "income"
    at = 10000
    shift = 1.0                # numeric: mean shift in standard deviations of the feature
    # categorical: category = "north", points = 15.0   (its share moves by 15 points,
    #               the other categories shrink in proportion)
    models = ["credit-risk"]   # optional: only these models (default: all)
    segments = ["tenant-a"]    # optional: only these segments

Drift kinds: ``sudden`` (at), ``gradual`` (over ``over`` events the probability of drawing
from the new distribution rises linearly from 0 to 1), ``incremental`` (the mean, or the
share, moves linearly over ``over`` events), ``recurring`` (``shape`` sine: the shift
times sin(2π·phase); square: base and shifted alternate every half period; ``period`` in
events or ``period_seconds`` of event time), ``prediction`` (the model's logit moves by
``logit_shift``, optionally ramped over ``over``), ``accuracy_drop`` (label accuracy falls
to ``accuracy``, optionally ramped) and ``malformed`` (from ``at`` on, a ``share`` of the
messages are corrupted in one of ``reasons``).
"""

from __future__ import annotations

import difflib
import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DRIFT_KINDS = (
    "sudden",
    "gradual",
    "incremental",
    "recurring",
    "prediction",
    "accuracy_drop",
    "malformed",
)
FEATURE_KINDS = ("sudden", "gradual", "incremental", "recurring")
MALFORMED_REASONS = (
    "truncated",
    "garbage",
    "not_object",
    "wrong_type",
    "missing_field",
    "bad_value",
)
DISTRIBUTIONS = {
    "normal": ("mean", "std"),
    "lognormal": ("mean", "sigma"),
    "uniform": ("low", "high"),
    "exponential": ("scale",),
}
DELAYS = {
    "fixed": ("value",),
    "uniform": ("low", "high"),
    "exponential": ("mean",),
    "lognormal": ("median", "sigma"),
}
DEFAULT_START = 1_767_225_600.0  # 2026-01-01T00:00:00Z

_DRIFT_KEYS = {
    "sudden": ("feature", "at", "shift", "category", "points"),
    "gradual": ("feature", "at", "over", "shift", "category", "points"),
    "incremental": ("feature", "at", "over", "shift", "category", "points"),
    "recurring": (
        "feature",
        "at",
        "shape",
        "period",
        "period_seconds",
        "shift",
        "category",
        "points",
    ),
    "prediction": ("at", "over", "logit_shift"),
    "accuracy_drop": ("at", "over", "accuracy"),
    "malformed": ("at", "share", "reasons"),
}


class ScenarioError(ValueError):
    """An invalid scenario file; the message names the file and the key."""


# -- the scenario, as plain frozen data ---------------------------------------------------


@dataclass(frozen=True, slots=True)
class Timing:
    """Event timestamps: ``replay`` gives ``start + i * spacing``; ``live`` gives
    ``t0 + i / rate`` with ``t0`` the wall clock when generation starts (``rate=None``:
    the wall clock at which each chunk is generated)."""

    mode: str = "replay"
    start: float = DEFAULT_START
    spacing: float = 0.01
    rate: float | None = 1000.0


@dataclass(frozen=True, slots=True)
class Model:
    id: str
    version: str
    weight: float = 1.0
    segments: tuple[tuple[str | None, float], ...] = ((None, 1.0),)


@dataclass(frozen=True, slots=True)
class NumericFeature:
    name: str
    distribution: str
    params: Mapping[str, float]
    decimals: int = 4
    missing: float = 0.0

    @property
    def mean(self) -> float:
        """The mean of the base distribution."""
        p = self.params
        if self.distribution == "normal":
            return p["mean"]
        if self.distribution == "lognormal":
            return math.exp(p["mean"] + p["sigma"] ** 2 / 2)
        if self.distribution == "uniform":
            return (p["low"] + p["high"]) / 2
        return p["scale"]

    @property
    def std(self) -> float:
        """The standard deviation σ of the base distribution (the unit of ``shift``)."""
        p = self.params
        if self.distribution == "normal":
            return p["std"]
        if self.distribution == "lognormal":
            s2 = p["sigma"] ** 2
            return math.sqrt((math.exp(s2) - 1) * math.exp(2 * p["mean"] + s2))
        if self.distribution == "uniform":
            return (p["high"] - p["low"]) / math.sqrt(12)
        return p["scale"]


@dataclass(frozen=True, slots=True)
class CategoricalFeature:
    name: str
    categories: tuple[str, ...]
    probabilities: tuple[float, ...]
    missing: float = 0.0


Feature = NumericFeature | CategoricalFeature


@dataclass(frozen=True, slots=True)
class Prediction:
    output: str = "score"
    intercept: float = 0.0
    weights: Mapping[str, float] = field(default_factory=dict)  # numeric, per σ
    category_weights: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    noise: float = 0.0
    classes: tuple[Any, Any] = (0, 1)
    threshold: float = 0.5
    decimals: int = 4

    def depends_on(self, feature: str) -> bool:
        return bool(self.weights.get(feature)) or any(
            self.category_weights.get(feature, {}).values()
        )


@dataclass(frozen=True, slots=True)
class Delay:
    distribution: str
    params: Mapping[str, float]


@dataclass(frozen=True, slots=True)
class Labels:
    coverage: float = 1.0
    accuracy: float = 0.9
    delay: Delay = field(default_factory=lambda: Delay("fixed", {"value": 0.0}))


@dataclass(frozen=True, slots=True)
class Drift:
    """One drift episode; fields that do not apply to its ``kind`` keep their defaults."""

    kind: str
    at: int = 0
    feature: str | None = None
    over: int = 0
    shift: float | None = None  # numeric features, in σ
    category: str | None = None  # categorical features
    points: float | None = None  # percentage points
    shape: str = "sine"
    period: int | None = None  # events
    period_seconds: float | None = None
    logit_shift: float = 0.0
    accuracy: float | None = None
    share: float = 0.0
    reasons: tuple[str, ...] = MALFORMED_REASONS
    models: tuple[str, ...] | None = None
    segments: tuple[str, ...] | None = None

    @property
    def end(self) -> int | None:
        """Event index where the change is complete; ``None`` when it never settles."""
        if self.kind in ("recurring", "malformed"):
            return None
        return self.at + self.over


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    models: tuple[Model, ...]
    features: Mapping[str, Feature]
    prediction: Prediction = field(default_factory=Prediction)
    labels: Labels | None = None
    drifts: tuple[Drift, ...] = ()
    description: str = ""
    seed: int = 0
    events: int = 10_000
    horizon: int = 5_000
    timing: Timing = field(default_factory=Timing)
    path: str = ""


# -- reading ------------------------------------------------------------------------------


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate one scenario file."""
    path = Path(path)
    try:
        doc = tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise ScenarioError(f"{path}: no such scenario file") from None
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{path.name}: not valid TOML: {exc}") from None
    try:
        return parse_scenario(doc, path=str(path))
    except ScenarioError as exc:
        raise ScenarioError(f"{path.name}: {exc}") from None


def parse_scenario(doc: Mapping[str, Any], *, path: str = "") -> Scenario:
    """Validate a scenario document (the parsed TOML)."""
    top = _Table(doc, "")
    top.check(("scenario", "timing", "models", "features", "prediction", "labels", "drift"))
    head = _Table(top.table("scenario", required=True), "scenario")
    head.check(("name", "description", "seed", "events", "horizon"))
    features = _features(top.table("features", required=True))
    models = _models(top.get("models", list, required=True))
    prediction = _prediction(_Table(top.table("prediction"), "prediction"), features)
    labels = None
    if "labels" in doc:
        labels = _labels(_Table(top.table("labels"), "labels"), prediction)
    drift_docs = top.get("drift", list, default=[])
    drifts = tuple(
        _drift(_Table(_as_table(d, f"drift[{i}]"), f"drift[{i}]"), features, models, labels)
        for i, d in enumerate(drift_docs)
    )
    return Scenario(
        name=_identifier(head.get("name", str, required=True), "scenario.name"),
        description=head.get("description", str, default=""),
        seed=head.integer("seed", default=0, low=0),
        events=head.integer("events", default=10_000, low=1),
        horizon=head.integer("horizon", default=5_000, low=1),
        timing=_timing(_Table(top.table("timing"), "timing")),
        models=models,
        features=features,
        prediction=prediction,
        labels=labels,
        drifts=drifts,
        path=path,
    )


class _Table:
    """A TOML table being read: typed getters whose errors name ``where.key``."""

    def __init__(self, doc: Mapping[str, Any], where: str) -> None:
        self.doc = doc
        self.where = where

    def name(self, key: str) -> str:
        return f"{self.where}.{key}" if self.where else key

    def check(self, allowed: tuple[str, ...] | list[str]) -> None:
        for key in self.doc:
            if key not in allowed:
                close = difflib.get_close_matches(key, allowed, n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                raise ScenarioError(
                    f"{self.name(key)}: unknown key{hint} (known: {', '.join(allowed)})"
                )

    def get(self, key: str, kind: type, *, required: bool = False, default: Any = None) -> Any:
        if key not in self.doc:
            if required:
                raise ScenarioError(f"{self.name(key)}: required")
            return default
        value = self.doc[key]
        if kind is float and type(value) is int:
            return float(value)
        if not isinstance(value, kind) or (kind in (int, float) and isinstance(value, bool)):
            raise ScenarioError(
                f"{self.name(key)}: expected {_TYPE_NAMES.get(kind, kind.__name__)}, got {value!r}"
            )
        return value

    def table(self, key: str, *, required: bool = False) -> Mapping[str, Any]:
        return self.get(key, dict, required=required, default={})  # type: ignore[no-any-return]

    def number(
        self,
        key: str,
        *,
        default: float | None = None,
        required: bool = False,
        low: float | None = None,
        high: float | None = None,
        positive: bool = False,
    ) -> float:
        value = self.get(key, float, required=required or default is None, default=default)
        if not math.isfinite(value):
            raise ScenarioError(f"{self.name(key)}: must be finite, got {value}")
        if positive and not value > 0:
            raise ScenarioError(f"{self.name(key)}: must be > 0, got {value}")
        if low is not None and value < low:
            raise ScenarioError(f"{self.name(key)}: must be >= {low}, got {value}")
        if high is not None and value > high:
            raise ScenarioError(f"{self.name(key)}: must be <= {high}, got {value}")
        return float(value)

    def integer(self, key: str, *, default: int | None = None, low: int = 0) -> int:
        value = self.get(key, int, required=default is None, default=default)
        if value < low:
            raise ScenarioError(f"{self.name(key)}: must be >= {low}, got {value}")
        return int(value)

    def share(self, key: str, default: float | None = None) -> float:
        return self.number(key, default=default, low=0.0, high=1.0)

    def strings(self, key: str) -> tuple[str, ...] | None:
        value = self.get(key, list)
        if value is None:
            return None
        if not value or not all(isinstance(v, str) for v in value):
            raise ScenarioError(f"{self.name(key)}: expected a non-empty list of strings")
        return tuple(value)


_TYPE_NAMES = {
    float: "a number",
    int: "an integer",
    str: "a string",
    list: "a list",
    dict: "a table",
    bool: "true or false",
}


def _as_table(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise ScenarioError(f"{where}: expected a table, got {value!r}")
    return value


def _identifier(value: str, where: str) -> str:
    if not 0 < len(value) <= 100 or value != value.strip():
        raise ScenarioError(f"{where}: expected 1..100 characters without surrounding spaces")
    return value


def _timing(t: _Table) -> Timing:
    t.check(("mode", "start", "spacing", "rate"))
    mode = t.get("mode", str, default="replay")
    if mode not in ("replay", "live"):
        raise ScenarioError(f"{t.name('mode')}: expected 'replay' or 'live', got {mode!r}")
    return Timing(
        mode=mode,
        start=t.number("start", default=DEFAULT_START, low=0.0, high=1e11),
        spacing=t.number("spacing", default=0.01, positive=True),
        rate=t.number("rate", default=1000.0, positive=True),
    )


def _models(docs: list[Any]) -> tuple[Model, ...]:
    if not docs:
        raise ScenarioError("models: at least one [[models]] table is required")
    models: list[Model] = []
    for i, doc in enumerate(docs):
        t = _Table(_as_table(doc, f"models[{i}]"), f"models[{i}]")
        t.check(("id", "version", "weight", "replicas", "segments"))
        pattern = _identifier(t.get("id", str, required=True), t.name("id"))
        version = t.doc.get("version", "1")
        if isinstance(version, bool) or not isinstance(version, (str, int)):
            raise ScenarioError(f"{t.name('version')}: expected a string or an integer")
        weight = t.number("weight", default=1.0, positive=True)
        replicas = t.integer("replicas", default=1, low=1)
        segments: tuple[tuple[str | None, float], ...] = ((None, 1.0),)
        if "segments" in t.doc:
            seg = _Table(t.table("segments"), t.name("segments"))
            if not seg.doc:
                raise ScenarioError(f"{seg.where}: give at least one segment = weight")
            segments = tuple((name, seg.number(name, positive=True)) for name in seg.doc)
        if replicas > 1 and "{" not in pattern:
            raise ScenarioError(
                f"{t.name('id')}: with replicas = {replicas} the id must be a format string "
                "such as 'fraud-{i:02d}'"
            )
        for k in range(replicas):
            try:
                model_id = pattern.format(i=k) if "{" in pattern else pattern
            except (KeyError, IndexError, ValueError) as exc:
                raise ScenarioError(f"{t.name('id')}: bad format string: {exc}") from None
            models.append(Model(model_id, str(version), weight / replicas, segments))
    ids = [m.id for m in models]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise ScenarioError(f"models: duplicate model id {duplicates[0]!r}")
    return tuple(models)


def _features(doc: Mapping[str, Any]) -> dict[str, Feature]:
    if not doc:
        raise ScenarioError("features: at least one [features.<name>] table is required")
    features: dict[str, Feature] = {}
    for name, body in doc.items():
        t = _Table(_as_table(body, f"features.{name}"), f"features.{name}")
        kind = t.get("type", str, required=True)
        if kind == "numeric":
            distribution = t.get("distribution", str, default="normal")
            if distribution not in DISTRIBUTIONS:
                raise ScenarioError(
                    f"{t.name('distribution')}: expected one of {', '.join(DISTRIBUTIONS)}, "
                    f"got {distribution!r}"
                )
            names = DISTRIBUTIONS[distribution]
            t.check(("type", "distribution", *names, "decimals", "missing"))
            params = {p: t.number(p, required=True) for p in names}
            for p in ("std", "sigma", "scale"):
                if p in params and not params[p] > 0:
                    raise ScenarioError(f"{t.name(p)}: must be > 0, got {params[p]}")
            if distribution == "uniform" and not params["low"] < params["high"]:
                raise ScenarioError(f"{t.name('high')}: must be greater than low")
            features[name] = NumericFeature(
                name,
                distribution,
                params,
                decimals=t.integer("decimals", default=4, low=0),
                missing=t.share("missing", 0.0),
            )
        elif kind == "categorical":
            t.check(("type", "categories", "probabilities", "missing"))
            categories = t.strings("categories")
            if categories is None:
                raise ScenarioError(f"{t.name('categories')}: required")
            if len(set(categories)) != len(categories):
                raise ScenarioError(f"{t.name('categories')}: duplicate category")
            probs = t.get("probabilities", list)
            if probs is None:
                probabilities = tuple(1.0 / len(categories) for _ in categories)
            else:
                if len(probs) != len(categories) or not all(
                    type(p) in (int, float) and p >= 0 for p in probs
                ):
                    raise ScenarioError(
                        f"{t.name('probabilities')}: expected {len(categories)} numbers >= 0"
                    )
                if abs(sum(probs) - 1.0) > 1e-6:
                    raise ScenarioError(
                        f"{t.name('probabilities')}: must sum to 1, got {sum(probs):g}"
                    )
                probabilities = tuple(float(p) for p in probs)
            features[name] = CategoricalFeature(
                name, categories, probabilities, missing=t.share("missing", 0.0)
            )
        else:
            raise ScenarioError(f"{t.name('type')}: expected 'numeric' or 'categorical'")
    return features


def _prediction(t: _Table, features: Mapping[str, Feature]) -> Prediction:
    t.check(("output", "intercept", "weights", "noise", "classes", "threshold", "decimals"))
    output = t.get("output", str, default="score")
    if output not in ("score", "class"):
        raise ScenarioError(f"{t.name('output')}: expected 'score' or 'class', got {output!r}")
    weights: dict[str, float] = {}
    category_weights: dict[str, dict[str, float]] = {}
    w = _Table(t.table("weights"), t.name("weights"))
    for name, value in w.doc.items():
        feature = features.get(name)
        if feature is None:
            raise ScenarioError(f"{w.name(name)}: no such feature")
        if isinstance(feature, NumericFeature):
            weights[name] = w.number(name)
        else:
            cw = _Table(_as_table(value, w.name(name)), w.name(name))
            cw.check(feature.categories)
            category_weights[name] = {c: cw.number(c) for c in cw.doc}
    classes = t.get("classes", list, default=[0, 1])
    if len(classes) != 2 or classes[0] == classes[1]:
        raise ScenarioError(f"{t.name('classes')}: expected two different values [neg, pos]")
    if not all(type(c) in (int, str, bool) for c in classes):
        raise ScenarioError(f"{t.name('classes')}: classes are integers, strings or booleans")
    return Prediction(
        output=output,
        intercept=t.number("intercept", default=0.0),
        weights=weights,
        category_weights=category_weights,
        noise=t.number("noise", default=0.0, low=0.0),
        classes=(classes[0], classes[1]),
        threshold=t.number("threshold", default=0.5, low=0.0, high=1.0),
        decimals=t.integer("decimals", default=4, low=1),
    )


def _labels(t: _Table, prediction: Prediction) -> Labels:
    t.check(("coverage", "accuracy", "delay"))
    d = _Table(t.table("delay"), t.name("delay"))
    distribution = d.get("distribution", str, default="fixed")
    if distribution not in DELAYS:
        raise ScenarioError(
            f"{d.name('distribution')}: expected one of {', '.join(DELAYS)}, got {distribution!r}"
        )
    d.check(("distribution", *DELAYS[distribution]))
    params = {
        p: d.number(p, default=0.0 if distribution == "fixed" else None, low=0.0)
        for p in DELAYS[distribution]
    }
    if distribution == "uniform" and params["low"] > params["high"]:
        raise ScenarioError(f"{d.name('high')}: must be >= low")
    return Labels(
        coverage=t.share("coverage", 1.0),
        accuracy=t.share("accuracy", 0.9),
        delay=Delay(distribution, params),
    )


def _drift(
    t: _Table,
    features: Mapping[str, Feature],
    models: tuple[Model, ...],
    labels: Labels | None,
) -> Drift:
    kind = t.get("kind", str, required=True)
    if kind not in DRIFT_KINDS:
        raise ScenarioError(f"{t.name('kind')}: expected one of {', '.join(DRIFT_KINDS)}")
    t.check(("kind", *_DRIFT_KEYS[kind], "models", "segments"))
    restrict_models = t.strings("models")
    if restrict_models is not None:
        known = {m.id for m in models}
        for m in restrict_models:
            if m not in known:
                raise ScenarioError(f"{t.name('models')}: no model {m!r}")
    restrict_segments = t.strings("segments")
    if restrict_segments is not None:
        known_segments = {s for m in models for s, _ in m.segments}
        for s in restrict_segments:
            if s not in known_segments:
                raise ScenarioError(f"{t.name('segments')}: no segment {s!r}")
    ramp = kind in ("gradual", "incremental")
    values: dict[str, Any] = {
        "kind": kind,
        "at": t.integer("at", default=0 if kind in ("recurring", "malformed") else None),
        "over": t.integer("over", default=None if ramp else 0, low=1 if ramp else 0),
        "models": restrict_models,
        "segments": restrict_segments,
    }
    if kind in FEATURE_KINDS:
        values.update(_feature_change(t, kind, features))
    elif kind == "prediction":
        values["logit_shift"] = t.number("logit_shift", required=True)
    elif kind == "accuracy_drop":
        if labels is None:
            raise ScenarioError(f"{t.where}: accuracy_drop needs a [labels] table")
        values["accuracy"] = t.share("accuracy")
    else:  # malformed
        values["share"] = t.share("share")
        reasons = t.strings("reasons") or MALFORMED_REASONS
        for r in reasons:
            if r not in MALFORMED_REASONS:
                raise ScenarioError(
                    f"{t.name('reasons')}: unknown reason {r!r}; known: "
                    f"{', '.join(MALFORMED_REASONS)}"
                )
        values["reasons"] = reasons
    return Drift(**values)


def _feature_change(t: _Table, kind: str, features: Mapping[str, Feature]) -> dict[str, Any]:
    name = t.get("feature", str, required=True)
    feature = features.get(name)
    if feature is None:
        raise ScenarioError(f"{t.name('feature')}: no feature {name!r}")
    out: dict[str, Any] = {"feature": name}
    if kind == "recurring":
        shape = t.get("shape", str, default="sine")
        if shape not in ("sine", "square"):
            raise ScenarioError(f"{t.name('shape')}: expected 'sine' or 'square'")
        out["shape"] = shape
        if ("period" in t.doc) == ("period_seconds" in t.doc):
            raise ScenarioError(f"{t.where}: give exactly one of period, period_seconds")
        if "period" in t.doc:
            out["period"] = t.integer("period", low=2)
        else:
            out["period_seconds"] = t.number("period_seconds", positive=True)
    if isinstance(feature, NumericFeature):
        for key in ("category", "points"):
            if key in t.doc:
                raise ScenarioError(f"{t.name(key)}: {name!r} is numeric; use shift (in σ)")
        out["shift"] = t.number("shift", required=True)
        return out
    if "shift" in t.doc:
        raise ScenarioError(f"{t.name('shift')}: {name!r} is categorical; use category, points")
    category = t.get("category", str, required=True)
    if category not in feature.categories:
        raise ScenarioError(f"{t.name('category')}: {category!r} is not a category of {name!r}")
    points = t.number("points", required=True)
    p = feature.probabilities[feature.categories.index(category)]
    new = p + points / 100.0
    low = p - abs(points) / 100.0 if kind == "recurring" and out["shape"] == "sine" else new
    if not (min(new, low) >= 0.0 and max(new, low) <= 1.0) or (p == 1.0 and points):
        raise ScenarioError(
            f"{t.name('points')}: the share of {category!r} ({p:.0%}) cannot move by {points:g} "
            "points"
        )
    out["category"] = category
    out["points"] = points
    return out
