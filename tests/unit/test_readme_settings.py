"""The README's Configuration section names every setting the worker accepts, and no other.

The keys come from the code: the fields of :class:`Settings` (flags and ``STREAMDRIFT_*``)
and the key sets the model-config parser (``config/spec.py``) accepts, nested tables included.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import fields
from pathlib import Path

from streamdrift.config import spec
from streamdrift.config.experiments import EXPERIMENT_KEYS
from streamdrift.config.settings import Settings

README = Path(__file__).resolve().parents[2] / "README.md"
TABLES = {"window", "reference", "performance", "thresholds", "retrain", "min_effect", "budget"}


def configuration_section() -> str:
    text = README.read_text()
    return text.split("\n## Configuration\n", 1)[1].split("\n## ", 1)[0]


def table_keys(section: str, header: str) -> set[str]:
    """The backticked names in the first column of the table whose header row is ``header``."""
    lines = section.split(header, 1)[1].splitlines()
    keys: set[str] = set()
    for line in lines[2:]:
        if not line.startswith("|"):
            break
        keys.update(re.findall(r"`([^`]+)`", line.split("|")[1]))
    return keys


def toml_keys() -> set[str]:
    """Every key of a model config file, dotted (``performance.window.size``)."""
    window = {f"window.{k}" for k in spec._WINDOW_KEYS}
    keys = {k for k in spec._SPEC_KEYS if k not in TABLES}
    keys |= window | {f"reference.{k}" for k in spec._REFERENCE_KEYS}
    keys |= {f"thresholds.{test}" for test in spec.TESTS}
    keys |= {f"min_effect.{test}" for test in spec.TESTS}
    keys |= {f"budget.{k}" for k in spec._BUDGET_KEYS}
    keys |= {f"performance.{k}" for k in spec._PERFORMANCE_KEYS if k != "window"}
    keys |= {f"performance.{k}" for k in window}
    keys |= {f"experiments.<name>.{k}" for k in EXPERIMENT_KEYS}
    keys |= {f"retrain.{k}" for k in spec._RETRAIN_KEYS}
    return keys


def expand(documented: set[str], known: set[str]) -> set[str]:
    """``topic_*`` stands for every known key with that prefix."""
    out = set()
    for key in documented:
        if key.endswith("*"):
            matches = {k for k in known if k.startswith(key[:-1])}
            out |= matches or {key}  # a pattern that matches nothing stays, and fails
        else:
            out.add(key)
    return out


def test_settings_table_names_every_settings_field_and_no_other() -> None:
    known = {f.name for f in fields(Settings)}
    documented = expand(
        table_keys(configuration_section(), "| setting | default | meaning |"), known
    )
    assert sorted(known - documented) == [], "settings missing from the README"
    assert sorted(documented - known) == [], "the README documents settings that do not exist"


def test_model_config_table_names_every_toml_key_and_no_other() -> None:
    known = toml_keys()
    documented = table_keys(configuration_section(), "| key | default | meaning |")
    assert sorted(known - documented) == [], "model config keys missing from the README"
    assert sorted(documented - known) == [], "the README documents keys that do not exist"


def test_the_readme_model_config_example_is_accepted_by_the_parser() -> None:
    block = re.search(r"```toml\n(.*?)```", configuration_section(), re.S)
    assert block is not None
    doc = tomllib.loads(block.group(1))
    specs = spec.ModelSpecs.from_mapping(doc, Settings().base_spec())
    assert specs.for_model("credit-risk").window.kind == "time"
