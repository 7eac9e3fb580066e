"""``streamdrift end-of-input``: close a model's partial windows after a replay."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from streamdrift.cli.options import SECURITY, add_settings, load_settings
from streamdrift.kafka.security import client_options


def add_parser(sub: Any) -> None:
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
    add_settings(eoi, ["broker", "topic_predictions", *SECURITY])


def run(args: argparse.Namespace) -> int:
    from streamdrift.client import PredictionClient

    settings = load_settings(args)

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
