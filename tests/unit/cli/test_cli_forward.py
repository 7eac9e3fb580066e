"""`streamdrift forward`: arguments, and one-line errors for bad ones."""

from __future__ import annotations

import pytest

from streamdrift.cli.main import build_parser, main


def test_forward_parses_its_options() -> None:
    args = build_parser().parse_args(
        [
            "forward",
            "alertmanager",
            "--url",
            "http://am:9093",
            "--resend-interval",
            "5",
            "--report-url",
            "http://r/{model_id}.html",
            "--from-beginning",
            "--group",
            "g",
        ]
    )
    assert (args.command, args.target, args.url) == ("forward", "alertmanager", "http://am:9093")
    assert (args.resend_interval, args.report_url, args.from_beginning, args.group) == (
        5.0,
        "http://r/{model_id}.html",
        True,
        "g",
    )
    hook = build_parser().parse_args(["forward", "webhook", "--url", "https://h/x"])
    assert (hook.target, hook.max_backoff, hook.from_beginning) == ("webhook", 30.0, False)
    assert not hasattr(hook, "resend_interval")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["forward", "webhook", "--url", "ftp://x"], "--url: expected http://"),
        (
            ["forward", "alertmanager", "--url", "http://a", "--resend-interval", "0"],
            "--resend-interval: must be > 0",
        ),
    ],
)
def test_bad_arguments_fail_with_one_line(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("streamdrift: error: ") and message in err
    assert len(err.strip().splitlines()) == 1
