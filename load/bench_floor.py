"""(a') The floor: the limit plus the least work any drift monitor must do with numpy.

    python -m load.bench_floor --broker kafka://127.0.0.1:9092 --topic T --messages M [--passes 3]
    python -m load.bench_floor --events 50000   # no Kafka: the work alone, pre-built envelopes

The limit (:mod:`load.bench_limit`) only decodes. Any monitor that tests 1,000-event windows
must at least, per batch envelope, turn each numeric column (timestamps, the score and the
numeric features) into a float64 array once and check it is finite, and keep the categorical
columns; and per closed window of a model, sort each numeric column once (KS, quantile bins
and Wasserstein all start from a sorted window) and count each categorical column once.
:class:`FloorWork` does exactly that and nothing else: no per-row Python, no statistics, no
label join, no alerts, no checkpoints, no metrics. Its throughput bounds what streamdrift
(or anything written in CPython with numpy) can reach on envelopes: (d) ≤ (a') ≤ (a).

A column is categorical when its first non-null value is a string, else numeric (null
becomes NaN; the finiteness check counts such missing values).
"""

from __future__ import annotations

import argparse
import asyncio
import math
import time
from collections import Counter
from collections.abc import Sequence
from operator import itemgetter
from typing import Any

import numpy as np
import orjson

from load.bench_common import emit, median_pass, say

WINDOW = 1000


class FloorWork:
    """Per model: numeric columns as float64 array chunks, categorical columns as lists;
    every ``window`` rows one ``np.sort`` per numeric and one ``Counter`` per categorical
    column of the window."""

    def __init__(self, window: int = WINDOW) -> None:
        self.window = window
        self.numeric: dict[str, dict[str, list[np.ndarray]]] = {}
        self.categorical: dict[str, dict[str, list[Any]]] = {}
        self.held: dict[str, int] = {}
        self.windows = 0
        self.missing = 0  # numeric values that are null or not finite

    def add(self, doc: dict[str, Any]) -> int:
        """Take one decoded envelope; return its row count."""
        model = doc["model_id"]
        n = len(doc["prediction_id"])
        numeric = self.numeric.setdefault(model, {})
        categorical = self.categorical.setdefault(model, {})
        columns = {"timestamp": doc["timestamp"], **doc["features"]}
        if "prediction" in doc:
            columns["prediction"] = doc["prediction"]
        for name, column in columns.items():
            if type(next((v for v in column if v is not None), None)) is str:
                categorical.setdefault(name, []).extend(column)
                continue
            array = np.asarray(column, dtype=np.float64)  # None (missing) becomes NaN
            finite = np.isfinite(array)
            if not finite.all():
                self.missing += array.size - int(np.count_nonzero(finite))
            numeric.setdefault(name, []).append(array)
        held = self.held[model] = self.held.get(model, 0) + n
        if held >= self.window:
            self._close(model)
        return n

    def flush(self) -> None:
        """A fetch ended (envelopes are whole: nothing waits)."""

    def _close(self, model: str) -> None:
        size = self.window
        held = self.held[model]
        numeric, categorical = self.numeric[model], self.categorical[model]
        joined = {name: np.concatenate(parts) for name, parts in numeric.items()}
        start = 0
        while held - start >= size:
            self._window(model, joined, categorical, slice(start, start + size))
            start += size
            self.windows += 1
        for name, array in joined.items():
            numeric[name] = [array[start:]]
        for values in categorical.values():
            del values[:start]
        self.held[model] = held - start

    def _window(
        self,
        model: str,
        numeric: dict[str, np.ndarray],
        categorical: dict[str, list[Any]],
        rows: slice,
    ) -> None:
        """One closed window (``rows`` of the model's columns): a sort per numeric and a
        count per categorical column."""
        for array in numeric.values():
            np.sort(array[rows])
        for values in categorical.values():
            Counter(values[rows])


_NUMBER_TYPES = frozenset({int, float, type(None)})
_CATEGORY_TYPES = frozenset({str, type(None)})
DECILES = np.linspace(0.1, 0.9, 9)


class RequiredWork(FloorWork):
    """(a'') What the default configuration (tests ``psi``, ``chi2``, ``missing``; a label
    join) cannot skip, at its cheapest in CPython + numpy. Beyond :class:`FloorWork`'s
    conversion of each column:

    * check each value's type once (a number column holds only ints, floats and nulls —
      booleans are not numbers; a category column only strings and nulls): one
      ``set(map(type, column))`` per column per envelope, the least a Python check of
      orjson's objects can do, and what a dead letter with a reason needs;
    * keep every prediction until its label: one dict insert per prediction id (id → slot;
      the score is the float64 column :class:`FloorWork` already made — no expiry order, no
      per-model store);
    * per closed window, the default tests against the model's first window as reference:
      numeric columns — the reference's decile edges once, then per window one
      ``searchsorted`` + ``bincount`` (the PSI bins), PSI, and the missing count; categorical
      columns — the reference's shares once, then per window the category counts, PSI and
      the chi² statistic over the categories.

    No p-values, no thresholds, no corrections, no alerts, no checkpoints: a lower bound on
    the work of any monitor with these tests, not a monitor. The sort of :class:`FloorWork`
    is not done (PSI on reference bins needs none)."""

    def __init__(self, window: int = WINDOW) -> None:
        super().__init__(window)
        self.slots: dict[str, int] = {}
        self.bad_types = 0
        self.edges: dict[tuple[str, str], np.ndarray] = {}
        self.shares: dict[tuple[str, str], dict[Any, float]] = {}
        self.psi_sum = self.chi2_sum = 0.0  # kept so the work cannot be optimised away

    def add(self, doc: dict[str, Any]) -> int:
        ids = doc["prediction_id"]
        slots = self.slots
        start = len(slots)
        slots.update(zip(ids, range(start, start + len(ids)), strict=True))
        for column in doc["features"].values():
            types = set(map(type, column))
            if not (types <= _NUMBER_TYPES or types <= _CATEGORY_TYPES):
                self.bad_types += 1
        if not set(map(type, doc["timestamp"])) <= _NUMBER_TYPES:
            self.bad_types += 1
        if "prediction" in doc:
            score = doc["prediction"]
            if not set(map(type, score)) <= _NUMBER_TYPES:
                self.bad_types += 1
        return super().add(doc)

    def _window(
        self,
        model: str,
        numeric: dict[str, np.ndarray],
        categorical: dict[str, list[Any]],
        rows: slice,
    ) -> None:
        for name, array in numeric.items():
            if name != "timestamp":  # a clock, not a feature: windows need no test of it
                self.psi_sum += self._numeric_psi((model, name), array[rows])
        for name, values in categorical.items():
            self.psi_sum += self._categorical_psi((model, name), values[rows])

    def _numeric_psi(self, key: tuple[str, str], window: np.ndarray) -> float:
        finite = window[np.isfinite(window)]
        edges = self.edges.get(key)
        if edges is None:  # the first window is the reference
            self.edges[key] = np.quantile(finite, DECILES) if finite.size else np.zeros(9)
            return 0.0
        counts = np.bincount(np.searchsorted(edges, finite, side="right"), minlength=10)
        observed = np.maximum(counts / max(finite.size, 1), 1e-4)
        expected = 0.1
        return float(np.sum((observed - expected) * np.log(observed / expected)))

    def _categorical_psi(self, key: tuple[str, str], window: list[Any]) -> float:
        counts = Counter(window)
        shares = self.shares.get(key)
        if shares is None:
            self.shares[key] = {k: v / len(window) for k, v in counts.items()}
            return 0.0
        n = len(window)
        psi = chi2 = 0.0
        for category in shares.keys() | counts.keys():
            e = max(shares.get(category, 0.0), 1e-4)
            o = max(counts.get(category, 0) / n, 1e-4)
            psi += (o - e) * math.log(o / e)
            chi2 += n * (o - e) ** 2 / e
        self.chi2_sum += chi2
        return psi


_FEATURES, _ID, _TIMESTAMP = map(itemgetter, ("features", "prediction_id", "timestamp"))


def _column(rows: list[dict[str, Any]], name: str) -> list[Any]:
    """``name`` of every row: one C-level pass; a row without it (rare) gives null."""
    try:
        return list(map(itemgetter(name), rows))
    except KeyError:
        return [row.get(name) for row in rows]


class RequiredSingleWork:
    """(a'') on single-event messages: :class:`RequiredWork` on each model's run of events
    in one fetch, turned into columns (one list per field and feature; the features of the
    run's first event name the columns, an event without one gives null) — the least
    regrouping any column-wise monitor needs, since one event's 10 values are too few for
    numpy. The type checks then run per column, as on envelopes."""

    def __init__(self, window: int = WINDOW) -> None:
        self.work = RequiredWork(window)
        self.runs: dict[str, list[dict[str, Any]]] = {}

    def add(self, doc: dict[str, Any]) -> int:
        run = self.runs.get(doc["model_id"])
        if run is None:
            run = self.runs[doc["model_id"]] = []
        run.append(doc)
        return 1

    def flush(self) -> None:
        """The fetch ended: hand each model's run to the envelope work as columns."""
        for model, docs in self.runs.items():
            features = list(map(_FEATURES, docs))
            columns: dict[str, Any] = {
                "model_id": model,
                "prediction_id": list(map(_ID, docs)),
                "timestamp": list(map(_TIMESTAMP, docs)),
                "features": {name: _column(features, name) for name in features[0]},
            }
            if "prediction" in docs[0]:
                columns["prediction"] = _column(docs, "prediction")
            self.work.add(columns)
        self.runs = {}

    @property
    def windows(self) -> int:
        return self.work.windows


async def consume(
    bootstrap: str,
    topic: str,
    messages: int,
    work_type: type[FloorWork | RequiredSingleWork] = FloorWork,
) -> dict[str, Any]:
    """The limit's consumer loop (same settings as :func:`load.bench_limit.consume`) with
    ``work_type`` (:class:`FloorWork`, :class:`RequiredWork` or, on single-event messages,
    :class:`RequiredSingleWork`) on every decoded message, flushed after each fetch."""
    from aiokafka import AIOKafkaConsumer

    from load.bench_common import unique_tag

    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=f"bench-floor-{unique_tag()}",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        fetch_max_bytes=64 * 1024 * 1024,
        max_partition_fetch_bytes=8 * 1024 * 1024,
    )
    await consumer.start()
    work = work_type()
    seen = events = 0
    first = 0.0
    loads = orjson.loads
    try:
        while seen < messages:
            fetched = await consumer.getmany(timeout_ms=200, max_records=2000)
            if not fetched:
                continue
            if not first:
                first = time.perf_counter()
            for records in fetched.values():
                for r in records:
                    events += work.add(loads(r.value))
                seen += len(records)
            work.flush()
        elapsed = time.perf_counter() - first
    finally:
        await consumer.stop()
    return {
        "messages": seen,
        "events": events,
        "windows": work.windows,
        "seconds": elapsed,
        "rate": events / elapsed,
    }


def offline(events: int, repeats: int = 3, values: Sequence[bytes] = ()) -> dict[str, Any]:
    """The floor work alone (orjson.loads included) on the benchmark's envelopes, no Kafka:
    comparable with ``load.bench_profile``'s "processor alone" (which starts from bytes
    too). Best of ``repeats`` passes, each on a fresh :class:`FloorWork`; interleaved with
    as many passes of :class:`RequiredWork` (``required_rate``) and of ``orjson.loads``
    alone (``loads_rate``: the limit's work without Kafka). ``values``: the encoded
    envelopes of those events, if already at hand."""
    from load import bench_data

    if not values:
        values = [value for _, value in bench_data.encode(events).envelopes]
    rates: dict[str, list[float]] = {"rate": [], "required_rate": [], "loads_rate": []}
    loads = orjson.loads
    for _ in range(repeats):
        for key, work_type in (("rate", FloorWork), ("required_rate", RequiredWork)):
            work = work_type()
            started = time.perf_counter()
            rows = sum(work.add(loads(v)) for v in values)
            rates[key].append(rows / (time.perf_counter() - started))
        started = time.perf_counter()
        for v in values:
            loads(v)
        rates["loads_rate"].append(rows / (time.perf_counter() - started))
    out: dict[str, Any] = {"events": events}
    for key, found in rates.items():
        out[key] = max(found)
        out[key + "s"] = found
    return out


def offline_single(fetches: Sequence[Sequence[bytes]], repeats: int = 3) -> dict[str, Any]:
    """:class:`RequiredSingleWork` alone (``orjson.loads`` included) on single-event messages
    grouped as fetched (``fetches``: the values of one fetch each; flushed after each), no
    Kafka: comparable with the processor alone on the same slices. Best of ``repeats``,
    interleaved with ``orjson.loads`` alone."""
    rates: dict[str, list[float]] = {"required_rate": [], "loads_rate": []}
    loads = orjson.loads
    n = sum(map(len, fetches))
    for _ in range(repeats):
        work = RequiredSingleWork()
        started = time.perf_counter()
        for values in fetches:
            for v in values:
                work.add(loads(v))
            work.flush()
        rates["required_rate"].append(n / (time.perf_counter() - started))
        started = time.perf_counter()
        for values in fetches:
            for v in values:
                loads(v)
        rates["loads_rate"].append(n / (time.perf_counter() - started))
    out: dict[str, Any] = {"events": n}
    for key, found in rates.items():
        out[key] = max(found)
        out[key + "s"] = found
    return out


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m load.bench_floor", description=__doc__)
    p.add_argument("--broker")
    p.add_argument("--topic")
    p.add_argument("--messages", type=int)
    p.add_argument("--passes", type=int, default=3)
    p.add_argument("--events", type=int, help="no Kafka: time the work alone on N events")
    p.add_argument(
        "--required",
        action="store_true",
        help="(a'') with Kafka: RequiredWork (the default tests' least work) instead of FloorWork",
    )
    p.add_argument(
        "--single",
        action="store_true",
        help="with --required: the topic holds single-event messages (RequiredSingleWork)",
    )
    args = p.parse_args(argv)
    if args.events is not None:
        result = offline(args.events)
        say(
            "floor",
            f"work alone, no Kafka: {result['rate']:,.0f} events/s; required work "
            f"{result['required_rate']:,.0f} (orjson.loads alone {result['loads_rate']:,.0f})",
        )
        emit(result)
        return 0
    if not (args.broker and args.topic and args.messages):
        p.error("give --broker, --topic and --messages (or --events for the offline run)")
    from streamdrift.config.settings import BrokerAddress

    bootstrap = BrokerAddress.parse(args.broker).bootstrap_servers
    if args.single and not args.required:
        p.error("--single goes with --required (the floor is measured on envelopes)")
    work_type: type[FloorWork | RequiredSingleWork] = FloorWork
    if args.required:
        work_type = RequiredSingleWork if args.single else RequiredWork
    passes = [
        asyncio.run(consume(bootstrap, args.topic, args.messages, work_type))
        for _ in range(args.passes)
    ]
    result = median_pass(passes)
    rates = result["rates"]
    say(
        "required" if args.required else "floor",
        f"{result['events']:,} events in {result['seconds']:.3f}s (median of {rates})",
    )
    emit(result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
