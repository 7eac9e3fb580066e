"""HDDM_A (Hoeffding-bound drift detection, moving average), wrapping River's ``HDDMA``.

State: River's HDDM_A is plain Python -- three running means (the global one and the
two cut points for increases and decreases), each ``n`` and ``mean`` -- so ``to_dict``
stores them explicitly.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from river.drift import binary

from streamdrift.detectors._state import (
    check_bool,
    check_real,
    field,
    mean_from_dict,
    mean_to_dict,
)
from streamdrift.detectors.base import BinaryDriftDetector

_RiverHDDMA: Any = binary.HDDMA  # its constructor is unannotated


class HDDMA(BinaryDriftDetector):
    """Hoeffding's-bound test of the error rate against its best earlier cut point.

    Parameters mirror ``river.drift.binary.HDDMA``: ``drift_confidence`` and
    ``warning_confidence`` are the test's error probabilities (smaller is stricter);
    ``two_sided_test`` also alarms on a *decrease* of the error rate. Quiet with the
    defaults on stationary Bernoulli(0.1) streams (none in 50 seeds of 5000 values).
    Cost: O(1) time and memory per value.

    Examples
    --------
    River's own example: an error rate of 0.5, then 0.7 from index 1000 on.

    >>> import random
    >>> from streamdrift.detectors import HDDMA
    >>> rng = random.Random(42)
    >>> stream = rng.choices([0, 1], k=1000) + rng.choices([0, 1], k=1000, weights=[0.3, 0.7])
    >>> hddm_a = HDDMA()
    >>> hddm_a.update_many(stream)
    [1206]
    """

    name = "hddm_a"

    def __init__(
        self,
        drift_confidence: float = 0.001,
        warning_confidence: float = 0.005,
        two_sided_test: bool = False,
    ) -> None:
        n = self.name
        super().__init__(
            {
                "drift_confidence": check_real(
                    n, "drift_confidence", drift_confidence, above=0.0, below=1.0
                ),
                "warning_confidence": check_real(
                    n, "warning_confidence", warning_confidence, above=0.0, below=1.0
                ),
                "two_sided_test": check_bool(n, "two_sided_test", two_sided_test),
            }
        )

    def _new_river(self) -> Any:
        return _RiverHDDMA(**self._params)

    def _get_state(self) -> dict[str, Any]:
        r = self._river
        return {
            "x_min": mean_to_dict(r._x_min),
            "x_max": mean_to_dict(r._x_max),
            "z": mean_to_dict(r._z),
        }

    def _set_state(self, state: Mapping[str, Any]) -> None:
        r = self._river
        r._x_min = mean_from_dict(field(state, "x_min"))
        r._x_max = mean_from_dict(field(state, "x_max"))
        r._z = mean_from_dict(field(state, "z"))
