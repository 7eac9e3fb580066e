"""MonitorSpec validation, TOML-table overlays (spec_from_mapping, ModelSpecs) and
Settings.model_specs: every error names the setting (and the file)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from streamdrift.config.settings import ConfigError, Settings
from streamdrift.config.spec import (
    TESTS,
    ModelSpecs,
    MonitorSpec,
    ReferenceSpec,
    SpecError,
    spec_from_mapping,
)
from streamdrift.drift.windows import WindowSpec

# --- MonitorSpec ---------------------------------------------------------------------------


def test_defaults() -> None:
    spec = MonitorSpec()
    assert spec.window == WindowSpec(kind="count", size=1000)
    assert spec.reference == ReferenceSpec(mode="first", size=2000, lag=24)
    assert spec.tests == ("psi", "chi2", "missing")
    assert dict(spec.thresholds) == dict(TESTS)
    assert spec.alpha == 0.01
    assert spec.sequential == () and spec.prediction_detectors == ()


@pytest.mark.parametrize(
    ("changes", "setting"),
    [
        ({"tests": ("psi", "kl")}, "tests"),
        ({"thresholds": {"psy": 0.2}}, "thresholds.psy"),
        ({"thresholds": {"psi": 0.0}}, "thresholds.psi"),
        ({"thresholds": {"chi2": -1.0}}, "thresholds.chi2"),
        ({"thresholds": {"ks": float("nan")}}, "thresholds.ks"),
        ({"sequential": ("ddm",)}, "detectors"),
        ({"prediction_detectors": ("cusum",)}, "detectors"),
        ({"alpha": 0.0}, "alpha"),
        ({"alpha": 1.0}, "alpha"),
        ({"alpha": float("nan")}, "alpha"),
        ({"types": {"zip": "text"}}, "types.zip"),
        ({"min_window_count": 0}, "min_window_count"),
        ({"max_features": 0}, "max_features"),
        ({"max_segments": 0}, "max_segments"),
        ({"resolve_after": 0}, "resolve_after"),
        ({"n_bins": 1}, "n_bins"),
        ({"n_bins": 101}, "n_bins"),
        ({"max_categories": 1}, "max_categories"),
    ],
)
def test_invalid_monitor_spec_names_the_setting(changes: dict[str, Any], setting: str) -> None:
    with pytest.raises(SpecError, match=rf"^{re.escape(setting)}: "):
        MonitorSpec(**changes)


@pytest.mark.parametrize(
    ("changes", "setting"),
    [
        ({"mode": "last"}, "reference.mode"),
        ({"size": 49}, "reference.size"),
        ({"lag": 0}, "reference.lag"),
    ],
)
def test_invalid_reference_spec_names_the_setting(changes: dict[str, Any], setting: str) -> None:
    with pytest.raises(SpecError, match=rf"^{re.escape(setting)}: "):
        ReferenceSpec(**changes)


def test_spec_errors_are_value_errors() -> None:
    assert issubclass(SpecError, ValueError)


def test_threshold_falls_back_to_the_test_default_and_watches_applies_both_lists() -> None:
    spec = MonitorSpec(thresholds={"psi": 0.3}, watch=("a", "b"), ignore=("b",))
    assert spec.threshold("psi") == 0.3
    assert spec.threshold("ks") == TESTS["ks"]
    assert [spec.watches(f) for f in ("a", "b", "c")] == [True, False, False]
    everything = MonitorSpec(ignore=("secret",))
    assert everything.watches("anything") and not everything.watches("secret")


# --- spec_from_mapping ---------------------------------------------------------------------


BASE = MonitorSpec(
    window=WindowSpec(size=800),
    reference=ReferenceSpec(size=1500),
    thresholds={**TESTS, "psi": 0.25},
    types={"zip": "categorical"},
    alpha=0.02,
)


def test_an_empty_table_is_the_base() -> None:
    assert spec_from_mapping({}, BASE, "defaults") == BASE


def test_a_table_overlays_only_what_it_names() -> None:
    doc = {
        "window": {"kind": "time", "size": 60},
        "reference": {"mode": "rolling", "lag": 24},
        "thresholds": {"chi2": 0.15},
        "types": {"score": "numeric"},
        "tests": ["psi", "ks"],
        "sequential": ["adwin"],
        "prediction_detectors": ["page_hinkley"],
        "watch": ["a", "b"],
        "ignore": ["c"],
        "alpha": 0.001,
        "max_segments": 7,
        "monitor_prediction": False,
    }
    spec = spec_from_mapping(doc, BASE, "defaults")
    assert spec.window == WindowSpec(kind="time", size=60.0)
    assert spec.reference == ReferenceSpec(mode="rolling", size=1500, lag=24)  # size kept
    assert dict(spec.thresholds) == {**TESTS, "psi": 0.25, "chi2": 0.15}  # merged
    assert dict(spec.types) == {"zip": "categorical", "score": "numeric"}  # merged
    assert spec.tests == ("psi", "ks")
    assert spec.sequential == ("adwin",)
    assert spec.prediction_detectors == ("page_hinkley",)
    assert spec.watch == ("a", "b") and spec.ignore == ("c",)
    assert spec.alpha == 0.001
    assert spec.max_segments == 7
    assert spec.monitor_prediction is False
    assert spec.n_bins == BASE.n_bins and spec.resolve_after == BASE.resolve_after
    # the base is untouched
    assert BASE.window.size == 800 and dict(BASE.types) == {"zip": "categorical"}


def test_a_partial_window_table_keeps_the_base_window_settings() -> None:
    base = MonitorSpec(window=WindowSpec(kind="time", size=60.0, allowed_lateness=5.0))
    spec = spec_from_mapping({"window": {"slide": 30}}, base, "defaults")
    assert spec.window == WindowSpec(kind="time", size=60.0, slide=30.0, allowed_lateness=5.0)


@pytest.mark.parametrize(
    ("doc", "setting"),
    [
        ({"windw": {"size": 10}}, "models.m.windw"),
        ({"window": {"sise": 10}}, "models.m.window.sise"),
        ({"reference": {"lagg": 2}}, "models.m.reference.lagg"),
        ({"window": 500}, "models.m.window"),
        ({"reference": "first"}, "models.m.reference"),
        ({"window": {"size": 0}}, "models.m.window"),
        ({"window": {"kind": "hourly"}}, "models.m.window"),
        ({"window": {"size": 10.5}}, "models.m.window"),
        ({"reference": {"mode": "last"}}, "models.m.reference"),
        ({"reference": {"size": 10}}, "models.m.reference"),
        ({"thresholds": 0.2}, "models.m.thresholds"),
        ({"thresholds": {"psy": 0.2}}, "models.m.thresholds.psy"),
        ({"thresholds": {"psi": -1}}, "models.m.thresholds.psi"),
        ({"types": ["zip"]}, "models.m.types"),
        ({"types": {"zip": "text"}}, "models.m.types.zip"),
        ({"tests": "psi"}, "models.m.tests"),
        ({"tests": ["psi", 3]}, "models.m.tests"),
        ({"tests": ["psy"]}, "models.m.tests"),
        ({"watch": "a"}, "models.m.watch"),
        ({"sequential": ["ddm"]}, "models.m.detectors"),
        ({"alpha": 1.5}, "models.m.alpha"),
        ({"n_bins": 200}, "models.m.n_bins"),
        ({"max_features": 0}, "models.m.max_features"),
    ],
)
def test_a_bad_table_names_the_key(doc: dict[str, Any], setting: str) -> None:
    with pytest.raises(SpecError, match=rf"^{re.escape(setting)}[.:]") as info:
        spec_from_mapping(doc, BASE, "models.m")
    assert str(info.value).startswith(setting)


def test_the_nested_setting_is_named_for_bad_window_and_reference_values() -> None:
    with pytest.raises(SpecError, match=r"^defaults\.window: size must be > 0"):
        spec_from_mapping({"window": {"size": -5}}, BASE, "defaults")
    with pytest.raises(SpecError, match=r"^defaults\.reference: reference\.lag: at least 1"):
        spec_from_mapping({"reference": {"lag": 0}}, BASE, "defaults")


@pytest.mark.parametrize(
    ("doc", "setting"),
    [
        ({"alpha": "high"}, "defaults.alpha"),
        ({"n_bins": "10"}, "defaults.n_bins"),
        ({"thresholds": {"psi": "0.2"}}, "defaults.thresholds.psi"),
    ],
)
def test_a_value_of_the_wrong_type_names_the_key(doc: dict[str, Any], setting: str) -> None:
    with pytest.raises(SpecError, match=rf"^{re.escape(setting)}: "):
        spec_from_mapping(doc, BASE, "defaults")


# --- ModelSpecs ----------------------------------------------------------------------------


def test_model_specs_overlay_defaults_then_the_model_table() -> None:
    doc = {
        "defaults": {"window": {"size": 500}, "thresholds": {"psi": 0.3}, "alpha": 0.005},
        "models": {
            "credit-risk": {"window": {"kind": "time", "size": 3600}, "thresholds": {"ks": 0.2}},
            "churn": {"alpha": 0.05},
        },
    }
    specs = ModelSpecs.from_mapping(doc, BASE)
    default = specs.default
    assert default.window == WindowSpec(size=500)
    assert default.reference == BASE.reference
    assert default.threshold("psi") == 0.3 and default.alpha == 0.005
    credit = specs.for_model("credit-risk")
    assert credit.window == WindowSpec(kind="time", size=3600.0)
    assert credit.threshold("psi") == 0.3  # from [defaults]
    assert credit.threshold("ks") == 0.2
    assert credit.alpha == 0.005
    assert dict(credit.types) == {"zip": "categorical"}  # from the base
    assert specs.for_model("churn").alpha == 0.05
    assert specs.for_model("churn").window == WindowSpec(size=500)
    assert specs.for_model("anything-else") is default


def test_model_specs_of_an_empty_document_are_the_base() -> None:
    specs = ModelSpecs.from_mapping({}, BASE)
    assert specs.default == BASE and dict(specs.models) == {}


@pytest.mark.parametrize(
    ("doc", "setting"),
    [
        ({"model": {"m": {}}}, "model"),
        ({"models": {"m": {"windw": {}}}}, "models.m.windw"),
        ({"defaults": {"window": {"sise": 1}}}, "defaults.window.sise"),
        ({"defaults": {"alpha": 0}}, "defaults.alpha"),
        ({"models": {"m": {"reference": {"mode": "x"}}}}, "models.m.reference"),
    ],
)
def test_model_specs_errors_name_the_key(doc: dict[str, Any], setting: str) -> None:
    with pytest.raises(SpecError, match=rf"^{re.escape(setting)}[.:]"):
        ModelSpecs.from_mapping(doc, BASE)


@pytest.mark.parametrize(
    ("doc", "setting"),
    [
        ({"defaults": 3}, "defaults"),
        ({"models": "churn"}, "models"),
        ({"models": {"m": 3}}, "models.m"),
    ],
)
def test_a_section_that_is_not_a_table_is_a_spec_error(doc: dict[str, Any], setting: str) -> None:
    with pytest.raises(SpecError, match=rf"^{re.escape(setting)}: "):
        ModelSpecs.from_mapping(doc, BASE)


# --- Settings.base_spec / model_specs ------------------------------------------------------


def test_base_spec_reflects_the_flat_settings() -> None:
    settings = Settings(
        window_size=600,
        reference_size=1200,
        psi_threshold=0.3,
        alpha=0.02,
        resolve_after=5,
        max_segments=9,
        max_features=11,
    )
    spec = settings.base_spec()
    assert spec.window == WindowSpec(kind="count", size=600)
    assert spec.reference == ReferenceSpec(mode="first", size=1200)
    assert spec.threshold("psi") == 0.3 and spec.threshold("chi2") == TESTS["chi2"]
    assert (spec.alpha, spec.resolve_after) == (0.02, 5)
    assert (spec.max_segments, spec.max_features) == (9, 11)
    specs = settings.model_specs()  # no config file: the flat settings for every model
    assert specs.default == spec and dict(specs.models) == {}


GOOD_TOML = """
[defaults]
alpha = 0.005
thresholds = { chi2 = 0.15 }

[models.credit-risk]
window = { kind = "time", size = 3600.0, allowed_lateness = 60.0 }
reference = { mode = "rolling", lag = 24 }
sequential = ["adwin"]

[models."fraud.v2"]
window = { size = 5000 }
types = { merchant_code = "categorical" }
"""


def test_a_good_config_file_is_applied_per_model(tmp_path: Path) -> None:
    path = tmp_path / "monitors.toml"
    path.write_text(GOOD_TOML)
    specs = Settings(config=str(path), window_size=800, psi_threshold=0.3).model_specs()
    credit = specs.for_model("credit-risk")
    assert credit.window == WindowSpec(kind="time", size=3600.0, allowed_lateness=60.0)
    assert credit.reference == ReferenceSpec(mode="rolling", size=2000, lag=24)
    assert credit.sequential == ("adwin",)
    assert (credit.alpha, credit.threshold("chi2"), credit.threshold("psi")) == (0.005, 0.15, 0.3)
    fraud = specs.for_model("fraud.v2")
    assert fraud.window == WindowSpec(size=5000)
    assert dict(fraud.types) == {"merchant_code": "categorical"}
    other = specs.for_model("churn")  # no table of its own: flat settings + [defaults]
    assert other is specs.default
    assert other.window == WindowSpec(size=800)
    assert other.reference == ReferenceSpec(size=2000)
    assert (other.alpha, other.threshold("chi2"), other.threshold("psi")) == (0.005, 0.15, 0.3)


@pytest.mark.parametrize(
    ("text", "setting"),
    [
        ("[models.m]\nwindw = { size = 10 }\n", "models.m.windw"),
        ("[defaults]\nwindow = { sise = 10 }\n", "defaults.window.sise"),
        ("[model.m]\nalpha = 0.1\n", "model"),
        ("[models.m]\nthresholds = { psi = -1 }\n", "models.m.thresholds.psi"),
        ("[defaults]\nreference = { mode = 'last' }\n", "defaults.reference"),
    ],
)
def test_a_bad_config_file_is_a_config_error_naming_file_and_key(
    tmp_path: Path, text: str, setting: str
) -> None:
    path = tmp_path / "monitors.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        Settings(config=str(path)).model_specs()
    assert str(info.value).startswith(f"{path}: {setting}")


def test_a_missing_or_malformed_config_file_is_a_config_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    with pytest.raises(ConfigError, match=r"^config: file not found: .*nope\.toml"):
        Settings(config=str(missing)).model_specs()
    broken = tmp_path / "broken.toml"
    broken.write_text("[defaults\nalpha = 0.1\n")
    with pytest.raises(ConfigError, match=r"^config: .*broken\.toml is not valid TOML"):
        Settings(config=str(broken)).model_specs()


def test_a_config_whose_model_entry_is_not_a_table_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "monitors.toml"
    path.write_text('[models]\ncredit-risk = "fast"\n')
    with pytest.raises(ConfigError) as info:
        Settings(config=str(path)).model_specs()
    assert str(info.value).startswith(f"{path}: models.credit-risk")
