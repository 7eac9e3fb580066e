"""What the commands share: the settings flags, the security flags, the one-line error."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import fields

from streamdrift import config
from streamdrift.config.settings import Settings

SETTING_HELP = {
    "broker": "Kafka bootstrap URL, kafka://HOST:PORT[,HOST:PORT]",
    "app_id": "Faust app id; the consumer group is <app_id>.monitor",
    "config": "TOML file of per-model monitor settings (windows, tests, thresholds, …)",
    "topic_predictions": "topic with prediction events",
    "topic_feedback": "topic with feedback (label) events",
    "topic_drift_alerts": "topic drift alerts are published to",
    "topic_degradation_alerts": "topic degradation alerts are published to",
    "topic_dead_letter": "topic for messages that cannot be processed",
    "topic_references": "compacted topic of reference profiles",
    "topic_drift_windows": "topic every closed window's verdicts are published to",
    "topic_experiment_decisions": "topic of champion/challenger progress and decisions",
    "topic_retrain_requests": "topic retrain requests are published to",
    "reference_size": "events per model version used to learn its reference",
    "window_size": "events per drift window (count-based, tumbling)",
    "psi_threshold": "PSI at or above which a feature may drift",
    "alpha": "false-alarm level per window (Benjamini-Hochberg over its checks)",
    "resolve_after": "clean windows after which a firing alert resolves",
    "max_segments": "segments tracked per model version (the rest: __other__)",
    "max_features": "features tracked per model version",
    "idle_timeout": "seconds without events before idle windows close and are tested",
    "silence_after": "seconds without events before a stream's alerts resolve (stopped)",
    "retire_after": "seconds without traffic before a model version's monitors are dropped",
    "traffic_share": "traffic alert when the event rate falls below this share of usual",
    "traffic_period": "seconds of low event rate before a traffic alert (0: none)",
    "max_models": "models monitored per partition (further ones: dead-letter)",
    "max_versions": "versions monitored per model and partition (further: dead-letter)",
    "batch_max": "most messages processed in one batch",
    "batch_within": "seconds to wait for a batch to fill",
    "checkpoint_interval": "seconds between checkpoints of the monitoring state",
    "data_dir": "directory for Faust's local files, created if missing (monitor state lives "
    "in Kafka checkpoints; default: worker in the user cache dir, STREAMDRIFT_CACHE_DIR)",
    "memory_pending": "predictions waiting in memory per partition, older ones on disk (0: all)",
    "state_dir": "directory of the join's on-disk tier (default <data-dir>/join-state)",
    "metrics_host": "address the /metrics endpoint binds to",
    "metrics_port": "port of the /metrics endpoint (0: off)",
    "metrics_max_models": "models with their own metric series (the rest: __other__)",
    "metrics_max_features": "features per model with their own drift-statistic series",
    "log_level": "debug, info, warning or error",
    "security_protocol": "PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL",
    "sasl_mechanism": "PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512",
    "sasl_username": "SASL user name",
    "sasl_password": "SASL password (prefer STREAMDRIFT_SASL_PASSWORD: flags show in ps)",
    "ssl_cafile": "CA bundle to verify the brokers",
    "ssl_certfile": "client certificate (PEM) for mutual TLS",
    "ssl_keyfile": "client private key (PEM) for mutual TLS",
}


SECURITY = (
    "security_protocol",
    "sasl_mechanism",
    "sasl_username",
    "sasl_password",
    "ssl_cafile",
    "ssl_certfile",
    "ssl_keyfile",
)


class CliError(Exception):
    """A usage or runtime error to print as one line."""


def add_settings(parser: argparse.ArgumentParser, names: Sequence[str] | None = None) -> None:
    """Add a flag per setting (``names``: only these; None: every one)."""
    group = parser.add_argument_group(
        "settings", "each also from STREAMDRIFT_<NAME>, e.g. STREAMDRIFT_WINDOW_SIZE"
    )
    defaults = Settings()
    for f in fields(Settings):
        if names is not None and f.name not in names:
            continue
        flag = "--" + f.name.replace("_", "-")
        default = getattr(defaults, f.name)
        shown = f.name != "sasl_password" and default != ""  # "": the help says what applies
        group.add_argument(
            flag,
            dest=f.name,
            default=None,
            help=f"{SETTING_HELP.get(f.name, '')}" + (f" (default: {default})" if shown else ""),
        )


def load_settings(args: argparse.Namespace) -> Settings:
    """The settings: defaults, then ``STREAMDRIFT_*``, then the flags given."""
    overrides = {f.name: getattr(args, f.name, None) for f in fields(Settings)}
    return config.load(overrides)
