"""Prometheus rules and config checked by promtool, Alertmanager's config by amtool, and the
compose file's Alertmanager wired to the alert forwarder. The tools come from `make tools`
(Debian's prometheus and prometheus-alertmanager); a missing one fails the test."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[3]
RULES = ROOT / "deploy" / "prometheus" / "rules.yml"
PROMETHEUS = ROOT / "deploy" / "prometheus" / "prometheus.yml"
ALERTMANAGER = ROOT / "deploy" / "alertmanager" / "alertmanager.yml"


def tool(name: str, *args: str | Path) -> subprocess.CompletedProcess[str]:
    path = shutil.which(name)
    assert path, f"{name} is not installed: run `make tools`"
    return subprocess.run([path, *map(str, args)], capture_output=True, text=True, timeout=60)


def load(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def test_promtool_accepts_the_rules() -> None:
    done = tool("promtool", "check", "rules", RULES)
    assert done.returncode == 0, done.stdout + done.stderr
    rules = sum(len(g["rules"]) for g in load(RULES)["groups"])
    assert f"SUCCESS: {rules} rules found" in done.stdout


def test_promtool_rejects_a_broken_rule(tmp_path: Path) -> None:
    doc = load(RULES)
    doc["groups"][0]["rules"][0]["expr"] = "up{job= == 0"
    broken = tmp_path / "rules.yml"
    broken.write_text(yaml.safe_dump(doc), encoding="utf-8")
    done = tool("promtool", "check", "rules", broken)
    assert done.returncode != 0
    assert "FAILED" in done.stdout + done.stderr


def test_promtool_accepts_the_prometheus_config() -> None:
    done = tool("promtool", "check", "config", PROMETHEUS)
    assert done.returncode == 0, done.stdout + done.stderr


def test_amtool_accepts_the_alertmanager_config() -> None:
    done = tool("amtool", "check-config", ALERTMANAGER)
    assert done.returncode == 0, done.stdout + done.stderr


def test_compose_wires_prometheus_and_the_forwarder_to_alertmanager() -> None:
    compose = load(ROOT / "docker-compose.yml")
    services = compose["services"]
    am = services["alertmanager"]
    assert am["image"].startswith("prom/alertmanager:v0.")
    assert "./deploy/alertmanager:/etc/alertmanager:ro" in am["volumes"]
    assert "--config.file=/etc/alertmanager/alertmanager.yml" in am["command"]

    forwarder = services["forwarder"]
    command = [str(c) for c in forwarder["command"]]
    assert command[:2] == ["forward", "alertmanager"]
    assert command[command.index("--url") + 1] == "http://alertmanager:9093"
    assert command[command.index("--broker") + 1] == "kafka://kafka:9092"
    assert forwarder["depends_on"]["topics"]["condition"] == "service_completed_successfully"
    assert "alertmanager" in forwarder["depends_on"]

    targets = [
        t
        for am_config in load(PROMETHEUS)["alerting"]["alertmanagers"]
        for sc in am_config["static_configs"]
        for t in sc["targets"]
    ]
    assert targets == ["alertmanager:9093"]
