"""One experiment's running state and the records it publishes (``experiment-decisions``).

Every ``report_every`` labelled requests a ``progress`` record carries the running effect
with its confidence-sequence bounds, the effect of that window alone and each variant's
metric, and the time since the start: novelty and primacy effects show as a window effect
that moves over time. Decisions are checked there, and each is published once, with a
deterministic id (a replay publishes the same record). A sample-ratio mismatch is
published once too, and withholds every later comparison decision (the assignment is
broken, so no comparison can be trusted).
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from streamdrift.config.experiments import ExperimentSpec
from streamdrift.experiments.assignment import AssignmentBuckets
from streamdrift.experiments.comparison import Checkpoint, Comparison, decisions
from streamdrift.experiments.goodness import goodness
from streamdrift.experiments.join import Scored
from streamdrift.experiments.sequence import running_sum
from streamdrift.experiments.srm import SampleRatioTest

SRM = "sample_ratio_mismatch"


def record_id(experiment: str, what: str) -> str:
    return hashlib.sha256(f"{experiment}\x1f{what}".encode()).hexdigest()[:20]


@dataclass(slots=True)
class ExperimentState:
    spec: ExperimentSpec
    model_id: str
    comparison: Comparison
    srm: SampleRatioTest
    buckets: AssignmentBuckets  # assignments by event time, tested bucket by bucket
    start: float = math.nan  # event time of the first prediction
    index: int = 0  # progress records published
    window_total: float = 0.0  # Σψ at the last progress record
    published: tuple[str, ...] = ()
    unscorable: int = 0  # labelled requests whose metric is undefined (e.g. mae of a class)

    @classmethod
    def fresh(cls, spec: ExperimentSpec, model_id: str) -> ExperimentState:
        return cls(
            spec,
            model_id,
            Comparison(spec.challenger_share, spec.paired),
            SampleRatioTest(tuple(spec.split.values())),
            AssignmentBuckets(len(spec.split), spec.srm_lateness),
        )

    def assigned(self, variants: list[int], timestamps: list[float]) -> list[dict[str, Any]]:
        """Predictions at ``timestamps`` were assigned ``variants`` (0 champion, 1 challenger);
        the sample-ratio test takes them bucket by bucket of event time, once complete."""
        if math.isnan(self.start):
            self.start = min(timestamps)
        for counts in self.buckets.add(np.asarray(timestamps), np.asarray(variants)):
            self.srm.update_counts(counts)
            if SRM not in self.published and self.srm.mismatch(self.spec.alpha):
                self.published += (SRM,)
                return [self._decision(SRM, None, max(timestamps))]
        return []

    def labelled(self, rows: list[Scored]) -> list[dict[str, Any]]:
        spec = self.spec
        names = (spec.champion, spec.challenger)
        kept: list[tuple[float, float, float, float]] = []  # (z, g_champion | g, g_challenger, ts)
        for row in rows:
            if spec.paired:
                g0, g1 = (goodness(spec.metric, *row.variants[v], row.label) for v in names)
                if math.isnan(g0) or math.isnan(g1):
                    self.unscorable += 1
                    continue
                kept.append((1.0, g0, g1, row.timestamp))
            else:
                variant = next(iter(row.variants))
                g = goodness(spec.metric, *row.variants[variant], row.label)
                if math.isnan(g):
                    self.unscorable += 1
                    continue
                kept.append((float(variant == spec.challenger), g, g, row.timestamp))
        if not kept:
            return []
        a = np.asarray(kept)
        every = spec.report_every
        n0 = self.comparison.cs.n
        at = np.nonzero((n0 + np.arange(1, len(a) + 1)) % every == 0)[0]
        if spec.paired:
            cp = self.comparison.update_paired(a[:, 1], a[:, 2], at, spec.alpha)
            m0 = m1 = None
        else:
            c = self.comparison
            sums0, sums1, nn0, nn1 = c.sums[0], c.sums[1], c.n[0], c.n[1]
            z, gz = a[:, 0], a[:, 1]
            m1 = running_sum(sums1, z * gz)[at] / np.maximum(nn1 + np.cumsum(z)[at], 1)
            m0 = running_sum(sums0, (1 - z) * gz)[at] / np.maximum(nn0 + np.cumsum(1 - z)[at], 1)
            cp = c.update_unpaired(z.astype(np.int64), gz, at, spec.alpha)
        out: list[dict[str, Any]] = []
        for k, i in enumerate(at):
            out.extend(self._checkpoint(cp, k, float(a[i, 3]), m0, m1))
        return out

    def _checkpoint(
        self, cp: Checkpoint, k: int, ts: float, m0: np.ndarray | None, m1: np.ndarray | None
    ) -> list[dict[str, Any]]:
        spec = self.spec
        n = int(cp.n[k])
        total = float(cp.effect[k]) * n
        window = (total - self.window_total) / spec.report_every
        self.window_total = total
        evidence = self._evidence(cp, k, ts)
        if m0 is not None and m1 is not None:
            evidence["champion"]["value"] = float(m0[k])
            evidence["challenger"]["value"] = float(m1[k])
        out: list[dict[str, Any]] = [
            {
                "kind": "progress",
                "record_id": record_id(spec.name, f"progress/{self.index}"),
                "index": self.index,
                "window_effect": window,
                **evidence,
            }
        ]
        self.index += 1
        if SRM in self.published:
            return out
        for decision in decisions(
            evidence["lower"], evidence["upper"], spec.margin, *evidence["n"].values()
        ):
            if decision not in self.published:
                self.published += (decision,)
                out.append(self._decision(decision, evidence, ts))
        return out

    def _evidence(self, cp: Checkpoint, k: int, ts: float) -> dict[str, Any]:
        spec = self.spec
        return {
            "effect": float(cp.effect[k]),
            "lower": float(cp.lower[k]),
            "upper": float(cp.upper[k]),
            "n": {"champion": int(cp.n_champion[k]), "challenger": int(cp.n_challenger[k])},
            "champion": {"variant": spec.champion, "value": None},
            "challenger": {"variant": spec.challenger, "value": None},
            "elapsed": ts - self.start,
            **self._common(),
        }

    def _common(self) -> dict[str, Any]:
        spec = self.spec
        return {
            "schema_version": 1,
            "experiment": spec.name,
            "model_id": self.model_id,
            "mode": spec.mode,
            "metric": spec.metric,
            "margin": spec.margin,
            "alpha": spec.alpha,
            "start": self.start,
            "srm": {
                "counts": dict(zip(spec.split, self.srm.counts, strict=True)),
                "pending": dict(zip(spec.split, self.buckets.pending, strict=True)),
                "late": self.buckets.late,
                "split": dict(spec.split),
                "e_value": self.srm.evalue,
            },
        }

    def _decision(
        self, decision: str, evidence: dict[str, Any] | None, ts: float
    ) -> dict[str, Any]:
        spec = self.spec
        doc = evidence or {"elapsed": ts - self.start, **self._common()}
        if decision == SRM:
            message = (
                f"experiment {spec.name}: the variants' counts {self.srm.counts} do not match "
                f"the configured split {dict(spec.split)} (e-value {self.srm.evalue:.3g} >= "
                f"1/alpha); later decisions are withheld"
            )
        else:
            message = (
                f"experiment {spec.name}: {spec.challenger} is {decision.replace('_', '-')} to "
                f"{spec.champion} on {spec.metric} (effect {doc['effect']:+.4f}, "
                f"{1 - spec.alpha:.0%} confidence sequence [{doc['lower']:+.4f}, "
                f"{doc['upper']:+.4f}], margin {spec.margin})"
            )
            if spec.mode == "aa":
                message += "; in an A/A test this means the assignment or logging is broken"
        return {
            **doc,
            "kind": "decision",
            "record_id": record_id(spec.name, decision),
            "decision": decision,
            "message": message,
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "model_id": self.model_id,
            "comparison": self.comparison.to_dict(),
            "srm": self.srm.to_dict(),
            "buckets": self.buckets.to_dict(),
            "start": None if math.isnan(self.start) else self.start,
            "index": self.index,
            "window_total": self.window_total,
            "published": list(self.published),
            "unscorable": self.unscorable,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any], spec: ExperimentSpec) -> ExperimentState:
        return cls(
            spec,
            d["model_id"],
            Comparison.from_dict(d["comparison"], spec.challenger_share, spec.paired),
            SampleRatioTest.from_dict(d["srm"]),
            AssignmentBuckets.from_dict(d["buckets"], len(spec.split)),
            math.nan if d["start"] is None else float(d["start"]),
            int(d["index"]),
            float(d["window_total"]),
            tuple(d["published"]),
            int(d["unscorable"]),
        )
