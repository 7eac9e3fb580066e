"""Topics as code: definitions read from ``topics/topics.toml`` and ``topics apply``.

The file names each topic by its logical name (``predictions``, ``drift-alerts`` …) with
its partitions, replication factor, retention and cleanup policy. The Kafka topic *name*
comes from :class:`~streamdrift.config.settings.Settings` (``--topic-…`` / ``STREAMDRIFT_TOPIC_…``),
whose defaults equal the ``name`` entries of the file, so a deployment can rename topics
without editing the file.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from streamdrift.config.settings import ConfigError, Settings

# logical topic name -> Settings field holding the Kafka topic name
SETTINGS_FIELDS: Mapping[str, str] = {
    "predictions": "topic_predictions",
    "feedback": "topic_feedback",
    "drift-alerts": "topic_drift_alerts",
    "degradation-alerts": "topic_degradation_alerts",
    "dead-letter": "topic_dead_letter",
    "references": "topic_references",
    "drift-windows": "topic_drift_windows",
    "experiment-decisions": "topic_experiment_decisions",
    "retrain-requests": "topic_retrain_requests",
}


@dataclass(frozen=True, slots=True)
class TopicSpec:
    logical: str
    name: str
    partitions: int
    replication_factor: int
    retention_ms: int
    cleanup_policy: str
    config: Mapping[str, str] = field(default_factory=dict)

    def kafka_config(self) -> dict[str, str]:
        return {
            "cleanup.policy": self.cleanup_policy,
            "retention.ms": str(self.retention_ms),
            **{k: str(v) for k, v in self.config.items()},
        }


def default_topics_file() -> Path:
    """``./topics/topics.toml`` if present, else the one of the source tree."""
    here = Path("topics/topics.toml")
    if here.exists():
        return here
    return Path(__file__).resolve().parents[3] / "topics" / "topics.toml"


def load_specs(path: Path | None = None, settings: Settings | None = None) -> list[TopicSpec]:
    """Read the topic definitions; Kafka names are taken from ``settings`` where it has them."""
    path = path or default_topics_file()
    try:
        doc = tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"topics file not found: {path} (use --topics-file)") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    specs = []
    for logical, entry in doc.get("topics", {}).items():
        specs.append(_spec(path, logical, entry, settings))
    if not specs:
        raise ConfigError(f"{path}: no [topics.<name>] tables")
    return specs


def _spec(
    path: Path, logical: str, entry: Mapping[str, Any], settings: Settings | None
) -> TopicSpec:
    where = f"{path}: topics.{logical}"
    if not isinstance(entry, Mapping):
        raise ConfigError(f"{where}: expected a table [topics.{logical}]")
    for key in ("name", "partitions", "replication_factor", "retention_ms", "cleanup_policy"):
        if key not in entry:
            raise ConfigError(f"{where}: missing key {key!r}")
    for key in ("partitions", "replication_factor", "retention_ms"):
        if type(entry[key]) is not int:
            raise ConfigError(f"{where}.{key}: expected an integer, got {entry[key]!r}")
    name = str(entry["name"])
    partitions = entry["partitions"]
    replication = entry["replication_factor"]
    retention = entry["retention_ms"]
    policy = str(entry["cleanup_policy"])
    if partitions < 1 or replication < 1:
        raise ConfigError(f"{where}: partitions and replication_factor must be >= 1")
    if policy not in {"delete", "compact", "compact,delete"}:
        raise ConfigError(f"{where}.cleanup_policy: expected delete or compact, got {policy!r}")
    if settings is not None and logical in SETTINGS_FIELDS:
        name = getattr(settings, SETTINGS_FIELDS[logical])
    extra = {str(k): str(v) for k, v in dict(entry.get("config", {})).items()}
    return TopicSpec(logical, name, partitions, replication, retention, policy, extra)


async def apply(
    bootstrap: str,
    specs: Iterable[TopicSpec],
    *,
    partitions: int | None = None,
    options: Mapping[str, Any] | None = None,
) -> list[tuple[TopicSpec, str]]:
    """Create missing topics; return ``(spec, "created" | "exists")`` for each. Idempotent.

    ``partitions`` overrides every topic's partition count (tests, small demos).
    """
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic
    from aiokafka.errors import TopicAlreadyExistsError

    admin = AIOKafkaAdminClient(
        bootstrap_servers=bootstrap, request_timeout_ms=30000, **dict(options or {})
    )
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        results: list[tuple[TopicSpec, str]] = []
        for spec in specs:
            if spec.name in existing:
                results.append((spec, "exists"))
                continue
            topic = NewTopic(
                spec.name,
                partitions or spec.partitions,
                spec.replication_factor,
                topic_configs=spec.kafka_config(),
            )
            try:
                response = await admin.create_topics([topic])
                _raise_topic_errors(response)
                results.append((spec, "created"))
            except TopicAlreadyExistsError:
                results.append((spec, "exists"))
        return results
    finally:
        await admin.close()


def _raise_topic_errors(response: Any) -> None:
    from aiokafka.errors import TopicAlreadyExistsError, for_code

    for topic_error in getattr(response, "topic_errors", []):
        name, code = topic_error[0], topic_error[1]
        if code == TopicAlreadyExistsError.errno:
            raise TopicAlreadyExistsError(name)
        if code:
            message = topic_error[2] if len(topic_error) > 2 else ""
            raise for_code(code)(f"creating topic {name}: {message}")
