"""The pending-join buffer of one input partition: predictions meet their late labels.

Predictions and feedback are both keyed by ``model_id``, so a prediction and its label
land in the same partition number of the two topics and one :class:`FeedbackJoin` per
partition sees both. Records are matched on ``(model_id, prediction_id)``.

Time is **event time**: the join keeps a watermark, the largest event timestamp seen in
either stream, and never reads the wall clock, so a replay of the same input (with
:meth:`FeedbackJoin.expire` called at the same points) gives identical results.

Invariants:

- A prediction is joined with at most one label, the first one to arrive; any later label
  for it is counted in ``duplicates`` (while its id is remembered, see below).
- A prediction waits until ``watermark - prediction_ttl`` passes its timestamp, then
  :meth:`~FeedbackJoin.expire` drops it as ``unlabelled_expired``. Feedback whose prediction
  has not arrived waits until ``watermark - feedback_ttl`` passes the feedback's timestamp,
  then it is dropped as ``orphan_feedback_expired``.
- The ids of labelled predictions are remembered until ``watermark - prediction_ttl``
  passes the *prediction's* timestamp, so a late duplicate label is still recognised.
  Afterwards such a label would wait and expire as orphan feedback.
- Waiting predictions number at most ``max_pending``, waiting feedback and remembered
  labelled ids at most ``max_remembered`` each (default: ``max_pending``); beyond that the
  oldest (by event time) are dropped and counted (``evicted``, ``feedback_evicted``,
  ``labels_forgotten``), never silently.
- With an on-disk tier (:meth:`FeedbackJoin.attach_spill`, ``core/join_spill.py``) at most
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
import math
from collections.abc import Sequence
from typing import Any

from streamdrift.core.join_spill import SegmentSource, SpillTier
from streamdrift.core.join_state import (
    COUNTERS,
    Expired,
    LabelledPrediction,
    bump,
    join_from_dict,
    join_to_dict,
)
from streamdrift.core.join_store import SegmentRow
from streamdrift.records import FeedbackEvent, Label, PredictionBatch, to_batches

__all__ = ["COUNTERS", "Expired", "FeedbackEvent", "FeedbackJoin", "Label", "LabelledPrediction"]

# With an on-disk tier, the bound of the in-memory stores (waiting labels, labelled ids).
MAX_REMEMBERED = 1_000_000

# Waiting prediction: (predicted_at, prediction, model_version, segment).
_Row = tuple[float, Any, str, str | None]
# Heap entry: (timestamp, model_id, prediction_id). An entry is stale when the store no
# longer holds that id with that timestamp (joined meanwhile); stale entries are skipped.
_Entry = tuple[float, str, str]


class FeedbackJoin:
    """Joins predictions with their late labels inside one partition, by event time.

    ``prediction_ttl`` and ``feedback_ttl`` are seconds of event time; ``max_pending`` and
    ``max_remembered`` bound the stores (see the module docstring). Call :meth:`expire` after every
    ``add_*`` call (it is O(1) when nothing is due): a join between two expire() calls can
    still see a prediction whose TTL has passed, so results depend on where expire() runs.
    """

    __slots__ = (
        "_feedback",
        "_fheap",
        "_labelled",
        "_lheap",
        "_n_feedback",
        "_n_labelled",
        "_n_pending",
        "_pending",
        "_pheap",
        "_spill_state",
        "_tier",
        "duplicate_predictions",
        "duplicates",
        "early_feedback",
        "evicted",
        "feedback_evicted",
        "feedback_seen",
        "feedback_ttl",
        "feedback_watermark",
        "labelled",
        "labels_forgotten",
        "max_pending",
        "max_remembered",
        "orphan_feedback_expired",
        "prediction_ttl",
        "prediction_watermark",
        "predictions_seen",
        "unlabelled_expired",
        "watermark",
    )

    def __init__(
        self,
        prediction_ttl: float = 7 * 86400.0,
        feedback_ttl: float = 3600.0,
        max_pending: int = 1_000_000,
        *,
        max_remembered: int | None = None,
    ) -> None:
        if not prediction_ttl >= 0 or not feedback_ttl >= 0:
            raise ValueError("TTLs must be non-negative")
        if max_pending < 1 or (max_remembered is not None and max_remembered < 1):
            raise ValueError("max_pending and max_remembered must be at least 1")
        self.prediction_ttl = float(prediction_ttl)
        self.feedback_ttl = float(feedback_ttl)
        self.max_pending = int(max_pending)
        # bound of the two in-memory stores (waiting feedback, labelled ids)
        self.max_remembered = int(max_pending if max_remembered is None else max_remembered)
        self._tier: SpillTier | None = None  # the on-disk tier, see attach_spill()
        self._spill_state: dict[str, Any] | None = None  # restored, not attached yet
        self.watermark = -math.inf  # largest event timestamp seen, unix seconds
        # Each stream's own watermark. Waiting predictions expire by the *feedback*
        # watermark (labels later than their deadline were seen), waiting labels by the
        # *prediction* watermark: so a topic read ahead of the other (catching up after a
        # restart) expires nothing a live run would have joined.
        self.prediction_watermark = -math.inf
        self.feedback_watermark = -math.inf
        self._pending: dict[str, dict[str, _Row]] = {}
        self._feedback: dict[str, dict[str, tuple[float, Label]]] = {}
        self._labelled: dict[str, dict[str, float]] = {}  # id -> predicted_at
        self._pheap: list[_Entry] = []
        self._fheap: list[_Entry] = []
        self._lheap: list[_Entry] = []
        self._n_pending = 0
        self._n_feedback = 0
        self._n_labelled = 0
        self.predictions_seen: dict[str, int] = {}
        self.feedback_seen: dict[str, int] = {}
        self.labelled: dict[str, int] = {}
        self.early_feedback: dict[str, int] = {}
        self.duplicates: dict[str, int] = {}
        self.duplicate_predictions: dict[str, int] = {}
        self.unlabelled_expired: dict[str, int] = {}
        self.orphan_feedback_expired: dict[str, int] = {}
        self.evicted: dict[str, int] = {}
        self.feedback_evicted: dict[str, int] = {}
        self.labels_forgotten: dict[str, int] = {}

    # -- sizes and counters ---------------------------------------------------------------

    @property
    def pending_predictions(self) -> int:
        """Predictions waiting for their label (in memory and on disk)."""
        return self._n_pending + self.pending_on_disk

    @property
    def pending_in_memory(self) -> int:
        """Predictions waiting in memory."""
        return self._n_pending

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

    @property
    def pending_feedback(self) -> int:
        """Labels waiting for their prediction."""
        return self._n_feedback

    @property
    def remembered_labels(self) -> int:
        """Ids of labelled predictions kept to recognise duplicate labels."""
        return self._n_labelled

    def counters(self) -> dict[str, dict[str, int]]:
        """Every counter, ``{name: {model_id: n}}`` (copies)."""
        return {name: dict(getattr(self, name)) for name in COUNTERS}

    def totals(self) -> dict[str, int]:
        """Every counter summed over models."""
        return {name: sum(getattr(self, name).values()) for name in COUNTERS}

    # -- input ----------------------------------------------------------------------------

    def add_predictions(self, batch: PredictionBatch) -> list[LabelledPrediction]:
        """Add a batch; return the predictions whose label had already arrived.

        A batch envelope that names a segment per row (``row_segments``) is split by
        segment first, as :func:`~streamdrift.records.to_batches` does.
        """
        n = len(batch)
        if n == 0:
            return []
        if self._spill_state is not None and self._spill_state["segments"]:
            raise RuntimeError("this join was restored with spilled segments: attach_spill() first")
        if getattr(batch, "row_segments", None) is not None:
            return [j for part in to_batches([batch]) for j in self._add_batch(part)]
        return self._add_batch(batch)

    def _add_batch(self, batch: PredictionBatch) -> list[LabelledPrediction]:
        n = len(batch)
        model = batch.model_id
        version = batch.model_version
        segment = batch.segment
        stamps = batch.timestamps
        preds: list[Any] = batch.predictions
        if not preds:
            preds = [None] * n
        if len(preds) != n or len(stamps) != n:
            raise ValueError("batch columns must all have len(batch) rows")
        pend = self._pending.get(model)
        if pend is None:
            pend = self._pending[model] = {}
        lab = self._labelled.get(model)
        if lab is None:
            lab = self._labelled[model] = {}
        waiting = self._feedback.get(model)
        tier = self._tier
        on_disk: set[str] = set()
        if tier is not None and tier.n:
            on_disk = tier.existing(
                model, [p for p in batch.prediction_ids if p not in pend and p not in lab]
            )
        pheap = self._pheap
        lheap = self._lheap
        push = heapq.heappush
        joined: list[LabelledPrediction] = []
        added = dups = 0
        for pid, ts, pred in zip(batch.prediction_ids, stamps, preds, strict=True):
            if pid in pend or pid in lab or pid in on_disk:
                dups += 1
                continue
            if waiting:
                fb = waiting.pop(pid, None)
                if fb is not None:
                    joined.append(
                        LabelledPrediction(model, version, segment, pid, pred, fb[1], ts, fb[0])
                    )
                    lab[pid] = ts
                    push(lheap, (ts, model, pid))
                    continue
            pend[pid] = (ts, pred, version, segment)
            push(pheap, (ts, model, pid))
            added += 1
        top = max(stamps)
        if top > self.watermark:
            self.watermark = top
        if top > self.prediction_watermark:
            self.prediction_watermark = top
        self._n_pending += added
        bump(self.predictions_seen, model, n)
        bump(self.duplicate_predictions, model, dups)
        if joined:
            k = len(joined)
            self._n_feedback -= k
            self._n_labelled += k
            bump(self.labelled, model, k)
            bump(self.early_feedback, model, k)
            self._compact_feedback()
            self._bound_labelled()
        self._bound_pending()
        return joined

    def add_feedback(self, events: Sequence[FeedbackEvent]) -> list[LabelledPrediction]:
        """Add labels; return the predictions they complete (each prediction at most once)."""
        if self._spill_state is not None and self._spill_state["segments"]:
            raise RuntimeError("this join was restored with spilled segments: attach_spill() first")
        if self._tier is not None and self._tier.n:
            self._reload(events)
        pending = self._pending
        labelled = self._labelled
        feedback = self._feedback
        fheap = self._fheap
        lheap = self._lheap
        push = heapq.heappush
        seen = self.feedback_seen
        joins: dict[str, int] = {}
        dups: dict[str, int] = {}
        joined: list[LabelledPrediction] = []
        append = joined.append
        wm = -math.inf
        waited = 0
        for ev in events:
            model = ev.model_id
            pid = ev.prediction_id
            ts = ev.timestamp
            if ts > wm:
                wm = ts
            seen[model] = seen.get(model, 0) + 1
            pend = pending.get(model)
            row = pend.pop(pid, None) if pend else None
            if row is not None:
                predicted_at = row[0]
                append(
                    LabelledPrediction(
                        model, row[2], row[3], pid, row[1], ev.label, predicted_at, ts
                    )
                )
                lab = labelled.get(model)
                if lab is None:
                    lab = labelled[model] = {}
                lab[pid] = predicted_at
                push(lheap, (predicted_at, model, pid))
                joins[model] = joins.get(model, 0) + 1
                continue
            lab = labelled.get(model)
            if lab and pid in lab:
                dups[model] = dups.get(model, 0) + 1
                continue
            wait = feedback.get(model)
            if wait is None:
                wait = feedback[model] = {}
            if pid in wait:
                dups[model] = dups.get(model, 0) + 1
                continue
            wait[pid] = (ts, ev.label)
            push(fheap, (ts, model, pid))
            waited += 1
        self.watermark = max(self.watermark, wm)
        self.feedback_watermark = max(self.feedback_watermark, wm)
        for model, k in dups.items():
            bump(self.duplicates, model, k)
        if joined:
            for model, k in joins.items():
                bump(self.labelled, model, k)
            k = len(joined)
            self._n_pending -= k
            self._n_labelled += k
            self._compact_pending()
            self._bound_labelled()
        self._n_feedback += waited
        self._bound_feedback()
        return joined

    def _reload(self, events: Sequence[FeedbackEvent]) -> None:
        """Move the spilled predictions that ``events`` label back into memory (one query
        per model), so that the join loop finds them exactly as if they had stayed."""
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
                    pend = pending[model] = {}
                for pid, ts, pred, version, segment in rows:
                    pend[pid] = (ts, pred, version, segment)
                    heapq.heappush(self._pheap, (ts, model, pid))
                self._n_pending += len(rows)

    # -- expiry and bounds ----------------------------------------------------------------

    def expire(self) -> Expired:
        """Drop what the watermark has left behind; return the counts per model.

        Predictions (and remembered labelled ids) go when their timestamp is older than
        ``watermark - prediction_ttl``, waiting feedback when older than
        ``watermark - feedback_ttl``. O(1) when nothing is due, O(log n) per dropped entry.
        """
        out = Expired()
        pop = heapq.heappop
        cutoff = self.feedback_watermark - self.prediction_ttl
        heap = self._pheap
        if heap and heap[0][0] < cutoff:
            stores = self._pending
            counts = out.unlabelled
            dropped = 0
            while heap and heap[0][0] < cutoff:
                ts, model, pid = pop(heap)
                pend = stores.get(model)
                row = pend.get(pid) if pend else None
                if pend is not None and row is not None and row[0] == ts:
                    del pend[pid]
                    counts[model] = counts.get(model, 0) + 1
                    dropped += 1
            self._n_pending -= dropped
        tier = self._tier
        if tier is not None and tier.due(cutoff):
            counts = out.unlabelled
            for model, k in tier.expire(cutoff).items():
                counts[model] = counts.get(model, 0) + k
        heap = self._lheap
        if heap and heap[0][0] < cutoff:
            labelled = self._labelled
            dropped = 0
            while heap and heap[0][0] < cutoff:
                ts, model, pid = pop(heap)
                lab = labelled.get(model)
                if lab is not None and lab.get(pid) == ts:
                    del lab[pid]
                    dropped += 1
            self._n_labelled -= dropped
        cutoff = self.prediction_watermark - self.feedback_ttl
        heap = self._fheap
        while heap and heap[0][0] < cutoff:
            ts, model, pid = pop(heap)
            if self._drop_feedback(model, pid, ts):
                bump(out.orphan_feedback, model)
        for model, k in out.unlabelled.items():
            bump(self.unlabelled_expired, model, k)
        for model, k in out.orphan_feedback.items():
            bump(self.orphan_feedback_expired, model, k)
        return out

    def _drop_pending(self, model: str, pid: str, ts: float) -> bool:
        pend = self._pending.get(model)
        row = pend.get(pid) if pend else None
        if pend is None or row is None or row[0] != ts:
            return False  # stale entry: joined meanwhile
        del pend[pid]
        self._n_pending -= 1
        return True

    def _drop_feedback(self, model: str, pid: str, ts: float) -> bool:
        wait = self._feedback.get(model)
        fb = wait.get(pid) if wait else None
        if wait is None or fb is None or fb[0] != ts:
            return False
        del wait[pid]
        self._n_feedback -= 1
        return True

    def _drop_labelled(self, model: str, pid: str, ts: float) -> bool:
        lab = self._labelled.get(model)
        if lab is None or lab.get(pid) != ts:
            return False
        del lab[pid]
        self._n_labelled -= 1
        return True

    def _bound_pending(self) -> None:
        tier = self._tier
        if tier is None:
            heap = self._pheap
            while self._n_pending > self.max_pending:
                ts, model, pid = heapq.heappop(heap)
                if self._drop_pending(model, pid, ts):
                    bump(self.evicted, model)
            return
        excess = self._n_pending + tier.n - self.max_pending
        if excess > 0:
            self._evict_both(tier, excess)
        if self._n_pending > tier.memory_pending:
            self._spill(tier)

    def _evict_both(self, tier: SpillTier, k: int) -> None:
        """Evict the ``k`` oldest waiting predictions, wherever they wait: the same
        (timestamp, model, id) order as the memory-only heap."""
        heap = self._pheap
        pop = heapq.heappop
        disk = tier.oldest(k)
        i = 0
        chosen: dict[str, list[str]] = {}
        while k:
            while heap and not self._live(heap[0]):
                pop(heap)
            if i < len(disk) and (not heap or disk[i] < heap[0]):
                _, model, pid = disk[i]
                chosen.setdefault(model, []).append(pid)
                i += 1
            else:
                ts, model, pid = pop(heap)
                self._drop_pending(model, pid, ts)
                bump(self.evicted, model)
            k -= 1
        for model, pids in chosen.items():
            bump(self.evicted, model, len(tier.take(model, pids)))

    def _live(self, entry: _Entry) -> bool:
        pend = self._pending.get(entry[1])
        row = pend.get(entry[2]) if pend else None
        return row is not None and row[0] == entry[0]

    def _spill(self, tier: SpillTier) -> None:
        """Move the oldest half of ``memory_pending`` to disk as one segment."""
        heap = self._pheap
        pop = heapq.heappop
        target = tier.memory_pending // 2
        rows: list[SegmentRow] = []
        while self._n_pending > target:
            ts, model, pid = pop(heap)
            pend = self._pending.get(model)
            row = pend.get(pid) if pend else None
            if pend is not None and row is not None and row[0] == ts:
                del pend[pid]
                self._n_pending -= 1
                rows.append((model, pid, ts, row[1], row[2], row[3]))
        tier.write(rows)

    def _bound_feedback(self) -> None:
        heap = self._fheap
        while self._n_feedback > self.max_remembered:
            ts, model, pid = heapq.heappop(heap)
            if self._drop_feedback(model, pid, ts):
                bump(self.feedback_evicted, model)

    def _bound_labelled(self) -> None:
        heap = self._lheap
        while self._n_labelled > self.max_remembered:
            ts, model, pid = heapq.heappop(heap)
            if self._drop_labelled(model, pid, ts):
                bump(self.labels_forgotten, model)

    # Joined entries stay in their heap until popped; rebuild a heap (O(n)) once stale
    # entries outnumber live ones, so heap memory stays proportional to what waits.
    def _compact_pending(self) -> None:
        if len(self._pheap) > 2 * self._n_pending + 1024:
            self._pheap = [
                (row[0], model, pid) for model, d in self._pending.items() for pid, row in d.items()
            ]
            heapq.heapify(self._pheap)

    def _compact_feedback(self) -> None:
        if len(self._fheap) > 2 * self._n_feedback + 1024:
            self._fheap = [
                (fb[0], model, pid) for model, d in self._feedback.items() for pid, fb in d.items()
            ]
            heapq.heapify(self._fheap)

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
        self._tier = tier
        if self._n_pending > tier.memory_pending:
            self._spill(tier)

    @property
    def restored_spill(self) -> dict[str, Any] | None:
        """The tier state restored by :meth:`from_dict`, until :meth:`attach_spill` (its
        :meth:`SpillTier.needed` says which segments to fetch first)."""
        return self._spill_state

    # -- state ----------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """The complete state as JSON types (predictions and labels must be JSON values).

        With an on-disk tier, ``pending`` holds the predictions in memory and ``spill`` the
        tier's checkpoint (its segments must have been published before this is stored).
        """
        out = join_to_dict(self)
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
        return join_from_dict(cls, d)

    def __repr__(self) -> str:
        return (
            f"FeedbackJoin(pending_predictions={self._n_pending}, "
            f"pending_feedback={self._n_feedback}, watermark={self.watermark})"
        )
