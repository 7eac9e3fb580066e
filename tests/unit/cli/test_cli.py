"""The streamdrift command: help texts, one-line errors, exit codes. No broker is started."""

from __future__ import annotations

import os
from dataclasses import fields
from pathlib import Path

import pytest

from streamdrift.cli import main as cli
from streamdrift.cli import options
from streamdrift.config.settings import Settings
from streamdrift.devtools import broker


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("STREAMDRIFT_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("COLUMNS", "200")  # argparse wraps help at the terminal width
    # main() configures logging for the process; keep the test process's logging as it is
    monkeypatch.setattr(cli.logging, "basicConfig", lambda **kwargs: None)


def help_text(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(SystemExit) as info:
        cli.main([*argv, "--help"])
    assert info.value.code == 0
    out, err = capsys.readouterr()
    assert err == ""
    return out


def error_line(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    code = cli.main(argv)
    out, err = capsys.readouterr()
    assert code == 2
    assert out == ""
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("streamdrift: error: ")
    return lines[0]


def test_top_level_help_lists_the_commands(capsys: pytest.CaptureFixture[str]) -> None:
    out = help_text([], capsys)
    assert out.startswith("usage: streamdrift")
    for command in ("broker", "topics", "worker", "simulate", "alerts", "demo"):
        assert command in out


@pytest.mark.parametrize(
    ("argv", "flags"),
    [
        (["broker"], ["up", "down", "status"]),
        (["broker", "up"], ["--data-dir", "--port", "--heap", "--timeout"]),
        (["broker", "down"], ["--data-dir"]),
        (["broker", "status"], ["--data-dir"]),
        (["topics"], ["apply"]),
        (
            ["topics", "apply"],
            ["--topics-file", "--partitions", "--broker", "--topic-predictions"],
        ),
        (
            ["worker"],
            [
                "--broker",
                "--app-id",
                "--window-size",
                "--reference-size",
                "--alpha",
                "--psi-threshold",
                "--resolve-after",
                "--metrics-port",
                "--log-level",
                "STREAMDRIFT_",
            ],
        ),
        (
            ["simulate"],
            ["--broker", "--events", "--rate", "--drift-after", "--seed", "--envelopes"],
        ),
        (["alerts"], ["tail"]),
        (["alerts", "tail"], ["--broker", "--from-beginning", "--json"]),
        (["demo"], ["--duration", "--rate", "--drift-after", "--port", "--data-dir"]),
    ],
)
def test_subcommand_help_mentions_key_flags(
    argv: list[str], flags: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    out = help_text(argv, capsys)
    assert out.startswith("usage: streamdrift " + " ".join(argv))
    missing = [flag for flag in flags if flag not in out]
    assert missing == []


def test_worker_help_shows_defaults(capsys: pytest.CaptureFixture[str]) -> None:
    out = help_text(["worker"], capsys)
    assert "(default: kafka://127.0.0.1:9092)" in out
    assert "(default: 1000)" in out  # window size


def test_topics_apply_help_offers_only_broker_and_topic_settings(
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = help_text(["topics", "apply"], capsys)
    assert "--window-size" not in out
    assert "--topic-dead-letter" in out


@pytest.mark.parametrize(
    ("argv", "names"),
    [
        (["worker", "--window-size", "0"], ["window_size"]),
        (["worker", "--window-size", "ten"], ["--window-size", "'ten'"]),
        (["worker", "--broker", "http://x"], ["broker", "http://x"]),
        (["worker", "--broker", "kafka://host"], ["broker", "kafka://host"]),
        (["worker", "--alpha", "1.5"], ["alpha", "1.5"]),
        (["worker", "--metrics-port", "70000"], ["metrics_port", "70000"]),
        (["worker", "--log-level", "loud"], ["log_level", "loud"]),
        (["simulate", "--broker", "kafka://h:0"], ["broker"]),
        (["alerts", "tail", "--broker", "tcp://h:9092"], ["broker", "tcp://h:9092"]),
        (["topics", "apply", "--broker", "h"], ["broker"]),
    ],
)
def test_invalid_setting_is_one_error_line_exit_2(
    argv: list[str], names: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    line = error_line(argv, capsys)
    for name in names:
        assert name in line


def test_invalid_environment_variable_is_one_error_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("STREAMDRIFT_WINDOW_SIZ", "500")
    line = error_line(["worker"], capsys)
    assert "STREAMDRIFT_WINDOW_SIZ: unknown setting" in line
    assert "did you mean STREAMDRIFT_WINDOW_SIZE?" in line


def test_environment_value_is_validated(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("STREAMDRIFT_ALPHA", "lots")
    line = error_line(["worker"], capsys)
    assert "STREAMDRIFT_ALPHA: expected float, got 'lots'" in line


def test_flag_value_replaces_environment_value(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # both values are invalid; the error shows the flag's, so the flag took precedence
    monkeypatch.setenv("STREAMDRIFT_WINDOW_SIZE", "0")
    line = error_line(["worker", "--window-size", "-1"], capsys)
    assert "window_size: must be at least 1, got -1" in line


def test_topics_apply_with_missing_file_is_one_error_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "none.toml"
    line = error_line(["topics", "apply", "--topics-file", str(missing)], capsys)
    assert f"topics file not found: {missing}" in line


def test_broker_status_on_empty_data_dir(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["broker", "status", "--data-dir", str(tmp_path)]) == 3
    out, err = capsys.readouterr()
    assert out == "not running\n"
    assert err == ""


def test_broker_down_on_empty_data_dir(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["broker", "down", "--data-dir", str(tmp_path)]) == 0
    out, _ = capsys.readouterr()
    assert out == "not running\n"


def test_broker_up_error_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def no_java() -> str:
        raise broker.BrokerError("java not found on PATH: install a Java 17+ runtime")

    monkeypatch.setattr(broker, "java_executable", no_java)
    line = error_line(["broker", "up", "--data-dir", str(tmp_path)], capsys)
    assert line == "streamdrift: error: java not found on PATH: install a Java 17+ runtime"


def test_missing_command_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        cli.main([])
    assert info.value.code == 2
    assert "usage: streamdrift" in capsys.readouterr().err


def test_settings_flags_cover_every_setting(capsys: pytest.CaptureFixture[str]) -> None:
    out = help_text(["worker"], capsys)
    for f in fields(Settings):
        assert "--" + f.name.replace("_", "-") in out
        assert f.name in options.SETTING_HELP
