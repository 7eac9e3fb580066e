"""The README's commands, as written, from an empty directory, against the real broker.

The commands come from the README's code block (parsed here), so README and test cannot
drift apart: only the broker URL is substituted (and a free metrics port, through the
environment, so that the test never meets another process on port 9100).
"""

from __future__ import annotations

import argparse
import csv
import os
import re
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from streamdrift.cli import main as cli
from streamdrift.devtools import simulator
from streamdrift.devtools.broker import LocalBroker, free_port
from streamdrift.devtools.simulator import Scenario
from tests.integration.kafka_helpers import run, scrape, wait_for

pytestmark = pytest.mark.integration

README = Path(__file__).resolve().parents[2] / "README.md"
SECTION = "### On an existing Kafka cluster"
LONG_RUNNING = {("worker",), ("alerts", "tail")}  # run in the background until stopped
BIN = Path(sys.executable).parent  # the venv's console scripts: `streamdrift` is one


def readme_commands(text: str) -> list[list[str]]:
    """The ``streamdrift ...`` lines of the first code block after :data:`SECTION`, as argv
    lists: comments and optional ``[...]`` parts dropped (the README's notation)."""
    section = text.split(SECTION, 1)[1]
    block = re.search(r"```\w*\n(.*?)```", section, re.S)
    assert block is not None, f"no code block after {SECTION!r} in README.md"
    commands = []
    for line in block.group(1).splitlines():
        line = re.sub(r"\s#.*$", "", line)  # a comment
        line = re.sub(r"\s*\[[^\]]*\]", "", line).strip()  # an optional part
        if line.startswith("streamdrift "):
            commands.append(shlex.split(line))
    return commands


def with_broker(argv: list[str], url: str) -> list[str]:
    return [url if arg.startswith("kafka://") else arg for arg in argv]


def subcommand(argv: list[str]) -> tuple[str, ...]:
    words = [a for a in argv[1:3] if not a.startswith("-")]
    return (words[0],) if words[0] == "worker" else tuple(words)


def user_env(home: Path, metrics_port: int) -> dict[str, str]:
    """A user's environment: the venv's bin first on PATH, an empty home, no streamdrift
    variables (nor XDG_CACHE_HOME) but the metrics port."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("STREAMDRIFT_") and k != "XDG_CACHE_HOME"
    }
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env["HOME"] = str(home)
    env["STREAMDRIFT_METRICS_PORT"] = str(metrics_port)
    return env


def write_training_set(path: Path, rows: int = 3000) -> None:
    """train.csv for `reference build`: the simulated model's features and its prediction."""
    events = list(simulator.generate(Scenario(drift_after=None, seed=3), rows))
    names = sorted(events[0].features)
    with path.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow([*names, "prediction"])
        for e in events:
            writer.writerow([*(e.features[n] for n in names), e.prediction])


def test_readme_block_has_the_cluster_flow() -> None:
    commands = readme_commands(README.read_text())
    assert [subcommand(c) for c in commands] == [
        ("topics", "apply"),
        ("worker",),
        ("alerts", "tail"),
        ("reference", "build"),
    ]


def test_readme_cluster_commands_run_as_written_from_an_empty_directory(
    kafka_broker: LocalBroker, tmp_path: Path
) -> None:
    workdir, home = tmp_path / "empty", tmp_path / "home"
    workdir.mkdir()
    home.mkdir()
    port = free_port()
    env = user_env(home, port)
    background: list[tuple[subprocess.Popen[bytes], Path]] = []
    try:
        for argv in readme_commands(README.read_text()):
            argv = with_broker(argv, kafka_broker.url)
            kind = subcommand(argv)
            if kind == ("reference", "build"):
                write_training_set(workdir / argv[argv.index("--from") + 1])
            if kind in LONG_RUNNING:
                log = tmp_path / f"{'-'.join(kind)}.log"
                with log.open("wb") as out:
                    proc = subprocess.Popen(
                        argv, cwd=workdir, env=env, stdout=out, stderr=subprocess.STDOUT
                    )
                background.append((proc, log))
                if kind == ("worker",):
                    owned = wait_for(
                        lambda proc=proc: (
                            proc.poll() is not None
                            or scrape(port)["streamdrift_partitions_owned"] > 0
                        ),
                        90,
                    )
                    owned = owned and proc.poll() is None
                    text = log.read_text(errors="replace")
                    assert owned, f"the worker did not start (rc {proc.poll()}):\n{text[-3000:]}"
                continue
            done = subprocess.run(
                argv, cwd=workdir, env=env, capture_output=True, text=True, timeout=120
            )
            assert done.returncode == 0, f"{shlex.join(argv)}:\n{done.stdout}\n{done.stderr}"
            if kind == ("topics", "apply"):
                assert re.search(r"^(created|exists)\s+predictions ", done.stdout, re.M)
            else:
                assert "published to references as credit-risk/7" in done.stdout
                assert "income" in done.stdout
        # the worker's files went to the user cache dir, nothing to the working directory
        assert (home / ".cache" / "streamdrift" / "worker").is_dir()
        assert [p.name for p in workdir.iterdir()] == ["train.csv"]

        # a model server: 3,000 events as usual, then income shifts by 1 sigma
        time.sleep(2)  # `alerts tail` prints alerts newer than its start
        scenario = Scenario(drift_after=3000, shift_sigmas=1.0, seed=11)
        run(
            simulator.run(
                kafka_broker.url,
                scenario,
                events=5000,
                rate=None,
                envelopes=True,
                replay_start=1_700_000_000.0,
            )
        )
        tail_log = background[1][1]
        printed = wait_for(lambda: "data_drift" in tail_log.read_text(), 90)
        lines = tail_log.read_text().splitlines()
        assert printed, f"alerts tail printed no drift alert: {lines}"
        drift = [line for line in lines if "data_drift" in line]
        assert all("credit-risk v7 income psi=" in line for line in drift), drift
        # the threshold is calibrated on the reference: printed to three digits
        assert drift[0].startswith("FIRING")
        assert re.search(r"\(threshold 0\.\d{1,3}, detector psi", drift[0]), drift[0]
    finally:
        for proc, _ in background:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM if proc.args[1] == "worker" else signal.SIGINT)
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
    worker_log = background[0][1].read_text(errors="replace")
    assert "Traceback" not in worker_log
    assert not [line for line in worker_log.splitlines() if "ERROR" in line]
    assert "Traceback" not in background[1][1].read_text()


def _subcommand_paths(parser: argparse.ArgumentParser, prefix: tuple[str, ...] = ()) -> list:
    paths = [prefix]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                paths += _subcommand_paths(sub, (*prefix, name))
    return paths


def test_help_of_every_command_exits_0_from_an_empty_directory(tmp_path: Path) -> None:
    env = user_env(tmp_path, 0)
    for path in _subcommand_paths(cli.build_parser()):
        argv = ["streamdrift", *path, "--help"]
        done = subprocess.run(argv, cwd=tmp_path, env=env, capture_output=True, text=True)
        assert done.returncode == 0, f"{shlex.join(argv)}: {done.stderr}"
        assert done.stdout.startswith("usage: streamdrift"), done.stdout
        assert done.stderr == ""
    assert list(tmp_path.iterdir()) == []
