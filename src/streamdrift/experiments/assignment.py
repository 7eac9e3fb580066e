"""Assignments counted in event-time buckets, for the sample-ratio test.

The test needs the variants in an order in which they are exchangeable under the configured
split. The order of arrival is not one: an envelope per variant (each variant its own model
server or ``model_version``) arrives as a lump of one variant, and a test that looks after
each lump flags a correct split. Each request's variant is drawn independently of its time,
so the counts of every request with a timestamp in ``[k·w, (k+1)·w)`` are a multinomial
draw whatever order they came in; a bucket is tested once the event-time watermark has
passed its end by ``w`` more (``w`` = ``srm_lateness``): then the lumps of both variants
for that time are in, provided ``w`` covers the event time one envelope spans plus the
delay of one variant's envelopes behind the other's. Assignments that come for a bucket
already tested are counted as ``late`` and left out of the test; a variant whose predictions
are systematically later than that (or lost) is then under-counted, which the test flags,
as it should.

>>> buckets = AssignmentBuckets(variants=2, width=10.0)
>>> buckets.add(np.array([1.0, 2.0, 12.0]), np.array([0, 0, 0]))  # lumps of one variant
[]
>>> buckets.add(np.array([1.5, 11.0, 25.0]), np.array([1, 1, 1]))  # watermark 25: bucket 0
[[2, 1]]
>>> buckets.add(np.array([3.0]), np.array([1])), buckets.late
([], 1)
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np


class AssignmentBuckets:
    __slots__ = ("late", "open", "tested_through", "variants", "watermark", "width")

    def __init__(self, variants: int, width: float) -> None:
        self.variants = variants
        self.width = float(width)
        self.open: dict[int, list[int]] = {}  # bucket index -> assignments per variant
        self.watermark = -math.inf  # the largest timestamp seen
        self.tested_through: int | None = None  # the last bucket handed out
        self.late = 0  # assignments whose bucket had been handed out

    def add(self, timestamps: np.ndarray, variants: np.ndarray) -> list[list[int]]:
        """Count ``variants`` (indices) at ``timestamps`` (unix seconds); return the counts
        of the buckets that closed, oldest first."""
        if len(timestamps) == 0:
            return []
        bucket = np.floor(np.asarray(timestamps, dtype=np.float64) / self.width).astype(np.int64)
        v = np.asarray(variants, dtype=np.int64)
        if self.tested_through is not None:
            late = bucket <= self.tested_through
            self.late += int(late.sum())
            bucket, v = bucket[~late], v[~late]
        if len(bucket):
            keys, inverse = np.unique(bucket, return_inverse=True)
            counts = np.zeros((len(keys), self.variants), dtype=np.int64)
            np.add.at(counts, (inverse, v), 1)
            for key, row in zip(keys.tolist(), counts.tolist(), strict=True):
                have = self.open.setdefault(key, [0] * self.variants)
                self.open[key] = [a + b for a, b in zip(have, row, strict=True)]
        self.watermark = max(self.watermark, float(np.max(timestamps)))
        last = math.floor(self.watermark / self.width) - 2  # bucket k closes at (k + 2)·w
        closed = sorted(k for k in self.open if k <= last)
        if self.tested_through is None or last > self.tested_through:
            self.tested_through = last
        return [self.open.pop(k) for k in closed]

    @property
    def pending(self) -> list[int]:
        """Assignments per variant in buckets not yet tested."""
        return [sum(row[i] for row in self.open.values()) for i in range(self.variants)]

    def to_dict(self) -> dict[str, Any]:
        return {
            "width": self.width,
            "open": [[k, *row] for k, row in sorted(self.open.items())],
            "watermark": None if self.watermark == -math.inf else self.watermark,
            "tested_through": self.tested_through,
            "late": self.late,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any], variants: int) -> AssignmentBuckets:
        buckets = cls(variants, float(d["width"]))
        buckets.open = {int(row[0]): [int(n) for n in row[1:]] for row in d["open"]}
        buckets.watermark = -math.inf if d["watermark"] is None else float(d["watermark"])
        through = d["tested_through"]
        buckets.tested_through = None if through is None else int(through)
        buckets.late = int(d["late"])
        return buckets
