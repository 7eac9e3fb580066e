"""The in-memory stores of the feedback join: the base of
:class:`~streamdrift.core.join.FeedbackJoin` (see there for the invariants).

Three stores, each a ``dict`` per model plus a heap by event time: waiting predictions,
waiting feedback, ids of labelled predictions. The hooks at the end are where the on-disk
tier (``core/join.py``, ``core/join_spill.py``) joins in; here they do nothing.
"""

from __future__ import annotations

import heapq
import math
from collections import deque
from collections.abc import Sequence
from functools import partial
from itertools import repeat
from typing import Any

from streamdrift.core.join_state import COUNTERS, Expired, LabelledPrediction, bump
from streamdrift.records import FeedbackEvent, Label, PredictionBatch, to_batches

# Waiting prediction: (predicted_at, prediction, model_version, segment).
Row = tuple[float, Any, str, str | None]
# Heap entry: (timestamp, model_id, prediction_id). An entry is stale when the store no
# longer holds that id with that timestamp (joined meanwhile); stale entries are skipped.
Entry = tuple[float, str, str]


class MemoryJoin:
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
        "_pheap",
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
        self.watermark = -math.inf  # largest event timestamp seen, unix seconds
        # Each stream's own watermark. Waiting predictions expire by the *feedback*
        # watermark (labels later than their deadline were seen), waiting labels by the
        # *prediction* watermark: so a topic read ahead of the other (catching up after a
        # restart) expires nothing a live run would have joined.
        self.prediction_watermark = -math.inf
        self.feedback_watermark = -math.inf
        self._pending: dict[str, dict[str, Row]] = {}
        self._feedback: dict[str, dict[str, tuple[float, Label]]] = {}
        self._labelled: dict[str, dict[str, float]] = {}  # id -> predicted_at
        self._pheap: list[Entry] = []
        self._fheap: list[Entry] = []
        self._lheap: list[Entry] = []
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
        pids = batch.prediction_ids
        on_disk = self._ids_on_disk(model, pids, pend, lab)
        if not on_disk:
            # Fast path, the common case: no id of the batch is a duplicate (of another row,
            # of a waiting or labelled prediction) and none has its label waiting. Then
            # every row waits: the rows go in with one dict.update and their heap entries
            # are pushed by a C loop, in row order, so the stores and heaps end up exactly
            # as the row-by-row loop below leaves them. (That loop alone was 27 % of the
            # own time on the envelope path of load.bench_profile.)
            rows = dict(
                zip(pids, zip(stamps, preds, repeat(version), repeat(segment)), strict=True)
            )
            ids = rows.keys()  # a keys view: isdisjoint() then walks the smaller side
            if (
                len(rows) == n
                and pend.keys().isdisjoint(ids)
                and (not lab or lab.keys().isdisjoint(ids))
                and (not waiting or waiting.keys().isdisjoint(ids))
            ):
                pend.update(rows)
                entries = zip(stamps, repeat(model), pids)
                deque(map(partial(heapq.heappush, self._pheap), entries), 0)
                self._batch_added(model, n, stamps, n)
                self._bound_pending()
                return []
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

    def _batch_added(self, model: str, n: int, stamps: Sequence[float], added: int) -> None:
        top = max(stamps)
        if top > self.watermark:
            self.watermark = top
        if top > self.prediction_watermark:
            self.prediction_watermark = top
        self._n_pending += added
        bump(self.predictions_seen, model, n)

    def add_feedback(self, events: Sequence[FeedbackEvent]) -> list[LabelledPrediction]:
        """Add labels; return the predictions they complete (each prediction at most once)."""
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
        self._expire_disk(cutoff, out.unlabelled)
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
        heap = self._pheap
        while self._n_pending > self.max_pending:
            ts, model, pid = heapq.heappop(heap)
            if self._drop_pending(model, pid, ts):
                bump(self.evicted, model)

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

    # -- hooks of the on-disk tier ---------------------------------------------------------

    def _ids_on_disk(
        self, model: str, pids: Sequence[str], pend: dict[str, Row], lab: dict[str, float]
    ) -> set[str]:
        """Which of ``pids`` (of a prediction batch) wait on disk."""
        return set()

    def _reload(self, events: Sequence[FeedbackEvent]) -> None:
        """Bring the predictions ``events`` label back into memory before they are joined."""

    def _expire_disk(self, cutoff: float, counts: dict[str, int]) -> None:
        """Expire the predictions on disk older than ``cutoff``, counting them per model."""

    def __repr__(self) -> str:
        return (
            f"FeedbackJoin(pending_predictions={self._n_pending}, "
            f"pending_feedback={self._n_feedback}, watermark={self.watermark})"
        )
