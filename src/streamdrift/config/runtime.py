"""The runtime's settings as the engine reads them: the clock, endings, traffic, caps.

The defaults here are the worker's (``Settings`` takes its defaults from these constants),
so they live in one place.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["RuntimeSpec", "TrafficRule"]

IDLE_TIMEOUT = 60.0
SILENCE_AFTER = 600.0
RETIRE_AFTER = 86400.0
TRAFFIC_SHARE = 0.1
TRAFFIC_PERIOD = 120.0
MAX_MODELS = 1000
MAX_VERSIONS = 20


BUCKETS_PER_PERIOD = 4
HORIZON_PERIODS = 10  # the usual rate's EWMA forgets with this many periods of time constant


@dataclass(frozen=True, slots=True)
class TrafficRule:
    """``share``: a bucket is low when its rate is below ``share`` × the usual rate;
    ``period``: seconds of low rate before the alert fires (0 disables traffic alerts)."""

    share: float = TRAFFIC_SHARE
    period: float = TRAFFIC_PERIOD

    @property
    def width(self) -> float:
        return self.period / BUCKETS_PER_PERIOD

    @property
    def alpha(self) -> float:
        return 1.0 / (BUCKETS_PER_PERIOD * HORIZON_PERIODS)


@dataclass(frozen=True, slots=True)
class RuntimeSpec:
    """Seconds of processing time, and the per-partition caps (README, Configuration)."""

    idle_timeout: float = IDLE_TIMEOUT
    silence_after: float = SILENCE_AFTER
    retire_after: float = RETIRE_AFTER
    traffic: TrafficRule = field(default_factory=TrafficRule)
    max_models: int = MAX_MODELS
    max_versions: int = MAX_VERSIONS
