"""``streamdrift topics apply``: create the topics of topics/topics.toml."""

from __future__ import annotations

import argparse
import asyncio
from dataclasses import fields
from pathlib import Path
from typing import Any

from streamdrift.cli.options import SECURITY, CliError, add_settings, load_settings
from streamdrift.config.settings import Settings
from streamdrift.kafka.security import client_options
from streamdrift.service.worker import sasl_problem


def add_parser(sub: Any) -> None:
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
    add_settings(
        apply,
        ["broker", *SECURITY, *[f.name for f in fields(Settings) if f.name.startswith("topic_")]],
    )


def run(args: argparse.Namespace) -> int:
    from streamdrift.kafka import topics

    settings = load_settings(args)
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
