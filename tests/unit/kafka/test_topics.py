"""Topic definitions from topics.toml, with Kafka names from Settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from streamdrift.config.settings import ConfigError, Settings, load
from streamdrift.kafka.topics import SETTINGS_FIELDS, TopicSpec, default_topics_file, load_specs

REPO_TOPICS = Path(__file__).resolve().parents[3] / "topics" / "topics.toml"

VALID_ENTRY = """\
[topics.predictions]
name = "predictions"
partitions = 8
replication_factor = 1
retention_ms = 604800000
cleanup_policy = "delete"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "topics.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_repo_topics_file_loads() -> None:
    specs = {s.logical: s for s in load_specs(REPO_TOPICS)}
    assert list(specs) == [
        "predictions",
        "feedback",
        "drift-alerts",
        "degradation-alerts",
        "dead-letter",
        "references",
        "drift-windows",
        "experiment-decisions",
        "retrain-requests",
    ]
    assert "retrain-requests" in specs
    assert specs["predictions"] == TopicSpec(
        "predictions", "predictions", 8, 1, 604800000, "delete", {}
    )
    # predictions and feedback are joined per partition: same partition count
    assert specs["predictions"].partitions == specs["feedback"].partitions
    assert specs["references"].cleanup_policy == "compact"
    assert specs["references"].retention_ms == -1
    assert specs["references"].config == {
        "segment.ms": "3600000",
        "min.cleanable.dirty.ratio": "0.1",
    }


def test_repo_file_names_equal_settings_defaults() -> None:
    defaults = Settings()
    specs = {s.logical: s for s in load_specs(REPO_TOPICS)}
    for logical, field in SETTINGS_FIELDS.items():
        assert specs[logical].name == getattr(defaults, field)
    assert load_specs(REPO_TOPICS, defaults) == load_specs(REPO_TOPICS)


def test_kafka_config_has_policy_retention_and_extras() -> None:
    specs = {s.logical: s for s in load_specs(REPO_TOPICS)}
    assert specs["predictions"].kafka_config() == {
        "cleanup.policy": "delete",
        "retention.ms": "604800000",
    }
    assert specs["references"].kafka_config() == {
        "cleanup.policy": "compact",
        "retention.ms": "-1",
        "segment.ms": "3600000",
        "min.cleanable.dirty.ratio": "0.1",
    }


def test_settings_topic_names_override_the_file() -> None:
    settings = load(
        {"topic_predictions": "team-a.predictions", "topic_dead_letter": "team-a.dlq"},
        environ={"STREAMDRIFT_TOPIC_DRIFT_ALERTS": "team-a.drift"},
    )
    specs = {s.logical: s for s in load_specs(REPO_TOPICS, settings)}
    assert specs["predictions"].name == "team-a.predictions"
    assert specs["dead-letter"].name == "team-a.dlq"
    assert specs["drift-alerts"].name == "team-a.drift"
    assert specs["feedback"].name == "feedback"
    assert specs["references"].name == "references"  # no setting: the file's name
    assert specs["predictions"].partitions == 8  # only the name changes


def test_default_topics_file_prefers_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    fallback = default_topics_file()
    assert fallback.resolve() == REPO_TOPICS
    (tmp_path / "topics").mkdir()
    (tmp_path / "topics" / "topics.toml").write_text(VALID_ENTRY)
    assert default_topics_file() == Path("topics/topics.toml")
    assert [s.logical for s in load_specs()] == ["predictions"]


@pytest.mark.parametrize(
    "key", ["name", "partitions", "replication_factor", "retention_ms", "cleanup_policy"]
)
def test_missing_key_names_the_key(tmp_path: Path, key: str) -> None:
    text = "\n".join(line for line in VALID_ENTRY.splitlines() if not line.startswith(key))
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_specs(path)
    message = str(info.value)
    assert f"missing key {key!r}" in message
    assert "topics.predictions" in message
    assert str(path) in message


@pytest.mark.parametrize("policy", ["compacted", "Delete", "delete,compact", ""])
def test_bad_cleanup_policy_names_the_key(tmp_path: Path, policy: str) -> None:
    path = write(tmp_path, VALID_ENTRY.replace('"delete"', f'"{policy}"'))
    with pytest.raises(ConfigError) as info:
        load_specs(path)
    assert "topics.predictions.cleanup_policy" in str(info.value)
    assert repr(policy) in str(info.value)


@pytest.mark.parametrize("policy", ["delete", "compact", "compact,delete"])
def test_known_cleanup_policies_are_accepted(tmp_path: Path, policy: str) -> None:
    path = write(tmp_path, VALID_ENTRY.replace('"delete"', f'"{policy}"'))
    (spec,) = load_specs(path)
    assert spec.cleanup_policy == policy


@pytest.mark.parametrize("line", ["partitions = 0", "replication_factor = 0", "partitions = -3"])
def test_non_positive_partitions_or_replication_are_rejected(tmp_path: Path, line: str) -> None:
    key = line.split(" = ")[0]
    text = "\n".join(line if old.startswith(key) else old for old in VALID_ENTRY.splitlines())
    with pytest.raises(ConfigError, match=r"topics\.predictions: partitions and replication"):
        load_specs(write(tmp_path, text))


def test_missing_file_raises(tmp_path: Path) -> None:
    path = tmp_path / "nope.toml"
    with pytest.raises(ConfigError) as info:
        load_specs(path)
    assert str(info.value) == f"topics file not found: {path} (use --topics-file)"


def test_invalid_toml_raises(tmp_path: Path) -> None:
    path = write(tmp_path, "[topics.predictions\nname = ")
    with pytest.raises(ConfigError, match="invalid TOML"):
        load_specs(path)


@pytest.mark.parametrize("text", ["", "# nothing here\n", "[other]\nx = 1\n", "[topics]\n"])
def test_file_without_topics_raises(tmp_path: Path, text: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError, match=r"no \[topics.<name>\] tables"):
        load_specs(path)


def test_non_integer_partitions_name_the_key(tmp_path: Path) -> None:
    path = write(tmp_path, VALID_ENTRY.replace("partitions = 8", 'partitions = "eight"'))
    with pytest.raises(ConfigError, match="partitions"):
        load_specs(path)


def test_non_table_topic_entry_is_a_config_error(tmp_path: Path) -> None:
    path = write(tmp_path, "[topics]\npredictions = 8\n")
    with pytest.raises(ConfigError, match=r"topics\.predictions"):
        load_specs(path)
