"""``[defaults.budget]``: a model's false-alarm budget (see :mod:`streamdrift.drift.budget`)."""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["BudgetSpec", "BudgetSpecError"]


class BudgetSpecError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class BudgetSpec:
    false_alerts_per_30_days: float = 1.0
    accumulated_share: float = 0.5  # of the drift budget, for the CUSUM decisions
    min_window_seconds: float = 1.0  # the rate's floor, and its value before a window closed

    def __post_init__(self) -> None:
        if not (self.false_alerts_per_30_days > 0 and math.isfinite(self.false_alerts_per_30_days)):
            raise BudgetSpecError(
                f"false_alerts_per_30_days: must be > 0, got {self.false_alerts_per_30_days}"
            )
        if not 0 <= self.accumulated_share < 1:
            raise BudgetSpecError(f"accumulated_share: in [0, 1), got {self.accumulated_share}")
        if not (self.min_window_seconds > 0 and math.isfinite(self.min_window_seconds)):
            raise BudgetSpecError(f"min_window_seconds: must be > 0, got {self.min_window_seconds}")
