"""``streamdrift broker up|down|status``: the local Apache Kafka broker."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from streamdrift.devtools.broker import DEFAULT_PORT, LocalBroker, default_data_dir


def add_parser(sub: Any) -> None:
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


def run(args: argparse.Namespace) -> int:
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
