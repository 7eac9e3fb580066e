"""The benchmark: throughput against the limit and a Faust baseline, alert latency, memory.

    python -m load.bench [--quick] [--events N] [--out load/results/bench.md]
                         [--broker kafka://HOST:PORT]   # default: start a local one

One run, one local broker (started here on 127.0.0.1 and a free port, unless ``--broker``),
one synthetic stream (:mod:`load.bench_data`: 8 models × 8 features, one model per
partition) pre-produced twice to 8-partition topics: as single-event JSON messages and as
batch envelopes of up to 500 events. Then, each measurement in its own subprocess:

(a) **limit** (:mod:`load.bench_limit`): a raw aiokafka consumer that only decodes the
    messages with orjson (events = rows decoded); on the envelope topic, and for reference
    on the single-event topic;
(a') **floor** (:mod:`load.bench_floor`): the limit plus the least work any drift monitor
    must do with numpy (per envelope one float64 array and finiteness check per numeric
    column; per 1,000-event window one sort per numeric and one count per categorical
    column): how close to (a) anything in CPython can get;
(a'') **required work** (``load.bench_floor --required``): the floor's consumer with the
    least of what the default configuration cannot skip — each value's type checked, every
    prediction id indexed for the label join, the default tests (PSI, chi², missing) per
    window against the first window — at its cheapest: a bound on (d), since (d) does all
    of it and more (p-values, thresholds, alerts, checkpoints, metrics);
(b') **Faust's own cost** (``load.bench_faust --bare``): the same agent doing nothing but
    count: what any per-event Faust agent can reach at most;
(b) **baseline** (:mod:`load.bench_faust`): a plain Faust agent over the single-event
    topic updating one River ADWIN per model and numeric feature for every event;
(c) **streamdrift on single events** and (d) **on batch envelopes**
    (:mod:`load.bench_streamdrift`): the worker's StreamRunner + Processor, default
    settings;
(e) **scale-out**: two such workers in one consumer group over the single-event topic;

each consuming from the beginning in a fresh consumer group, timed from the first consumed
record to the N-th processed event (start-up, group join and the first rebalance are not
timed). Then the end-to-end **alert latency** of a live ``streamdrift worker``
(:mod:`load.bench_latency`), the **resident memory** per monitored model-feature and its
growth with traffic (:mod:`load.bench_memory`), and a **profile** of
``Processor.process`` (:mod:`load.bench_profile`).

Prints the report (Markdown tables, also written to ``--out``, and the raw results to the
same name with ``.json``), ending with exactly four lines::

    ratio single_vs_baseline=<(c)/(b)>
    ratio batch_vs_limit=<(d)/(a)>
    ratio single_vs_limit=<(c)/(a) on single-event messages>
    ratio batch_vs_floor=<(d)/(a')>

Progress goes to stderr. ``--quick``: 60,000 events, 3 latency runs, 24 models for the
memory run; under three minutes on 2 cores. Full: 400,000 events, 10 latency runs, 100
models; about seven minutes.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import functools
import json
import os
import platform
import queue
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from load import bench_data
from load.bench_common import (
    fmt_bytes,
    fmt_int,
    fmt_seconds,
    format_table,
    parse_result,
    ratio,
    ratio_line,
    say,
    unique_tag,
)

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "load" / "results" / "bench.md"
ALL_PARTITIONS = frozenset(range(bench_data.PARTITIONS))
# an assignment is taken as final after this long without change: longer than the group's
# heartbeat interval (3 s), after which a member dropped by the coordinator learns it
SETTLE_S = 3.5


@dataclass(frozen=True, slots=True)
class Plan:
    events: int
    latency_runs: int
    memory_models: int
    profile_events: int
    startup_observe: float
    quick: bool

    @classmethod
    def of(cls, quick: bool, events: int | None) -> Plan:
        if quick:
            return cls(events or 60_000, 3, 24, 30_000, 12.0, True)
        return cls(events or 400_000, 10, 100, 150_000, 45.0, False)


# -- child processes ---------------------------------------------------------------------------


class StepFailed(RuntimeError):
    pass


@dataclass
class Child:
    """A benchmark subprocess: stdout read line by line, stderr to a log file."""

    name: str
    proc: subprocess.Popen[str]
    log: Path
    lines: queue.Queue[str | None] = field(default_factory=queue.Queue)
    out: list[str] = field(default_factory=list)

    @classmethod
    def start(cls, name: str, module: str, args: Sequence[str], logs: Path) -> Child:
        log = logs / f"{name}.log"
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        env = {k: v for k, v in env.items() if not k.startswith("STREAMDRIFT_")}
        with log.open("w") as err:
            proc = subprocess.Popen(
                [sys.executable, "-m", module, *args],
                cwd=ROOT,
                env=env,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=err,
                text=True,
                bufsize=1,
            )
        child = cls(name, proc, log)
        threading.Thread(target=child._read, daemon=True).start()
        return child

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.out.append(line)
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def next_line(self, timeout: float) -> str | None:
        """The next stdout line; None at the end of the output or after ``timeout``."""
        try:
            return self.lines.get(timeout=max(timeout, 0.0))
        except queue.Empty:
            return None

    def send(self, text: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(text + "\n")
        self.proc.stdin.flush()

    def result(self, timeout: float) -> dict[str, Any]:
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise StepFailed(f"{self.name}: no result within {timeout:.0f}s{self.tail()}") from None
        time.sleep(0.05)  # let the reader thread take the last lines
        try:
            return parse_result("".join(self.out))
        except ValueError:
            raise StepFailed(
                f"{self.name}: exited with {self.proc.returncode} and no result{self.tail()}"
            ) from None

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def tail(self, lines: int = 15) -> str:
        text = self.log.read_text(errors="replace").strip().splitlines()[-lines:]
        return ("\n    " + "\n    ".join(text)) if text else ""


def owned_by(line: str) -> frozenset[int] | None:
    """The partitions of an ``OWNED 0,1,2`` line, None for other lines."""
    if not line.startswith("OWNED"):
        return None
    text = line[len("OWNED") :].strip()
    return frozenset(int(p) for p in text.split(",")) if text else frozenset()


def assigned(children: Sequence[Child], timeout: float, settle: float = SETTLE_S) -> None:
    """Wait until the children own disjoint, non-empty sets of partitions that cover all of
    them and nothing changed for ``settle`` seconds."""
    owned: dict[str, frozenset[int]] = {c.name: frozenset() for c in children}
    deadline = time.monotonic() + timeout
    stable_since: float | None = None
    while time.monotonic() < deadline:
        changed = False
        for c in children:
            while True:
                line = c.next_line(0.02)
                if line is None:
                    if c.proc.poll() is not None:
                        raise StepFailed(f"{c.name} exited before owning partitions{c.tail()}")
                    break
                parts = owned_by(line)
                if parts is not None:
                    owned[c.name] = parts
                    changed = True
        sets = list(owned.values())
        good = (
            all(sets)
            and frozenset().union(*sets) == ALL_PARTITIONS
            and sum(len(s) for s in sets) == len(ALL_PARTITIONS)
        )
        if changed or not good:
            stable_since = time.monotonic() if good else None
        elif stable_since is not None and time.monotonic() - stable_since >= settle:
            return
    raise StepFailed(f"partitions not assigned within {timeout:.0f}s: {owned}")


def run_simple(
    name: str, module: str, args: Sequence[str], logs: Path, timeout: float
) -> dict[str, Any]:
    child = Child.start(name, module, args, logs)
    child.proc.stdin.close()  # type: ignore[union-attr]
    return child.result(timeout)


def run_workers(
    name: str,
    n: int,
    topic: str,
    counts: dict[int, list[int]],
    broker: str,
    logs: Path,
    timeout: float,
    broker_pid: int | None = None,
) -> list[dict[str, Any]]:
    """``n`` streamdrift workers in one consumer group; measured once they share the
    partitions."""
    group = f"sd-bench-group-{unique_tag()}"
    args = ["--broker", broker, "--topic", topic, "--counts", json.dumps(counts)]
    if broker_pid is not None:
        args += ["--broker-pid", str(broker_pid)]
    if n > 1:
        args += ["--group", group]
    children = [Child.start(f"{name}-{k}", "load.bench_streamdrift", args, logs) for k in range(n)]
    try:
        # a lone member settles faster: no peer joins after it
        assigned(children, timeout=60, settle=SETTLE_S if n > 1 else 2.0)
        for c in children:
            c.send("go")
        results = [c.result(timeout) for c in children]
    finally:
        for c in children:
            c.kill()
    if any(r.get("rebalanced") for r in results):
        raise StepFailed(f"{name}: partitions were reassigned during the run")
    return results


def combine(results: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Workers of one group together: all events over the union of their busy spans."""
    events = sum(r["events"] for r in results)
    seconds = max(r["last"] for r in results) - min(r["first"] for r in results)
    return {
        "events": events,
        "messages": sum(r["messages"] for r in results),
        "seconds": seconds,
        "rate": events / seconds if seconds > 0 else 0.0,
        "workers": [
            {k: r[k] for k in ("partitions", "events", "seconds", "rate")} for r in results
        ],
        "in_processor": sum(r["in_processor"] for r in results),
        "checkpoint_seconds": sum(r["checkpoint_seconds"] for r in results),
        "worker_seconds": sum(r["seconds"] for r in results),
        "cpu_seconds": sum(r.get("cpu_seconds", 0.0) for r in results),
        "broker_cpu": _union(r.get("broker_cpu") for r in results),
    }


def _union(readings: Iterable[Sequence[float | None] | None]) -> list[float | None]:
    """The broker's CPU-time readings at the start and end of several overlapping spans:
    the earliest (smallest) and the latest (largest) reading; None if any is missing."""
    found = [r for r in readings if r is not None and None not in r]
    if not found:
        return [None, None]
    return [min(r[0] for r in found), max(r[1] for r in found)]  # type: ignore[type-var]


# -- the run ------------------------------------------------------------------------------------


@dataclass
class Bench:
    plan: Plan
    broker: str
    logs: Path
    broker_pid: int | None = None  # the local broker's, for its CPU time; None: unknown
    results: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    def step(self, key: str, what: str, fn: Callable[[], Any], tries: int = 1) -> None:
        say("bench", f"{what} …")
        started = time.monotonic()
        for attempt in range(1, tries + 1):
            try:
                self.results[key] = fn()
                break
            except StepFailed as exc:
                say("bench", f"{what}: FAILED: {exc}")
                if attempt == tries:
                    self.errors[key] = str(exc)
                    return
                say("bench", f"{what}: once more")
        say("bench", f"{what}: done in {time.monotonic() - started:.1f}s")

    def run(self) -> None:
        plan, broker, logs = self.plan, self.broker, self.logs
        tag = unique_tag()
        single, envelopes = f"bench-single-{tag}", f"bench-envelopes-{tag}"
        say("bench", f"encoding {plan.events:,} events (8 models × 8 features) both ways")
        encoded = bench_data.encode(plan.events)
        self.results["data"] = {
            "events": plan.events,
            "single_messages": len(encoded.single),
            "single_bytes": encoded.single_bytes,
            "envelope_messages": len(encoded.envelopes),
            "envelope_bytes": encoded.envelope_bytes,
        }
        say("bench", f"producing to {single} and {envelopes}")
        self.results["produce"] = asyncio.run(
            self._produce(broker, {single: encoded.single, envelopes: encoded.envelopes})
        )
        counts_single, counts_env = encoded.counts(False), encoded.counts(True)
        n_single, n_env = len(encoded.single), len(encoded.envelopes)
        del encoded
        timeout = 120 + plan.events / 1000
        workers_timeout = 60 + plan.events / 5000
        common = ["--broker", broker]
        envelope_args = [*common, "--topic", envelopes, "--messages", str(n_env)]
        single_args = [*common, "--topic", single, "--messages", str(n_single)]
        self.step(
            "limit_envelopes",
            "(a) limit on envelopes",
            lambda: run_simple(
                "limit-envelopes",
                "load.bench_limit",
                [*common, "--topic", envelopes, "--messages", str(n_env), "--passes", "5"],
                logs,
                timeout,
            ),
        )
        self.step(
            "floor_envelopes",
            "(a') floor on envelopes",
            lambda: run_simple(
                "floor-envelopes",
                "load.bench_floor",
                [*common, "--topic", envelopes, "--messages", str(n_env), "--passes", "3"],
                logs,
                timeout,
            ),
        )
        self.step(
            "required_envelopes",
            "(a'') required work on envelopes",
            lambda: run_simple(
                "required-envelopes",
                "load.bench_floor",
                [*envelope_args, "--passes", "3", "--required"],
                logs,
                timeout,
            ),
        )
        self.step(
            "limit_single",
            "(a) limit on single events",
            lambda: run_simple(
                "limit-single",
                "load.bench_limit",
                [*common, "--topic", single, "--messages", str(n_single)],
                logs,
                timeout,
            ),
        )
        self.step(
            "required_single",
            "(a'') required work on single events",
            lambda: run_simple(
                "required-single",
                "load.bench_floor",
                [*single_args, "--passes", "3", "--required", "--single"],
                logs,
                timeout,
            ),
        )
        self.step(
            "faust",
            "(b) Faust + River baseline",
            lambda: run_simple(
                "faust",
                "load.bench_faust",
                [*common, "--topic", single, "--events", str(plan.events)],
                logs,
                120 + plan.events / 500,
            ),
        )
        self.step(
            "faust_bare",
            "(b') a Faust agent that only counts",
            lambda: run_simple(
                "faust-bare",
                "load.bench_faust",
                [*common, "--topic", single, "--events", str(plan.events), "--bare"],
                logs,
                120 + plan.events / 500,
            ),
        )
        t, pid = workers_timeout, self.broker_pid
        self.step(
            "single",
            "(c) streamdrift, single events",
            lambda: run_workers("sd-single", 1, single, counts_single, broker, logs, t, pid)[0],
            tries=2,
        )
        self.step(
            "envelopes",
            "(d) streamdrift, envelopes",
            lambda: run_workers("sd-envelopes", 1, envelopes, counts_env, broker, logs, t, pid)[0],
            tries=2,
        )
        self.step(
            "two_workers",
            "(e) two streamdrift workers in one group, single events",
            lambda: combine(run_workers("sd-two", 2, single, counts_single, broker, logs, t, pid)),
            tries=2,
        )
        self.step(
            "latency",
            f"alert latency, {plan.latency_runs} runs",
            lambda: run_simple(
                "latency",
                "load.bench_latency",
                [*common, "--runs", str(plan.latency_runs)],
                logs,
                60 + 45 * plan.latency_runs,
            ),
        )
        self.step(
            "startup",
            f"worker start-up on 8 idle partitions, watched for {plan.startup_observe:.0f}s",
            lambda: run_simple(
                "startup",
                "load.bench_startup",
                [*common, "--observe", str(plan.startup_observe)],
                logs,
                plan.startup_observe + 60,
            ),
        )
        memory: tuple[tuple[str, str, list[str]], ...] = (
            ("memory_bounded", "max_pending 1,000", ["--max-pending", "1000"]),
            ("memory_default", "defaults", []),
            ("memory_spill", "memory_pending 10,000", ["--memory-pending", "10000"]),
        )
        for key, label, extra in memory:
            args = ["--models", str(plan.memory_models), *extra]
            self.step(
                key,
                f"memory, {plan.memory_models} models ({label})",
                functools.partial(run_simple, key, "load.bench_memory", args, logs, 300),
            )
        self.step(
            "profile",
            "profile of Processor.process",
            lambda: run_simple(
                "profile", "load.bench_profile", ["--events", str(plan.profile_events)], logs, 300
            ),
        )

    @staticmethod
    async def _produce(broker: str, topics: dict[str, list[bench_data.Message]]) -> dict[str, Any]:
        from streamdrift.config.settings import BrokerAddress
        from streamdrift.kafka import topics as topic_specs

        bootstrap = BrokerAddress.parse(broker).bootstrap_servers
        specs = [
            topic_specs.TopicSpec("bench", name, bench_data.PARTITIONS, 1, -1, "delete")
            for name in topics
        ]
        await topic_specs.apply(bootstrap, specs)
        out = {}
        for name, messages in topics.items():
            seconds = await bench_data.produce(bootstrap, name, messages)
            out[name] = {"messages": len(messages), "seconds": seconds}
            say("bench", f"{name}: {len(messages):,} messages in {seconds:.1f}s")
        return out


# -- the report -----------------------------------------------------------------------------------


def _share(part: float | None, whole: float) -> str:
    return f"{100 * part / whole:.0f}%" if part is not None and whole > 0 else "–"


def _times(value: float, base: float | None) -> str:
    r = ratio(value, base)
    return "–" if r != r else f"{r:.2f}×"


def throughput_table(results: dict[str, Any]) -> str:
    base = results.get("faust", {}).get("rate")
    limit = results.get("limit_envelopes", {}).get("rate")
    rows_spec = (
        ("limit_envelopes", "(a) limit: aiokafka getmany + orjson.loads only", "envelopes"),
        ("floor_envelopes", "(a') floor: (a) + least numpy work of any monitor", "envelopes"),
        ("required_envelopes", "(a'') (a') + least work of default tests + join", "envelopes"),
        ("limit_single", "(a) limit, on single-event messages", "single"),
        ("required_single", "(a'') (a) + least work of default tests + join", "single"),
        ("faust", "(b) baseline: Faust agent + River ADWIN per event", "single"),
        ("faust_bare", "(b') a Faust agent that only counts events", "single"),
        ("single", "(c) streamdrift, single-event messages", "single"),
        ("envelopes", "(d) streamdrift, batch envelopes", "envelopes"),
        ("two_workers", "(e) streamdrift, 2 workers in one group", "single"),
    )
    rows = []
    for key, label, topic in rows_spec:
        r = results.get(key)
        if r is None:
            rows.append([label, topic, "failed", "–", "–", "–", "–", "–", "–"])
            continue
        busy = r.get("worker_seconds", r["seconds"])
        share = _share(r.get("in_processor"), busy)
        checkpoints = _share(r.get("checkpoint_seconds"), busy)
        rows.append(
            [
                label,
                topic,
                fmt_int(r["events"]),
                f"{r['seconds']:.2f}",
                fmt_int(r["rate"]),
                _times(r["rate"], base),
                _times(r["rate"], limit),
                share,
                checkpoints,
            ]
        )
    headers = ["measurement", "topic", "events", "seconds", "events/s", "× (b)", "× (a)",
               "in Processor.process", "in checkpoints"]  # fmt: skip
    return format_table(headers, rows)


def floor_lines(results: dict[str, Any]) -> list[str]:
    """How far (d) is from the floor (a') and from the required work (a''), and the floor
    from the limit (a)."""
    limit = results.get("limit_envelopes", {}).get("rate")
    floor = results.get("floor_envelopes", {}).get("rate")
    required = results.get("required_envelopes", {}).get("rate")
    env = results.get("envelopes", {}).get("rate")
    if floor is None or limit is None:
        return []
    line = f"Floor: (a')/(a) = {ratio(floor, limit):.2f}"
    if env is not None:
        line += f"; (d)/(a') = {ratio(env, floor):.2f}"
    lines = [line + " (no monitor in CPython + numpy can beat (a') on this data)."]
    if required is not None:
        line = (
            f"Required work: (a'')/(a') = {ratio(required, floor):.2f}: the least work of the "
            "default tests and the label join alone reaches that share of the floor"
        )
        if env is not None:
            line += f"; (d)/(a'') = {ratio(env, required):.2f}"
        lines.append(line + ".")
    return lines


def required_single_line(results: dict[str, Any]) -> list[str]:
    """How the required work (a'') on single events compares with their limit, and (c)."""
    limit = results.get("limit_single", {}).get("rate")
    required = results.get("required_single", {}).get("rate")
    single = results.get("single", {}).get("rate")
    if limit is None or required is None:
        return []
    line = (
        f"Single events: (a'')/(a) = {ratio(required, limit):.2f}: the least work of the "
        "default tests and the label join on single-event messages (regrouped into columns "
        "per fetch) reaches that share of their limit"
    )
    if single is not None:
        line += f"; (c)/(a'') = {ratio(single, required):.2f}"
    return [line + "."]


def scale_out_lines(results: dict[str, Any]) -> list[str]:
    two, one = results.get("two_workers"), results.get("single")
    if two is None or one is None:
        return []
    parts = ", ".join(
        f"partitions {w['partitions']}: {fmt_int(w['events'])} events, {fmt_int(w['rate'])}/s"
        for w in two["workers"]
    )
    total = results.get("data", {}).get("events")
    return [
        f"Two workers in one group: {fmt_int(two['rate'])} events/s together, "
        f"{ratio(two['rate'], one['rate']):.2f}× one worker ({parts}); "
        f"{fmt_int(two['events'])} of {fmt_int(total)} events processed.",
        *cpu_lines(results),
    ]


def cores(result: dict[str, Any]) -> tuple[float, float] | None:
    """Cores the workers and the broker kept busy over a run's measured span (CPU seconds
    over wall seconds), or None where the readings are missing."""
    first, last = result.get("broker_cpu") or (None, None)
    seconds = result.get("seconds", 0.0)
    if first is None or last is None or seconds <= 0 or "cpu_seconds" not in result:
        return None
    return result["cpu_seconds"] / seconds, (last - first) / seconds


def cpu_lines(results: dict[str, Any]) -> list[str]:
    """What (c), (d) and (e) kept busy, and what two workers at 1.8× one would need."""
    parts = []
    for key, label in (("single", "(c)"), ("envelopes", "(d)"), ("two_workers", "(e)")):
        used = cores(results.get(key, {}))
        if used is not None:
            parts.append(f"{label} workers {used[0]:.2f} + broker {used[1]:.2f}")
    if not parts:
        return []
    line = f"Cores busy over the measured spans (of {os.cpu_count()}): " + "; ".join(parts)
    one = cores(results.get("single", {}))
    if one is not None:
        need = 1.8 * sum(one)
        line += (
            f". At (c)'s CPU per event, two workers at 1.8× one need {need:.2f} cores, "
            "workers and broker together"
        )
    return [line + "."]


def latency_table(results: dict[str, Any]) -> str:
    r = results.get("latency")
    if r is None:
        return "Alert latency: failed."
    lat = [x["latency"] for x in r["runs"]]
    rows = [
        [
            str(len(r["runs"])),
            fmt_int(r["rate"]),
            fmt_seconds(r["p50"]),
            fmt_seconds(r["p99"]),
            f"{fmt_seconds(min(lat))} – {fmt_seconds(max(lat))}",
            f"{fmt_seconds(r['after_window_p50'])} / {fmt_seconds(r['after_window_p99'])}",
            fmt_seconds(r["startup_p50"]),
            str(r["false_alarms"]),
        ]
    ]
    headers = ["runs", "events/s", "p50", "p99", "min – max",
               "after the window's last event p50 / p99", "worker start → owns (1 partition)",
               "false alarms"]  # fmt: skip
    return format_table(headers, rows)


def startup_line(results: dict[str, Any]) -> list[str]:
    r = results.get("startup")
    if r is None:
        return ["Worker start-up on the default topology: failed."]
    owned = "never" if r["first_owned"] is None else f"after {r['first_owned']:.1f} s"
    return [
        f"Worker start-up on the default topology (predictions and feedback, 8 partitions "
        f"each, no traffic yet), watched for {r['observed']:.0f} s: partitions owned {owned}; "
        f"{r['assignments']:.0f} assignment(s), {r['evictions']} eviction(s) from the group "
        "(a rebalance callback outlasting the session timeout)."
    ]


def memory_table(results: dict[str, Any]) -> str:
    rows = []
    for key, label in (
        ("memory_bounded", "performance.max_pending = 1,000"),
        ("memory_default", "defaults (memory_pending = 200,000 per partition)"),
        ("memory_spill", "memory_pending = 10,000 (the rest on disk)"),
    ):
        r = results.get(key)
        if r is None:
            rows.append([label, "failed", "–", "–", "–", "–", "–", "–"])
            continue
        rows.append(
            [
                label,
                f"{r['models']} × {r['features']}",
                fmt_bytes(r["per_model_feature"]),
                "{} / {}".format(
                    fmt_bytes(r.get("monitor_state_per_model_feature")),
                    fmt_bytes(r.get("join_state_per_model_feature")),
                ),
                f"{fmt_int(r['events_filled'])} → {fmt_int(r['events_doubled'])}",
                f"{fmt_bytes(r['growth'])} ({r['growth_per_event']:,.0f} B/event)",
                f"{fmt_int(r['pending_filled'])} → {fmt_int(r['pending_doubled'])}"
                + (
                    f" ({fmt_int(r['on_disk_filled'])} → {fmt_int(r['on_disk_doubled'])} on disk)"
                    if r.get("on_disk_doubled")
                    else ""
                ),
                "{} / {} → {} / {}".format(
                    fmt_seconds(r["checkpoint_filled"][0]),
                    fmt_bytes(r["checkpoint_filled"][1]),
                    fmt_seconds(r["checkpoint_doubled"][0]),
                    fmt_bytes(r["checkpoint_doubled"][1]),
                ),
            ]
        )
    headers = ["configuration", "models × features", "RSS per model-feature",
               "of which monitors / waiting predictions", "events fed",
               "RSS growth with 2× the events", "pending-join predictions",
               "one checkpoint (all partitions): time / size"]  # fmt: skip
    return format_table(headers, rows)


def profile_tables(results: dict[str, Any]) -> list[str]:
    r = results.get("profile")
    if r is None:
        return ["Profile: failed."]
    single, env = r["single"], r["envelopes"]
    rows = [
        [
            s["stage"],
            f"{100 * s['share']:.0f}%",
            f"{100 * e['share']:.0f}%",
        ]
        for s, e in zip(single["stages"], env["stages"], strict=True)
    ]
    rows.append(["processor alone, events/s (no profiler)", fmt_int(single["rate"]),
                 fmt_int(env["rate"])])  # fmt: skip
    if "floor" in r:
        rows.append(["(a') floor work alone (load.bench_floor), events/s", "–",
                     fmt_int(r["floor"]["rate"])])  # fmt: skip
        required_single = r.get("required_single", {})
        if "required_rate" in r["floor"]:
            rows.append(["(a'') required work alone (load.bench_floor), events/s",
                         fmt_int(required_single.get("required_rate")),
                         fmt_int(r["floor"]["required_rate"])])  # fmt: skip
        rows.append(["orjson.loads alone, events/s", fmt_int(required_single.get("loads_rate")),
                     fmt_int(r["floor"].get("loads_rate"))])  # fmt: skip
    out = [format_table(["stage of Processor.process (inclusive time)", "single", "envelopes"],
                        rows)]  # fmt: skip
    for p in (single, env):
        fn_rows = [
            [f["function"], fmt_int(f["calls"]), f"{100 * f['share']:.1f}%"] for f in p["functions"]
        ]
        out.append(f"Top own time, {p['format']} ({fmt_int(p['events'])} events):")
        out.append(format_table(["function", "calls", "own time"], fn_rows))
    return out


def report(plan: Plan, results: dict[str, Any], errors: dict[str, str], wall: float) -> str:
    data = results.get("data", {})
    lines = [
        f"# streamdrift benchmark ({'quick' if plan.quick else 'full'})",
        "",
        f"{time.strftime('%Y-%m-%d %H:%M')}, {os.cpu_count()} CPUs, Python "
        f"{platform.python_version()}, one local Kafka broker; {fmt_int(plan.events)} events "
        f"(8 models × 8 features + score) as {fmt_int(data.get('single_messages'))} single-event "
        f"messages ({fmt_bytes(data.get('single_bytes'))}) and "
        f"{fmt_int(data.get('envelope_messages'))} envelopes "
        f"({fmt_bytes(data.get('envelope_bytes'))}), 8 partitions; {wall:.0f} s in all.",
        "",
        "## Throughput (first consumed record to the N-th processed event)",
        "",
        throughput_table(results),
        "",
        *floor_lines(results),
        *required_single_line(results),
        "",
        *scale_out_lines(results),
        "",
        "## Alert latency (first drifted event produced → income alert on drift-alerts)",
        "",
        latency_table(results),
        "",
        *startup_line(results),
        "",
        "## Memory (Processor, RSS after gc)",
        "",
        memory_table(results),
        "",
        "## Profile (cProfile, Processor.process on pre-built records)",
        "",
        *[block + "\n" for block in profile_tables(results)],
    ]
    if errors:
        lines += ["## Failures", ""] + [f"* {k}: {v}" for k, v in errors.items()] + [""]
    return "\n".join(lines).rstrip() + "\n"


def ratios(results: dict[str, Any]) -> list[str]:
    """The report's last lines: (c) over the baseline (b), (d) over the limit (a), then
    issue 16's targets: (c) over the single-event limit, (d) over the floor (a')."""
    rate = {name: results.get(name, {}).get("rate") for name in RATE_KEYS}
    return [
        ratio_line("single_vs_baseline", ratio(rate["single"], rate["faust"])),
        ratio_line("batch_vs_limit", ratio(rate["envelopes"], rate["limit_envelopes"])),
        ratio_line("single_vs_limit", ratio(rate["single"], rate["limit_single"])),
        ratio_line("batch_vs_floor", ratio(rate["envelopes"], rate["floor_envelopes"])),
    ]


RATE_KEYS = ("single", "faust", "envelopes", "limit_envelopes", "limit_single", "floor_envelopes")


# -- main -----------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m load.bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--quick", action="store_true", help="a smaller run: under three minutes")
    p.add_argument("--events", type=int, help="events in the stream (quick 60,000; full 400,000)")
    p.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help="report file (default: %(default)s)"
    )
    p.add_argument("--broker", help="use this broker (kafka://HOST:PORT) instead of starting one")
    args = p.parse_args(argv)
    if args.events is not None and args.events < 8 * 5000:
        p.error("--events must be at least 40,000 (every model needs a reference and windows)")
    plan = Plan.of(args.quick, args.events)
    started = time.monotonic()
    workdir = Path(tempfile.mkdtemp(prefix="sd-bench-"))
    logs = workdir / "logs"
    logs.mkdir()
    broker_handle = None
    try:
        if args.broker:
            url = args.broker
        else:
            from streamdrift.devtools.broker import BrokerError, LocalBroker, free_port

            broker_handle = LocalBroker(data_dir=workdir / "broker", port=free_port())
            say("bench", "starting a local Kafka broker")
            try:
                url = broker_handle.up(timeout=120)
            except BrokerError as exc:
                print(f"bench: error: {exc}", file=sys.stderr)
                return 2
            say("bench", f"broker at {url}")
        pid = broker_handle.pid() if broker_handle is not None else None
        bench = Bench(plan, url, logs, pid)
        bench.run()
    finally:
        if broker_handle is not None:
            say("bench", "stopping the broker")
            broker_handle.down()
            shutil.rmtree(workdir / "broker", ignore_errors=True)
    wall = time.monotonic() - started
    text = report(plan, bench.results, bench.errors, wall)
    final = ratios(bench.results)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text + "\n" + "\n".join(final) + "\n")
    raw = {"plan": dataclasses.asdict(plan), "results": bench.results, "errors": bench.errors}
    args.out.with_suffix(".json").write_text(json.dumps(raw, indent=1, sort_keys=True) + "\n")
    if bench.errors:
        say("bench", f"logs of the failed steps kept in {logs}")
    else:
        shutil.rmtree(workdir, ignore_errors=True)
    say("bench", f"done in {wall:.0f}s; report in {args.out}")
    print(text)
    print("\n".join(final))
    return 1 if bench.errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
