"""The ``streamdrift`` command.

    streamdrift broker up|down|status   the local Apache Kafka broker (KRaft, no Docker)
    streamdrift topics apply            create the topics of topics/topics.toml
    streamdrift worker                  run the Faust worker (drift detection)
    streamdrift simulate                a simulated model server publishing predictions
    streamdrift end-of-input            close a model's partial windows after a replay
    streamdrift alerts tail             print alerts as they arrive
    streamdrift report                  an HTML report of a model's windows and alerts
    streamdrift windows                 a model's window verdicts in the terminal
    streamdrift forward alertmanager    post alerts to Alertmanager (or: forward webhook)
    streamdrift demo                    all of the above on a local broker, alerts live

Every worker setting is also read from ``STREAMDRIFT_<NAME>`` (see ``streamdrift worker
--help``). Errors print one line, ``streamdrift: error: ...``, and exit non-zero.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence

from streamdrift.cli import (
    alerts,
    broker,
    demo,
    end_of_input,
    forward,
    reference,
    report,
    simulate,
    topics,
    worker,
)
from streamdrift.cli.options import CliError
from streamdrift.config.settings import ConfigError
from streamdrift.devtools.broker import BrokerError
from streamdrift.service.worker import WorkerStartError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="streamdrift",
        description="Streaming drift detection and model-degradation monitoring on Kafka.",
        epilog="Quick start: `make demo`. Docs: README.md.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    broker.add_parser(sub)
    topics.add_parser(sub)
    worker.add_parser(sub)
    simulate.add_parser(sub)
    end_of_input.add_parser(sub)
    alerts.add_parser(sub)
    report.add_parser(sub)  # report, windows
    forward.add_parser(sub)
    reference.add_parser(sub)
    demo.add_parser(sub)
    return parser


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "broker": broker.run,
    "topics": topics.run,
    "worker": worker.run,
    "simulate": simulate.run,
    "end-of-input": end_of_input.run,
    "reference": reference.run,
    "alerts": alerts.run,
    "report": report.run,
    "windows": report.run,
    "forward": forward.run,
    "demo": demo.run,
}


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("streamdrift").setLevel(logging.INFO)
    try:
        return COMMANDS[args.command](args)
    except (ConfigError, BrokerError, CliError, WorkerStartError) as exc:
        print(f"streamdrift: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # a Kafka client error etc.: one line, not a stack trace
        if _is_connection_error(exc):
            print(f"streamdrift: error: cannot reach Kafka: {exc}", file=sys.stderr)
            return 2
        raise


def _is_connection_error(exc: BaseException) -> bool:
    from aiokafka.errors import KafkaConnectionError, KafkaError

    return isinstance(exc, (KafkaConnectionError, KafkaError, OSError))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())


__all__ = ["build_parser", "main"]
