"""Settings and per-model specs: the one home of every default and of TOML reading.

:mod:`~streamdrift.config.settings` is the worker's frozen settings object; the other
modules hold the per-model specs it parses (monitors, windows, budget, performance,
retraining, experiments). Nothing here imports from the layers above.
"""

from streamdrift.config.settings import (
    ENV_PREFIX,
    OTHER_ENV,
    SPILL_MAX_PENDING,
    BrokerAddress,
    ConfigError,
    Settings,
    cache_dir,
    load,
)

__all__ = [
    "ENV_PREFIX",
    "OTHER_ENV",
    "SPILL_MAX_PENDING",
    "BrokerAddress",
    "ConfigError",
    "Settings",
    "cache_dir",
    "load",
]
