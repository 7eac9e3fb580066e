"""``streamdrift demo``: a local broker, the worker and simulated traffic, alerts live."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from streamdrift.config.settings import cache_dir
from streamdrift.devtools.broker import DEFAULT_PORT


def add_parser(sub: Any) -> None:
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
        "--metrics-port",
        type=int,
        default=9100,
        help="worker /metrics port (default: 9100; 0, or a port in use: a free one)",
    )
    demo.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help=f"demo files, removed at each start (default: {cache_dir() / 'demo'})",
    )


def run(args: argparse.Namespace) -> int:
    from streamdrift.devtools.demo import run_demo

    if args.data_dir is None:
        args.data_dir = cache_dir() / "demo"
    return run_demo(args)
