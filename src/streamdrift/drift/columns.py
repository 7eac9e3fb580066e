"""A window's or a reference's column in the form its statistics take: numbers as float64
(missing = NaN), categories as strings (missing = None), model outputs as scalars.

Each conversion first tries the whole column at C speed (``set(map(type, ...))``,
``np.fromiter``) and walks it value by value only when that does not settle it.
"""

from __future__ import annotations

import math
import operator
from collections import Counter
from collections.abc import Mapping, Sequence
from itertools import repeat
from operator import countOf
from typing import Any

import numpy as np
import numpy.typing as npt

from streamdrift.records import Scalar, predicted_class


def prediction_value(prediction: Any) -> Scalar:
    """The monitored form of a model output: scalars as they are; for class probabilities
    (an object of class -> probability) the predicted class."""
    if isinstance(prediction, dict):
        return predicted_class(prediction)
    if isinstance(prediction, (list, tuple)):
        return None
    return prediction  # type: ignore[no-any-return]


_NUMBERS = frozenset((int, float))
_NONE = type(None)
_PLAIN_CATEGORIES = frozenset((str, _NONE))
_SCALARS = frozenset((float, int, str, bool, _NONE))


def prediction_values(predictions: list[Any]) -> list[Scalar]:
    """``prediction_value`` of each output; a column of plain scalars is returned as it is
    (the common case: one ``set(map(type, ...))`` instead of a call per row)."""
    if set(map(type, predictions)) <= _SCALARS:
        return predictions
    return [prediction_value(p) for p in predictions]


def as_numeric(values: Column, declared: str | None) -> np.ndarray | None:
    """The column as float64 (None -> NaN) if every present value is a number (or the type
    is declared numeric: then non-numbers are missing), else None."""
    if declared == "numeric":
        return coerce_numeric(values)
    if isinstance(values, PackedColumn):
        floats = values.as_floats()
        if floats is None:
            return as_numeric(values.to_list(), declared)
        return None if values.all_missing() else floats
    types = set(map(type, values))
    types.discard(_NONE)
    if not types or not types <= _NUMBERS:
        return None
    return np.array(values, dtype=np.float64)


def coerce_numeric(values: Column) -> np.ndarray:
    """A window column of a numeric feature as float64; non-numbers count as missing."""
    if isinstance(values, PackedColumn):  # numbers and missing only: the slots as they are
        floats = values.as_floats()
        return coerce_numeric(values.to_list()) if floats is None else floats
    try:  # fromiter: about a third faster than np.array on a list of numbers
        return np.fromiter(values, dtype=np.float64, count=len(values))
    except (TypeError, ValueError):  # None (missing) or a non-number in the column
        pass
    try:
        return np.array(values, dtype=np.float64)
    except (TypeError, ValueError):
        return np.array([v if type(v) in (int, float) else None for v in values], dtype=np.float64)


def category(value: Any) -> str | None:
    """The canonical categorical form of one value, the same for every input path (CSV,
    JSON Lines and Parquet references, single events, envelopes, the client): booleans
    "true"/"false" (as JSON writes them), numbers ``str`` of the number, strings as they
    are, None (missing) kept. numpy scalars count as the Python value they hold."""
    if value is None or type(value) is str:
        return value
    if value is True or value is False or isinstance(value, np.bool_):
        return "true" if value else "false"
    if isinstance(value, np.generic):
        return str(value.item())
    return str(value)


def as_categories(values: Column) -> list[str | None]:
    """:func:`category` of each value; a column of strings and None is returned as it is."""
    if isinstance(values, PackedColumn):
        values = values.to_list()
    if set(map(type, values)) <= _PLAIN_CATEGORIES:
        return values  # type: ignore[return-value]  # already strings and None
    return [category(v) for v in values]


def category_tally(values: Column) -> Counter[str | None]:
    """``Counter(as_categories(values))``; a packed column of strings, bools and missing
    values is counted by code (one ``bincount``), not value by value."""
    if isinstance(values, PackedColumn):
        tally = values.category_tally()
        if tally is not None:
            return tally
    return Counter(as_categories(values))


def category_codes(values: Column, index: Mapping[str, int], other: int) -> np.ndarray:
    """Each row's position in ``index`` (a category absent from it: ``other``; missing:
    -1), as an intp array."""
    if isinstance(values, PackedColumn):
        codes = values.category_codes(index, other)
        if codes is not None:
            return codes
    lookup: dict[str | None, int] = {None: -1}
    lookup.update(index)
    cats = as_categories(values)
    return np.fromiter(map(lookup.get, cats, repeat(other)), dtype=np.intp, count=len(cats))


class _Codes(dict[Any, int]):
    """Value -> code, a new value getting the next code (``map(codes.__getitem__, ...)``
    encodes a column in C)."""

    def __missing__(self, key: Any) -> int:
        code = self[key] = len(self)
        return code


# PackedColumn's tags: how a row's float64 slot is read back
_FLOAT, _INT, _MISSING, _STR, _OBJECT = 0, 1, 2, 3, 4
_EXACT_INT = 2**53  # ints up to this magnitude survive float64 exactly
_MIN_CAPACITY = 16


class PackedColumn:
    """A column of scalars held in 9 bytes a row instead of a list of Python objects.

    Each row is a float64 slot and a one-byte tag: floats and exact ints in the slot,
    missing (None) as NaN, strings and bools as a code into a table of the column's distinct
    values, anything else (large ints, other objects, and batches of mostly distinct strings
    such as ids, which a table would not shrink) as an index into a list of references.
    :meth:`to_list` gives back the very values appended (ints as ints, bools as bools), so
    a statistic of the materialised column is the one of the list it replaces. Capacity
    grows by doubling and shrinks when rows are dropped; the tables are rebuilt when they
    outgrow the rows held, so memory is bounded by the rows held, not by the rows seen.

    >>> col = PackedColumn()
    >>> col.extend([1.5, 2, None, "a", True]); col.extend(["a", 2**60])
    >>> col.to_list()
    [1.5, 2, None, 'a', True, 'a', 1152921504606846976]
    >>> col.drop_prefix(3); len(col), col.to_list(1, 3)
    (4, [True, 'a'])
    """

    __slots__ = ("_least", "_objects", "_size", "_strings", "_tags", "_values")

    def __init__(self, values: Sequence[Any] = (), capacity: int = _MIN_CAPACITY) -> None:
        """``capacity``: rows allocated at once and kept however many are dropped (a
        buffer's configured size, so that filling it does not reallocate)."""
        self._least = max(_MIN_CAPACITY, capacity)
        self._values = np.empty(self._least, dtype=np.float64)
        self._tags = np.zeros(self._least, dtype=np.uint8)
        self._size = 0
        self._strings = _Codes()
        self._objects: list[Any] = []
        if len(values):
            self.extend(values)

    def __len__(self) -> int:
        return self._size

    @property
    def nbytes(self) -> int:
        """Bytes of the row arrays (the tables' strings and objects not counted)."""
        return int(self._values.nbytes + self._tags.nbytes)

    # -- appending --------------------------------------------------------------------------

    def _reserve(self, n: int) -> tuple[int, int]:
        lo, hi = self._size, self._size + n
        if hi > self._values.size:
            capacity = max(hi, 2 * self._values.size)
            values = np.empty(capacity, dtype=np.float64)
            tags = np.zeros(capacity, dtype=np.uint8)
            values[:lo] = self._values[:lo]
            tags[:lo] = self._tags[:lo]
            self._values, self._tags = values, tags
        self._size = hi
        return lo, hi

    def extend_missing(self, n: int) -> None:
        lo, hi = self._reserve(n)
        self._values[lo:hi] = math.nan
        self._tags[lo:hi] = _MISSING

    def extend(self, values: Sequence[Any]) -> None:
        """Append ``values`` (a list, or an array whose items become Python scalars)."""
        if isinstance(values, np.ndarray):
            values = values.tolist()
        n = len(values)
        if n == 0:
            return
        # One type throughout (the common case: a column of floats, or of strings) is told
        # by counting the first row's type (``countOf`` compares types by identity, in C),
        # cheaper than building the set of the column's types.
        first = type(values[0])
        if (first is float or first is str) and countOf(map(type, values), first) == n:
            types = {first}
        else:
            types = set(map(type, values))
        lo, hi = self._reserve(n)
        slots, tags = self._values[lo:hi], self._tags[lo:hi]
        if first is float and types == _FLOATS:
            slots[:] = np.fromiter(values, dtype=np.float64, count=n)
            tags[:] = _FLOAT
            return
        if types <= _CODED and n >= _FEW and len(set(values)) * 4 > n:
            self._refer(values, types, slots, tags)  # mostly distinct (ids): no table
        elif types <= _CODED:  # None takes a code too, read back as missing
            slots[:] = np.fromiter(map(self._strings.__getitem__, values), np.float64, n)
            tags[:] = _STR
            if _NONE in types:
                missing = slots == self._strings[None]
                tags[missing] = _MISSING
                slots[missing] = math.nan
        elif types <= _NUMBERS_OR_MISSING and self._numbers(values, types, slots, tags):
            pass
        else:
            for i, value in enumerate(values):
                slots[i], tags[i] = self._pack(value)

    def _refer(self, values: Sequence[Any], types: set[type], slots: Any, tags: Any) -> None:
        """Rows as references into the object list, as a list of them would hold them."""
        start = len(self._objects)
        self._objects.extend(values)
        slots[:] = np.arange(start, len(self._objects), dtype=np.float64)
        tags[:] = _OBJECT
        if _NONE in types:
            missing = np.fromiter(map(operator.is_, values, repeat(None)), bool, len(values))
            tags[missing] = _MISSING
            slots[missing] = math.nan

    @staticmethod
    def _numbers(values: Sequence[Any], types: set[type], slots: Any, tags: Any) -> bool:
        """Floats, ints and None at C speed; False when an int is too large to be exact."""
        try:
            if _NONE in types:
                slots[:] = np.array(values, dtype=np.float64)
            else:
                slots[:] = np.fromiter(values, np.float64, len(values))
        except OverflowError:
            return False
        if int in types:
            if len(types) > 1:
                tags[:] = np.fromiter(map(_TAG_OF.__getitem__, map(type, values)), np.uint8)
            else:
                tags[:] = _INT
            return not (np.abs(slots[tags == _INT]) >= _EXACT_INT).any()
        tags[:] = _FLOAT
        if _NONE in types:  # NaN is None or a float NaN: ask the few NaN rows
            for i in np.flatnonzero(np.isnan(slots)).tolist():
                if values[i] is None:
                    tags[i] = _MISSING
        return True

    def _pack(self, value: Any) -> tuple[float, int]:
        kind = type(value)
        if kind is float:
            return value, _FLOAT
        if value is None:
            return math.nan, _MISSING
        if kind is str or kind is bool:
            return self._strings[value], _STR
        if kind is int and -_EXACT_INT <= value <= _EXACT_INT:
            return value, _INT
        self._objects.append(value)
        return len(self._objects) - 1, _OBJECT

    def extend_from(self, other: PackedColumn, rows: npt.NDArray[np.intp] | slice) -> None:
        """Append ``other``'s rows ``rows`` (a slice or an index array), as they are."""
        values, tags = other._values[: other._size][rows], other._tags[: other._size][rows]
        n = values.size
        if n == 0:
            return
        lo, hi = self._reserve(n)
        self._values[lo:hi] = values
        self._tags[lo:hi] = tags
        for tag in (_STR, _OBJECT):
            at = np.flatnonzero(tags == tag)
            if at.size == 0:
                continue
            # only the table entries these rows use: a table stays within its rows
            used, inverse = np.unique(values[at].astype(np.intp), return_inverse=True)
            if tag == _STR:
                strings = list(other._strings)
                picked = [strings[u] for u in used.tolist()]
                codes = np.fromiter(map(self._strings.__getitem__, picked), np.float64, used.size)
            else:
                start = len(self._objects)
                self._objects.extend(other._objects[u] for u in used.tolist())
                codes = np.arange(start, len(self._objects), dtype=np.float64)
            self._values[lo + at] = codes[inverse]

    def extend_floats(self, values: npt.NDArray[np.float64]) -> None:
        """Append a float64 array (every row a float)."""
        lo, hi = self._reserve(values.size)
        self._values[lo:hi] = values
        self._tags[lo:hi] = _FLOAT

    # -- reading ----------------------------------------------------------------------------

    def to_list(self, lo: int = 0, hi: int | None = None) -> list[Any]:
        """Rows ``[lo, hi)`` as the values appended."""
        hi = self._size if hi is None else min(hi, self._size)
        values, tags = self._values[lo:hi], self._tags[lo:hi]
        if not tags.any():
            return values.tolist()  # type: ignore[no-any-return]
        coded = tags == _STR
        if coded.all():
            return self._string_table()[values.astype(np.intp)].tolist()  # type: ignore[no-any-return]
        if (coded | (tags == _MISSING)).all():  # a categorical column with missing values
            table = self._string_table(extra=1)  # the last entry None
            codes = np.where(coded, values, table.size - 1).astype(np.intp)
            return table[codes].tolist()  # type: ignore[no-any-return]
        out = values.astype(object)  # Python floats
        for tag in np.unique(tags).tolist():
            at = tags == tag
            if tag == _INT:
                out[at] = values[at].astype(np.int64).astype(object)
            elif tag == _MISSING:
                out[at] = None
            elif tag == _STR:
                out[at] = self._string_table()[values[at].astype(np.intp)]
            elif tag == _OBJECT:
                out[at] = self._object_table()[values[at].astype(np.intp)]
        return out.tolist()  # type: ignore[no-any-return]

    def as_floats(self) -> npt.NDArray[np.float64] | None:
        """The rows as float64 (missing: NaN) when each is a float, an exact int or missing
        (what ``coerce_numeric(self.to_list())`` gives then), else None."""
        tags = self._tags[: self._size]
        if tags.size and int(tags.max()) > _MISSING:
            return None
        return self._values[: self._size].copy()

    def all_missing(self) -> bool:
        return bool((self._tags[: self._size] == _MISSING).all())

    def _coded_rows(self) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.bool_]] | None:
        """(codes, missing) when every row is coded (a string or bool) or missing."""
        tags = self._tags[: self._size]
        coded = tags == _STR
        missing = tags == _MISSING
        if not (coded | missing).all():
            return None
        return np.where(coded, self._values[: self._size], 0).astype(np.intp), missing

    def category_tally(self) -> Counter[str | None] | None:
        """``Counter(as_categories(self.to_list()))`` when every row is coded or missing."""
        rows = self._coded_rows()
        if rows is None:
            return None
        codes, missing = rows
        n_missing = int(np.count_nonzero(missing))
        counts = np.bincount(codes[~missing], minlength=len(self._strings)).tolist()
        tally: Counter[str | None] = Counter()
        for value, count in zip(self._strings, counts, strict=True):
            if count:
                name = category(value)
                tally[name] = tally.get(name, 0) + count
        if n_missing:
            tally[None] = n_missing
        return tally

    def category_codes(self, index: Mapping[str, int], other: int) -> np.ndarray | None:
        """Each row's position in ``index`` by its category (absent: ``other``, missing:
        -1) when every row is coded or missing, else None."""
        rows = self._coded_rows()
        if rows is None:
            return None
        codes, missing = rows
        lut = np.fromiter(
            (index.get(category(v), other) for v in self._strings),  # type: ignore[arg-type]
            dtype=np.intp,
            count=len(self._strings),
        )
        out = lut[codes] if lut.size else np.full(codes.size, other, dtype=np.intp)
        out[missing] = -1
        return out

    def snapshot(self, lo: int = 0, hi: int | None = None) -> PackedColumn:
        """Rows ``[lo, hi)`` as a read-only column of their own rows (the tables are shared:
        codes are only ever added to them, so the rows read back the same)."""
        hi = self._size if hi is None else min(hi, self._size)
        out = PackedColumn.__new__(PackedColumn)
        out._least = _MIN_CAPACITY
        out._values = self._values[lo:hi].copy()
        out._tags = self._tags[lo:hi].copy()
        out._size = hi - lo
        out._strings, out._objects = self._strings, self._objects
        return out

    def _string_table(self, extra: int = 0) -> npt.NDArray[np.object_]:
        """The coded values by code, then ``extra`` entries None."""
        table = np.empty(len(self._strings) + extra, dtype=object)
        table[: len(self._strings)] = np.fromiter(self._strings, dtype=object)
        return table

    def _object_table(self) -> npt.NDArray[np.object_]:
        # fromiter, not array(): a list or tuple in the column stays one object
        return np.fromiter(self._objects, dtype=object, count=len(self._objects))

    # -- dropping ---------------------------------------------------------------------------

    def drop_prefix(self, n: int) -> None:
        """Forget the first ``n`` rows (capacity shrinks back when far above what is held;
        tables larger than the rows held are rebuilt from them)."""
        n = min(n, self._size)
        if n <= 0:
            return
        held = self._size - n
        if len(self._strings) + len(self._objects) > max(_MIN_CAPACITY, 2 * held):
            kept = self.to_list(n)
            self.clear()
            self.extend(kept)
            return
        capacity = self._values.size
        if capacity > max(self._least, 4 * held):
            capacity = max(self._least, 2 * held)
            values = np.empty(capacity, dtype=np.float64)
            tags = np.zeros(capacity, dtype=np.uint8)
        else:
            values, tags = self._values, self._tags
        values[:held] = self._values[n : self._size]
        tags[:held] = self._tags[n : self._size]
        self._values, self._tags, self._size = values, tags, held

    def clear(self) -> None:
        self._values = np.empty(self._least, dtype=np.float64)
        self._tags = np.zeros(self._least, dtype=np.uint8)
        self._size = 0
        self._strings = _Codes()
        self._objects = []


Column = Sequence[Any] | PackedColumn  # a column as a list, or packed
_FLOATS = frozenset((float,))
_CODED = frozenset((str, bool, _NONE))  # held as codes into the column's table
_FEW = 64  # a batch of fewer rows is always coded
_NUMBERS_OR_MISSING = frozenset((float, int, _NONE))
_TAG_OF = {float: _FLOAT, int: _INT, _NONE: _MISSING}
