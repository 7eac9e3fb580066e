"""Settings: defaults < STREAMDRIFT_* environment < overrides, and fail-fast validation."""

from __future__ import annotations

import dataclasses

import pytest

from streamdrift.config.settings import BrokerAddress, ConfigError, Settings, load

NO_ENV: dict[str, str] = {}


def test_defaults_without_environment_or_overrides() -> None:
    settings = load(environ=NO_ENV)
    assert settings == Settings()
    assert settings.broker == "kafka://127.0.0.1:9092"
    assert settings.broker_address.hosts == (("127.0.0.1", 9092),)
    assert settings.window_size == 1000
    assert settings.reference_size == 2000
    assert settings.alpha == 0.01
    assert settings.resolve_after == 3
    assert settings.topic_predictions == "predictions"
    assert settings.topic_drift_alerts == "drift-alerts"
    assert settings.data_path.is_absolute()  # from any working directory (issue #11)
    assert settings.data_path.name == "worker"


def test_settings_are_frozen() -> None:
    settings = load(environ=NO_ENV)
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.window_size = 5  # type: ignore[misc]
    changed = settings.replace(window_size=500)
    assert changed.window_size == 500
    assert settings.window_size == 1000


def test_environment_values_are_parsed_to_field_types() -> None:
    env = {
        "STREAMDRIFT_BROKER": "kafka://kafka:9093",
        "STREAMDRIFT_WINDOW_SIZE": "2000",
        "STREAMDRIFT_ALPHA": "0.05",
        "STREAMDRIFT_PSI_THRESHOLD": "1",
        "STREAMDRIFT_TOPIC_PREDICTIONS": "preds-v2",
        "STREAMDRIFT_LOG_LEVEL": "DEBUG",
    }
    settings = load(environ=env)
    assert settings.broker == "kafka://kafka:9093"
    assert settings.window_size == 2000 and type(settings.window_size) is int
    assert settings.alpha == 0.05 and type(settings.alpha) is float
    assert settings.psi_threshold == 1.0 and type(settings.psi_threshold) is float
    assert settings.topic_predictions == "preds-v2"
    assert settings.log_level == "DEBUG"


def test_unrelated_environment_variables_are_ignored() -> None:
    env = {
        "PATH": "/usr/bin",
        "WINDOW_SIZE": "0",  # no prefix
        "streamdrift_window_size": "0",  # prefix is case-sensitive
        "STREAMDRIFT_CACHE_DIR": "/tmp/cache",  # read by the broker module
    }
    assert load(environ=env) == Settings()


def test_overrides_beat_environment() -> None:
    env = {"STREAMDRIFT_WINDOW_SIZE": "2000", "STREAMDRIFT_ALPHA": "0.05"}
    settings = load({"window_size": "3000"}, environ=env)
    assert settings.window_size == 3000
    assert settings.alpha == 0.05  # from the environment: no override given


def test_none_overrides_mean_not_given() -> None:
    env = {"STREAMDRIFT_WINDOW_SIZE": "2000"}
    settings = load({"window_size": None, "broker": None}, environ=env)
    assert settings.window_size == 2000
    assert settings.broker == Settings().broker


def test_typed_overrides_are_accepted_as_they_are() -> None:
    settings = load({"window_size": 700, "alpha": 0.2, "app_id": "x"}, environ=NO_ENV)
    assert (settings.window_size, settings.alpha, settings.app_id) == (700, 0.2, "x")


def test_int_override_for_float_field_is_accepted() -> None:
    settings = load({"psi_threshold": 1, "batch_within": 2}, environ=NO_ENV)
    assert settings.psi_threshold == 1.0
    assert settings.batch_within == 2.0


def test_bool_is_not_an_int() -> None:
    with pytest.raises(ConfigError, match="--window-size: expected int"):
        load({"window_size": True}, environ=NO_ENV)


def test_unknown_override_name_raises() -> None:
    with pytest.raises(ConfigError, match="unknown setting 'windowsize'"):
        load({"windowsize": "5"}, environ=NO_ENV)


@pytest.mark.parametrize(
    ("variable", "suggestion"),
    [
        ("STREAMDRIFT_WINDOW_SIZ", "STREAMDRIFT_WINDOW_SIZE"),
        ("STREAMDRIFT_WINDOWSIZE", "STREAMDRIFT_WINDOW_SIZE"),
        ("STREAMDRIFT_BROKERS", "STREAMDRIFT_BROKER"),
        ("STREAMDRIFT_ALPA", "STREAMDRIFT_ALPHA"),
        ("STREAMDRIFT_TOPIC_PREDICTION", "STREAMDRIFT_TOPIC_PREDICTIONS"),
    ],
)
def test_misspelt_variable_suggests_the_right_name(variable: str, suggestion: str) -> None:
    with pytest.raises(ConfigError) as info:
        load(environ={variable: "1"})
    message = str(info.value)
    assert message.startswith(f"{variable}: unknown setting")
    assert f"did you mean {suggestion}?" in message


def test_unknown_variable_without_close_match_has_no_hint() -> None:
    with pytest.raises(ConfigError) as info:
        load(environ={"STREAMDRIFT_XYZZY": "1"})
    assert str(info.value) == "STREAMDRIFT_XYZZY: unknown setting"


@pytest.mark.parametrize(
    ("variable", "raw", "kind"),
    [
        ("STREAMDRIFT_WINDOW_SIZE", "ten", "int"),
        ("STREAMDRIFT_WINDOW_SIZE", "1.5", "int"),
        ("STREAMDRIFT_WINDOW_SIZE", "", "int"),
        ("STREAMDRIFT_METRICS_PORT", "9100/tcp", "int"),
        ("STREAMDRIFT_ALPHA", "0,05", "float"),
        ("STREAMDRIFT_BATCH_WITHIN", "fast", "float"),
    ],
)
def test_bad_number_in_environment_names_the_variable(variable: str, raw: str, kind: str) -> None:
    with pytest.raises(ConfigError) as info:
        load(environ={variable: raw})
    assert str(info.value) == f"{variable}: expected {kind}, got {raw!r}"


@pytest.mark.parametrize(
    ("name", "raw", "flag", "kind"),
    [
        ("window_size", "ten", "--window-size", "int"),
        ("resolve_after", "3.0", "--resolve-after", "int"),
        ("alpha", "one percent", "--alpha", "float"),
        ("psi_threshold", "", "--psi-threshold", "float"),
    ],
)
def test_bad_number_in_overrides_names_the_flag(name: str, raw: str, flag: str, kind: str) -> None:
    with pytest.raises(ConfigError, match=f"^{flag}: expected {kind}, got"):
        load({name: raw}, environ=NO_ENV)


@pytest.mark.parametrize(
    ("changes", "key"),
    [
        ({"window_size": "0"}, "window_size"),
        ({"window_size": "-5"}, "window_size"),
        ({"window_size": "49"}, "window_size"),
        ({"reference_size": "10"}, "reference_size"),
        ({"resolve_after": "0"}, "resolve_after"),
        ({"max_segments": "0"}, "max_segments"),
        ({"max_features": "0"}, "max_features"),
        ({"batch_max": "0"}, "batch_max"),
        ({"alpha": "1.5"}, "alpha"),
        ({"alpha": "0"}, "alpha"),
        ({"alpha": "1"}, "alpha"),
        ({"alpha": "nan"}, "alpha"),
        ({"psi_threshold": "0"}, "psi_threshold"),
        ({"psi_threshold": "-0.1"}, "psi_threshold"),
        ({"batch_within": "0"}, "batch_within"),
        ({"metrics_port": "70000"}, "metrics_port"),
        ({"metrics_port": "-1"}, "metrics_port"),
        ({"log_level": "verbose"}, "log_level"),
        ({"broker": "http://x"}, "broker"),
        ({"broker": "kafka://host"}, "broker"),
        ({"broker": "kafka://host:70000"}, "broker"),
        ({"broker": "kafka://host:0"}, "broker"),
        ({"broker": "kafka://host:port"}, "broker"),
        ({"broker": "kafka://:9092"}, "broker"),
        ({"broker": "kafka://a:1,"}, "broker"),
        ({"broker": ""}, "broker"),
    ],
)
def test_impossible_values_are_rejected_naming_the_key(changes: dict[str, str], key: str) -> None:
    with pytest.raises(ConfigError) as info:
        load(changes, environ=NO_ENV)
    where, _, _ = str(info.value).partition(":")
    assert key in where.split(" and ")


def test_impossible_value_from_environment_is_rejected() -> None:
    with pytest.raises(ConfigError, match=r"^alpha: must be in \(0, 1\), got 1.5"):
        load(environ={"STREAMDRIFT_ALPHA": "1.5"})
    with pytest.raises(ConfigError, match=r"^window_size: must be at least 1, got 0"):
        load(environ={"STREAMDRIFT_WINDOW_SIZE": "0"})


def test_direct_construction_validates_too() -> None:
    with pytest.raises(ConfigError, match=r"^broker: unsupported scheme in 'http://x'"):
        Settings(broker="http://x")
    with pytest.raises(ConfigError, match=r"^window_size"):
        Settings(window_size=0)


def test_boundary_values_are_accepted() -> None:
    settings = load(
        {
            "window_size": "50",
            "reference_size": "50",
            "resolve_after": "1",
            "metrics_port": "0",
            "alpha": "0.999",
            "broker": "kafka://h:65535",
        },
        environ=NO_ENV,
    )
    assert settings.window_size == 50
    assert settings.metrics_port == 0
    assert settings.broker_address.hosts == (("h", 65535),)


@pytest.mark.parametrize("name", ["psi_threshold", "batch_within"])
def test_nan_float_settings_are_rejected(name: str) -> None:
    with pytest.raises(ConfigError, match=f"^{name}"):
        load(environ={f"STREAMDRIFT_{name.upper()}": "nan"})


def test_broker_address_parses_several_hosts() -> None:
    address = BrokerAddress.parse("kafka://k1:9092, k2:9093 ,10.0.0.3:19092")
    assert address.hosts == (("k1", 9092), ("k2", 9093), ("10.0.0.3", 19092))
    assert address.bootstrap_servers == "k1:9092,k2:9093,10.0.0.3:19092"
    assert address.url == "kafka://k1:9092,k2:9093,10.0.0.3:19092"


def test_broker_address_without_scheme_and_ipv6() -> None:
    assert BrokerAddress.parse("localhost:9092").hosts == (("localhost", 9092),)
    assert BrokerAddress.parse("  kafka://[::1]:9092  ").hosts == (("[::1]", 9092),)


def test_broker_address_url_round_trips() -> None:
    address = BrokerAddress.parse("kafka://a:1,b:2")
    assert BrokerAddress.parse(address.url) == address


def test_broker_address_error_names_the_setting() -> None:
    with pytest.raises(ConfigError, match=r"^STREAMDRIFT_BROKER: unsupported scheme"):
        BrokerAddress.parse("http://x", setting="STREAMDRIFT_BROKER")
    with pytest.raises(ConfigError) as info:
        BrokerAddress.parse("kafka://a:1,b")
    assert "invalid broker address 'kafka://a:1,b'" in str(info.value)


def test_broker_address_is_exposed_on_settings() -> None:
    settings = load(environ={"STREAMDRIFT_BROKER": "kafka://a:1,b:2"})
    assert settings.broker_address.bootstrap_servers == "a:1,b:2"
    assert settings.broker_address.hosts == (("a", 1), ("b", 2))
