"""security.py: validation names the setting, client options, TLS contexts, no secrets shown."""

from __future__ import annotations

import asyncio
import shutil
import ssl
import subprocess
from pathlib import Path
from typing import Any

import pytest

from streamdrift.config.settings import ConfigError, Settings, load
from streamdrift.kafka import security

PASSWORD = "pw-Do-Not-Show-7f3a"


def settings(**values: Any) -> Settings:
    return load(values, environ={})


def sasl(**values: Any) -> Settings:
    base = {
        "security_protocol": "SASL_PLAINTEXT",
        "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_username": "alice",
        "sasl_password": PASSWORD,
    }
    return settings(**{**base, **values})


# -- validate ---------------------------------------------------------------------------------


def test_plaintext_is_the_default_and_valid() -> None:
    security.validate(Settings())
    assert security.client_options(Settings()) == {"security_protocol": "PLAINTEXT"}


def test_unknown_protocol_names_the_setting() -> None:
    with pytest.raises(ConfigError, match=r"^security_protocol: one of .*'TLS'"):
        security.validate(settings(security_protocol="tls"))


@pytest.mark.parametrize("protocol", ["SASL_PLAINTEXT", "SASL_SSL"])
@pytest.mark.parametrize("mechanism", ["", "GSSAPI", "scram-sha-1"])
def test_sasl_without_a_known_mechanism_names_sasl_mechanism(protocol: str, mechanism: str) -> None:
    with pytest.raises(ConfigError) as info:
        security.validate(sasl(security_protocol=protocol, sasl_mechanism=mechanism))
    message = str(info.value)
    assert message.startswith("sasl_mechanism:")
    assert "SCRAM-SHA-512" in message and protocol in message


@pytest.mark.parametrize(
    "missing",
    [{"sasl_username": ""}, {"sasl_password": ""}, {"sasl_username": "", "sasl_password": ""}],
)
def test_sasl_without_credentials_names_both_settings(missing: dict[str, str]) -> None:
    with pytest.raises(ConfigError) as info:
        security.validate(sasl(**missing))
    message = str(info.value)
    assert message.startswith("sasl_username and sasl_password:")
    assert "STREAMDRIFT_SASL_USERNAME" in message and "STREAMDRIFT_SASL_PASSWORD" in message


@pytest.mark.parametrize("files", [{"ssl_certfile": "client.pem"}, {"ssl_keyfile": "client.key"}])
def test_certfile_and_keyfile_come_together(files: dict[str, str]) -> None:
    with pytest.raises(ConfigError, match=r"^ssl_certfile and ssl_keyfile: give both"):
        security.validate(settings(security_protocol="SSL", **files))


def test_client_options_validate_first() -> None:
    with pytest.raises(ConfigError, match="sasl_mechanism"):
        security.client_options(sasl(sasl_mechanism=""))


# -- client_options ---------------------------------------------------------------------------


def test_sasl_plaintext_options_for_aiokafka() -> None:
    options = security.client_options(
        sasl(security_protocol="sasl_plaintext", sasl_mechanism="scram-sha-256")
    )
    assert options == {
        "security_protocol": "SASL_PLAINTEXT",
        "sasl_mechanism": "SCRAM-SHA-256",
        "sasl_plain_username": "alice",
        "sasl_plain_password": PASSWORD,
    }


def test_the_options_are_accepted_by_aiokafka_clients() -> None:
    from aiokafka import AIOKafkaClient, AIOKafkaProducer

    options = security.client_options(sasl(sasl_mechanism="PLAIN"))

    async def build() -> None:  # constructing checks the arguments; nothing connects
        client = AIOKafkaClient(bootstrap_servers="127.0.0.1:9", **options)
        producer = AIOKafkaProducer(bootstrap_servers="127.0.0.1:9", **options)
        await client.close()
        await producer.stop()

    asyncio.run(build())


def test_plaintext_ignores_sasl_fields() -> None:
    options = security.client_options(settings(sasl_username="alice", sasl_password=PASSWORD))
    assert options == {"security_protocol": "PLAINTEXT"}


# -- TLS ---------------------------------------------------------------------------------------


def _openssl_cert(directory: Path, name: str) -> tuple[Path, Path]:
    """A throwaway self-signed certificate and its key, made by the openssl command."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl not on PATH (the cryptography package is not installed either)")
    cert, key = directory / f"{name}.pem", directory / f"{name}.key"
    args = "req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 -subj"
    subprocess.run(
        [openssl, *args.split(), f"/CN={name}", "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )
    return cert, key


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    directory = tmp_path_factory.mktemp("certs")
    ca, ca_key = _openssl_cert(directory, "streamdrift-test-ca")
    client, client_key = _openssl_cert(directory, "streamdrift-test-client")
    return {"ca": ca, "ca_key": ca_key, "client": client, "client_key": client_key}


def test_ssl_with_a_ca_file_builds_a_verifying_context(certs: dict[str, Path]) -> None:
    options = security.client_options(
        settings(security_protocol="SSL", ssl_cafile=str(certs["ca"]))
    )
    assert set(options) == {"security_protocol", "ssl_context"}
    context = options["ssl_context"]
    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname
    subjects = [dict(entry[0] for entry in c["subject"]) for c in context.get_ca_certs()]
    assert {"commonName": "streamdrift-test-ca"} in subjects


def test_sasl_ssl_has_both_the_context_and_the_credentials(certs: dict[str, Path]) -> None:
    options = security.client_options(
        sasl(security_protocol="SASL_SSL", ssl_cafile=str(certs["ca"]))
    )
    assert options["security_protocol"] == "SASL_SSL"
    assert isinstance(options["ssl_context"], ssl.SSLContext)
    assert options["sasl_plain_username"] == "alice"


def test_ssl_client_certificate_is_loaded(certs: dict[str, Path]) -> None:
    values = {
        "security_protocol": "SSL",
        "ssl_cafile": str(certs["ca"]),
        "ssl_certfile": str(certs["client"]),
        "ssl_keyfile": str(certs["client_key"]),
    }
    assert isinstance(security.client_options(settings(**values))["ssl_context"], ssl.SSLContext)


def test_ssl_key_that_does_not_match_the_certificate_is_a_config_error(
    certs: dict[str, Path],
) -> None:
    values = {
        "security_protocol": "SSL",
        "ssl_certfile": str(certs["client"]),
        "ssl_keyfile": str(certs["ca_key"]),
    }
    with pytest.raises(ConfigError, match=r"^ssl_cafile/ssl_certfile/ssl_keyfile: "):
        security.client_options(settings(**values))


def test_missing_or_invalid_ca_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"^ssl_cafile/ssl_certfile/ssl_keyfile: "):
        security.client_options(
            settings(security_protocol="SSL", ssl_cafile=str(tmp_path / "missing.pem"))
        )
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a certificate\n")
    with pytest.raises(ConfigError, match=r"^ssl_cafile/ssl_certfile/ssl_keyfile: "):
        security.client_options(settings(security_protocol="SSL", ssl_cafile=str(garbage)))


def test_tls_is_not_set_up_for_plaintext_protocols(tmp_path: Path) -> None:
    missing = str(tmp_path / "missing.pem")  # never read: no TLS without SSL in the protocol
    assert "ssl_context" not in security.client_options(settings(ssl_cafile=missing))
    assert "ssl_context" not in security.client_options(sasl(ssl_cafile=missing))


# -- describe and secrets -------------------------------------------------------------------------


def test_describe_names_the_set_up_without_the_password() -> None:
    text = security.describe(sasl())
    assert text == "SASL_PLAINTEXT SCRAM-SHA-512 as 'alice'"
    assert PASSWORD not in text
    assert security.describe(Settings()) == "PLAINTEXT"
    assert security.describe(settings(security_protocol="ssl")) == "SSL"


def test_settings_repr_and_str_never_contain_the_password() -> None:
    value = sasl()
    assert value.sasl_password == PASSWORD
    assert PASSWORD not in repr(value)
    assert PASSWORD not in str(value)
    assert "sasl_username='alice'" in repr(value)


def test_faust_credentials_match_the_client_options(certs: dict[str, Path]) -> None:
    import faust

    assert security.faust_credentials(Settings()) is None
    creds = security.faust_credentials(sasl())
    assert isinstance(creds, faust.SASLCredentials)
    assert creds.protocol.value == "SASL_PLAINTEXT"
    assert creds.mechanism.value == "SCRAM-SHA-512"
    assert (creds.username, creds.password) == ("alice", PASSWORD)
    assert PASSWORD not in repr(creds)
    tls = security.faust_credentials(
        sasl(security_protocol="SASL_SSL", ssl_cafile=str(certs["ca"]))
    )
    assert tls.protocol.value == "SASL_SSL"
    ssl_only = security.faust_credentials(
        settings(security_protocol="SSL", ssl_cafile=str(certs["ca"]))
    )
    assert isinstance(ssl_only, faust.SSLCredentials)
