"""The in-memory stores of the feedback join: the base of
:class:`~streamdrift.labels.join.FeedbackJoin` (see there for the invariants).

Three stores per model: waiting predictions (a
:class:`~streamdrift.labels.join_pending.PendingStore`: columns, oldest first from a small
front), and waiting feedback and ids of labelled predictions (each a ``dict`` plus a heap
by event time). Expiry follows each model's own clocks (``labels/join_clocks.py``,
:meth:`~streamdrift.labels.join_clocks.JoinClocks.cutoffs`), so it walks only the stores of
the models whose clocks moved; the counters are ``labels/join_records.py``'s. The hooks at
the end are where the on-disk tier (``labels/join.py``, ``labels/join_spill.py``) joins in;
here they do nothing.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Sequence
from typing import Any

from streamdrift.labels.heaps import Entry, Heaps, pop_oldest, rebuild_heaps
from streamdrift.labels.join_clocks import JoinClocks, lower_bounds
from streamdrift.labels.join_pending import PendingStore, pop_oldest_pending
from streamdrift.labels.join_records import (
    STATE_VERSION,
    Expired,
    LabelledPrediction,
    bump,
)
from streamdrift.records import FeedbackEvent, Label, PredictionBatch, to_batches


class MemoryJoin(JoinClocks):
    """Predictions, labels and labelled ids of one partition, all in memory."""

    __slots__ = (
        "_feedback",
        "_fheap",
        "_labelled",
        "_lheap",
        "_n_feedback",
        "_n_labelled",
        "_n_pending",
        "_pending",
        "max_pending",
        "max_remembered",
    )

    def __init__(
        self,
        prediction_ttl: float = 7 * 86400.0,
        feedback_ttl: float = 3600.0,
        max_pending: int = 1_000_000,
        *,
        max_remembered: int | None = None,
    ) -> None:
        super().__init__(prediction_ttl, feedback_ttl)
        if max_pending < 1 or (max_remembered is not None and max_remembered < 1):
            raise ValueError("max_pending and max_remembered must be at least 1")
        self.max_pending = int(max_pending)
        # bound of the two in-memory stores (waiting feedback, labelled ids)
        self.max_remembered = int(max_pending if max_remembered is None else max_remembered)
        self._pending: dict[str, PendingStore] = {}  # waiting predictions
        self._feedback: dict[str, dict[str, tuple[float, Label]]] = {}
        self._labelled: dict[str, dict[str, float]] = {}  # id -> predicted_at
        self._fheap: Heaps = {}
        self._lheap: Heaps = {}
        self._n_pending = 0
        self._n_feedback = 0
        self._n_labelled = 0

    # -- sizes ----------------------------------------------------------------------------

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
        """Predictions waiting on disk (none here)."""
        return 0

    @property
    def pending_feedback(self) -> int:
        """Labels waiting for their prediction."""
        return self._n_feedback

    @property
    def remembered_labels(self) -> int:
        """Ids of labelled predictions kept to recognise duplicate labels."""
        return self._n_labelled

    # -- input ----------------------------------------------------------------------------

    def add_predictions(self, batch: PredictionBatch) -> list[LabelledPrediction]:
        """Add a batch; return the predictions whose label had already arrived.

        A batch envelope that names a segment per row (``row_segments``) is split by
        segment first, as :func:`~streamdrift.records.to_batches` does.
        """
        n = len(batch)
        if n == 0:
            return []
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
            pend = self._pending[model] = PendingStore()
        lab = self._labelled.get(model)
        if lab is None:
            lab = self._labelled[model] = {}
        waiting = self._feedback.get(model)
        pids = batch.prediction_ids
        meta = (version, segment)
        on_disk = self._ids_on_disk(model, pids, pend.slots, lab)
        if (
            not on_disk
            and (not lab or lab.keys().isdisjoint(pids))
            and (not waiting or waiting.keys().isdisjoint(pids))
            and pend.extend(pids, stamps, preds, meta)
        ):
            # Fast path, the common case: no id of the batch is a duplicate (of another row,
            # of a waiting or labelled prediction) and none has its label waiting; then
            # every row waits and goes into the store in a few C loops (extend() changes
            # nothing otherwise, and the rows go one by one below).
            self._batch_added(model, n, stamps, n)
            self._bound_pending()
            return []
        lheap = self._heap(self._lheap, model)
        waits = pend.slots
        push = heapq.heappush
        joined: list[LabelledPrediction] = []
        added = dups = 0
        for pid, ts, pred in zip(batch.prediction_ids, stamps, preds, strict=True):
            if pid in waits or pid in lab or pid in on_disk:
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
            pend.add(pid, ts, pred, meta)
            added += 1
        self._batch_added(model, n, stamps, added)
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

    @staticmethod
    def _heap(heaps: Heaps, model: str) -> list[Entry]:
        heap = heaps.get(model)
        if heap is None:
            heap = heaps[model] = []
        return heap

    def _batch_added(self, model: str, n: int, stamps: Sequence[float], added: int) -> None:
        top = max(stamps)
        if top > self.watermark:
            self.watermark = top
        if top > self.prediction_watermark:
            self.prediction_watermark = top
        if top > self.prediction_watermarks.get(model, -math.inf):
            self.prediction_watermarks[model] = top
        self._dirty.add(model)
        self._n_pending += added
        bump(self.predictions_seen, model, n)

    def add_feedback(self, events: Sequence[FeedbackEvent]) -> list[LabelledPrediction]:
        """Add labels; return the predictions they complete (each prediction at most once)."""
        self._reload(events)
        pending = self._pending
        labelled = self._labelled
        feedback = self._feedback
        fheaps = self._fheap
        lheaps = self._lheap
        heap_of = self._heap
        push = heapq.heappush
        seen = self.feedback_seen
        tops: dict[str, float] = {}  # the newest label of each model in ``events``
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
            if ts > tops.get(model, -math.inf):
                tops[model] = ts
            seen[model] = seen.get(model, 0) + 1
            pend = pending.get(model)
            # removing the id from ``slots`` removes the row (PendingStore's contract)
            if pend is not None and (slot := pend.slots.pop(pid, None)) is not None:
                predicted_at = pend.ts[slot]
                version, segment = pend.meta[slot]
                pred = pend.preds[slot]
                append(
                    LabelledPrediction(
                        model, version, segment, pid, pred, ev.label, predicted_at, ts
                    )
                )
                lab = labelled.get(model)
                if lab is None:
                    lab = labelled[model] = {}
                lab[pid] = predicted_at
                heap = lheaps.get(model)
                if heap is None:
                    heap = lheaps[model] = []
                push(heap, (predicted_at, model, pid))
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
            push(heap_of(fheaps, model), (ts, model, pid))
            waited += 1
        wms = self.feedback_watermarks
        for model, top in tops.items():
            if top > wms.get(model, -math.inf):
                wms[model] = top
            if top > wm:
                wm = top
        self._dirty.update(tops)
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

    # -- expiry and bounds ----------------------------------------------------------------

    def expire(self) -> Expired:
        """Drop what each model's clocks have left behind (:meth:`cutoffs`); return the
        counts per model.

        Only the models whose clocks or stores changed since the last call are looked at;
        O(1) per such model when nothing is due, O(log n) per dropped entry.
        """
        out = Expired()
        dirty, self._dirty = self._dirty, set()
        for model in sorted(dirty):
            self._expire_model(model, out)
        for model, k in out.unlabelled.items():
            bump(self.unlabelled_expired, model, k)
        for model, k in out.orphan_feedback.items():
            bump(self.orphan_feedback_expired, model, k)
        return out

    def _expire_model(self, model: str, out: Expired) -> None:
        pop = heapq.heappop
        cutoff, label_cutoff = self.cutoffs(model)
        pend = self._pending.get(model)
        if pend is not None and (dropped := pend.expire(cutoff)):
            pend.compact()
            self._n_pending -= dropped
            bump(out.unlabelled, model, dropped)
        self._expire_disk(model, cutoff, out.unlabelled)
        heap = self._lheap.get(model)
        if heap and heap[0][0] < cutoff:
            lab = self._labelled.get(model) or {}
            dropped = 0
            while heap and heap[0][0] < cutoff:
                ts, _, pid = pop(heap)
                if lab.get(pid) == ts:
                    del lab[pid]
                    dropped += 1
            self._n_labelled -= dropped
        heap = self._fheap.get(model)
        if heap and heap[0][0] < label_cutoff:
            stamps = []
            while heap and heap[0][0] < label_cutoff:
                ts, _, pid = pop(heap)
                if self._drop_feedback(model, pid, ts):
                    stamps.append(ts)
            if stamps:
                bump(out.orphan_feedback, model, len(stamps))
                out.orphan_feedback_at[model] = stamps

    def _drop_pending(self, model: str, pid: str, ts: float) -> bool:
        pend = self._pending.get(model)
        if pend is None or not pend.remove(pid, ts):
            return False  # stale entry: joined meanwhile
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

    # Bounds evict the globally oldest entries, in (timestamp, model, id) order.
    def _bound_pending(self) -> None:
        excess = self._n_pending - self.max_pending
        if excess > 0:
            pending = self._pending
            evicted: dict[str, int] = {}
            for ts, model, pid in pop_oldest_pending(pending, excess):
                if pending[model].remove(pid, ts):
                    self._n_pending -= 1
                evicted[model] = evicted.get(model, 0) + 1
            for model, k in evicted.items():
                bump(self.evicted, model, k)
            self._compact_pending()

    def _bound_feedback(self) -> None:
        excess = self._n_feedback - self.max_remembered
        if excess > 0:
            for ts, model, pid in pop_oldest(self._fheap, self._live_feedback, excess):
                self._drop_feedback(model, pid, ts)
                bump(self.feedback_evicted, model)

    def _bound_labelled(self) -> None:
        excess = self._n_labelled - self.max_remembered
        if excess > 0:
            for ts, model, pid in pop_oldest(self._lheap, self._live_labelled, excess):
                self._drop_labelled(model, pid, ts)
                bump(self.labels_forgotten, model)

    def _live_feedback(self, entry: Entry) -> bool:
        wait = self._feedback.get(entry[1])
        fb = wait.get(entry[2]) if wait else None
        return fb is not None and fb[0] == entry[0]

    def _live_labelled(self, entry: Entry) -> bool:
        lab = self._labelled.get(entry[1])
        return lab is not None and lab.get(entry[2]) == entry[0]

    # Joined entries stay in their heap until popped; rebuild the heaps (O(n)) once stale
    # entries outnumber live ones, so heap memory stays proportional to what waits.
    def _compact_pending(self) -> None:
        for pend in self._pending.values():
            pend.compact()

    def _compact_feedback(self) -> None:
        if sum(map(len, self._fheap.values())) > 2 * self._n_feedback + 1024:
            self._fheap = rebuild_heaps(self._feedback)

    # -- hooks of the on-disk tier ---------------------------------------------------------

    def _ids_on_disk(
        self, model: str, pids: Sequence[str], pend: dict[str, int], lab: dict[str, float]
    ) -> set[str]:
        """Which of ``pids`` (of a prediction batch) wait on disk."""
        return set()

    def _reload(self, events: Sequence[FeedbackEvent]) -> None:
        """Bring the predictions ``events`` label back into memory before they are joined."""

    def _expire_disk(self, model: str, cutoff: float, counts: dict[str, int]) -> None:
        """Expire the predictions of ``model`` on disk older than ``cutoff``, counting them."""

    # -- checkpoint form -----------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """The in-memory stores, clocks and counters as JSON types (the on-disk tier adds its
        own part: :meth:`FeedbackJoin.to_dict`)."""
        out: dict[str, Any] = {
            "version": STATE_VERSION,
            "prediction_ttl": self.prediction_ttl,
            "feedback_ttl": self.feedback_ttl,
            "max_pending": self.max_pending,
            **self._clocks_to_dict(),
            "pending": {model: d.rows() for model, d in self._pending.items() if len(d)},
            "feedback": {
                model: [[pid, fb[0], fb[1]] for pid, fb in d.items()]
                for model, d in self._feedback.items()
                if d
            },
            "labelled": {
                model: [[pid, ts] for pid, ts in d.items()]
                for model, d in self._labelled.items()
                if d
            },
            "counters": self.counters(),
        }
        out.update(self._model_ttls_to_dict())
        return out

    def _restore(self, d: dict[str, Any]) -> None:
        """Fill a fresh join's stores from :meth:`to_dict`'s form (its version already checked)."""
        out = self
        metas: dict[tuple[str, str | None], tuple[str, str | None]] = {}
        for model, rows in d["pending"].items():
            out._pending[model] = PendingStore.from_rows(rows, metas)
        for model, rows in d["feedback"].items():
            wait = out._feedback[model] = {}
            for pid, ts, label in rows:
                wait[pid] = (ts, label)
        for model, rows in d["labelled"].items():
            lab = out._labelled[model] = {}
            for pid, ts in rows:
                lab[pid] = ts
        out._fheap = rebuild_heaps(out._feedback)
        out._lheap = rebuild_heaps(out._labelled)
        out._restore_clocks(d)
        if "model_watermarks" not in d:  # older states: what they hold bounds them from below
            for model, pend in out._pending.items():
                if len(pend):
                    top = max(out.prediction_watermarks.get(model, -math.inf), pend.newest())
                    out.prediction_watermarks[model] = top
            lower_bounds(out.prediction_watermarks, out._lheap)
            lower_bounds(out.feedback_watermarks, out._fheap)
        out._dirty.update(m for m, pend in out._pending.items() if len(pend))
        out._dirty.update(out._fheap, out._lheap)
        out._dirty.update(out.prediction_watermarks, out.feedback_watermarks)
        out._n_pending = sum(len(v) for v in out._pending.values())
        out._n_feedback = sum(len(v) for v in out._feedback.values())
        out._n_labelled = sum(len(v) for v in out._labelled.values())
        out._restore_counters(d["counters"])

    def __repr__(self) -> str:
        return (
            f"FeedbackJoin(pending_predictions={self._n_pending}, "
            f"pending_feedback={self._n_feedback}, watermark={self.watermark})"
        )
