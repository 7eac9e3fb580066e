"""The waiting predictions of one model, in columns: the join's largest store.

A waiting prediction costs a dict entry (id -> slot) and one cell per column; no tuple
per row and no heap entry per row. Expiry, eviction and spilling take rows oldest first
in ``(timestamp, id)`` order from a small heap, the *front*, that holds every row at or
below ``limit`` and is refilled from the timestamp column (vectorised) when it runs dry.
"""

from __future__ import annotations

import heapq
import math
from array import array
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from itertools import repeat
from typing import Any

import numpy as np

__all__ = ["Meta", "PendingStore", "Row", "pop_oldest_pending"]

# Waiting prediction: (predicted_at, prediction, model_version, segment).
Row = tuple[float, Any, str, str | None]
Meta = tuple[str, str | None]  # (model_version, segment), shared by the rows of a batch

_FRONT_MIN = 256  # rows taken into the front at least per refill
# dead slots a store may keep beyond its live rows: they still hold their ids and
# predictions, so with many small stores (a bound like ``max_pending`` spread over many
# models) a slack of 1,024 each held more than the live rows did (bench_memory, issue 16)
_SLACK = 64


class PendingStore:
    """Predictions of one model waiting for their label.

    A row waits exactly while ``slots`` maps its id to its slot: taking the id out of
    ``slots`` removes the row (the join's label loop does so inline), and leaves a dead
    slot in the columns until :meth:`compact`.
    """

    __slots__ = ("_front", "_limit", "meta", "pids", "preds", "slots", "ts")

    def __init__(self) -> None:
        self.slots: dict[str, int] = {}  # id -> slot, in arrival order (the checkpoint's)
        self.pids: list[str] = []
        self.ts = array("d")  # predicted_at
        self.preds: list[Any] = []
        self.meta: list[Meta] = []
        self._front: list[tuple[float, str]] = []  # heap; stale entries skipped
        self._limit = -math.inf  # every live row with ts <= _limit has a front entry

    def __len__(self) -> int:
        return len(self.slots)

    def __contains__(self, pid: object) -> bool:
        return pid in self.slots

    def get(self, pid: str) -> Row | None:
        slot = self.slots.get(pid)
        if slot is None:
            return None
        version, segment = self.meta[slot]
        return (self.ts[slot], self.preds[slot], version, segment)

    def items(self) -> Iterator[tuple[str, Row]]:
        """``(id, row)`` in arrival order."""
        ts, preds, meta = self.ts, self.preds, self.meta
        for pid, slot in self.slots.items():
            version, segment = meta[slot]
            yield pid, (ts[slot], preds[slot], version, segment)

    # -- checkpoint form: [id, predicted_at, prediction, model_version, segment] per row ---

    def rows(self) -> list[list[Any]]:
        """The waiting rows in arrival order, as the join's checkpoint lists them."""
        ts, preds, meta = self.ts, self.preds, self.meta
        if len(self.pids) == len(self.slots):  # no dead slot: slot order is arrival order
            rows = zip(self.pids, ts, preds, meta, strict=True)
            return [[pid, at, pred, m[0], m[1]] for pid, at, pred, m in rows]
        return [[pid, ts[slot], preds[slot], *meta[slot]] for pid, slot in self.slots.items()]

    @classmethod
    def from_rows(cls, rows: Sequence[Sequence[Any]], metas: dict[Meta, Meta]) -> PendingStore:
        """A store holding ``rows`` (of :meth:`rows`' form; ``metas`` interns the
        ``(model_version, segment)`` pairs, shared between stores)."""
        out = cls()
        pids = out.pids = [row[0] for row in rows]
        out.slots = dict(zip(pids, range(len(pids)), strict=True))
        out.ts = array("d", [row[1] for row in rows])
        out.preds = [row[2] for row in rows]
        out.meta = [metas.setdefault((row[3], row[4]), (row[3], row[4])) for row in rows]
        return out

    def add(self, pid: str, ts: float, pred: Any, meta: Meta) -> None:
        """Add one row (``pid`` must not wait already)."""
        self.slots[pid] = len(self.pids)
        self.pids.append(pid)
        self.ts.append(ts)
        self.preds.append(pred)
        self.meta.append(meta)
        if ts <= self._limit:
            heapq.heappush(self._front, (ts, pid))

    def extend(
        self, pids: Sequence[str], stamps: Sequence[float], preds: Sequence[Any], meta: Meta
    ) -> bool:
        """Add a batch of rows if none of ``pids`` waits already and none is twice in it;
        else change nothing and return False."""
        slots = self.slots
        n = len(pids)
        held = len(slots)
        s0 = len(self.pids)
        # setdefault, not update: an id that waits already keeps its slot, so undoing is cheap
        deque(map(slots.setdefault, pids, range(s0, s0 + n)), 0)
        if len(slots) - held != n:
            for pid in pids:
                if slots.get(pid, -1) >= s0:
                    del slots[pid]
            return False
        self.pids.extend(pids)
        self.ts.extend(stamps)
        self.preds.extend(preds)
        self.meta.extend(repeat(meta, n))
        limit = self._limit
        if limit != -math.inf and min(stamps) <= limit:
            push, front = heapq.heappush, self._front
            for pid, ts in zip(pids, stamps, strict=True):
                if ts <= limit:
                    push(front, (ts, pid))
        return True

    def pop(self, pid: str) -> Row | None:
        """Remove ``pid``'s row and return it (None when it does not wait)."""
        slot = self.slots.pop(pid, None)
        if slot is None:
            return None
        version, segment = self.meta[slot]
        return (self.ts[slot], self.preds[slot], version, segment)

    def remove(self, pid: str, ts: float) -> bool:
        """Remove ``pid``'s row if it waits with timestamp ``ts``."""
        slot = self.slots.get(pid)
        if slot is None or self.ts[slot] != ts:
            return False
        del self.slots[pid]
        return True

    # -- oldest first -----------------------------------------------------------------

    def peek(self) -> tuple[float, str] | None:
        """The oldest waiting row's ``(timestamp, id)`` (ties by id), or None."""
        slots, stamps = self.slots, self.ts
        while True:
            front = self._front  # a refill replaces it
            while front:
                ts, pid = front[0]
                slot = slots.get(pid)
                if slot is not None and stamps[slot] == ts:
                    return front[0]
                heapq.heappop(front)
            if not self._refill():
                return None

    def expire(self, cutoff: float) -> int:
        """Remove the rows older than ``cutoff``; return how many (O(1) when none is)."""
        slots, stamps, pop = self.slots, self.ts, heapq.heappop
        dropped = 0
        while True:
            front = self._front
            while front and front[0][0] < cutoff:
                ts, pid = pop(front)
                slot = slots.get(pid)
                if slot is not None and stamps[slot] == ts:
                    del slots[pid]
                    dropped += 1
            if front or not self._refill():  # every row past the front is newer
                return dropped

    def take_oldest(self, k: int) -> list[tuple[float, str]]:
        """Take the ``k`` oldest rows' ``(timestamp, id)`` off the front, as
        :func:`pop_oldest_pending` does for one model (the rows stay)."""
        slots, stamps, pop = self.slots, self.ts, heapq.heappop
        out: list[tuple[float, str]] = []
        while True:
            front = self._front
            while front and len(out) < k:
                entry = pop(front)
                slot = slots.get(entry[1])
                if slot is not None and stamps[slot] == entry[0]:
                    while front and front[0] == entry:  # see pop_front
                        pop(front)
                    out.append(entry)
            if len(out) >= k or front or not self._refill():
                return out

    def pop_front(self) -> None:
        """Drop the front entry :meth:`peek` returned (the row stays), and its copies: an
        id labelled (its entry left stale) and re-sent with the same timestamp gets a
        second, identical entry, and both would look live."""
        front = self._front
        entry = heapq.heappop(front)
        while front and front[0] == entry:
            heapq.heappop(front)

    def push_front(self, ts: float, pid: str) -> None:
        """Give back an entry taken by :meth:`pop_front` whose row still waits."""
        heapq.heappush(self._front, (ts, pid))

    def _refill(self) -> bool:
        """Take the next oldest rows, those past ``_limit``, into the (empty) front; False
        when none wait. (Rows at or below it wait only when taken off the front by
        :func:`pop_oldest_pending` and not removed yet: they must not come back.)"""
        slots, pids, stamps = self.slots, self.pids, self.ts
        k = max(_FRONT_MIN, len(slots) >> 3)
        while slots:
            view = np.frombuffer(stamps, dtype=np.float64)
            after = self._limit
            later = view[view > after] if after != -math.inf else view.copy()
            if not later.size:
                del view
                return False
            # dead slots (removed rows) count too: fewer live rows than k may come in
            limit = float(later.max() if k >= later.size else np.partition(later, k - 1)[k - 1])
            idx = np.flatnonzero((view > after) & (view <= limit)).tolist()
            del view, later  # the array may grow again
            front = [(stamps[i], pids[i]) for i in idx if slots.get(pids[i]) == i]
            self._limit = limit
            if front:
                heapq.heapify(front)
                self._front = front
                return True
        return False

    def newest(self) -> float:
        """The largest waiting timestamp (-inf when none)."""
        stamps = self.ts
        return max((stamps[slot] for slot in self.slots.values()), default=-math.inf)

    # -- housekeeping -------------------------------------------------------------------

    def compact(self) -> None:
        """Drop the dead slots once they outnumber the live ones (O(n), amortised O(1))."""
        slots = self.slots
        if len(self.pids) - len(slots) <= len(slots) + _SLACK:
            return
        order = list(slots.values())
        self.pids = [self.pids[s] for s in order]
        self.ts = array("d", [self.ts[s] for s in order])
        self.preds = [self.preds[s] for s in order]
        self.meta = [self.meta[s] for s in order]
        slots.update(zip(list(slots), range(len(order)), strict=True))


def pop_oldest_pending(stores: Mapping[str, PendingStore], k: int) -> list[tuple[float, str, str]]:
    """Take the ``k`` oldest waiting rows of all the models' stores off their fronts, in
    (timestamp, model, id) order, as ``(timestamp, model, id)``; the rows stay (the caller
    removes them, or gives the entries back with :meth:`PendingStore.push_front`)."""
    held = [(model, store) for model, store in stores.items() if len(store)]
    if len(held) == 1:
        model, store = held[0]
        return [(ts, model, pid) for ts, pid in store.take_oldest(k)]
    pop, push = heapq.heappop, heapq.heappush
    front: list[tuple[float, str, str]] = []
    for model, store in stores.items():
        head = store.peek()
        if head is not None:
            front.append((head[0], model, head[1]))
    heapq.heapify(front)
    out: list[tuple[float, str, str]] = []
    while front and len(out) < k:
        entry = pop(front)
        store = stores[entry[1]]
        store.pop_front()
        out.append(entry)
        head = store.peek()
        if head is not None:
            push(front, (head[0], entry[1], head[1]))
    return out
