"""The ``streamdrift`` command.

    streamdrift broker up|down|status   the local Apache Kafka broker (KRaft, no Docker)
    streamdrift topics apply            create the topics of topics/topics.toml
    streamdrift worker                  run the Faust worker (drift detection)
    streamdrift simulate                a simulated model server publishing predictions
    streamdrift end-of-input            close a model's partial windows after a replay
    streamdrift alerts tail             print alerts as they arrive
    streamdrift report                  an HTML report of a model's windows and alerts
    streamdrift windows                 a model's window verdicts in the terminal
    streamdrift forward alertmanager    post alerts to Alertmanager (or: forward webhook)
    streamdrift demo                    all of the above on a local broker, alerts live

Every worker setting is also read from ``STREAMDRIFT_<NAME>`` (see ``streamdrift worker
--help``). Errors print one line, ``streamdrift: error: ...``, and exit non-zero.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence
from dataclasses import fields
from pathlib import Path
from typing import Any

from streamdrift import config
from streamdrift.cli import report as report_commands
from streamdrift.config.settings import ConfigError, Settings, cache_dir
from streamdrift.devtools.broker import DEFAULT_PORT, BrokerError, LocalBroker, default_data_dir
from streamdrift.kafka.security import client_options
from streamdrift.service.worker import WorkerStartError, sasl_problem

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


def _add_settings(parser: argparse.ArgumentParser, names: Sequence[str] | None = None) -> None:
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


def _settings(args: argparse.Namespace) -> Settings:
    overrides = {f.name: getattr(args, f.name, None) for f in fields(Settings)}
    return config.load(overrides)


def _add_forward(sub: Any) -> None:
    forward = sub.add_parser("forward", help="deliver alerts to Alertmanager or a webhook")
    fsub = forward.add_subparsers(dest="target", required=True, metavar="TARGET")
    for target, text in (
        ("alertmanager", "post alerts to Alertmanager's v2 API, re-send firing ones, end resolved"),
        ("webhook", "post each alert's JSON, with a Slack-compatible text field"),
    ):
        p = fsub.add_parser(
            target,
            help=text,
            description=f"{text[0].upper()}{text[1:]}. At-least-once: an alert's offset is "
            "committed only after a 2xx; failures are retried with capped exponential "
            "back-off; duplicates are dropped by alert_id.",
        )
        p.add_argument("--url", required=True, help="e.g. http://alertmanager:9093")
        p.add_argument(
            "--group",
            default=None,
            help="consumer group that tracks what was delivered "
            f"(default: <app_id>.forward-{target})",
        )
        p.add_argument(
            "--from-beginning",
            action="store_true",
            help="a new group delivers the alerts already on the topics (default: from now on)",
        )
        p.add_argument(
            "--max-backoff",
            type=float,
            default=30.0,
            help="longest wait between retries, s (default: 30)",
        )
        if target == "alertmanager":
            p.add_argument(
                "--report-url",
                default="",
                help="report link annotation; {model_id}, {model_version} and {feature} are "
                "filled in, e.g. https://reports/{model_id}/{model_version}.html",
            )
            p.add_argument(
                "--resend-interval",
                type=float,
                default=60.0,
                help="seconds between re-sends of firing alerts (default: 60; endsAt is 4x this)",
            )
        _add_settings(
            p, ["broker", "app_id", "topic_drift_alerts", "topic_degradation_alerts", *SECURITY]
        )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="streamdrift",
        description="Streaming drift detection and model-degradation monitoring on Kafka.",
        epilog="Quick start: `make demo`. Docs: README.md.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    broker = sub.add_parser("broker", help="the local Apache Kafka broker (KRaft, no Docker)")
    bsub = broker.add_subparsers(dest="action", required=True, metavar="ACTION")
    for action, text in (
        ("up", "format and start the broker in the background; print its bootstrap URL"),
        ("down", "stop the broker"),
        ("status", "say whether the broker runs"),
    ):
        p = bsub.add_parser(action, help=text, description=text)
        p.add_argument(
            "--data-dir",
            type=Path,
            default=None,
            help=f"broker files and log (default: {default_data_dir()})",
        )
        if action == "up":
            p.add_argument(
                "--port",
                type=int,
                default=DEFAULT_PORT,
                help=f"client port on 127.0.0.1 (default: {DEFAULT_PORT})",
            )
            p.add_argument("--heap", default="512m", help="JVM heap (default: 512m)")
            p.add_argument(
                "--timeout",
                type=float,
                default=90.0,
                help="seconds to wait for the broker to answer (default: 90)",
            )

    topics = sub.add_parser("topics", help="topics as code")
    tsub = topics.add_subparsers(dest="action", required=True, metavar="ACTION")
    apply = tsub.add_parser(
        "apply",
        help="create missing topics (idempotent)",
        description="Create the topics of topics/topics.toml that are "
        "missing; report what was created or found.",
    )
    apply.add_argument(
        "--topics-file",
        type=Path,
        default=None,
        help="topic definitions (default: topics/topics.toml)",
    )
    apply.add_argument(
        "--partitions", type=int, default=None, help="override every topic's partition count"
    )
    _add_settings(
        apply,
        ["broker", *SECURITY, *[f.name for f in fields(Settings) if f.name.startswith("topic_")]],
    )

    worker = sub.add_parser(
        "worker",
        help="run the drift-detection worker (Faust)",
        description="Run the Faust worker: consume predictions, detect "
        "drift, publish alerts. Stops on Ctrl-C / SIGTERM.",
    )
    _add_settings(worker)

    sim = sub.add_parser(
        "simulate",
        help="a simulated model server",
        description="Publish a credit-risk model's predictions; one feature "
        "shifts after --drift-after events.",
    )
    _add_settings(sim, ["broker", "topic_predictions", *SECURITY])
    sim.add_argument(
        "--events", type=int, default=None, help="stop after N events (default: run until stopped)"
    )
    sim.add_argument(
        "--rate",
        type=float,
        default=500.0,
        help="events per second; 0 = as fast as possible (default: 500)",
    )
    sim.add_argument(
        "--drift-after",
        type=int,
        default=20_000,
        help="events before the drift starts (default: 20000; -1: never)",
    )
    sim.add_argument(
        "--drift-feature", default="income", help="feature that shifts (default: income)"
    )
    sim.add_argument(
        "--shift-sigmas",
        type=float,
        default=1.0,
        help="size of the shift in standard deviations (default: 1)",
    )
    sim.add_argument("--model", default="credit-risk", help="model id (default: credit-risk)")
    sim.add_argument("--model-version", default="7", help="model version (default: 7)")
    sim.add_argument("--segment", default=None, help="segment of every event (default: none)")
    sim.add_argument("--seed", type=int, default=42, help="random seed (default: 42)")
    sim.add_argument(
        "--replay",
        action="store_true",
        help="historical timestamps 10 ms apart instead of live ones",
    )
    sim.add_argument(
        "--envelopes", action="store_true", help="send batch envelopes instead of single events"
    )

    eoi = sub.add_parser(
        "end-of-input",
        help="close a model's partial windows at the end of a replayed file",
        description="Publish an end_of_input marker for a model to the predictions topic "
        "(keyed by model id, so it follows the model's events): the worker closes that "
        "model's open, partial drift windows and tests those with at least "
        "min_window_count events. Send it after the last event of a finite replay.",
    )
    eoi.add_argument("--model", required=True, help="model id")
    eoi.add_argument(
        "--version", default=None, help="only this model version (default: every version)"
    )
    _add_settings(eoi, ["broker", "topic_predictions", *SECURITY])

    alerts = sub.add_parser("alerts", help="read alert topics")
    asub = alerts.add_subparsers(dest="action", required=True, metavar="ACTION")
    tail = asub.add_parser(
        "tail",
        help="print alerts as they arrive",
        description="Print alerts from the alert topics as they arrive.",
    )
    _add_settings(tail, ["broker", "topic_drift_alerts", "topic_degradation_alerts", *SECURITY])
    tail.add_argument("--from-beginning", action="store_true", help="also print older alerts")
    tail.add_argument("--json", action="store_true", help="print raw JSON lines")

    report_commands.add_parsers(sub, _add_settings, SECURITY)  # report, windows
    _add_forward(sub)

    ref = sub.add_parser("reference", help="reference profiles")
    rsub = ref.add_subparsers(dest="action", required=True, metavar="ACTION")
    build = rsub.add_parser(
        "build",
        help="build a model version's reference profile from a data file and publish it",
        description="Compute the reference profile of a training or validation set (CSV, "
        "JSON Lines or Parquet; one column per feature) and publish it to the compacted "
        "references topic, so every worker compares that model version with it. Monitors "
        'use it when their spec says reference.mode = "profile".',
    )
    build.add_argument(
        "--model",
        required=True,
        action="append",
        help="model id; repeatable: one profiling of the file, published for every model",
    )
    build.add_argument(
        "--version",
        required=True,
        action="append",
        help="model version; repeatable: published for every --model and every --version",
    )
    build.add_argument(
        "--from", dest="source", required=True, type=Path, help="data file (.csv .jsonl .parquet)"
    )
    build.add_argument(
        "--prediction-column",
        default="prediction",
        help="column with the model output, profiled as the prediction (default: prediction)",
    )
    build.add_argument(
        "--label-column",
        default=None,
        metavar="COLUMN",
        help="column with the true label: the profile then also carries the model's "
        "reference performance on these rows, which the degradation check uses instead of "
        "the first labelled window (not profiled as a feature)",
    )
    build.add_argument(
        "--id-column",
        default="prediction_id",
        metavar="COLUMN",
        help="the event id column, left out (default: prediction_id)",
    )
    build.add_argument(
        "--timestamp-column",
        default="timestamp",
        metavar="COLUMN",
        help="the event time column, left out (default: timestamp)",
    )
    build.add_argument(
        "--ignore",
        action="append",
        default=[],
        metavar="COLUMN",
        help="another column to leave out; repeatable",
    )
    build.add_argument(
        "--out",
        type=Path,
        default=None,
        help="also write the profile (JSON; with several models or versions, one per line)",
    )
    build.add_argument(
        "--no-publish", action="store_true", help="only write --out; do not touch Kafka"
    )
    _add_settings(build, ["broker", "config", "topic_references", *SECURITY])

    demo = sub.add_parser(
        "demo",
        help="local broker + worker + simulated traffic, alerts live",
        description="Start a local broker, the worker and a simulated model "
        "server whose 'income' feature shifts after a while; show alerts live. "
        "Ctrl-C stops everything it started.",
    )
    demo.add_argument(
        "--duration", type=float, default=None, help="stop after N seconds (default: until Ctrl-C)"
    )
    demo.add_argument(
        "--rate", type=float, default=1000.0, help="simulated events per second (default: 1000)"
    )
    demo.add_argument(
        "--drift-after", type=int, default=15_000, help="events before the drift (default: 15000)"
    )
    demo.add_argument(
        "--port",
        type=int,
        default=DEFAULT_PORT,
        help=f"broker port (default: {DEFAULT_PORT}, or a free one if taken)",
    )
    demo.add_argument(
        "--metrics-port", type=int, default=9100, help="worker /metrics port (default: 9100)"
    )
    demo.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help=f"demo files, removed at each start (default: {cache_dir() / 'demo'})",
    )
    return parser


def cmd_broker(args: argparse.Namespace) -> int:
    broker = LocalBroker(
        data_dir=args.data_dir or default_data_dir(),
        port=getattr(args, "port", DEFAULT_PORT),
        heap=getattr(args, "heap", "512m"),
    )
    if args.action == "up":
        url = broker.up(timeout=args.timeout)
        print(url)
        return 0
    if args.action == "down":
        print("stopped" if broker.down() else "not running")
        return 0
    running = broker.is_running()
    print(f"running at {broker.url} (pid {broker.pid()})" if running else "not running")
    return 0 if running else 3


def cmd_topics(args: argparse.Namespace) -> int:
    from streamdrift.kafka import topics

    settings = _settings(args)
    specs = topics.load_specs(args.topics_file, settings)
    options = client_options(settings)
    try:
        results = asyncio.run(
            topics.apply(
                settings.broker_address.bootstrap_servers,
                specs,
                partitions=args.partitions,
                options=options,
            )
        )
    except Exception:
        problem = sasl_problem(settings, options) if "sasl_mechanism" in options else None
        if problem:
            raise CliError(problem) from None
        raise
    for spec, outcome in results:
        print(
            f"{outcome:8} {spec.name} ({spec.logical}: {args.partitions or spec.partitions} "
            f"partitions, {spec.cleanup_policy})"
        )
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    from streamdrift.service.worker import run_worker

    return run_worker(_settings(args))


def cmd_simulate(args: argparse.Namespace) -> int:
    from streamdrift.devtools import simulator

    settings = _settings(args)
    scenario = simulator.Scenario(
        model_id=args.model,
        model_version=args.model_version,
        drift_after=None if args.drift_after < 0 else args.drift_after,
        drift_feature=args.drift_feature,
        shift_sigmas=args.shift_sigmas,
        segment=args.segment,
        seed=args.seed,
    )

    def progress(n: int) -> None:
        if n % 10_000 == 0:
            print(f"published {n} events", file=sys.stderr, flush=True)

    sent = asyncio.run(
        simulator.run(
            settings.broker,
            scenario,
            events=args.events,
            rate=args.rate or None,
            topic=settings.topic_predictions,
            envelopes=args.envelopes,
            replay_start=1_700_000_000.0 if args.replay else None,
            progress=progress,
            producer_options=client_options(settings),
        )
    )
    print(f"published {sent} events to {settings.topic_predictions}")
    return 0


def cmd_end_of_input(args: argparse.Namespace) -> int:
    from streamdrift.client import PredictionClient

    settings = _settings(args)

    async def send() -> None:
        async with PredictionClient(
            settings.broker,
            topic=settings.topic_predictions,
            producer_options=client_options(settings),
        ) as client:
            await client.end_of_input(args.model, args.version)

    asyncio.run(send())
    which = args.model if args.version is None else f"{args.model} v{args.version}"
    print(f"end of input for {which} published to {settings.topic_predictions}")
    return 0


def cmd_alerts(args: argparse.Namespace) -> int:
    from streamdrift.kafka.tail import tail_alerts

    settings = _settings(args)
    asyncio.run(tail_alerts(settings, from_beginning=args.from_beginning, raw=args.json))
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from streamdrift.report.html import ReportError

    try:
        return report_commands.run_report(args, _settings(args))
    except ReportError as exc:
        raise CliError(str(exc)) from None


def cmd_windows(args: argparse.Namespace) -> int:
    return report_commands.run_windows(args, _settings(args))


def cmd_forward(args: argparse.Namespace) -> int:
    from streamdrift.alerts.routing import Backoff
    from streamdrift.kafka.forward import Alertmanager, Forwarder, Webhook, run_forwarder

    settings = _settings(args)
    if not args.url.startswith(("http://", "https://")):
        raise CliError(f"--url: expected http://HOST:PORT or https://..., got {args.url!r}")
    endpoint: Alertmanager | Webhook
    if args.target == "alertmanager":
        if not args.resend_interval > 0:
            raise CliError(f"--resend-interval: must be > 0, got {args.resend_interval}")
        endpoint = Alertmanager(
            args.url, report_url=args.report_url, resend_interval=args.resend_interval
        )
    else:
        endpoint = Webhook(args.url)
    forwarder = Forwarder(
        settings,
        endpoint,
        group=args.group,
        from_beginning=args.from_beginning,
        backoff=Backoff(cap=args.max_backoff),
    )
    asyncio.run(run_forwarder(forwarder))
    return 0


def cmd_reference(args: argparse.Namespace) -> int:
    from streamdrift import codec
    from streamdrift.engine import references as reference
    from streamdrift.kafka.references import publish as publish_references
    from streamdrift.records import PREDICTION

    settings = _settings(args)
    if args.no_publish and args.out is None:
        raise CliError("--no-publish needs --out FILE (otherwise the profile goes nowhere)")
    columns = reference.read_columns(args.source)
    specs = settings.model_specs()
    models = list(dict.fromkeys(args.model))
    versions = list(dict.fromkeys(args.version))
    options = {
        "prediction_column": args.prediction_column,
        "ignore": args.ignore,
        "label_column": args.label_column,
        "id_column": args.id_column,
        "timestamp_column": args.timestamp_column,
    }
    # one profiling per distinct monitor spec (models configured alike share one)
    groups: list[tuple[Any, list[str]]] = []
    for model in models:
        spec = specs.for_model(model)
        group = next((g for g in groups if g[0] == spec), None)
        if group is None:
            groups.append((spec, [model]))
        else:
            group[1].append(model)
    docs: list[dict[str, Any]] = []
    for spec, group_models in groups:
        profile = reference.build_profile(group_models[0], versions[0], columns, spec, **options)
        _, left_out = reference.select_columns(columns, spec, **options)
        names = sorted(
            args.prediction_column if n == PREDICTION else n for n in profile["profiles"]
        )
        targets = [(m, v) for m in group_models for v in versions]
        which = ", ".join(f"{m}/{v}" for m, v in targets)
        print(f"profiled {profile['count']} rows, {len(names)} columns: {', '.join(names)}")
        print(f"  for {which}")
        for line in reference.describe(profile, columns, left_out, args.prediction_column):
            print(line)
        if "performance" in profile:
            perf = profile["performance"]
            headline = ", ".join(
                f"{k} {v:.4g}" for k, v in perf["summary"].items() if v is not None
            )
            print(
                f"reference performance ({perf['task']}) on {perf['rows']} labelled rows"
                f" ({perf['rows_without_label']} without a label or prediction): {headline}"
            )
        if "calibration" in profile and "classes" in profile["calibration"]:
            classes = profile["calibration"]["classes"]
            check = profile["calibration"]["check"]
            print(
                f"class calibration (isotonic one-vs-rest, {len(classes)} classes): "
                f"expected calibration error of the decided class on "
                f"{check['held_out_rows']:.0f} held-out rows {check['ece_raw']:.4f} raw, "
                f"{check['ece_calibrated']:.4f} calibrated"
            )
        elif "calibration" in profile:
            cal = profile["calibration"]
            check = cal["check"]
            print(
                f"score calibration (isotonic, {len(cal['x'])} points): expected calibration "
                f"error on {check['held_out_rows']:.0f} held-out rows {check['ece_raw']:.4f} "
                f"raw, {check['ece_calibrated']:.4f} calibrated"
            )
        docs.extend(reference.for_targets(profile, targets))
    if args.out is not None:
        if len(docs) == 1:
            args.out.write_bytes(codec.dumps(docs[0]))
        else:
            args.out.write_bytes(b"".join(codec.dumps(d) + b"\n" for d in docs))
        print(f"wrote {args.out}")
    if not args.no_publish:
        asyncio.run(
            publish_references(
                settings.broker_address.bootstrap_servers,
                settings.topic_references,
                docs,
                client_options(settings),
            )
        )
        keys = ", ".join(f"{d['model_id']}/{d['model_version']}" for d in docs)
        print(f"published to {settings.topic_references} as {keys}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from streamdrift.devtools.demo import run_demo

    if args.data_dir is None:
        args.data_dir = cache_dir() / "demo"
    return run_demo(args)


COMMANDS = {
    "broker": cmd_broker,
    "topics": cmd_topics,
    "worker": cmd_worker,
    "simulate": cmd_simulate,
    "end-of-input": cmd_end_of_input,
    "reference": cmd_reference,
    "alerts": cmd_alerts,
    "report": cmd_report,
    "windows": cmd_windows,
    "forward": cmd_forward,
    "demo": cmd_demo,
}


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("streamdrift").setLevel(logging.INFO)
    try:
        return COMMANDS[args.command](args)
    except (ConfigError, BrokerError, CliError, WorkerStartError) as exc:
        print(f"streamdrift: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # a Kafka client error etc.: one line, not a stack trace
        if _is_connection_error(exc):
            print(f"streamdrift: error: cannot reach Kafka: {exc}", file=sys.stderr)
            return 2
        raise


def _is_connection_error(exc: BaseException) -> bool:
    from aiokafka.errors import KafkaConnectionError, KafkaError

    return isinstance(exc, (KafkaConnectionError, KafkaError, OSError))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())


__all__ = ["build_parser", "main"]
