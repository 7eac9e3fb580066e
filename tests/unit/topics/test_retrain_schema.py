"""topics/retrain-request.schema.json is valid, and topics.toml defines retrain-requests."""

from __future__ import annotations

import copy
import json
import tomllib
from pathlib import Path

from jsonschema import Draft202012Validator

from streamdrift.config.settings import Settings
from streamdrift.kafka.topics import load_specs

TOPICS_DIR = Path(__file__).resolve().parents[3] / "topics"
SCHEMA = json.loads((TOPICS_DIR / "retrain-request.schema.json").read_text(encoding="utf-8"))


def test_schema_is_valid_and_its_example_validates() -> None:
    Draft202012Validator.check_schema(SCHEMA)
    assert SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    v = Draft202012Validator(SCHEMA)
    for example in SCHEMA["examples"]:
        v.validate(example)


def test_schema_rejects_what_a_consumer_could_not_use() -> None:
    v = Draft202012Validator(SCHEMA)
    example = SCHEMA["examples"][0]
    for field in SCHEMA["required"]:
        broken = copy.deepcopy(example)
        del broken[field]
        assert not v.is_valid(broken), field
    for field, bad in [
        ("reason", "drifted"),
        ("alert_ids", []),
        ("windows", []),
        ("episode", -1),
        ("model_version", 7),
        ("schema_version", 2),
    ]:
        assert not v.is_valid({**example, field: bad}), field


def test_topic_is_defined_keyed_like_the_alerts_and_named_by_settings() -> None:
    with (TOPICS_DIR / "topics.toml").open("rb") as f:
        topic = tomllib.load(f)["topics"]["retrain-requests"]
    assert topic["name"] == Settings().topic_retrain_requests == "retrain-requests"
    assert topic["cleanup_policy"] == "delete"
    assert topic["retention_ms"] == 30 * 24 * 3600 * 1000
    specs = {s.logical: s for s in load_specs(None, Settings(topic_retrain_requests="rr-x"))}
    assert specs["retrain-requests"].name == "rr-x"
