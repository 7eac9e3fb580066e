"""Metrics: bounded label cardinality and independent registries (metrics.py)."""

from __future__ import annotations

from pathlib import Path

from prometheus_client import CollectorRegistry, generate_latest

from streamdrift.metrics import OTHER, Metrics
from streamdrift.records import AlertKind


def test_model_label_caps_at_max_models_then_other() -> None:
    metrics = Metrics(max_models=3)
    assert [metrics.model_label(m) for m in ("a", "b", "c")] == ["a", "b", "c"]
    assert metrics.model_label("d") == OTHER == "__other__"
    assert metrics.model_label("e") == OTHER
    # models admitted before the cap keep their own label, in any order
    assert [metrics.model_label(m) for m in ("c", "a", "b")] == ["c", "a", "b"]
    assert metrics.model_label("d") == OTHER  # a late model never gets in


def test_model_label_of_the_same_model_does_not_use_a_slot() -> None:
    metrics = Metrics(max_models=2)
    for _ in range(5):
        assert metrics.model_label("a") == "a"
    assert metrics.model_label("b") == "b"
    assert metrics.model_label("c") == OTHER


def test_default_cap_is_100_models() -> None:
    metrics = Metrics()
    labels = [metrics.model_label(f"model-{i}") for i in range(150)]
    assert labels[:100] == [f"model-{i}" for i in range(100)]
    assert set(labels[100:]) == {OTHER}


def test_exports_feature_caps_per_model() -> None:
    metrics = Metrics(max_features=2)
    assert metrics.exports_feature("m1", "income")
    assert metrics.exports_feature("m1", "age")
    assert not metrics.exports_feature("m1", "region")
    assert metrics.exports_feature("m1", "income")  # known features stay exported
    assert metrics.exports_feature("m1", "age")
    assert not metrics.exports_feature("m1", "region")
    # another model has its own budget
    assert metrics.exports_feature("m2", "region")
    assert metrics.exports_feature("m2", "zip")
    assert not metrics.exports_feature("m2", "income")


def test_exports_feature_default_cap_is_50() -> None:
    metrics = Metrics()
    exported = [metrics.exports_feature("m", f"f{i}") for i in range(60)]
    assert exported == [True] * 50 + [False] * 10


def test_capped_labels_bound_the_series() -> None:
    metrics = Metrics(max_models=2, max_features=1)
    for model in ("a", "b", "c", "d"):
        label = metrics.model_label(model)
        for feature in ("x", "y"):
            if metrics.exports_feature(label, feature):
                metrics.drift_statistic.labels(label, feature, "psi").set(0.1)
    text = generate_latest(metrics.registry).decode()
    series = [line for line in text.splitlines() if line.startswith("streamdrift_drift_statistic{")]
    assert len(series) == 3  # a/x, b/x, __other__/x
    assert any('model="__other__"' in line for line in series)


def test_registries_of_two_instances_are_independent() -> None:
    one, two = Metrics(max_models=1), Metrics(max_models=1)
    assert one.registry is not two.registry
    one.dead_letter.labels("not_json").inc(3)
    one.worker_up.set(1)
    assert (
        one.registry.get_sample_value("streamdrift_dead_letter_total", {"reason": "not_json"}) == 3
    )
    assert (
        two.registry.get_sample_value("streamdrift_dead_letter_total", {"reason": "not_json"})
        is None
    )
    assert two.registry.get_sample_value("streamdrift_worker_up") == 0
    # the label caps are per instance too
    assert one.model_label("a") == "a"
    assert two.model_label("b") == "b"
    assert one.model_label("b") == OTHER


def test_a_given_registry_is_used() -> None:
    registry = CollectorRegistry()
    metrics = Metrics(registry=registry)
    metrics.checkpoints.inc()
    assert registry.get_sample_value("streamdrift_checkpoints_total") == 1


def test_metric_names_in_the_readme_exist() -> None:
    text = generate_latest(Metrics().registry).decode()
    for name in (
        "streamdrift_messages_consumed_total",
        "streamdrift_events_consumed_total",
        "streamdrift_decode_failures_total",
        "streamdrift_dead_letter_total",
        "streamdrift_batch_duration_seconds",
        "streamdrift_processing_latency_seconds",
        "streamdrift_consumer_lag",
        "streamdrift_windows_closed_total",
        "streamdrift_drift_statistic",
        "streamdrift_alerts_total",
        "streamdrift_alerts_active",
        "streamdrift_labels_joined_total",
        "streamdrift_label_coverage_ratio",
        "streamdrift_label_delay_seconds",
        "streamdrift_pending_joins",
        "streamdrift_join_events",
        "streamdrift_model_performance",
        "streamdrift_estimated_performance",
        "streamdrift_worker_up",
        "streamdrift_partitions_owned",
        "streamdrift_rebalances_total",
        "streamdrift_checkpoints_total",
        "streamdrift_checkpoint_bytes",
        "streamdrift_checkpoint_duration_seconds",
        "streamdrift_restore_duration_seconds",
        "streamdrift_kafka_errors_total",
    ):
        assert f"# TYPE {name} " in text, name


def test_series_with_labels_known_in_advance_exist_at_zero_from_start_up(tmp_path: Path) -> None:
    # Prometheus' instrumentation guidance: rules and dashboards over labelled series need
    # them before the first alert or dead letter, so they are created at 0
    from streamdrift import config
    from streamdrift.service.app import create_app

    settings = config.load({"metrics_port": 0, "data_dir": str(tmp_path)}, environ={})
    text = generate_latest(create_app(settings).metrics.registry).decode()
    samples = dict(line.rsplit(" ", 1) for line in text.splitlines() if line[:1] != "#")
    expected = [
        'streamdrift_alerts_total{kind="label_health",status="firing"}',
        'streamdrift_alerts_total{kind="data_drift",status="resolved"}',
        'streamdrift_alerts_active{kind="concept_drift"}',
        'streamdrift_dead_letter_total{reason="not_json"}',
        'streamdrift_dead_letter_total{reason="unknown_model"}',
        'streamdrift_dead_letter_total{reason="too_many_models"}',
        'streamdrift_dead_letter_total{reason="too_many_versions"}',
        'streamdrift_alerts_active{kind="traffic"}',
        'streamdrift_alerts_total{kind="traffic",status="firing"}',
        'streamdrift_decode_failures_total{reason="wrong_type",topic="predictions"}',
        'streamdrift_decode_failures_total{reason="empty",topic="feedback"}',
        'streamdrift_messages_consumed_total{topic="feedback"}',
        'streamdrift_pending_joins{kind="predictions_on_disk"}',
        'streamdrift_pending_joins{kind="feedback_unknown_model"}',
    ]
    assert {name: samples.get(name) for name in expected} == dict.fromkeys(expected, "0.0")
    assert sum(name.startswith("streamdrift_alerts_total{") for name in samples) == 2 * len(
        AlertKind
    )
    assert samples['streamdrift_alerts_active{kind="estimated_performance"}'] == "0.0"


def test_every_reason_the_codec_raises_is_declared() -> None:
    import inspect
    import re

    from streamdrift import codec
    from streamdrift.codec import envelopes, fields, single
    from streamdrift.engine import dead_letters, intake, messages, processor

    modules = (codec, envelopes, fields, single, processor, intake, dead_letters)
    source = "".join(inspect.getsource(m) for m in modules)
    raised = set(re.findall(r'DecodeError\(\s*"(\w+)"', source))
    assert raised and raised <= set(codec.DECODE_REASONS)
    # and every dead-letter reason the processor writes directly
    direct = set(re.findall(r'dead_letter\([^)]*?"(\w+)"', source))
    direct |= set(re.findall(r'\.reject\([^)]*?"(\w+)"', source))
    assert direct and direct <= set(messages.DEAD_LETTER_REASONS), direct
