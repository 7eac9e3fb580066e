"""``streamdrift windows``: one line per feature, one mark per window. Pure.

Marks: ``.`` ok, ``X`` drift, ``?`` not tested in that window (too few values, or the
window became the reference); a partial window (closed by an end-of-input marker) shows
``,`` when ok and ``x`` when drifted.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from streamdrift.report.model import PREDICTION, Doc, stream_of, streams

LEGEND = "marks: . ok   X drift   ? not tested   , x the same in a partial window"


def mark(verdicts: Sequence[str], partial: bool) -> str:
    """The mark of one feature in one window, from the verdicts of its tests there."""
    if not verdicts:
        return "?"
    drift = "drift" in verdicts
    if partial:
        return "x" if drift else ","
    return "X" if drift else "."


def lines(records: Sequence[Doc], last: int = 100) -> list[str]:
    """The strips of every monitor and stream in ``records`` (see :func:`model.select`),
    the latest ``last`` windows of each."""
    out: list[str] = []
    for monitor in ("drift", "performance", "label_health"):
        for stream in streams(records, monitor):
            docs = [d for d in records if d["monitor"] == monitor and stream_of(d) == stream]
            docs.sort(key=lambda d: d["window"]["index"])
            out.extend(_block(monitor, stream, docs[-last:], len(docs)))
    return out or ["no windows"]


def _block(monitor: str, stream: tuple[str, str | None], docs: list[Doc], total: int) -> list[str]:
    version, segment = stream
    first, final = docs[0]["window"], docs[-1]["window"]
    where = f"v{version}" + ("" if segment is None else f" [{segment}]")
    shown = "" if total == len(docs) else f", the last {len(docs)} of {total}"
    head = (
        f"{monitor} {where}: windows {first['index']}–{final['index']}{shown}, "
        f"{_utc(first['start'])} → {_utc(final['end'])} UTC"
    )
    rows: dict[str, None] = {}
    for doc in docs:
        rows.update(dict.fromkeys(_row(t) for t in doc["tests"]))
    names = sorted(rows, key=lambda n: (n == PREDICTION, n)) if monitor == "drift" else list(rows)
    width = max([len(n) for n in names] + [8])
    out = [head, " " * (width + 2) + _ruler(docs)]
    for name in names:
        marks = "".join(
            mark(
                [t["verdict"] for t in doc["tests"] if _row(t) == name],
                bool(doc["window"]["partial"]),
            )
            for doc in docs
        )
        drifted = sum(m in "Xx" for m in marks)
        out.append(f"{name:<{width}}  {marks}  {drifted} drifted")
    if not names:
        out.append(f"{'(no test)':<{width}}  {'?' * len(docs)}")
    return [*out, ""]


def _row(test: Doc) -> str:
    """Drift rows are features; performance rows are tests (accuracy_drop, hddm_a …)."""
    if test["kind"] in ("data_drift", "prediction_drift"):
        return str(test["feature"])
    return str(test["detector"])


def _ruler(docs: list[Doc]) -> str:
    """A ``|`` above every window whose index is a multiple of 10."""
    return "".join("|" if d["window"]["index"] % 10 == 0 else " " for d in docs).rstrip()


def _utc(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d %H:%M:%S")
