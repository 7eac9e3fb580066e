"""``streamdrift worker``: run the Faust worker (drift detection)."""

from __future__ import annotations

import argparse
from typing import Any

from streamdrift.cli.options import add_settings, load_settings


def add_parser(sub: Any) -> None:
    worker = sub.add_parser(
        "worker",
        help="run the drift-detection worker (Faust)",
        description="Run the Faust worker: consume predictions, detect "
        "drift, publish alerts. Stops on Ctrl-C / SIGTERM.",
    )
    add_settings(worker)


def run(args: argparse.Namespace) -> int:
    from streamdrift.service.worker import run_worker

    return run_worker(load_settings(args))
