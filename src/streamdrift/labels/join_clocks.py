"""Each model's clocks in the feedback join: TTLs and watermarks, a base of
:class:`~streamdrift.labels.join_memory.MemoryJoin`, with their part of its checkpoint."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from streamdrift.labels.join_records import JoinCounters

__all__ = ["JoinClocks", "lower_bounds"]


class JoinClocks(JoinCounters):
    """TTLs and event-time watermarks, per partition and per model (see :meth:`cutoffs`)."""

    __slots__ = (
        "_dirty",
        "feedback_ttl",
        "feedback_watermark",
        "feedback_watermarks",
        "model_ttls",
        "prediction_ttl",
        "prediction_watermark",
        "prediction_watermarks",
        "watermark",
    )

    def __init__(self, prediction_ttl: float, feedback_ttl: float) -> None:
        if not prediction_ttl >= 0 or not feedback_ttl >= 0:
            raise ValueError("TTLs must be non-negative")
        super().__init__()
        self.prediction_ttl = float(prediction_ttl)
        self.feedback_ttl = float(feedback_ttl)
        # (prediction_ttl, feedback_ttl) of the models that have their own
        self.model_ttls: dict[str, tuple[float, float]] = {}
        self.watermark = -math.inf  # largest event timestamp seen, unix seconds
        # Each stream's watermark over the partition (for callers; expiry does not use them)
        self.prediction_watermark = -math.inf
        self.feedback_watermark = -math.inf
        # Each model's own watermark of each stream: expiry follows these (see cutoffs()).
        self.prediction_watermarks: dict[str, float] = {}
        self.feedback_watermarks: dict[str, float] = {}
        self._dirty: set[str] = set()  # models whose clocks or stores changed since expire()

    def set_model_ttls(self, ttls: Mapping[str, tuple[float, float]]) -> None:
        """``{model_id: (prediction_ttl, feedback_ttl)}`` of the models whose TTLs differ
        from the join's own; they apply from the next :meth:`expire` on."""
        for model, (p_ttl, f_ttl) in ttls.items():
            if not p_ttl >= 0 or not f_ttl >= 0:
                raise ValueError(f"TTLs of {model!r} must be non-negative")
        self.model_ttls = {m: (float(p), float(f)) for m, (p, f) in ttls.items()}
        self._dirty.update(self.prediction_watermarks, self.feedback_watermarks)

    def ttls(self, model_id: str) -> tuple[float, float]:
        """``(prediction_ttl, feedback_ttl)`` of ``model_id``."""
        return self.model_ttls.get(model_id) or (self.prediction_ttl, self.feedback_ttl)

    def model_watermarks(self) -> dict[str, tuple[float, float]]:
        """``{model_id: (prediction watermark, feedback watermark)}`` (-inf: none yet)."""
        p, f = self.prediction_watermarks, self.feedback_watermarks
        return {m: (p.get(m, -math.inf), f.get(m, -math.inf)) for m in sorted({*p, *f})}

    def cutoffs(self, model_id: str) -> tuple[float, float]:
        """``(predictions, labels)``: a model's waiting predictions (and remembered
        labelled ids) older than the first expire, its waiting labels older than the second.

        Each model by its own clocks: predictions by the model's *feedback* watermark
        minus its ``prediction_ttl`` (a label that late for them has been seen), labels by
        its *prediction* watermark minus its ``feedback_ttl``; so one stream read ahead of
        the other (a catch-up) expires nothing a live run would join, and another model's
        time (a backfill beside live traffic) expires nothing at all. When one stream of
        the model is more than ``prediction_ttl`` ahead of the other, the lagging one
        counts as stalled (labels that never come must not keep predictions forever): its
        watermark is taken as the leading one's minus ``prediction_ttl``.
        """
        p_ttl, f_ttl = self.ttls(model_id)
        p_wm = self.prediction_watermarks.get(model_id, -math.inf)
        f_wm = self.feedback_watermarks.get(model_id, -math.inf)
        return max(f_wm, p_wm - p_ttl) - p_ttl, max(p_wm, f_wm - p_ttl) - f_ttl

    # -- checkpoint form -----------------------------------------------------------------

    def _clocks_to_dict(self) -> dict[str, Any]:
        wm = self.watermark
        return {
            "watermark": None if wm == -math.inf else wm,
            "watermarks": [_finite(self.prediction_watermark), _finite(self.feedback_watermark)],
            "model_watermarks": {
                model: [_finite(p_wm), _finite(f_wm)]
                for model, (p_wm, f_wm) in self.model_watermarks().items()
            },
        }

    def _model_ttls_to_dict(self) -> dict[str, Any]:
        if not self.model_ttls:
            return {}
        return {"model_ttls": {m: list(t) for m, t in self.model_ttls.items()}}

    def _restore_clocks(self, d: dict[str, Any]) -> None:
        """The clocks of :meth:`_clocks_to_dict` and :meth:`_model_ttls_to_dict`'s form (the
        per-model watermarks only when ``d`` has them)."""
        wm = d["watermark"]
        self.watermark = -math.inf if wm is None else float(wm)
        if "watermarks" in d:
            p_wm, f_wm = d["watermarks"]
            self.prediction_watermark = -math.inf if p_wm is None else float(p_wm)
            self.feedback_watermark = -math.inf if f_wm is None else float(f_wm)
        else:  # states written before per-stream watermarks
            self.prediction_watermark = self.feedback_watermark = self.watermark
        if d.get("model_ttls"):
            self.set_model_ttls({m: (p, f) for m, (p, f) in d["model_ttls"].items()})
        for model, (p_wm, f_wm) in d.get("model_watermarks", {}).items():
            if p_wm is not None:
                self.prediction_watermarks[model] = float(p_wm)
            if f_wm is not None:
                self.feedback_watermarks[model] = float(f_wm)


def lower_bounds(watermarks: dict[str, float], *heaps: dict[str, list[Any]]) -> None:
    """Each model's newest timestamp in ``heaps``: a lower bound of its watermark, so the
    restored join expires later than the original would, never earlier."""
    for store in heaps:
        for model, heap in store.items():
            if heap:
                top = max(entry[0] for entry in heap)
                watermarks[model] = max(watermarks.get(model, -math.inf), top)


def _finite(value: float) -> float | None:
    return None if value == -math.inf else value
