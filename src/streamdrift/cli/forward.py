"""``streamdrift forward alertmanager|webhook``: deliver alerts to Alertmanager or a webhook."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from streamdrift.cli.options import SECURITY, CliError, add_settings, load_settings


def add_parser(sub: Any) -> None:
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
        add_settings(
            p, ["broker", "app_id", "topic_drift_alerts", "topic_degradation_alerts", *SECURITY]
        )


def run(args: argparse.Namespace) -> int:
    from streamdrift.alerts.routing import Backoff
    from streamdrift.kafka.forward import Alertmanager, Forwarder, Webhook, run_forwarder

    settings = load_settings(args)
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
