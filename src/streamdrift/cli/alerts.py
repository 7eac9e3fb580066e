"""``streamdrift alerts tail``: print alerts as they arrive."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from streamdrift.cli.options import SECURITY, add_settings, load_settings


def add_parser(sub: Any) -> None:
    alerts = sub.add_parser("alerts", help="read alert topics")
    asub = alerts.add_subparsers(dest="action", required=True, metavar="ACTION")
    tail = asub.add_parser(
        "tail",
        help="print alerts as they arrive",
        description="Print alerts from the alert topics as they arrive.",
    )
    add_settings(tail, ["broker", "topic_drift_alerts", "topic_degradation_alerts", *SECURITY])
    tail.add_argument("--from-beginning", action="store_true", help="also print older alerts")
    tail.add_argument("--json", action="store_true", help="print raw JSON lines")


def run(args: argparse.Namespace) -> int:
    from streamdrift.kafka.tail import tail_alerts

    settings = load_settings(args)
    asyncio.run(tail_alerts(settings, from_beginning=args.from_beginning, raw=args.json))
    return 0
