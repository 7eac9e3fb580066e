"""One frozen settings object, read from defaults < environment (``STREAMDRIFT_*``) < CLI flags.

Every field of :class:`Settings` can be set by the environment variable
``STREAMDRIFT_<FIELD>`` (upper case), e.g. ``STREAMDRIFT_BROKER=kafka://kafka:9092`` or
``STREAMDRIFT_WINDOW_SIZE=2000``. Invalid values fail fast with a :class:`ConfigError` that
names the variable or flag and says what is expected.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import os
import sys
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from streamdrift.config import runtime
from streamdrift.config.performance import PerformanceSpec
from streamdrift.config.spec import TESTS, ModelSpecs, MonitorSpec, ReferenceSpec, SpecError
from streamdrift.config.windows import WindowSpec

ENV_PREFIX = "STREAMDRIFT_"
# performance.max_pending by default when the join spills to disk (memory_pending > 0):
# waiting predictions per partition, memory and disk together
SPILL_MAX_PENDING = 20_000_000
# STREAMDRIFT_* variables that are read elsewhere, not settings fields
OTHER_ENV = frozenset({"STREAMDRIFT_CACHE_DIR"})


class ConfigError(ValueError):
    """A setting has an invalid value; the message names the setting and what to fix."""


def cache_dir(environ: Mapping[str, str] | None = None) -> Path:
    """streamdrift's per-user cache directory (not created here; its users create what they need).

    ``STREAMDRIFT_CACHE_DIR`` if set, else the platform's user cache directory:
    ``$XDG_CACHE_HOME/streamdrift`` (an absolute ``XDG_CACHE_HOME`` only, as the XDG spec
    asks), ``~/Library/Caches/streamdrift`` on macOS, else ``~/.cache/streamdrift``.
    """
    env = os.environ if environ is None else environ
    if env.get("STREAMDRIFT_CACHE_DIR"):
        return Path(env["STREAMDRIFT_CACHE_DIR"]).expanduser()
    xdg = env.get("XDG_CACHE_HOME", "")
    if xdg and Path(xdg).is_absolute():
        return Path(xdg) / "streamdrift"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "streamdrift"
    return Path.home() / ".cache" / "streamdrift"


@dataclass(frozen=True, slots=True)
class BrokerAddress:
    """A parsed ``kafka://HOST:PORT[,HOST:PORT...]`` URL."""

    hosts: tuple[tuple[str, int], ...]

    @classmethod
    def parse(cls, url: str, *, setting: str = "broker") -> BrokerAddress:
        text = url.strip()
        if text.startswith("kafka://"):
            text = text[len("kafka://") :]
        elif "://" in text:
            raise ConfigError(f"{setting}: unsupported scheme in {url!r}; use kafka://HOST:PORT")
        hosts: list[tuple[str, int]] = []
        for part in text.split(","):
            host, sep, port = part.strip().rpartition(":")
            if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
                raise ConfigError(
                    f"{setting}: invalid broker address {url!r}; expected kafka://HOST:PORT "
                    "(several separated by commas)"
                )
            hosts.append((host, int(port)))
        return cls(tuple(hosts))

    @property
    def bootstrap_servers(self) -> str:
        """The ``host:port,...`` form that Kafka clients take."""
        return ",".join(f"{h}:{p}" for h, p in self.hosts)

    @property
    def url(self) -> str:
        return "kafka://" + self.bootstrap_servers


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything a streamdrift process is configured with. Immutable; build with :func:`load`."""

    broker: str = "kafka://127.0.0.1:9092"
    app_id: str = "streamdrift"
    config: str = ""  # a TOML file of per-model monitor settings (see README, Configuration)
    # topic names (logical name -> Kafka topic name); defaults match topics/topics.toml
    topic_predictions: str = "predictions"
    topic_feedback: str = "feedback"
    topic_drift_alerts: str = "drift-alerts"
    topic_degradation_alerts: str = "degradation-alerts"
    topic_dead_letter: str = "dead-letter"
    topic_references: str = "references"
    topic_drift_windows: str = "drift-windows"
    topic_experiment_decisions: str = "experiment-decisions"
    topic_retrain_requests: str = "retrain-requests"
    # drift detection defaults (per model, version and segment)
    reference_size: int = 2000
    window_size: int = 1000
    psi_threshold: float = 0.2
    alpha: float = 0.01
    resolve_after: int = 3
    max_segments: int = 100
    max_features: int = 200
    # time without events, traffic, and per-partition caps (engine/clock.py, engine/runtime.py)
    idle_timeout: float = runtime.IDLE_TIMEOUT
    silence_after: float = runtime.SILENCE_AFTER
    retire_after: float = runtime.RETIRE_AFTER
    traffic_share: float = runtime.TRAFFIC_SHARE
    traffic_period: float = runtime.TRAFFIC_PERIOD
    max_models: int = runtime.MAX_MODELS
    max_versions: int = runtime.MAX_VERSIONS
    # worker
    batch_max: int = 2000
    batch_within: float = 0.2
    checkpoint_interval: float = 5.0
    data_dir: str = ""  # default: <cache_dir()>/worker, whatever the working directory
    # the feedback join keeps at most this many waiting predictions per partition in
    # memory, the older ones in a local file under state_dir (0: all in memory)
    memory_pending: int = 200_000
    state_dir: str = ""  # default: <data_dir>/join-state
    metrics_host: str = "127.0.0.1"
    metrics_port: int = 9100
    metrics_max_models: int = 100
    metrics_max_features: int = 50
    log_level: str = "info"
    # Kafka connection security (see security.py); the password never appears in repr/logs
    security_protocol: str = "PLAINTEXT"
    sasl_mechanism: str = ""
    sasl_username: str = ""
    sasl_password: str = field(default="", repr=False)
    ssl_cafile: str = ""
    ssl_certfile: str = ""
    ssl_keyfile: str = ""

    def __post_init__(self) -> None:
        BrokerAddress.parse(self.broker)
        positive = ("reference_size", "window_size", "resolve_after", "max_segments")
        capped = ("max_models", "max_versions")
        for name in (*positive, *capped, "max_features", "batch_max", "metrics_max_models"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name}: must be at least 1, got {getattr(self, name)}")
        if self.memory_pending < 0 or self.memory_pending == 1:
            raise ConfigError(
                f"memory_pending: must be 0 (keep every waiting prediction in memory) or at "
                f"least 2, got {self.memory_pending}"
            )
        if self.reference_size < 50 or self.window_size < 50:
            raise ConfigError(
                "reference_size and window_size: must be at least 50 events each "
                "(statistical tests on fewer events are noise)"
            )
        if not self.checkpoint_interval > 0:
            raise ConfigError(
                f"checkpoint_interval: must be > 0 seconds, got {self.checkpoint_interval}"
            )
        for name in ("alpha", "psi_threshold", "batch_within", "checkpoint_interval"):
            if not math.isfinite(getattr(self, name)):
                raise ConfigError(f"{name}: must be a finite number, got {getattr(self, name)}")
        for name in ("idle_timeout", "silence_after", "retire_after"):
            if not (math.isfinite(getattr(self, name)) and getattr(self, name) > 0):
                raise ConfigError(f"{name}: must be > 0 seconds, got {getattr(self, name)}")
        if not (math.isfinite(self.traffic_period) and self.traffic_period >= 0):
            raise ConfigError(
                f"traffic_period: must be >= 0 seconds (0: no traffic alerts), "
                f"got {self.traffic_period}"
            )
        if not 0.0 < self.traffic_share < 1.0:
            raise ConfigError(f"traffic_share: must be in (0, 1), got {self.traffic_share}")
        if not 0.0 < self.alpha < 1.0:
            raise ConfigError(f"alpha: must be in (0, 1), got {self.alpha}")
        if self.psi_threshold <= 0:
            raise ConfigError(f"psi_threshold: must be > 0, got {self.psi_threshold}")
        if self.batch_within <= 0:
            raise ConfigError(f"batch_within: must be > 0 seconds, got {self.batch_within}")
        if not 0 <= self.metrics_port < 65536:
            raise ConfigError(
                f"metrics_port: must be 0 (off) or a TCP port, got {self.metrics_port}"
            )
        if self.log_level.lower() not in {"debug", "info", "warning", "error"}:
            raise ConfigError(
                f"log_level: must be one of debug, info, warning, error; got {self.log_level!r}"
            )

    @property
    def broker_address(self) -> BrokerAddress:
        return BrokerAddress.parse(self.broker)

    @property
    def data_path(self) -> Path:
        """Faust's local files: ``data_dir``, by default ``worker`` in the user cache dir."""
        return Path(self.data_dir).expanduser() if self.data_dir else cache_dir() / "worker"

    @property
    def state_path(self) -> Path:
        """Directory of the join's on-disk tier (a cache: checkpoints + segments rebuild it)."""
        return Path(self.state_dir) if self.state_dir else self.data_path / "join-state"

    def replace(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **changes)

    def base_spec(self) -> MonitorSpec:
        """The monitor spec the flat settings describe (before the TOML file)."""
        return MonitorSpec(
            window=WindowSpec(kind="count", size=self.window_size),
            reference=ReferenceSpec(size=self.reference_size),
            thresholds={**TESTS, "psi": self.psi_threshold},
            alpha=self.alpha,
            resolve_after=self.resolve_after,
            max_segments=self.max_segments,
            max_features=self.max_features,
            performance=PerformanceSpec(max_pending=SPILL_MAX_PENDING)
            if self.memory_pending
            else PerformanceSpec(),
        )

    def runtime_spec(self) -> runtime.RuntimeSpec:
        """The clock, endings, traffic and caps settings as the engine reads them."""
        return runtime.RuntimeSpec(
            self.idle_timeout,
            self.silence_after,
            self.retire_after,
            runtime.TrafficRule(self.traffic_share, self.traffic_period),
            self.max_models,
            self.max_versions,
        )

    def model_specs(self) -> ModelSpecs:
        """Per-model monitor specs: the flat settings, overlaid by the ``config`` TOML file."""
        base = self.base_spec()
        if not self.config:
            return ModelSpecs(base)
        path = Path(self.config)
        try:
            doc = tomllib.loads(path.read_text())
        except FileNotFoundError:
            raise ConfigError(f"config: file not found: {path}") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"config: {path} is not valid TOML: {exc}") from None
        try:
            return ModelSpecs.from_mapping(doc, base)
        except SpecError as exc:
            raise ConfigError(f"{path}: {exc}") from None


def _field_types() -> dict[str, type]:
    types: dict[str, type] = {}
    for f in fields(Settings):
        types[f.name] = type(f.default)
    return types


def _coerce(name: str, raw: Any, kind: type, source: str) -> Any:
    if isinstance(raw, kind) and not (kind is int and isinstance(raw, bool)):
        return raw
    if kind is float and type(raw) is int:
        return float(raw)
    if not isinstance(raw, str):
        raise ConfigError(f"{source}: expected {kind.__name__}, got {raw!r}")
    try:
        if kind is int:
            return int(raw)
        if kind is float:
            return float(raw)
    except ValueError:
        raise ConfigError(f"{source}: expected {kind.__name__}, got {raw!r}") from None
    return raw


def load(
    overrides: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Build settings: defaults, then ``STREAMDRIFT_*`` variables, then ``overrides`` (CLI flags).

    ``None`` values in ``overrides`` mean "not given" and are ignored.
    """
    env = os.environ if environ is None else environ
    types = _field_types()
    values: dict[str, Any] = {}
    for key, raw in env.items():
        if not key.startswith(ENV_PREFIX):
            continue
        name = key[len(ENV_PREFIX) :].lower()
        if name in types:
            values[name] = _coerce(name, raw, types[name], key)
        elif key not in OTHER_ENV:
            close = difflib.get_close_matches(name, types, n=1)
            hint = f"; did you mean {ENV_PREFIX}{close[0].upper()}?" if close else ""
            raise ConfigError(f"{key}: unknown setting{hint}")
    for name, raw in (overrides or {}).items():
        if raw is None:
            continue
        if name not in types:
            raise ConfigError(f"unknown setting {name!r}")  # a programming error in the CLI
        flag = "--" + name.replace("_", "-")
        values[name] = _coerce(name, raw, types[name], flag)
    return Settings(**values)
