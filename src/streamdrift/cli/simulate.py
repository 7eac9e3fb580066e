"""``streamdrift simulate``: a simulated model server publishing predictions."""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

from streamdrift.cli.options import SECURITY, add_settings, load_settings
from streamdrift.kafka.security import client_options


def add_parser(sub: Any) -> None:
    sim = sub.add_parser(
        "simulate",
        help="a simulated model server",
        description="Publish a credit-risk model's predictions; one feature "
        "shifts after --drift-after events.",
    )
    add_settings(sim, ["broker", "topic_predictions", *SECURITY])
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


def run(args: argparse.Namespace) -> int:
    from streamdrift.devtools import simulator

    settings = load_settings(args)
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
