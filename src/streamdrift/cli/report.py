"""``streamdrift report`` and ``streamdrift windows``: their arguments and what they do."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any

from streamdrift.cli.options import SECURITY, CliError, add_settings, load_settings
from streamdrift.config.settings import Settings

TOPICS = ("topic_drift_windows", "topic_drift_alerts", "topic_degradation_alerts")


def add_parser(sub: Any) -> None:
    report = sub.add_parser(
        "report",
        help="write an HTML report of a model's windows, alerts and performance",
        description="Read the drift-windows and alert topics and write one self-contained "
        "HTML file: per feature its statistics over windows with thresholds and alert "
        "episodes shaded, performance metrics with label coverage, features ranked by "
        "evidence. Needs matplotlib (pip install 'streamdrift[report]').",
    )
    windows = sub.add_parser(
        "windows",
        help="print a model's window verdicts, one line per feature, one mark per window",
        description="Read the drift-windows topic and print, per monitor and model version "
        "(and segment), one line per feature (performance: per test) with one mark per "
        "window: '.' ok, 'X' drift, '?' not tested; ',' and 'x' for a partial window.",
    )
    for parser in (report, windows):
        parser.add_argument("--model", required=True, help="model id")
        parser.add_argument("--version", default=None, help="only this model version")
        parser.add_argument(
            "--since",
            default=None,
            metavar="T",
            help="only windows ending at or after T: Unix seconds, an ISO date/time (UTC) "
            "or an age such as 24h or 7d",
        )
        parser.add_argument(
            "--timeout", type=float, default=60.0, help="seconds to read the topics (default 60)"
        )
        add_settings(parser, ["broker", *TOPICS, *SECURITY])
    report.add_argument("--out", type=Path, required=True, help="the HTML file to write")
    windows.add_argument(
        "--last", type=int, default=100, help="show the last N windows of each (default 100)"
    )


def run(args: argparse.Namespace) -> int:
    """``report`` or ``windows``, whichever ``args.command`` names."""
    if args.command == "windows":
        return _windows(args, load_settings(args))
    from streamdrift.report.html import ReportError

    try:
        return _report(args, load_settings(args))
    except ReportError as exc:
        raise CliError(str(exc)) from None


def _report(args: argparse.Namespace, settings: Settings) -> int:
    from streamdrift.report import html

    records, alerts = _read(args, settings)
    page = html.build(
        records,
        alerts,
        args.model,
        version=args.version,
        since=_since(args),
        source=settings.topic_drift_windows,
    )
    args.out.write_text(page, encoding="utf-8")
    print(f"wrote {args.out} ({len(page.encode()) // 1024} KiB)")
    return 0


def _windows(args: argparse.Namespace, settings: Settings) -> int:
    from streamdrift.report import model, terminal

    records, _ = _read(args, settings)
    chosen = model.select(records, args.model, args.version, _since(args))
    if not chosen:
        print(f"no window of {args.model} in {settings.topic_drift_windows}", file=sys.stderr)
        return 1
    for line in terminal.lines(chosen, last=args.last):
        print(line)
    print(terminal.LEGEND)
    return 0


def _since(args: argparse.Namespace) -> float | None:
    from streamdrift.kafka.report_reader import parse_since

    return None if args.since is None else parse_since(args.since)


def _read(args: argparse.Namespace, settings: Settings) -> tuple[list[Any], list[Any]]:
    from streamdrift.kafka.report_reader import read_model

    return asyncio.run(read_model(settings, args.model, args.timeout))
