"""The detector contract: River's ``update(x)`` then ``drift_detected``, plus saveable state.

Each detector wraps one River detector and does not reimplement it. Its constructor
keyword arguments mirror River's, with River's defaults, and are its whole
configuration. ``to_dict()`` returns plain JSON data::

    {"format": "streamdrift.detector", "version": 1, "name": "adwin",
     "river_version": "0.26.1", "params": {...}, "n_seen": 1234, "state": {...}}

No NaN or infinity appears in it (see ``_state``), so ``json`` and ``orjson`` both
round-trip it exactly, and ``from_dict(to_dict())`` continues exactly as the original
would have: same detections, same internal estimates. ``state`` is detector-specific;
each module's docstring says what it holds and why.
"""

from __future__ import annotations

import abc
import copy
import functools
import inspect
import math
from collections.abc import Callable, Mapping, Sequence
from importlib.metadata import version
from numbers import Real
from typing import Any, ClassVar, Self

import numpy as np
import numpy.typing as npt

from streamdrift.detectors._state import decode_bool, decode_int, field

STATE_FORMAT = "streamdrift.detector"
STATE_VERSION = 1


@functools.cache
def _river_version() -> str:
    return version("river")


class DriftDetector(abc.ABC):
    """A sequential change detector over a stream of real numbers.

    ``drift_detected`` is true only right after the ``update`` that detected the change
    (River semantics); the next ``update`` starts the detector afresh on new data.
    ``n_seen`` counts updates since construction or ``reset()``, across detections.
    Inputs must be finite; a NaN or infinity raises ``ValueError`` and leaves the
    detector unchanged, because one NaN would poison River's running sums for good.

    Examples
    --------
    >>> from streamdrift.detectors import make_detector
    >>> det = make_detector("adwin", delta=0.002)
    >>> det.update_many([0.0] * 500 + [5.0] * 100)
    [511]
    >>> det.n_seen, det.drift_detected
    (600, False)
    """

    name: ClassVar[str]
    """Registry name, e.g. ``"adwin"``; also stored in the state dict."""

    def __init__(self, params: dict[str, Any]) -> None:
        self._params = params
        self._river: Any = self._new_river()
        self._n_seen = 0

    # -- what each detector provides --------------------------------------------------

    @abc.abstractmethod
    def _new_river(self) -> Any:
        """A fresh River detector built from ``self._params``."""

    @abc.abstractmethod
    def _get_state(self) -> dict[str, Any]:
        """The River object's state as JSON data (flags excluded)."""

    @abc.abstractmethod
    def _set_state(self, state: Mapping[str, Any]) -> None:
        """Load ``_get_state()`` output into the fresh ``self._river``."""

    # -- the contract -------------------------------------------------------------------

    @property
    def drift_detected(self) -> bool:
        """Whether the last ``update`` detected a change."""
        return bool(self._river.drift_detected)

    @property
    def n_seen(self) -> int:
        """Number of values seen since construction or the last ``reset()``."""
        return self._n_seen

    @property
    def params(self) -> dict[str, Any]:
        """The constructor keyword arguments (a copy)."""
        return copy.deepcopy(self._params)

    def update(self, x: float) -> None:
        """Feed one value, then read ``drift_detected``."""
        self._river.update(self._coerce(x))
        self._n_seen += 1

    def update_many(self, xs: npt.ArrayLike) -> list[int]:
        """Feed a 1-d batch in order; return the 0-based indices in ``xs`` that fired.

        The whole batch is validated first, so a bad value leaves the detector unchanged.
        Afterwards ``drift_detected`` reflects the last value of the batch.
        """
        values = self._coerce_many(np.asarray(xs, dtype=np.float64))
        river_det = self._river
        fired: list[int] = []
        for i, v in enumerate(values):
            river_det.update(v)
            if river_det.drift_detected:
                fired.append(i)
        self._n_seen += len(values)
        return fired

    def reset(self) -> None:
        """Return to the state of a newly constructed detector with the same params."""
        self._river = self._new_river()
        self._n_seen = 0

    def to_dict(self) -> dict[str, Any]:
        """The configuration and the complete state, as JSON-serialisable data."""
        return {
            "format": STATE_FORMAT,
            "version": STATE_VERSION,
            "name": self.name,
            "river_version": _river_version(),
            "params": self.params,
            "n_seen": self._n_seen,
            "state": self._get_flags() | self._get_state(),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Self:
        """Rebuild a detector from ``to_dict()`` output; raise ``ValueError`` if malformed."""
        if not isinstance(d, Mapping) or d.get("format") != STATE_FORMAT:
            raise ValueError(f"not a streamdrift detector state (format {STATE_FORMAT!r})")
        if d.get("version") != STATE_VERSION:
            raise ValueError(
                f"unsupported detector state version {d.get('version')!r}; "
                f"this streamdrift reads version {STATE_VERSION}"
            )
        if d.get("name") != cls.name:
            raise ValueError(f"state is for detector {d.get('name')!r}, not {cls.name!r}")
        params = d.get("params")
        if not isinstance(params, Mapping):
            raise ValueError(f"{cls.name}: state has no 'params' mapping")
        det = cls._from_params(params)
        try:
            state = field(d, "state")
            det._set_flags(state)
            det._set_state(state)
            n_seen = decode_int(field(d, "n_seen"))
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            raise ValueError(f"cannot restore {cls.name!r} detector state: {exc}") from exc
        if n_seen < 0:
            raise ValueError(f"cannot restore {cls.name!r} detector state: n_seen < 0")
        det._n_seen = n_seen
        return det

    # -- helpers ------------------------------------------------------------------------

    @classmethod
    def param_names(cls) -> tuple[str, ...]:
        """The constructor's keyword arguments, in order."""
        return tuple(inspect.signature(cls).parameters)

    @classmethod
    def _from_params(cls, params: Mapping[str, Any]) -> Self:
        unknown = sorted(set(params) - set(cls.param_names()))
        if unknown:
            raise ValueError(
                f"{cls.name}: unknown parameter(s) {', '.join(map(repr, unknown))}; "
                f"valid parameters: {', '.join(cls.param_names())}"
            )
        factory: Callable[..., Self] = cls
        return factory(**params)

    def _get_flags(self) -> dict[str, Any]:
        return {"drift_detected": self._river._drift_detected}

    def _set_flags(self, state: Mapping[str, Any]) -> None:
        self._river._drift_detected = decode_bool(field(state, "drift_detected"))

    def _coerce(self, x: object) -> float:
        if not isinstance(x, Real):
            raise TypeError(f"{self.name}: expected a real number, got {type(x).__name__}")
        v = float(x)
        if not math.isfinite(v):
            raise ValueError(f"{self.name}: input must be finite, got {v}")
        return v

    def _coerce_many(self, xs: npt.NDArray[np.float64]) -> Sequence[float]:
        if xs.ndim != 1:
            raise ValueError(f"{self.name}: update_many expects a 1-d array, got shape {xs.shape}")
        bad = np.flatnonzero(~np.isfinite(xs))
        if bad.size:
            raise ValueError(f"{self.name}: input must be finite, got {xs[bad[0]]} at {bad[0]}")
        values: list[float] = xs.tolist()
        return values

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self._params.items())
        return f"{type(self).__name__}({args})"


class BinaryDriftDetector(DriftDetector):
    """A detector on an error stream: 1 when the model was wrong, 0 when it was right.

    It also reports a warning zone (``warning_detected``) before a change is confirmed.
    Inputs other than 0 and 1 (or ``False``/``True``) raise ``ValueError``.

    Examples
    --------
    >>> from streamdrift.detectors import make_detector
    >>> det = make_detector("hddm_a")
    >>> det.update_many([0, 1, 0, 0, 0, 0, 0, 0, 0, 0] * 100 + [1] * 20)
    [1004]
    >>> det.update(0.5)
    Traceback (most recent call last):
    ...
    ValueError: hddm_a: input must be 0 or 1, got 0.5
    """

    @property
    def warning_detected(self) -> bool:
        """Whether the last ``update`` put the detector in its warning zone."""
        return bool(self._river.warning_detected)

    def _get_flags(self) -> dict[str, Any]:
        return super()._get_flags() | {"warning_detected": self._river._warning_detected}

    def _set_flags(self, state: Mapping[str, Any]) -> None:
        super()._set_flags(state)
        self._river._warning_detected = decode_bool(field(state, "warning_detected"))

    def _coerce(self, x: object) -> int:
        if isinstance(x, Real | np.bool_) and (x == 0 or x == 1):
            return 1 if x == 1 else 0
        raise ValueError(f"{self.name}: input must be 0 or 1, got {x!r}")

    def _coerce_many(self, xs: npt.NDArray[np.float64]) -> Sequence[int]:
        if xs.ndim != 1:
            raise ValueError(f"{self.name}: update_many expects a 1-d array, got shape {xs.shape}")
        bad = np.flatnonzero((xs != 0) & (xs != 1))
        if bad.size:
            raise ValueError(f"{self.name}: input must be 0 or 1, got {xs[bad[0]]} at {bad[0]}")
        values: list[int] = xs.astype(np.int64).tolist()
        return values
