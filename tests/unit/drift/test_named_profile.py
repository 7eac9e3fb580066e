"""``reference.profile``: a model's config names the profile of another model/version."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from tests.unit.drift.test_fleet import (
    PROFILE,
    drifted_features,
    fleet_of,
    profiles_of,
    run,
    stream,
)

from streamdrift.config.spec import ModelSpecs, MonitorSpec, ReferenceSpec, SpecError

NAMED = dataclasses.replace(
    PROFILE, reference=ReferenceSpec(mode="profile", size=2000, profile="shared/7")
)


def test_the_toml_key_names_a_model_and_version() -> None:
    specs = ModelSpecs.from_mapping(
        {"models": {"b": {"reference": {"mode": "profile", "profile": "credit/risk/7"}}}},
        MonitorSpec(),
    )
    reference = specs.for_model("b").reference
    assert reference.source("b", "1") == ("credit/risk", "7")
    assert MonitorSpec().reference.source("b", "1") == ("b", "1")


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"mode": "profile", "profile": "no-version"}, "reference.profile: expected"),
        ({"mode": "profile", "profile": "m/"}, "reference.profile: expected"),
        ({"profile": "m/1"}, 'reference.profile: needs reference.mode = "profile"'),
    ],
)
def test_a_bad_profile_name_is_rejected_naming_the_setting(
    table: dict[str, str], message: str
) -> None:
    with pytest.raises(SpecError, match=message):
        ModelSpecs.from_mapping({"models": {"b": {"reference": table}}}, MonitorSpec())


@pytest.mark.parametrize("profile_first", [True, False])
def test_a_monitor_takes_the_profile_its_config_names(profile_first: bool) -> None:
    rng = np.random.default_rng(5)
    fleet = fleet_of(PROFILE, b=NAMED)
    shifted = stream(rng, 1500, mean=1.0, model="b", version="3")
    if profile_first:
        fleet.set_reference("shared", "7", profiles_of(rng), 5000)
        got = run(fleet, [shifted])
    else:
        assert run(fleet, [shifted]).windows == []  # waits for its profile
        update = fleet.set_reference("shared", "7", profiles_of(rng), 5000)
        got = run(fleet, [])
        got.add(update)
    assert [r.reference_count for r in got.windows] == [5000, 5000, 5000]
    assert drifted_features(got.windows) == {"x"}
    # its own key's profile is not its reference
    assert fleet.set_reference("b", "3", profiles_of(rng, mean=1.0), 9).windows == []
    assert fleet.monitors[("b", "3", None)].reference_count == 5000
