"""Through the real broker: every closed window reaches ``drift-windows`` with verdicts that
match the alerts, a replay by a fresh worker publishes the same records, and
``streamdrift windows`` / ``streamdrift report`` read them; headless Chromium renders the
report."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from streamdrift.client import PredictionClient
from streamdrift.config.settings import Settings
from streamdrift.devtools.broker import LocalBroker
from streamdrift.kafka.report_reader import read_model
from streamdrift.records import PredictionEvent
from tests.integration.kafka_helpers import run, running_worker, unique_settings, wait_for

pytestmark = pytest.mark.integration

# reference 2,000 events, windows of 1,000: 8,000 events close windows 0–5; ``income``
# shifts by 1σ for events 4,000–5,999, i.e. windows 2 and 3
TOTAL, SHIFT = 8_000, (4_000, 6_000)
START = 1_700_000_000.0


def events() -> list[PredictionEvent]:
    rng = np.random.default_rng(11)
    income = rng.normal(50.0, 10.0, TOTAL)
    income[SHIFT[0] : SHIFT[1]] += 10.0
    region = rng.choice(["north", "south", "east"], TOTAL)
    return [
        PredictionEvent(
            "credit", "3", f"p{i}", START + i * 0.01,
            {"income": float(income[i]), "region": str(region[i])}, float(rng.random()),
        )
        for i in range(TOTAL)
    ]  # fmt: skip


async def publish(settings: Settings) -> None:
    async with PredictionClient(
        settings.broker, topic=settings.topic_predictions, envelopes=True
    ) as client:
        for event in events():
            await client.publish(event)
        await client.flush()


def windows_of(settings: Settings) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    records, alerts = run(read_model(settings, "credit", timeout=30))
    return records, alerts


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STREAMDRIFT_")}
    command = [sys.executable, "-m", "streamdrift", *args]
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)


def test_windows_reach_the_topic_replay_identically_and_make_a_report(
    kafka_broker: LocalBroker, tmp_path: Path
) -> None:
    settings = unique_settings(kafka_broker.url, tmp_path / "a")
    with running_worker(settings, tmp_path / "a.log") as worker:
        run(publish(settings))
        assert wait_for(lambda: len(windows_of(settings)[0]) >= 6, 90), worker.log_text()[-3000:]
    first, alerts = windows_of(settings)

    # every window once, in order, with verdicts that match the alerts
    assert [d["window"]["index"] for d in first] == list(range(6))
    assert {d["monitor"] for d in first} == {"drift"}
    drifted = {d["window"]["index"] for d in first for t in d["tests"] if t["verdict"] == "drift"}
    assert drifted == {2, 3}
    firing = [a for a in alerts if a["status"] == "firing"]
    assert {(a["kind"], a["feature"], a["window"]["index"]) for a in firing} <= {
        ("data_drift", "income", 2),
        ("prediction_drift", None, 2),
    }
    assert ("data_drift", "income", 2) in {
        (a["kind"], a["feature"], a["window"]["index"]) for a in firing
    }
    income = {
        d["window"]["index"]: {t["verdict"] for t in d["tests"] if t["feature"] == "income"}
        for d in first
    }
    assert [("drift" in v) for _, v in sorted(income.items())] == [
        False, False, True, True, False, False,
    ]  # fmt: skip

    # a fresh worker (new group, no checkpoint) replays the input: the same records again
    replay = settings.replace(app_id=settings.app_id + "-replay", data_dir=str(tmp_path / "b"))
    with running_worker(replay, tmp_path / "b.log") as worker:
        assert wait_for(lambda: len(windows_of(settings)[0]) >= 12, 90), worker.log_text()[-3000:]
    both, alerts_both = windows_of(settings)
    assert len(both) == 12
    assert sorted(d["record_id"] for d in both) == sorted([d["record_id"] for d in first] * 2)
    assert both[6:] == first  # identical values
    assert {a["alert_id"] for a in alerts_both} == {a["alert_id"] for a in alerts}

    # the terminal strips and the HTML report, through the CLI
    topics = [
        "--broker", settings.broker,
        "--topic-drift-windows", settings.topic_drift_windows,
        "--topic-drift-alerts", settings.topic_drift_alerts,
        "--topic-degradation-alerts", settings.topic_degradation_alerts,
    ]  # fmt: skip
    shown = cli("windows", "--model", "credit", *topics)
    assert shown.returncode == 0, shown.stderr
    assert re.search(r"^income\s+\.\.XX\.\.  2 drifted$", shown.stdout, re.M), shown.stdout
    assert re.search(r"^region\s+\.{6}  0 drifted$", shown.stdout, re.M), shown.stdout

    out = tmp_path / "report.html"
    made = cli("report", "--model", "credit", "--version", "3", "--out", str(out), *topics)
    assert made.returncode == 0, made.stderr
    page = out.read_text(encoding="utf-8")
    assert "<h3>income</h3>" in page and "window 2, 2023-11-14" in page
    check_in_chromium(out, tmp_path)

    missing = cli("report", "--model", "nobody", "--out", str(tmp_path / "x.html"), *topics)
    assert missing.returncode == 2 and "no window of nobody" in missing.stderr


def check_in_chromium(report: Path, tmp_path: Path) -> None:
    """Headless Chromium loads the page: every plot decodes (naturalWidth > 0), and its
    screenshot shows the plots' line colour and the drift crosses."""
    import matplotlib.image

    probe = tmp_path / "probe.html"
    script = (
        "<script>window.addEventListener('load', () => { const i = [...document.images];"
        " document.body.dataset.images = i.length;"
        " document.body.dataset.decoded = i.filter(x => x.complete && x.naturalWidth > 0)"
        ".length; });</script>"
    )
    probe.write_text(report.read_text(encoding="utf-8").replace("</body>", script + "</body>"))
    chromium = [
        "chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        "--hide-scrollbars", f"--user-data-dir={tmp_path / 'chromium'}",
    ]  # fmt: skip
    dom = subprocess.run(
        [*chromium, "--dump-dom", probe.as_uri()], capture_output=True, text=True, timeout=90
    )
    found = re.search(r'data-images="(\d+)" data-decoded="(\d+)"', dom.stdout)
    assert found, dom.stderr[-2000:]
    assert int(found[1]) >= 3 and found[1] == found[2]  # income, region, prediction

    shot = tmp_path / "report.png"
    subprocess.run(
        [*chromium, "--window-size=1100,1400", f"--screenshot={shot}", report.as_uri()],
        capture_output=True,
        timeout=90,
        check=True,
    )
    pixels = (matplotlib.image.imread(shot)[..., :3] * 255).round().astype(int)
    blue = np.all(np.abs(pixels - (31, 119, 180)) <= 12, axis=-1).sum()  # the series' line
    red = np.all(np.abs(pixels - (214, 39, 40)) <= 12, axis=-1).sum()  # drift crosses
    assert blue > 500 and red > 20, (blue, red)
