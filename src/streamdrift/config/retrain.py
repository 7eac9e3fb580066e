"""``[defaults.retrain]``: when a model version's persisting trouble asks for retraining."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["RetrainSpec", "RetrainSpecError"]


class RetrainSpecError(ValueError):
    """An invalid ``retrain`` setting; the message names it."""


@dataclass(frozen=True, slots=True)
class RetrainSpec:
    """``[defaults.retrain]``: ``after`` seconds of persistence (event time), the share of
    features that must drift together, and whether requests are published at all."""

    after: float = 3600.0
    drift_share: float = 0.5
    enabled: bool = True

    def __post_init__(self) -> None:
        if not isinstance(self.enabled, bool):
            raise RetrainSpecError(f"retrain.enabled: expected true or false, got {self.enabled!r}")
        if not 0 <= self.after < float("inf"):
            raise RetrainSpecError(f"retrain.after: must be >= 0 seconds, got {self.after}")
        if not 0 < self.drift_share <= 1:
            raise RetrainSpecError(
                f"retrain.drift_share: must be in (0, 1], got {self.drift_share}"
            )
