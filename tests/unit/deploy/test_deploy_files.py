"""The deployment files (Dockerfile, docker-compose.yml, Prometheus, Grafana) are valid and agree.

docker-compose.yml is validated against the official Compose Specification JSON Schema,
vendored beside this file (see compose-spec.NOTICE.md). PromQL is not parsed here; with
promtool installed, run `promtool check config deploy/prometheus/prometheus.yml`.
"""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import validators

from streamdrift.config.settings import Settings
from streamdrift.metrics import Metrics

ROOT = Path(__file__).resolve().parents[3]
HERE = Path(__file__).resolve().parent
COMPOSE = ROOT / "docker-compose.yml"
PROMETHEUS = ROOT / "deploy" / "prometheus" / "prometheus.yml"
RULES = ROOT / "deploy" / "prometheus" / "rules.yml"
GRAFANA = ROOT / "deploy" / "grafana"
DASHBOARD = GRAFANA / "dashboards" / "streamdrift.json"


def _exported() -> tuple[set[str], set[str]]:
    """The series names streamdrift really exports, read from its registry: counters end in
    _total; histograms also have the _bucket, _sum and _count series."""
    names: set[str] = set()
    histograms: set[str] = set()
    for family in Metrics().registry.collect():
        if family.type == "counter":
            names.add(family.name + "_total")
        else:
            names.add(family.name)
            if family.type == "histogram":
                histograms.add(family.name)
    return names, histograms


METRICS, HISTOGRAMS = _exported()
PROMQL_KEYWORDS = {
    "and",
    "or",
    "unless",
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
    "bool",
    "offset",
    "inf",
    "nan",
}
SEVERITIES = {"info", "warning", "critical"}


def load_yaml(path: Path) -> Any:
    with path.open(encoding="utf-8") as f:
        return yaml.safe_load(f)


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return load_yaml(COMPOSE)


@pytest.fixture(scope="module")
def dashboard() -> dict[str, Any]:
    with DASHBOARD.open(encoding="utf-8") as f:
        return json.load(f)


@pytest.fixture(scope="module")
def rules() -> list[dict[str, Any]]:
    doc = load_yaml(RULES)
    return [rule for group in doc["groups"] for rule in group["rules"]]


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression selects (a light scan, not a parser)."""
    s = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    s = re.sub(r"'(?:[^'\\]|\\.)*'", "''", s)
    s = re.sub(r"\{[^}]*\}", " ", s)  # label matchers
    s = re.sub(r"\[[^\]]*\]", " ", s)  # ranges and subqueries
    s = re.sub(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", s)
    s = re.sub(r"\$\{?\w+\}?", " ", s)  # Grafana variables
    names = set()
    for m in re.finditer(r"(?<![\w.])[A-Za-z_:][A-Za-z0-9_:]*", s):
        word = m.group(0)
        if s[m.end() :].lstrip().startswith("("):
            continue  # a function or an aggregation
        if word.lower() in PROMQL_KEYWORDS:
            continue
        names.add(word)
    return names


def base_metric(name: str) -> str:
    for suffix in ("_bucket", "_sum", "_count"):
        stem = name.removesuffix(suffix)
        if stem != name and stem in HISTOGRAMS:
            return stem
    return name


def assert_known_metrics(expr: str) -> set[str]:
    names = metric_names(expr)
    assert names, f"no metric in {expr!r}"
    for name in names:
        assert name == "up" or name.startswith("streamdrift_"), (name, expr)
        if name != "up":
            assert base_metric(name) in METRICS, f"unknown metric {name} in {expr!r}"
    return {base_metric(n) for n in names}


def test_metric_names_scanner() -> None:
    expr = (
        "histogram_quantile(0.99, sum by (le) (rate(streamdrift_label_delay_seconds_bucket"
        '{model=~"$model", x="a b"}[$__rate_interval]))) > 1e5 and on (instance) '
        "up offset 5m unless sum(foo:bar)"
    )
    assert metric_names(expr) == {"streamdrift_label_delay_seconds_bucket", "up", "foo:bar"}


# --- docker-compose.yml ----------------------------------------------------------------


def test_compose_matches_the_compose_specification(compose: dict[str, Any]) -> None:
    with (HERE / "compose-spec.json").open(encoding="utf-8") as f:
        schema = json.load(f)
    # the vendored copy says draft 2019-09 (with a trailing '#' jsonschema does not resolve)
    cls = validators.Draft201909Validator
    cls.check_schema(schema)
    errors = [f"{e.json_path}: {e.message}" for e in cls(schema).iter_errors(compose)]
    assert not errors, "\n".join(errors)
    # the schema does reject a mistake
    broken = {**compose, "services": {**compose["services"], "kafka": {"imag": "x"}}}
    assert not cls(schema).is_valid(broken)


def test_compose_services(compose: dict[str, Any]) -> None:
    assert "version" not in compose
    services = compose["services"]
    assert {
        "kafka",
        "topics",
        "worker-1",
        "worker-2",
        "loadgen",
        "prometheus",
        "grafana",
    } <= set(services)
    for name, service in services.items():
        image = service.get("image", "")
        if "build" not in service:
            assert re.fullmatch(r"[\w./-]+:[\w.-]+", image), f"{name}: pin an image tag"
            assert not image.endswith(":latest"), name
    assert services["prometheus"]["image"].startswith("prom/prometheus:v3.")
    assert services["grafana"]["image"].startswith("grafana/grafana:")


def test_compose_kafka_is_single_node_kraft(compose: dict[str, Any]) -> None:
    kafka = compose["services"]["kafka"]
    assert kafka["image"] == "apache/kafka:4.1.2"
    env = kafka["environment"]
    assert set(env["KAFKA_PROCESS_ROLES"].split(",")) == {"broker", "controller"}
    assert env["KAFKA_CONTROLLER_QUORUM_VOTERS"] == f"{env['KAFKA_NODE_ID']}@kafka:9093"
    assert "PLAINTEXT://:9092" in env["KAFKA_LISTENERS"].split(",")
    assert "CONTROLLER://:9093" in env["KAFKA_LISTENERS"].split(",")
    assert "PLAINTEXT://kafka:9092" in env["KAFKA_ADVERTISED_LISTENERS"].split(",")
    for key in (
        "KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR",
        "KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR",
    ):
        assert int(env[key]) == 1, key
    assert int(env["KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS"]) == 0
    test = kafka["healthcheck"]["test"]
    test = " ".join(test) if isinstance(test, list) else test
    assert "/opt/kafka/bin/kafka-broker-api-versions.sh" in test
    assert "--bootstrap-server localhost:9092" in test


def test_compose_streamdrift_services(compose: dict[str, Any]) -> None:
    services = compose["services"]

    def command(name: str) -> list[str]:
        cmd = services[name]["command"]
        return cmd.split() if isinstance(cmd, str) else [str(c) for c in cmd]

    for name in ("topics", "worker-1", "worker-2", "loadgen"):
        assert services[name]["build"] == ".", name
        assert "--broker" in command(name), name
        assert command(name)[command(name).index("--broker") + 1] == "kafka://kafka:9092"

    assert command("topics")[:2] == ["topics", "apply"]
    assert services["topics"]["depends_on"]["kafka"]["condition"] == "service_healthy"
    assert services["topics"]["restart"] == "no"

    known = {f"STREAMDRIFT_{f.name.upper()}" for f in dataclasses.fields(Settings)}
    for name in ("worker-1", "worker-2"):
        w = services[name]
        assert command(name)[0] == "worker"
        assert w["depends_on"]["topics"]["condition"] == "service_completed_successfully"
        assert w["restart"] == "unless-stopped"
        unknown = {k for k in w.get("environment", {}) if k.startswith("STREAMDRIFT_")} - known
        assert not unknown, f"{name}: settings the worker would reject: {unknown}"
        assert w["volumes"], f"{name}: no data volume"
    assert services["worker-1"]["volumes"] != services["worker-2"]["volumes"]

    assert command("loadgen")[0] == "simulate"
    assert services["loadgen"]["depends_on"]["topics"]["condition"] == (
        "service_completed_successfully"
    )


def test_compose_bind_mounts_exist(compose: dict[str, Any]) -> None:
    named = set(compose.get("volumes") or {})
    for name, service in compose["services"].items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0] if isinstance(volume, str) else volume["source"]
            if source.startswith((".", "/")):
                assert (ROOT / source).exists(), f"{name}: {source} missing"
            else:
                assert source in named, f"{name}: volume {source} not declared"


# --- Dockerfile --------------------------------------------------------------------------


def test_dockerfile() -> None:
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    instructions = [
        line.strip() for line in re.sub(r"\\\n", " ", text).splitlines() if line.strip()
    ]
    instructions = [line for line in instructions if not line.startswith("#")]
    assert instructions[0] == "FROM python:3.11-slim"
    assert any("pip install --no-cache-dir ." in line for line in instructions)
    users = [line.split()[1] for line in instructions if line.startswith("USER ")]
    assert users and users[-1].split(":")[0] not in {"root", "0"}
    assert 'ENTRYPOINT ["streamdrift"]' in instructions
    assert 'CMD ["--help"]' in instructions
    for line in instructions:
        if line.startswith("COPY ") and "--from" not in line:
            for source in line.split()[1:-1]:
                assert (ROOT / source).exists(), f"COPY source {source} missing"


def test_dockerignore() -> None:
    entries = {
        line.strip().rstrip("/")
        for line in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert {".venv", ".cache", ".git"} <= entries
    # what the image is built from must not be ignored
    assert not {"src", "topics", "pyproject.toml", "README.md"} & entries


# --- Prometheus ----------------------------------------------------------------------------


def test_prometheus_scrapes_the_workers(compose: dict[str, Any]) -> None:
    config = load_yaml(PROMETHEUS)
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    job = jobs["streamdrift"]
    assert job["scrape_interval"] == "5s"
    targets = {t for sc in job["static_configs"] for t in sc["targets"]}
    assert targets == {"worker-1:9100", "worker-2:9100"}
    services = compose["services"]
    for target in targets:
        host, port = target.split(":")
        command = [str(c) for c in services[host]["command"]]
        assert command[command.index("--metrics-port") + 1] == port
        assert command[command.index("--metrics-host") + 1] == "0.0.0.0"
    for rule_file in config["rule_files"]:
        assert (PROMETHEUS.parent / rule_file).is_file(), rule_file
    mounts = services["prometheus"]["volumes"]
    assert any(str(m).startswith("./deploy/prometheus:/etc/prometheus") for m in mounts)


def test_alerting_rules(rules: list[dict[str, Any]]) -> None:
    names = [rule["alert"] for rule in rules]
    assert len(names) == len(set(names)), "alert names must be unique"
    assert {
        "StreamdriftWorkerDown",
        "StreamdriftStalled",
        "StreamdriftHighLag",
        "StreamdriftDriftFiring",
    } <= set(names)
    for rule in rules:
        assert {"alert", "expr", "for", "labels"} <= set(rule), rule.get("alert")
        assert re.fullmatch(r"\d+[smhd]", str(rule["for"])), rule["alert"]
        assert rule["labels"]["severity"] in SEVERITIES, rule["alert"]
        assert rule.get("annotations", {}).get("summary"), rule["alert"]
        assert_known_metrics(rule["expr"])


def test_alerting_rule_expressions(rules: list[dict[str, Any]]) -> None:
    by_name = {rule["alert"]: rule for rule in rules}
    assert metric_names(by_name["StreamdriftWorkerDown"]["expr"]) == {"up"}
    assert by_name["StreamdriftWorkerDown"]["for"] == "1m"
    assert metric_names(by_name["StreamdriftStalled"]["expr"]) == {
        "streamdrift_consumer_lag",
        "streamdrift_events_consumed_total",
    }
    assert by_name["StreamdriftStalled"]["for"] == "5m"
    assert "100000" in by_name["StreamdriftHighLag"]["expr"]
    drift = by_name["StreamdriftDriftFiring"]["expr"]
    assert "streamdrift_alerts_active" in drift
    assert "data_drift" in drift and "prediction_drift" in drift


# --- Grafana -------------------------------------------------------------------------------


def test_grafana_provisioning(compose: dict[str, Any]) -> None:
    datasources = load_yaml(GRAFANA / "provisioning" / "datasources" / "prometheus.yml")
    (ds,) = datasources["datasources"]
    assert ds["uid"] == "prometheus"
    assert ds["type"] == "prometheus"
    assert ds["url"] == "http://prometheus:9090"
    assert "prometheus" in compose["services"]

    providers = load_yaml(GRAFANA / "provisioning" / "dashboards" / "streamdrift.yml")
    (provider,) = providers["providers"]
    assert provider["type"] == "file"
    path = provider["options"]["path"]
    assert path == "/var/lib/grafana/dashboards"

    grafana = compose["services"]["grafana"]
    mounts = [str(m).split(":") for m in grafana["volumes"]]
    assert ["./deploy/grafana/dashboards", path, "ro"] in mounts
    assert ["./deploy/grafana/provisioning", "/etc/grafana/provisioning", "ro"] in mounts
    env = grafana["environment"]
    assert str(env["GF_AUTH_ANONYMOUS_ENABLED"]).lower() == "true"
    assert env["GF_AUTH_ANONYMOUS_ORG_ROLE"] == "Viewer"


def test_dashboard_structure(dashboard: dict[str, Any]) -> None:
    assert dashboard["uid"] == "streamdrift"
    assert dashboard["title"]
    assert 36 <= dashboard["schemaVersion"] <= 41
    panels = dashboard["panels"]
    ids = [p["id"] for p in panels]
    assert len(ids) == len(set(ids)), "panel ids must be unique"
    for p in panels:
        grid = p["gridPos"]
        assert {"h", "w", "x", "y"} <= set(grid), p["title"]
        assert grid["x"] >= 0 and grid["w"] >= 1 and grid["x"] + grid["w"] <= 24, p["title"]
        if p["type"] == "row":
            continue
        assert p["type"] == "timeseries", p["title"]
        assert p["datasource"]["uid"] == "prometheus", p["title"]
        assert p["targets"], p["title"]
        ref_ids = [t["refId"] for t in p["targets"]]
        assert len(ref_ids) == len(set(ref_ids)), p["title"]
        for t in p["targets"]:
            assert t.get("datasource", p["datasource"])["uid"] == "prometheus", p["title"]
    for variable in dashboard.get("templating", {}).get("list", []):
        if variable["type"] == "query":
            assert variable["datasource"]["uid"] == "prometheus", variable["name"]


def test_dashboard_queries_known_metrics(dashboard: dict[str, Any]) -> None:
    used: set[str] = set()
    for p in dashboard["panels"]:
        for t in p.get("targets", []):
            used |= assert_known_metrics(t["expr"])
    for variable in dashboard.get("templating", {}).get("list", []):
        if variable["type"] == "query":
            query = variable["definition"]
            inner = re.fullmatch(r"label_values\((\w+),\s*\w+\)", query)
            assert inner, query
            assert_known_metrics(inner.group(1))
    # every metric the dashboard is meant to show is on it
    assert {
        "streamdrift_events_consumed_total",
        "streamdrift_decode_failures_total",
        "streamdrift_dead_letter_total",
        "streamdrift_processing_latency_seconds",
        "streamdrift_consumer_lag",
        "streamdrift_drift_statistic",
        "streamdrift_alerts_total",
        "streamdrift_alerts_active",
        "streamdrift_label_coverage_ratio",
        "streamdrift_label_delay_seconds",
        "streamdrift_pending_joins",
    } <= used


def test_dashboard_quantiles_use_histogram_buckets(dashboard: dict[str, Any]) -> None:
    for p in dashboard["panels"]:
        for t in p.get("targets", []):
            if "histogram_quantile" in t["expr"]:
                assert re.search(r"_bucket\b", t["expr"]), t["expr"]
                assert re.search(r"\bby \([^)]*\ble\b", t["expr"]), t["expr"]
