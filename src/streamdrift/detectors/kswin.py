"""KSWIN (Kolmogorov-Smirnov windowing), wrapping ``river.drift.KSWIN``.

State: River's KSWIN is plain Python -- the sliding window (a deque of at most
``window_size`` values), the update counter, the last p-value and a
``random.Random`` that draws the reference sample. ``to_dict`` stores them explicitly,
the generator as ``random.Random.getstate()`` (625 integers), so a restored detector
draws the same samples as the original.
"""

from __future__ import annotations

import collections
from collections.abc import Iterable, Mapping
from typing import Any

from river import drift

from streamdrift.detectors._state import (
    check_int,
    check_real,
    decode_int,
    decode_number,
    encode_number,
    field,
)
from streamdrift.detectors.base import DriftDetector


class KSWIN(DriftDetector):
    """Two-sample Kolmogorov-Smirnov test between recent values and an older sample.

    Parameters mirror ``river.drift.KSWIN``. Over a sliding window of ``window_size``
    values, the newest ``stat_size`` are compared with ``stat_size`` values drawn at
    random (with ``seed``) from the older part; a drift is a p-value <= ``alpha`` with a
    KS statistic > 0.1. ``window`` pre-fills the window to avoid a cold start.
    ``window_size`` must be at least ``2 * stat_size`` (River accepts less, then fails
    on the first full window).

    Set ``seed``. With ``seed=None`` River seeds from OS entropy at construction *and
    again at every detection*, so a run is not reproducible and a restored copy follows
    the original only until its next detection (replay after a crash may then alarm
    elsewhere).

    The River default ``alpha=0.005`` raises false alarms on stationary data (about one
    per 500 to 1000 values at the default window), because it runs one test per value;
    River's own example uses ``alpha=0.0001``.

    Cost: this is by far the slowest detector. Every value once the window is full
    runs ``scipy.stats.ks_2samp`` on two samples of ``stat_size`` and copies
    O(``window_size``) values: about 0.3-0.5 ms per value, i.e. a few thousand values
    per second. Feed it per-window scores, never per-event features. Its state holds
    the window plus the generator's 625 integers (about 8 KB of JSON).

    Examples
    --------
    >>> import random
    >>> from streamdrift.detectors import KSWIN
    >>> rng = random.Random(12345)
    >>> stream = rng.choices([0, 1], k=1000) + rng.choices(range(4, 8), k=1000)
    >>> kswin = KSWIN(alpha=0.0001, seed=42)
    >>> kswin.update_many(stream)
    [1016]
    """

    name = "kswin"

    def __init__(
        self,
        alpha: float = 0.005,
        window_size: int = 100,
        stat_size: int = 30,
        seed: int | None = None,
        window: Iterable[float] | None = None,
    ) -> None:
        n = self.name
        window_size = check_int(n, "window_size", window_size, low=2)
        stat_size = check_int(n, "stat_size", stat_size, low=1)
        if window_size < 2 * stat_size:
            raise ValueError(
                f"{n}: 'window_size' ({window_size}) must be at least 2 * 'stat_size' "
                f"({stat_size}): the reference sample is drawn from the older "
                "window_size - stat_size values"
            )
        if seed is not None:
            seed = check_int(n, "seed", seed)
        values = None
        if window is not None:
            values = [check_real(n, "window", v) for v in window]
        super().__init__(
            {
                "alpha": check_real(n, "alpha", alpha, at_least=0.0, at_most=1.0),
                "window_size": window_size,
                "stat_size": stat_size,
                "seed": seed,
                "window": values,
            }
        )

    @property
    def p_value(self) -> float:
        """p-value of the last KS test (0.0 before the window first fills)."""
        return float(self._river.p_value)

    def _new_river(self) -> Any:
        return drift.KSWIN(**self._params)

    def _get_state(self) -> dict[str, Any]:
        r = self._river
        version, internal, gauss_next = r._rng.getstate()
        return {
            "n": r.n,
            "p_value": encode_number(r.p_value),
            "window": [encode_number(v) for v in r.window],
            "rng": {
                "version": version,
                "internal": list(internal),
                "gauss_next": None if gauss_next is None else encode_number(gauss_next),
            },
        }

    def _set_state(self, state: Mapping[str, Any]) -> None:
        r = self._river
        r.n = decode_int(field(state, "n"))
        r.p_value = decode_number(field(state, "p_value"))
        window = [decode_number(v) for v in field(state, "window")]
        if len(window) > self._params["window_size"]:
            raise ValueError("window longer than window_size")
        r.window = collections.deque(window, maxlen=self._params["window_size"])
        rng = field(state, "rng")
        gauss_next = field(rng, "gauss_next")
        r._rng.setstate(
            (
                decode_int(field(rng, "version")),
                tuple(decode_int(v) for v in field(rng, "internal")),
                None if gauss_next is None else decode_number(gauss_next),
            )
        )
