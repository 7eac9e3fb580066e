"""PendingStore (the join's waiting predictions in columns) against a plain dict model:
same rows in the same order, expiry, and oldest-first in exact (timestamp, model, id) order
through removals, re-added ids, refused batches, compaction and front refills."""

from __future__ import annotations

import random
from typing import Any

import pytest

from streamdrift.labels.join_pending import PendingStore, pop_oldest_pending

Model = dict[str, dict[str, tuple[float, Any, str, str | None]]]


def _check(stores: dict[str, PendingStore], model: Model) -> None:
    for m, rows in model.items():
        assert list(stores[m].items()) == list(rows.items())
        assert len(stores[m]) == len(rows)
        assert stores[m].rows() == [[pid, *row] for pid, row in rows.items()]
        metas: dict[Any, Any] = {}
        assert list(PendingStore.from_rows(stores[m].rows(), metas).items()) == list(rows.items())
        for pid, row in rows.items():
            assert stores[m].get(pid) == row


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("models", ["ab", "a"])
def test_store_keeps_rows_and_oldest_first_order_of_a_dict_model(seed: int, models: str) -> None:
    rng = random.Random(seed)
    stores = {m: PendingStore() for m in models}
    model: Model = {m: {} for m in models}
    next_id = 0
    for _ in range(600):
        m = rng.choice(models)
        store, rows = stores[m], model[m]
        r = rng.random()
        if r < 0.45:  # a batch, sometimes with an id that waits or twice in it
            k = rng.randint(1, 40)
            pids = [f"p{next_id + i}" for i in range(k)]
            next_id += k
            if rng.random() < 0.15 and rows:
                pids.append(rng.choice(list(rows)))
            elif rng.random() < 0.1:
                pids.append(pids[0])
            stamps = [float(rng.randint(0, 300)) for _ in pids]  # ties happen
            preds = [rng.random() for _ in pids]
            meta = ("v1", rng.choice([None, "eu"]))
            fresh = len(set(pids)) == len(pids) and not set(pids) & rows.keys()
            assert store.extend(pids, stamps, preds, meta) is fresh
            if fresh:
                for pid, ts, pred in zip(pids, stamps, preds, strict=True):
                    rows[pid] = (ts, pred, *meta)
        elif r < 0.55:  # one row, maybe an id removed before (a re-added id)
            pid = f"p{rng.randint(0, next_id)}"
            if pid not in rows:
                ts = float(rng.randint(0, 300))
                store.add(pid, ts, None, ("v2", None))
                rows[pid] = (ts, None, "v2", None)
        elif r < 0.75 and rows:  # joins
            for pid in rng.sample(list(rows), min(len(rows), rng.randint(1, 30))):
                assert store.pop(pid) == rows.pop(pid)
        elif r < 0.85:  # the k oldest of both models; some removed, the rest given back
            k = rng.randint(1, 60)
            expected = sorted((row[0], mm, pid) for mm in models for pid, row in model[mm].items())
            taken = pop_oldest_pending(stores, k)
            assert taken == expected[:k]
            for ts, mm, pid in taken:
                if rng.random() < 0.7:
                    assert stores[mm].remove(pid, ts)
                    del model[mm][pid]
                else:
                    stores[mm].push_front(ts, pid)
        elif r < 0.9:  # expiry
            cutoff = float(rng.randint(0, 120))
            old = [pid for pid, row in rows.items() if row[0] < cutoff]
            assert store.expire(cutoff) == len(old)
            for pid in old:
                del rows[pid]
        else:
            store.compact()
        _check(stores, model)
    expected = sorted((row[0], mm, pid) for mm in models for pid, row in model[mm].items())
    assert pop_oldest_pending(stores, len(expected) + 5) == expected


def test_a_refused_batch_changes_nothing() -> None:
    store = PendingStore()
    assert store.extend(["a", "b"], [2.0, 1.0], [0.1, 0.2], ("1", None))
    assert not store.extend(["c", "a"], [3.0, 3.0], [0.3, 0.4], ("1", None))
    assert not store.extend(["d", "d"], [3.0, 3.0], [0.3, 0.4], ("1", None))
    assert list(store.items()) == [("a", (2.0, 0.1, "1", None)), ("b", (1.0, 0.2, "1", None))]
    assert store.peek() == (1.0, "b")


def test_removed_rows_are_compacted_away_in_arrival_order() -> None:
    store = PendingStore()
    n = 5000
    store.extend(
        [f"p{i}" for i in range(n)], [float(i % 97) for i in range(n)], [0] * n, ("1", None)
    )
    for i in range(n):
        if i % 5:
            store.pop(f"p{i}")
    assert store.remove("p5", 5.0) and not store.remove("p10", 0.0)
    store.compact()
    assert len(store.pids) == len(store) == 999
    assert [pid for pid, _ in store.items()][:4] == ["p0", "p10", "p15", "p20"]
    assert store.newest() == 96.0


def _readded_after_removal() -> PendingStore:
    """A store whose front holds a stale entry for ``x`` (removed, e.g. labelled) and a live
    one for the same id and timestamp, re-sent after the join forgot its label."""
    store = PendingStore()
    store.extend(["x", "y", "z"], [1.0, 2.0, 3.0], [0.1, 0.2, 0.3], ("1", None))
    assert store.peek() == (1.0, "x")  # the front now holds every row
    assert store.pop("x") is not None  # labelled: the row goes, its front entry stays
    store.add("x", 1.0, 0.4, ("1", None))  # the same id and timestamp again
    return store


def test_a_re_sent_id_is_taken_once_from_one_store() -> None:
    store = _readded_after_removal()
    assert store.take_oldest(3) == [(1.0, "x"), (2.0, "y"), (3.0, "z")]


def test_a_re_sent_id_is_taken_once_across_stores() -> None:
    other = PendingStore()
    other.extend(["w"], [1.5], [0.5], ("1", None))
    stores = {"a": _readded_after_removal(), "b": other}
    taken = pop_oldest_pending(stores, 3)
    assert taken == [(1.0, "a", "x"), (1.5, "b", "w"), (2.0, "a", "y")]
