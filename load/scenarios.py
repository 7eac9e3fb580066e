"""A seeded, reproducible generator of synthetic prediction traffic.

>>> from load.scenarios import TrafficGenerator, load_scenario
>>> gen = TrafficGenerator(load_scenario("load/scenarios/sudden.toml"))
>>> chunk = next(gen.chunks(1000))
>>> len(chunk), sum(len(b) for b in chunk.batches), gen.produced
(1000, 1000, 1000)
>>> [(c.kind, c.feature, c.start) for c in gen.change_points]
[('sudden', 'income', 10000), ('sudden', 'region', 15000)]

Each :class:`Chunk` holds ``chunk_size`` consecutive events of the whole stream (all
models): column-wise :class:`~streamdrift.records.PredictionBatch` objects, one per
(model, version, segment), the raw per-event arrays (for evaluation), the feedback that
has become due by the chunk's last timestamp, and the malformed raw messages.

Determinism: for a scenario, a seed, a timing and a chunk size, the output is the same on
every run (live timestamps aside). Every random stream has its own generator, derived from
the seed: each feature's values, the routing to models and segments, the prediction noise,
the labels, each gradual episode's switches and the corruptions; so adding a feature does
not change the values of the others.

Event ``i`` (0-based, counted over the whole stream) has the prediction id
``"<scenario>-<seed>-<i>"``. Drift episodes start at an event index (``at``); a model or
segment restriction leaves the other rows untouched.
"""

from __future__ import annotations

import math
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from load.malformed import corrupt
from load.spec import (
    FEATURE_KINDS,
    CategoricalFeature,
    Drift,
    NumericFeature,
    Scenario,
    ScenarioError,
    Timing,
    load_scenario,
)
from streamdrift.records import PREDICTION, PredictionBatch

__all__ = [
    "PREDICTION",
    "ChangePoint",
    "Chunk",
    "FeedbackBatch",
    "MalformedMessage",
    "ScenarioError",
    "Timing",
    "TrafficGenerator",
    "load_scenario",
]

FloatArray = npt.NDArray[np.float64]
ObjectArray = npt.NDArray[np.object_]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class ChangePoint:
    """Ground truth: where a drift episode starts, and which monitored streams it moves.

    ``streams`` names features and :data:`PREDICTION` (the model output: a feature the
    prediction depends on moves it too). ``end`` is where a ramp is complete; ``None``
    for recurring and malformed episodes, which never settle.
    """

    kind: str
    start: int
    end: int | None
    feature: str | None
    streams: tuple[str, ...]
    models: tuple[str, ...] | None
    segments: tuple[str, ...] | None
    description: str


@dataclass(slots=True)
class FeedbackBatch:
    """Labels, column-wise, in timestamp order (ties: prediction order)."""

    model_ids: list[str]
    prediction_ids: list[str]
    timestamps: FloatArray  # when the label is observed: prediction timestamp + delay
    labels: list[Any]
    prediction_timestamps: FloatArray
    indices: IntArray  # event index of the labelled prediction

    def __len__(self) -> int:
        return len(self.prediction_ids)

    def to_dicts(self) -> list[dict[str, Any]]:
        """Feedback events as the feedback topic carries them."""
        return [
            {"model_id": m, "prediction_id": p, "timestamp": t, "label": label}
            for m, p, t, label in zip(
                self.model_ids,
                self.prediction_ids,
                self.timestamps.tolist(),
                self.labels,
                strict=True,
            )
        ]


@dataclass(frozen=True, slots=True)
class MalformedMessage:
    """A corrupted prediction message, in place of event ``index``."""

    index: int
    key: str  # the model_id, as the Kafka key
    value: bytes
    reason: str


@dataclass(slots=True)
class Chunk:
    """Consecutive events ``start .. start + len - 1`` of the stream."""

    start: int
    timestamps: FloatArray
    model_ids: ObjectArray
    segments: ObjectArray
    values: dict[str, npt.NDArray[Any]]  # numeric: float64, NaN missing; else object, None
    scores: FloatArray  # the model's score (probability of the positive class)
    predictions: ObjectArray  # the published prediction (score or class)
    valid: npt.NDArray[np.bool_]  # False where the message is malformed
    batches: list[PredictionBatch]  # the valid events, one batch per (model, version, segment)
    rows: list[IntArray]  # per batch, the event indices of its rows
    feedback: FeedbackBatch  # labels due by this chunk's last timestamp
    malformed: list[MalformedMessage]

    def __len__(self) -> int:
        return len(self.timestamps)

    @property
    def indices(self) -> IntArray:
        return np.arange(self.start, self.start + len(self), dtype=np.int64)


class TrafficGenerator:
    """Generates a scenario's stream chunk by chunk; see the module docstring.

    ``timing`` replaces the scenario's ``[timing]``; ``malformed=False`` ignores its
    malformed episodes (every message valid). ``clock`` is read for live timestamps only.
    """

    def __init__(
        self,
        scenario: Scenario,
        *,
        seed: int | None = None,
        timing: Timing | None = None,
        chunk_size: int = 1000,
        malformed: bool = True,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if chunk_size < 1:
            raise ValueError("chunk_size must be at least 1")
        self.scenario = scenario
        self.seed = scenario.seed if seed is None else seed
        self.timing = timing or scenario.timing
        self.chunk_size = chunk_size
        self.malformed = malformed
        self._clock = clock
        self._t0 = clock() if self.timing.mode == "live" else self.timing.start
        self._last_stamp = self._t0
        self.produced = 0
        self._prefix = f"{scenario.name}-{self.seed}-"

        route_model: list[int] = []
        route_segment: list[str | None] = []
        route_p: list[float] = []
        total = sum(m.weight for m in scenario.models)
        for k, model in enumerate(scenario.models):
            seg_total = sum(w for _, w in model.segments)
            for segment, w in model.segments:
                route_model.append(k)
                route_segment.append(segment)
                route_p.append(model.weight / total * w / seg_total)
        self._route_model = np.array(route_model, dtype=np.int64)
        self._route_model_id = np.array([m.id for m in scenario.models], dtype=object)[
            self._route_model
        ]
        self._route_version = [scenario.models[k].version for k in route_model]
        self._route_segment = np.array(route_segment, dtype=object)
        cdf = np.cumsum(route_p)
        self._route_cdf = cdf / cdf[-1]

        def rng(*key: int) -> np.random.Generator:
            return np.random.default_rng([self.seed, *key])

        self._rng_route = rng(0, 1)
        self._rng_noise = rng(0, 2)
        self._rng_labels = rng(0, 3)
        self._rng_malformed = rng(0, 4)
        self._rng_feature = {name: rng(1, zlib.crc32(name.encode())) for name in scenario.features}
        self._rng_episode = [rng(2, k) for k in range(len(scenario.drifts))]
        self._episode_routes = [self._allowed_routes(d) for d in scenario.drifts]
        self._pending: list[dict[str, npt.NDArray[Any]]] = []

    # -- public -------------------------------------------------------------------------

    @property
    def change_points(self) -> list[ChangePoint]:
        """The ground truth of the scenario's drift episodes, in file order."""
        out = []
        prediction = self.scenario.prediction
        for d in self.scenario.drifts:
            streams: tuple[str, ...] = ()
            if d.kind in FEATURE_KINDS:
                assert d.feature is not None
                streams = (d.feature,)
                if prediction.depends_on(d.feature):
                    streams += (PREDICTION,)
            elif d.kind == "prediction":
                streams = (PREDICTION,)
            out.append(
                ChangePoint(
                    d.kind, d.at, d.end, d.feature, streams, d.models, d.segments, _describe(d)
                )
            )
        return out

    def stamp_of(self, index: int) -> float:
        """The timestamp of event ``index`` (live without a rate: the start time)."""
        if self.timing.mode == "replay":
            return self.timing.start + index * self.timing.spacing
        return self._t0 + (index / self.timing.rate if self.timing.rate else 0.0)

    def chunks(self, events: int | None = None) -> Iterator[Chunk]:
        """The next ``events`` events (default: the rest of the scenario's ``events``)."""
        remaining = self.scenario.events - self.produced if events is None else events
        while remaining > 0:
            n = min(self.chunk_size, remaining)
            chunk = self._chunk(n)
            remaining -= n
            yield chunk

    def batches(self, events: int | None = None) -> Iterator[PredictionBatch]:
        """The valid events of :meth:`chunks` as batches (feedback and malformed dropped)."""
        for chunk in self.chunks(events):
            yield from chunk.batches

    def drain_feedback(self) -> FeedbackBatch:
        """Every label still waiting for its time, in timestamp order."""
        return self._release(math.inf)

    # -- one chunk ----------------------------------------------------------------------

    def _chunk(self, n: int) -> Chunk:
        start = self.produced
        idx = np.arange(start, start + n, dtype=np.int64)
        ts = self._stamps(idx)
        route = np.searchsorted(self._route_cdf, self._rng_route.random(n), side="right")
        route = np.minimum(route, len(self._route_cdf) - 1)
        intensities = [self._intensity(k, d, idx, ts, route) for k, d in enumerate(self.drifts)]

        values: dict[str, npt.NDArray[Any]] = {}
        objects: dict[str, ObjectArray] = {}
        codes: dict[str, IntArray] = {}
        for name, feature in self.scenario.features.items():
            if isinstance(feature, NumericFeature):
                x = self._numeric(feature, n, intensities)
                values[name] = x
                obj = x.astype(object)
                obj[np.isnan(x)] = None
                objects[name] = obj
            else:
                code = self._categorical(feature, n, intensities)
                codes[name] = code
                objects[name] = np.array([*feature.categories, None], dtype=object)[code]
                values[name] = objects[name]
        scores = self._scores(n, values, codes, intensities)
        pred = self.scenario.prediction
        if pred.output == "score":
            predictions = np.round(scores, pred.decimals).astype(object)
        else:
            predictions = np.array(pred.classes, dtype=object)[(scores >= pred.threshold) * 1]
        model_ids = self._route_model_id[route]
        ids = np.array([f"{self._prefix}{i}" for i in range(start, start + n)], dtype=object)

        valid = np.ones(n, dtype=bool)
        malformed: list[MalformedMessage] = []
        if self.malformed:
            valid, malformed = self._corrupt(idx, ts, route, ids, objects, predictions, intensities)
        if self.scenario.labels is not None:
            self._label(idx, ts, scores, model_ids, ids, valid, intensities)
        batches, rows = self._batches(idx, ts, route, ids, objects, predictions, valid)
        self.produced += n
        self._last_stamp = float(ts[-1])
        return Chunk(
            start=start,
            timestamps=ts,
            model_ids=model_ids,
            segments=self._route_segment[route],
            values=values,
            scores=scores,
            predictions=predictions,
            valid=valid,
            batches=batches,
            rows=rows,
            feedback=self._release(float(ts[-1])),
            malformed=malformed,
        )

    @property
    def drifts(self) -> tuple[Drift, ...]:
        return self.scenario.drifts

    def _stamps(self, idx: IntArray) -> FloatArray:
        timing = self.timing
        if timing.mode == "replay":
            return (timing.start + idx * timing.spacing).astype(np.float64)
        if timing.rate:
            return (self._t0 + idx / timing.rate).astype(np.float64)
        now = max(self._clock(), self._last_stamp)
        return np.linspace(self._last_stamp, now, len(idx) + 1)[1:]

    def _allowed_routes(self, d: Drift) -> npt.NDArray[np.bool_] | None:
        if d.models is None and d.segments is None:
            return None
        ids = self._route_model_id
        ok = np.ones(len(ids), dtype=bool)
        if d.models is not None:
            ok &= np.isin(ids, np.array(d.models, dtype=object))
        if d.segments is not None:
            ok &= np.array([s in d.segments for s in self._route_segment])
        return ok

    def _intensity(
        self, k: int, d: Drift, idx: IntArray, ts: FloatArray, route: IntArray
    ) -> FloatArray:
        """Per row: how far episode ``k`` has moved it (0: base; 1: fully changed; sine
        episodes -1..1). Gradual episodes return 0/1: whether the row is drawn from the
        new distribution."""
        rel = (idx - d.at).astype(np.float64)
        if d.kind == "recurring":
            if d.period is not None:
                phase = rel / d.period
            else:
                assert d.period_seconds is not None
                phase = (ts - self.stamp_of(d.at)) / d.period_seconds
            t = np.sin(2 * math.pi * phase) if d.shape == "sine" else np.floor(2 * phase) % 2
            t = np.where(rel >= 0, t, 0.0)
        elif d.kind == "malformed" or d.over == 0:
            t = (rel >= 0) * 1.0
        else:
            t = np.clip(rel / d.over, 0.0, 1.0)
        if d.kind == "gradual":
            t = (self._rng_episode[k].random(len(idx)) < t) * 1.0
        allowed = self._episode_routes[k]
        if allowed is not None:
            t = t * allowed[route]
        return np.asarray(t, dtype=np.float64)

    def _episodes(self, feature: str, intensities: list[FloatArray]) -> list[tuple[Drift, Any]]:
        return [
            (d, t)
            for d, t in zip(self.drifts, intensities, strict=True)
            if d.kind in FEATURE_KINDS and d.feature == feature
        ]

    def _numeric(self, f: NumericFeature, n: int, intensities: list[FloatArray]) -> FloatArray:
        rng = self._rng_feature[f.name]
        p = f.params
        if f.distribution == "normal":
            x = rng.normal(p["mean"], p["std"], n)
        elif f.distribution == "lognormal":
            x = rng.lognormal(p["mean"], p["sigma"], n)
        elif f.distribution == "uniform":
            x = rng.uniform(p["low"], p["high"], n)
        else:
            x = rng.exponential(p["scale"], n)
        for d, t in self._episodes(f.name, intensities):
            assert d.shift is not None
            x = x + t * (d.shift * f.std)
        if f.missing > 0:
            x[rng.random(n) < f.missing] = np.nan
        return np.round(x, f.decimals)

    def _categorical(
        self, f: CategoricalFeature, n: int, intensities: list[FloatArray]
    ) -> IntArray:
        rng = self._rng_feature[f.name]
        k = len(f.categories)
        base = np.array(f.probabilities)
        u = rng.random(n)
        episodes = self._episodes(f.name, intensities)
        if not episodes:
            cdf = np.cumsum(base)
            code = np.searchsorted(cdf / cdf[-1], u, side="right")
        else:
            probs = np.tile(base, (n, 1))
            for d, t in episodes:
                probs += t[:, None] * _share_delta(f, d)
            probs = np.clip(probs, 0.0, None)
            cdf = np.cumsum(probs, axis=1)
            cdf /= cdf[:, -1:]
            code = (u[:, None] >= cdf).sum(axis=1)
        code = np.minimum(code, k - 1).astype(np.int64)
        if f.missing > 0:
            code[rng.random(n) < f.missing] = k  # the None after the categories
        return code

    def _scores(
        self,
        n: int,
        values: dict[str, npt.NDArray[Any]],
        codes: dict[str, IntArray],
        intensities: list[FloatArray],
    ) -> FloatArray:
        pred = self.scenario.prediction
        logit = np.full(n, pred.intercept)
        for name, weight in pred.weights.items():
            f = self.scenario.features[name]
            assert isinstance(f, NumericFeature)
            logit += weight * np.nan_to_num((values[name] - f.mean) / f.std)
        for name, table in pred.category_weights.items():
            f = self.scenario.features[name]
            assert isinstance(f, CategoricalFeature)
            lookup = np.array([table.get(c, 0.0) for c in f.categories] + [0.0])
            logit += lookup[codes[name]]
        if pred.noise > 0:
            logit += pred.noise * self._rng_noise.standard_normal(n)
        for d, t in zip(self.drifts, intensities, strict=True):
            if d.kind == "prediction":
                logit += t * d.logit_shift
        return 1.0 / (1.0 + np.exp(-logit))  # type: ignore[no-any-return]

    def _corrupt(
        self,
        idx: IntArray,
        ts: FloatArray,
        route: IntArray,
        ids: ObjectArray,
        objects: dict[str, ObjectArray],
        predictions: ObjectArray,
        intensities: list[FloatArray],
    ) -> tuple[npt.NDArray[np.bool_], list[MalformedMessage]]:
        n = len(idx)
        rng = self._rng_malformed
        bad = np.zeros(n, dtype=bool)
        reasons = np.empty(n, dtype=object)
        for d, t in zip(self.drifts, intensities, strict=True):
            if d.kind != "malformed":
                continue
            hit = (rng.random(n) < d.share) & (t > 0) & ~bad
            which = rng.integers(len(d.reasons), size=n)
            reasons[hit] = np.array(d.reasons, dtype=object)[which[hit]]
            bad |= hit
        messages = []
        for j in np.flatnonzero(bad).tolist():
            r = int(route[j])
            doc: dict[str, Any] = {
                "model_id": str(self._route_model_id[r]),
                "model_version": self._route_version[r],
                "prediction_id": ids[j],
                "timestamp": float(ts[j]),
                "features": {name: column[j] for name, column in objects.items()},
                "prediction": predictions[j],
            }
            if self._route_segment[r] is not None:
                doc["segment"] = self._route_segment[r]
            value = corrupt(doc, reasons[j], int(idx[j]), rng)
            messages.append(MalformedMessage(int(idx[j]), doc["model_id"], value, reasons[j]))
        return ~bad, messages

    def _label(
        self,
        idx: IntArray,
        ts: FloatArray,
        scores: FloatArray,
        model_ids: ObjectArray,
        ids: ObjectArray,
        valid: npt.NDArray[np.bool_],
        intensities: list[FloatArray],
    ) -> None:
        labels = self.scenario.labels
        assert labels is not None
        pred = self.scenario.prediction
        rng = self._rng_labels
        n = len(idx)
        accuracy = np.full(n, labels.accuracy)
        for d, t in zip(self.drifts, intensities, strict=True):
            if d.kind == "accuracy_drop":
                assert d.accuracy is not None
                accuracy += t * (d.accuracy - labels.accuracy)
        correct = rng.random(n) < accuracy
        labelled = rng.random(n) < labels.coverage
        delays = _delays(labels.delay.distribution, labels.delay.params, rng, n)
        positive = scores >= pred.threshold
        truth = np.where(correct, positive, ~positive)
        keep = valid & labelled
        self._pending.append(
            {
                "ts": (ts + delays)[keep],
                "index": idx[keep],
                "model": model_ids[keep],
                "id": ids[keep],
                "label": np.array(pred.classes, dtype=object)[truth * 1][keep],
                "pts": ts[keep],
            }
        )

    def _release(self, until: float) -> FeedbackBatch:
        if not self._pending:
            return _empty_feedback()
        pending = {k: np.concatenate([p[k] for p in self._pending]) for k in self._pending[0]}
        order = np.lexsort((pending["index"], pending["ts"]))
        pending = {k: v[order] for k, v in pending.items()}
        cut = int(np.searchsorted(pending["ts"], until, side="right"))
        self._pending = [{k: v[cut:] for k, v in pending.items()}] if cut < len(order) else []
        return FeedbackBatch(
            model_ids=pending["model"][:cut].tolist(),
            prediction_ids=pending["id"][:cut].tolist(),
            timestamps=pending["ts"][:cut],
            labels=pending["label"][:cut].tolist(),
            prediction_timestamps=pending["pts"][:cut],
            indices=pending["index"][:cut],
        )

    def _batches(
        self,
        idx: IntArray,
        ts: FloatArray,
        route: IntArray,
        ids: ObjectArray,
        objects: dict[str, ObjectArray],
        predictions: ObjectArray,
        valid: npt.NDArray[np.bool_],
    ) -> tuple[list[PredictionBatch], list[IntArray]]:
        rows_valid = np.flatnonzero(valid)
        order = rows_valid[np.argsort(route[rows_valid], kind="stable")]
        groups, starts = np.unique(route[order], return_index=True)
        batches = []
        rows = []
        stamps = ts.astype(object)
        for g, part in zip(groups.tolist(), np.split(order, starts[1:]), strict=True):
            batches.append(
                PredictionBatch(
                    model_id=str(self._route_model_id[g]),
                    model_version=self._route_version[g],
                    segment=self._route_segment[g],
                    prediction_ids=ids[part].tolist(),
                    timestamps=stamps[part].tolist(),
                    features={name: column[part].tolist() for name, column in objects.items()},
                    predictions=predictions[part].tolist(),
                )
            )
            rows.append(idx[part])
        return batches, rows


def _share_delta(f: CategoricalFeature, d: Drift) -> FloatArray:
    """The change of each category's probability when ``d.category`` gains ``d.points``."""
    assert d.category is not None and d.points is not None
    base = np.array(f.probabilities)
    c = f.categories.index(d.category)
    gain = d.points / 100.0
    rest = 1.0 - base[c]
    new = base * ((rest - gain) / rest) if rest > 0 else base.copy()
    new[c] = base[c] + gain
    return new - base  # type: ignore[no-any-return]


def _delays(distribution: str, p: Any, rng: np.random.Generator, n: int) -> FloatArray:
    if distribution == "fixed":
        return np.full(n, p["value"])
    if distribution == "uniform":
        return rng.uniform(p["low"], p["high"], n)
    if distribution == "exponential":
        return rng.exponential(p["mean"], n)
    return rng.lognormal(math.log(p["median"]), p["sigma"], n)


def _empty_feedback() -> FeedbackBatch:
    return FeedbackBatch([], [], np.empty(0), [], np.empty(0), np.empty(0, dtype=np.int64))


def _describe(d: Drift) -> str:
    where = ""
    if d.models is not None:
        where += f" in {', '.join(d.models)}"
    if d.segments is not None:
        where += f" [{', '.join(d.segments)}]"
    if d.kind in FEATURE_KINDS:
        change = f"{d.shift:+g}σ" if d.shift is not None else f"{d.category} {d.points:+g} points"
        if d.kind == "sudden":
            text = f"{d.feature} {change} at {d.at}"
        elif d.kind == "recurring":
            period = f"{d.period} events" if d.period else f"{d.period_seconds:g} s"
            text = f"{d.feature} {d.shape} ±{change.lstrip('+')}, period {period}, from {d.at}"
        else:
            text = f"{d.feature} {change} {d.kind} over events {d.at}..{d.at + d.over}"
    elif d.kind == "prediction":
        text = f"prediction logit {d.logit_shift:+g} at {d.at}"
        if d.over:
            text += f" over {d.over} events"
    elif d.kind == "accuracy_drop":
        text = f"label accuracy to {d.accuracy:g} at {d.at}"
        if d.over:
            text += f" over {d.over} events"
    else:
        text = f"{d.share:.1%} malformed messages from {d.at} ({', '.join(d.reasons)})"
    return text + where
