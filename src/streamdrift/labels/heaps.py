"""Per-model min-heaps by event time, with lazily skipped stale entries (the join's stores)."""

from __future__ import annotations

import heapq
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["Entry", "Heaps", "pop_oldest", "rebuild_heaps"]

# Heap entry: (timestamp, model_id, prediction_id). An entry is stale when the store no
# longer holds that id with that timestamp (joined meanwhile); stale entries are skipped.
Entry = tuple[float, str, str]
Heaps = dict[str, list[Entry]]  # model_id -> heap


def pop_oldest(heaps: Heaps, live: Callable[[Entry], bool], k: int) -> list[Entry]:
    """Pop the ``k`` oldest live entries of all the per-model heaps, in (timestamp, model,
    id) order; stale entries met on the way are discarded."""
    pop = heapq.heappop
    front: list[Entry] = []
    for heap in heaps.values():
        while heap and not live(heap[0]):
            pop(heap)
        if heap:
            front.append(heap[0])
    heapq.heapify(front)
    out: list[Entry] = []
    while front and len(out) < k:
        entry = pop(front)
        heap = heaps[entry[1]]
        pop(heap)
        out.append(entry)
        while heap and not live(heap[0]):
            pop(heap)
        if heap:
            heapq.heappush(front, heap[0])
    return out


def rebuild_heaps(stores: Mapping[str, Mapping[str, Any]]) -> Heaps:
    """The per-model heaps of ``{model: {id: row}}`` (a row starts with its timestamp, or
    is one)."""
    heaps: Heaps = {}
    for model, d in stores.items():
        if d:
            heap = heaps[model] = [
                (row[0] if isinstance(row, tuple) else row, model, pid) for pid, row in d.items()
            ]
            heapq.heapify(heap)
    return heaps
