"""The pending-join buffer of one input partition: predictions meet their late labels.

Predictions and feedback are both keyed by ``model_id``, so a prediction and its label
land in the same partition number of the two topics and one :class:`FeedbackJoin` per
partition sees both. Records are matched on ``(model_id, prediction_id)``.

Time is **event time**, and each model's own: the join keeps, per model, the largest
event timestamp seen of its predictions and of its labels (two watermarks), and never
reads the wall clock, so a replay of the same input (with :meth:`FeedbackJoin.expire`
called at the same points) gives identical results. Another model's time moves nothing:
a backfill of old data beside live traffic on the same partition expires nothing of it.

Invariants:

- A prediction is joined with at most one label, the first one to arrive; any later label
  for it is counted in ``duplicates`` (while its id is remembered, see below).
- A prediction waits until its model's *feedback* watermark minus the model's
  ``prediction_ttl`` passes its timestamp, then :meth:`~FeedbackJoin.expire` drops it as
  ``unlabelled_expired``. Feedback whose prediction has not arrived waits until its
  model's *prediction* watermark minus ``feedback_ttl`` passes the feedback's timestamp,
  then it is dropped as ``orphan_feedback_expired`` (a stream of a model more than
  ``prediction_ttl`` behind the other counts as stalled; :meth:`FeedbackJoin.cutoffs`).
- The ids of labelled predictions are remembered as long as a waiting prediction of that
  time would be, so a late duplicate label is still recognised. Afterwards such a label
  would wait and expire as orphan feedback.
- Waiting predictions number at most ``max_pending``, waiting feedback and remembered
  labelled ids at most ``max_remembered`` each (default: ``max_pending``); beyond that the
  oldest (by event time) are dropped and counted (``evicted``, ``feedback_evicted``,
  ``labels_forgotten``), never silently.
- With an on-disk tier (:meth:`FeedbackJoin.attach_spill`, ``labels/join_spill.py``) at most
  ``memory_pending`` predictions wait in memory, the older ones on disk; every result and
  counter is the same as without it (lookups, duplicate checks, expiry and eviction see
  both tiers; eviction in the same (timestamp, model, id) order).
- Every counter is a ``dict[model_id, int]``; nothing is dropped without being counted.

Timestamps must be finite unix seconds (the codec validates them).

>>> from streamdrift.records import PredictionBatch
>>> join = FeedbackJoin(prediction_ttl=60.0)
>>> join.add_feedback([FeedbackEvent("m", "p2", 12.0, 1)])  # early: waits
[]
>>> batch = PredictionBatch("m", "3", None, ["p1", "p2"], [10.0, 11.0], {}, [0.2, 0.9])
>>> [(j.prediction_id, j.label, j.delay) for j in join.add_predictions(batch)]
[('p2', 1, 1.0)]
>>> join.add_feedback([FeedbackEvent("m", "p2", 13.0, 0)])  # second label: a duplicate
[]
>>> join.pending_predictions, join.duplicates, join.early_feedback
(1, {'m': 1}, {'m': 1})
>>> join.add_feedback([FeedbackEvent("m", "x", 100.0, 0)])  # moves the watermark to 100
[]
>>> join.expire()
Expired(unlabelled={'m': 1}, orphan_feedback={})
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from typing import Any

from streamdrift.labels.join_memory import MemoryJoin
from streamdrift.labels.join_pending import PendingStore, pop_oldest_pending
from streamdrift.labels.join_records import (
    COUNTERS,
    STATE_VERSION,
    Expired,
    LabelledPrediction,
    bump,
)
from streamdrift.labels.join_spill import SegmentSource, SpillTier
from streamdrift.labels.spill_store import SegmentRow
from streamdrift.records import FeedbackEvent, Label

__all__ = ["COUNTERS", "Expired", "FeedbackEvent", "FeedbackJoin", "Label", "LabelledPrediction"]

# With an on-disk tier, the bound of the in-memory stores (waiting labels, labelled ids).
MAX_REMEMBERED = 1_000_000


class FeedbackJoin(MemoryJoin):
    """Joins predictions with their late labels inside one partition, by event time.

    ``prediction_ttl`` and ``feedback_ttl`` are seconds of event time (a model's own, see
    :meth:`set_model_ttls`, replace them for that model); ``max_pending`` and
    ``max_remembered`` bound the stores (see the module docstring). Call :meth:`expire` after every
    ``add_*`` call (it is O(1) when nothing is due): a join between two expire() calls can
    still see a prediction whose TTL has passed, so results depend on where expire() runs.
    """

    __slots__ = ("_spill_state", "_tier")

    def __init__(
        self,
        prediction_ttl: float = 7 * 86400.0,
        feedback_ttl: float = 3600.0,
        max_pending: int = 1_000_000,
        *,
        max_remembered: int | None = None,
    ) -> None:
        super().__init__(prediction_ttl, feedback_ttl, max_pending, max_remembered=max_remembered)
        self._tier: SpillTier | None = None  # the on-disk tier, see attach_spill()
        self._spill_state: dict[str, Any] | None = None  # restored, not attached yet

    @property
    def pending_on_disk(self) -> int:
        """Predictions spilled to the on-disk tier."""
        if self._tier is not None:
            return self._tier.n
        state = self._spill_state
        return sum(s[3] for s in state["segments"]) if state else 0

    @property
    def tier(self) -> SpillTier | None:
        return self._tier

    # -- the on-disk tier -----------------------------------------------------------------

    def attach_spill(self, tier: SpillTier, source: SegmentSource | None = None) -> None:
        """Give the join an on-disk tier (before the first ``add_*`` call).

        From then on at most ``tier.memory_pending`` predictions wait in memory and
        ``max_pending`` bounds memory and disk together. A join restored by
        :meth:`from_dict` from a checkpoint with spilled segments restores its tier here:
        from the local file, or from ``source`` (the published segments by seq).
        """
        if self._tier is not None:
            raise RuntimeError("a spill tier is attached already")
        # max_pending may now be large (disk): the in-memory stores keep the old bound
        self.max_remembered = min(self.max_remembered, MAX_REMEMBERED)
        if self._spill_state is not None:
            tier.restore(self._spill_state, source)
            self._spill_state = None
            self._dirty.update(tier.models())
        self._tier = tier
        if self._n_pending > tier.memory_pending:
            self._spill(tier)

    @property
    def restored_spill(self) -> dict[str, Any] | None:
        """The tier state restored by :meth:`from_dict`, until :meth:`attach_spill` (its
        :meth:`SpillTier.needed` says which segments to fetch first)."""
        return self._spill_state

    def _ready(self) -> None:
        if self._spill_state is not None and self._spill_state["segments"]:
            raise RuntimeError("this join was restored with spilled segments: attach_spill() first")

    def _ids_on_disk(
        self, model: str, pids: Sequence[str], pend: dict[str, int], lab: dict[str, float]
    ) -> set[str]:
        self._ready()
        tier = self._tier
        if tier is None or not tier.n:
            return set()
        return tier.existing(model, [p for p in pids if p not in pend and p not in lab])

    def _reload(self, events: Sequence[FeedbackEvent]) -> None:
        """Move the spilled predictions that ``events`` label back into memory (one query
        per model), so that the join loop finds them exactly as if they had stayed."""
        self._ready()
        if self._tier is None or not self._tier.n:
            return
        misses: dict[str, list[str]] = {}
        pending = self._pending
        for ev in events:
            pend = pending.get(ev.model_id)
            if not pend or ev.prediction_id not in pend:
                misses.setdefault(ev.model_id, []).append(ev.prediction_id)
        assert self._tier is not None
        for model, pids in misses.items():
            rows = self._tier.take(model, pids)
            if rows:
                pend = pending.get(model)
                if pend is None:
                    pend = pending[model] = PendingStore()
                for pid, ts, pred, version, segment in rows:
                    pend.add(pid, ts, pred, (version, segment))
                self._n_pending += len(rows)

    def _expire_disk(self, model: str, cutoff: float, counts: dict[str, int]) -> None:
        tier = self._tier
        if tier is not None and tier.due(model, cutoff):
            bump(counts, model, tier.expire(model, cutoff))

    def _bound_pending(self) -> None:
        tier = self._tier
        if tier is None:
            super()._bound_pending()
            return
        excess = self._n_pending + tier.n - self.max_pending
        if excess > 0:
            self._evict_both(tier, excess)
        if self._n_pending > tier.memory_pending:
            self._spill(tier)

    def _evict_both(self, tier: SpillTier, k: int) -> None:
        """Evict the ``k`` oldest waiting predictions, wherever they wait: the same
        (timestamp, model, id) order as the memory-only join."""
        memory = pop_oldest_pending(self._pending, k)
        oldest = heapq.nsmallest(
            k, [(e, True) for e in memory] + [(e, False) for e in tier.oldest(k)]
        )
        chosen: dict[str, list[str]] = {}
        kept = set(memory)
        for (ts, model, pid), in_memory in oldest:
            if in_memory:
                kept.discard((ts, model, pid))
                self._drop_pending(model, pid, ts)
                bump(self.evicted, model)
            else:
                chosen.setdefault(model, []).append(pid)
        for ts, model, pid in kept:  # taken but younger than what was evicted: back
            self._pending[model].push_front(ts, pid)
        self._compact_pending()
        for model, pids in chosen.items():
            bump(self.evicted, model, len(tier.take(model, pids)))

    def _spill(self, tier: SpillTier) -> None:
        """Move the oldest half of ``memory_pending`` to disk as one segment."""
        rows: list[SegmentRow] = []
        target = tier.memory_pending // 2
        for ts, model, pid in pop_oldest_pending(self._pending, self._n_pending - target):
            row = self._pending[model].pop(pid)
            assert row is not None
            rows.append((model, pid, ts, row[1], row[2], row[3]))
        self._n_pending -= len(rows)
        self._compact_pending()
        tier.write(rows)

    # -- state ----------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """The complete state as JSON types (predictions and labels must be JSON values).

        With an on-disk tier, ``pending`` holds the predictions in memory and ``spill`` the
        tier's checkpoint (its segments must have been published before this is stored).
        """
        out = super().to_dict()
        if self.max_remembered != self.max_pending:
            out["max_remembered"] = self.max_remembered
        if self._tier is not None and self._tier.next_seq:  # it has spilled
            out["spill"] = self._tier.to_dict()
        elif self._spill_state is not None:
            out["spill"] = self._spill_state
        return out

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> FeedbackJoin:
        """Restore a join saved by :meth:`to_dict`; it continues exactly as the original
        (with spilled segments: once :meth:`attach_spill` restored its tier)."""
        if d.get("version") != STATE_VERSION:
            raise ValueError(f"unsupported FeedbackJoin state version {d.get('version')!r}")
        out = cls(
            d["prediction_ttl"],
            d["feedback_ttl"],
            d["max_pending"],
            max_remembered=d.get("max_remembered"),
        )
        spill = d.get("spill")
        if spill is not None and (spill["segments"] or spill["retired"]):
            out._spill_state = spill  # restored by attach_spill()
        out._restore(d)
        return out
