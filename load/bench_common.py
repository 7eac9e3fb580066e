"""Shared by the benchmark's processes: the result protocol, settings, RSS, and the pure
formatting helpers of the report (percentiles, tables, ratio lines).

Every measurement runs in a subprocess (``python -m load.bench_<what> ...``) that prints
progress to stderr and, at the end, one line ``BENCH_RESULT <json>`` on stdout; the
orchestrator (:mod:`load.bench`) reads that line with :func:`parse_result`.
"""

from __future__ import annotations

import json
import math
import os
import statistics
import sys
import time
import uuid
from collections.abc import Sequence
from dataclasses import fields
from typing import Any

RESULT_PREFIX = "BENCH_RESULT "


# -- the result protocol ----------------------------------------------------------------------


def emit(result: dict[str, Any]) -> None:
    """Print the process's result line on stdout (and flush: the caller may exit at once)."""
    sys.stdout.write(RESULT_PREFIX + json.dumps(result, sort_keys=True) + "\n")
    sys.stdout.flush()


def parse_result(stdout: str) -> dict[str, Any]:
    """The result of a benchmark process: its last ``BENCH_RESULT`` line."""
    for line in reversed(stdout.splitlines()):
        at = line.find(RESULT_PREFIX)
        if at >= 0:
            value: dict[str, Any] = json.loads(line[at + len(RESULT_PREFIX) :])
            return value
    raise ValueError("no BENCH_RESULT line in the output")


def say(who: str, message: str) -> None:
    """A progress line on stderr."""
    print(f"[{time.strftime('%H:%M:%S')}] {who}: {message}", file=sys.stderr, flush=True)


# -- settings ---------------------------------------------------------------------------------


def unique_tag() -> str:
    return uuid.uuid4().hex[:8]


def bench_settings(broker: str, tag: str, **overrides: Any) -> Any:
    """streamdrift settings of their own: every topic (and the consumer group) suffixed
    with ``tag``, the metrics endpoint off; ``overrides`` win (e.g. ``topic_predictions``)."""
    from streamdrift import config

    values: dict[str, Any] = {
        f.name: f"{f.default}-{tag}" for f in fields(config.Settings) if f.name.startswith("topic_")
    }
    values.update(
        broker=broker,
        app_id=f"sd-bench-{tag}",
        data_dir=f"/tmp/sd-bench-{tag}",
        metrics_port=0,
        log_level="warning",
    )
    values.update(overrides)
    return config.load(values, environ={})


# -- memory -----------------------------------------------------------------------------------


def rss_bytes() -> int:
    """This process's resident set size (VmRSS of /proc/self/status), in bytes."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def cpu_seconds(pid: int | None) -> float | None:
    """CPU seconds (user + system, all threads) process ``pid`` has used so far, from
    ``/proc/<pid>/stat``; None without a pid or where it cannot be read."""
    if pid is None:
        return None
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields_ = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields_[11]) + int(fields_[12])) / ticks  # utime, stime (fields 14, 15)


# -- pure helpers of the report ---------------------------------------------------------------


def median_pass(passes: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The pass whose ``rate`` is the median of all passes, with every rate under ``rates``."""
    rates = [r["rate"] for r in passes]
    result = dict(min(passes, key=lambda r: abs(r["rate"] - statistics.median(rates))))
    result["rates"] = rates
    return result


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0..100) with linear interpolation between closest ranks
    (numpy's default method); NaN for no values."""
    if not 0 <= q <= 100:
        raise ValueError(f"percentile must be in [0, 100], got {q}")
    if not values:
        return math.nan
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100.0
    lo = math.floor(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def ratio(numerator: float | None, denominator: float | None) -> float:
    """``numerator / denominator``; NaN when either is missing or the denominator is 0."""
    if numerator is None or denominator is None or not denominator:
        return math.nan
    return numerator / denominator


def ratio_line(name: str, value: float) -> str:
    """``ratio <name>=<x>`` with two decimals (``nan`` when it could not be measured)."""
    return f"ratio {name}={'nan' if math.isnan(value) else f'{value:.2f}'}"


def fmt_int(value: float | None) -> str:
    """``1,234,567``; ``–`` for a missing value."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:,.0f}"


def fmt_bytes(value: float | None) -> str:
    """Bytes in B, KiB or MiB with one decimal; ``–`` for a missing value."""
    if value is None or math.isnan(value):
        return "–"
    sign = "-" if value < 0 else ""
    v = abs(value)
    if v < 1024:
        return f"{sign}{v:.0f} B"
    if v < 1024 * 1024:
        return f"{sign}{v / 1024:.1f} KiB"
    return f"{sign}{v / 1024 / 1024:.1f} MiB"


def fmt_seconds(value: float | None) -> str:
    """Milliseconds below 10 s (``840 ms``), else seconds (``12.3 s``)."""
    if value is None or math.isnan(value):
        return "–"
    if value < 10:
        return f"{value * 1000:,.0f} ms"
    return f"{value:,.1f} s"


def format_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A Markdown table whose columns are padded to the same width (readable as text too);
    columns whose cells all look numeric are right-aligned."""
    if any(len(r) != len(headers) for r in rows):
        raise ValueError("every row needs one cell per header")
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    numeric = [bool(rows) and all(_numeric(r[i]) for r in rows) for i in range(len(headers))]

    def line(cells: Sequence[str]) -> str:
        padded = [
            c.rjust(w) if right else c.ljust(w)
            for c, w, right in zip(cells, widths, numeric, strict=True)
        ]
        return "| " + " | ".join(padded) + " |"

    rule = "|" + "|".join(
        "-" * (w + 1) + ":" if right else "-" * (w + 2)
        for w, right in zip(widths, numeric, strict=True)
    )
    return "\n".join([line(headers), rule + "|", *(line(r) for r in rows)])


def _numeric(cell: str) -> bool:
    text = cell.replace(",", "").replace("×", "").replace("%", "").strip()
    for unit in (" ms", " s", " MiB", " KiB", " B", "/s"):
        text = text.removesuffix(unit)
    if text in ("–", ""):
        return True
    try:
        float(text)
    except ValueError:
        return False
    return True
