"""``streamdrift reference build``: a model version's reference profile from a data file."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
from typing import Any

from streamdrift.cli.options import SECURITY, CliError, add_settings, load_settings
from streamdrift.kafka.security import client_options


def add_parser(sub: Any) -> None:
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
    add_settings(build, ["broker", "config", "topic_references", *SECURITY])


def run(args: argparse.Namespace) -> int:
    from streamdrift import codec
    from streamdrift.engine import references as reference
    from streamdrift.kafka.references import publish as publish_references
    from streamdrift.records import PREDICTION

    settings = load_settings(args)
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
