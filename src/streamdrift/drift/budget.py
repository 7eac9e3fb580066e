"""The false-alarm budget: expected false alerts per model per 30 days, as a per-check level.

A model's budget ``B`` (``budget.false_alerts_per_30_days``) is spent at its observed
window rate: ``W`` windows per 30 days, from an EWMA of its windows' durations in event
time (floored at ``budget.min_window_seconds``, which is also the value before any window
closed, so an unknown rate errs on the quiet side). Half of ``B`` goes to the drift checks,
half to the performance checks; the drift half is split between per-window decisions and
accumulated (CUSUM) ones by ``budget.accumulated_share``, then over the monitor's checks
and the model's possible segments (Bonferroni). The per-check, per-window level is then
``B · share / (W · checks · segments)``; the expected number of false alerts over 30 days
is at most ``B`` when each check's calibrated null holds (union bound).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from streamdrift.config.budget import BudgetSpec

__all__ = ["SECONDS_30_DAYS", "BudgetSpec", "WindowRate"]

SECONDS_30_DAYS = 30 * 86400.0
DRIFT_SHARE = 0.5  # of the model's budget; the performance checks have the other half
_EWMA = 0.1


@dataclass(slots=True)
class WindowRate:
    """EWMA of window durations (event-time seconds); its state is two floats."""

    seconds: float = math.nan
    windows: int = 0

    def add(self, duration: float) -> None:
        if not math.isfinite(duration) or duration < 0:
            return
        if self.windows == 0 or not math.isfinite(self.seconds):
            self.seconds = duration
        else:
            self.seconds += _EWMA * (duration - self.seconds)
        self.windows += 1

    def per_30_days(self, floor: float) -> float:
        seconds = self.seconds if math.isfinite(self.seconds) else floor
        return SECONDS_30_DAYS / max(seconds, floor)

    def describe(self, floor: float) -> str:
        if self.windows == 0:
            return f"an assumed window every {floor:g} s until one is measured"
        return f"{self.per_30_days(floor):,.0f} windows per 30 days observed"

    def to_dict(self) -> dict[str, Any]:
        return {"seconds": None if math.isnan(self.seconds) else self.seconds,
                "windows": self.windows}  # fmt: skip

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> WindowRate:
        seconds = d.get("seconds")
        return cls(math.nan if seconds is None else float(seconds), int(d.get("windows", 0)))


def per_check_level(
    spec: BudgetSpec, rate: WindowRate, share: float, checks: int, segments: int = 1
) -> float:
    """The level of one check in one window for a ``share`` of the model's budget."""
    windows = rate.per_30_days(spec.min_window_seconds)
    level = spec.false_alerts_per_30_days * share / (windows * max(checks, 1) * max(segments, 1))
    return min(level, 0.5)
