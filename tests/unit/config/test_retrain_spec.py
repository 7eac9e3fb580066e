"""[defaults.retrain] and [models.<id>.retrain] in the model config file."""

from __future__ import annotations

import pytest

from streamdrift.alerts.retrain import RetrainSpec
from streamdrift.config.spec import ModelSpecs, MonitorSpec, SpecError


def test_defaults_and_per_model_overrides() -> None:
    specs = ModelSpecs.from_mapping(
        {
            "defaults": {"retrain": {"after": 600, "drift_share": 0.25}},
            "models": {"m": {"retrain": {"enabled": False}}},
        },
        MonitorSpec(),
    )
    assert specs.default.retrain == RetrainSpec(after=600, drift_share=0.25)
    assert specs.for_model("m").retrain == RetrainSpec(after=600, drift_share=0.25, enabled=False)
    assert MonitorSpec().retrain == RetrainSpec(after=3600.0, drift_share=0.5, enabled=True)


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"after": -1}, "defaults.retrain.after: must be >= 0"),
        ({"after": "1h"}, "defaults.retrain.after: expected a number"),
        ({"drift_share": 0}, "defaults.retrain.drift_share: must be in (0, 1]"),
        ({"drift_share": 1.5}, "defaults.retrain.drift_share: must be in (0, 1]"),
        ({"enabled": "yes"}, "defaults.retrain.enabled: expected true or false"),
        ({"period": 5}, "defaults.retrain.period: unknown setting"),
    ],
)
def test_bad_values_name_the_setting(table: dict[str, object], message: str) -> None:
    with pytest.raises(SpecError) as exc:
        ModelSpecs.from_mapping({"defaults": {"retrain": table}}, MonitorSpec())
    assert str(exc.value).startswith(message)
