"""LocalBroker with SCRAM users, without starting Kafka: properties, format arguments, checks.

The real handshake is tested in tests/integration/test_security.py.
"""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path
from typing import Any

import pytest

from streamdrift.devtools import broker as broker_module
from streamdrift.devtools.broker import SCRAM_ITERATIONS, BrokerError, LocalBroker, free_port

PASSWORD = "pw-Do-Not-Show-9c1e"


def _forbidden(*args: object, **kwargs: object) -> str:
    raise AssertionError("must not be called in this test")


def scram(
    tmp_path: Path,
    *,
    users: tuple[tuple[str, str], ...] = (("alice", PASSWORD), ("bob", "other-secret")),
    mechanism: str = "SCRAM-SHA-512",
) -> LocalBroker:
    return LocalBroker(data_dir=tmp_path, port=19094, scram_users=users, scram_mechanism=mechanism)


def properties(text: str) -> dict[str, str]:
    return dict(
        line.split("=", 1) for line in text.splitlines() if line and not line.startswith("#")
    )


def test_plaintext_broker_is_unchanged(tmp_path: Path) -> None:
    plain = LocalBroker(data_dir=tmp_path, port=19094)
    assert plain.security_protocol == "PLAINTEXT"
    assert plain.client_options() == {}
    assert plain._scram_arguments() == []
    props = properties(plain._server_properties(19095))
    assert props["listeners"] == "PLAINTEXT://127.0.0.1:19094,CONTROLLER://127.0.0.1:19095"
    assert props["inter.broker.listener.name"] == "PLAINTEXT"
    assert "sasl.enabled.mechanisms" not in props


def test_scram_server_properties(tmp_path: Path) -> None:
    text = scram(tmp_path)._server_properties(19095, 19096)
    props = properties(text)
    assert props["listeners"] == (
        "SASL_PLAINTEXT://127.0.0.1:19094,INTERNAL://127.0.0.1:19096,CONTROLLER://127.0.0.1:19095"
    )
    assert props["advertised.listeners"] == (
        "SASL_PLAINTEXT://127.0.0.1:19094,INTERNAL://127.0.0.1:19096"
    )
    assert props["listener.security.protocol.map"] == (
        "SASL_PLAINTEXT:SASL_PLAINTEXT,INTERNAL:PLAINTEXT,CONTROLLER:PLAINTEXT"
    )
    assert props["inter.broker.listener.name"] == "INTERNAL"
    assert props["controller.listener.names"] == "CONTROLLER"
    assert props["sasl.enabled.mechanisms"] == "SCRAM-SHA-512"
    jaas = props["listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config"]
    assert jaas == "org.apache.kafka.common.security.scram.ScramLoginModule required;"
    assert PASSWORD not in text and "other-secret" not in text


def test_scram_needs_an_internal_port(tmp_path: Path) -> None:
    with pytest.raises(BrokerError, match="internal listener"):
        scram(tmp_path)._server_properties(19095)


@pytest.mark.parametrize(
    ("mechanism", "algorithm"), [("SCRAM-SHA-512", "sha512"), ("SCRAM-SHA-256", "sha256")]
)
def test_format_arguments_carry_salted_credentials_not_passwords(
    tmp_path: Path, mechanism: str, algorithm: str
) -> None:
    args = scram(tmp_path, mechanism=mechanism)._scram_arguments()
    assert args[0::2] == ["--add-scram", "--add-scram"]
    assert not any(PASSWORD in a or "other-secret" in a for a in args)
    pattern = re.compile(
        rf'{mechanism}=\[name=(\w+),iterations=(\d+),salt="([^"]+)",saltedpassword="([^"]+)"\]'
    )
    passwords = {"alice": PASSWORD, "bob": "other-secret"}
    salts = set()
    for arg in args[1::2]:
        match = pattern.fullmatch(arg)
        assert match, arg
        name, iterations, salt, salted = match.groups()
        assert int(iterations) == SCRAM_ITERATIONS >= 4096  # Kafka's minimum
        expected = hashlib.pbkdf2_hmac(
            algorithm, passwords[name].encode(), base64.b64decode(salt), int(iterations)
        )
        assert base64.b64decode(salted) == expected
        salts.add(salt)
    assert len(salts) == 2  # a fresh salt per user


def test_repr_never_shows_the_passwords(tmp_path: Path) -> None:
    text = repr(scram(tmp_path))
    assert PASSWORD not in text and "other-secret" not in text
    assert "scram_mechanism='SCRAM-SHA-512'" in text


def test_client_options_for_the_first_or_a_named_user(tmp_path: Path) -> None:
    b = scram(tmp_path)
    assert b.security_protocol == "SASL_PLAINTEXT"
    assert b.client_options() == {
        "security_protocol": "SASL_PLAINTEXT",
        "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_plain_username": "alice",
        "sasl_plain_password": PASSWORD,
    }
    assert b.client_options("bob")["sasl_plain_password"] == "other-secret"
    with pytest.raises(BrokerError, match="no SCRAM user 'carol'"):
        b.client_options("carol")


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"mechanism": "PLAIN"}, "scram_mechanism: one of SCRAM-SHA-256, SCRAM-SHA-512"),
        ({"users": (("al ice", "x"),)}, "SCRAM user name 'al ice'"),
        ({"users": (("a,b", "x"),)}, "SCRAM user name 'a,b'"),
        ({"users": (("alice", ""),)}, "SCRAM user 'alice': the password is empty"),
    ],
)
def test_bad_scram_set_up_fails_before_anything_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, values: dict[str, Any], message: str
) -> None:
    monkeypatch.setattr(broker_module, "java_executable", _forbidden)
    monkeypatch.setattr(broker_module, "answers_metadata", _forbidden)
    with pytest.raises(BrokerError) as info:
        scram(tmp_path / "b", **values).up(timeout=1)
    assert str(info.value).startswith(message)
    assert not (tmp_path / "b").exists()


@pytest.mark.parametrize("formatted_with", [None, "SCRAM-SHA-512 alice"])
def test_a_data_dir_formatted_with_other_users_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, formatted_with: str | None
) -> None:
    monkeypatch.setattr(broker_module, "java_executable", _forbidden)
    monkeypatch.setattr(broker_module, "resolve_classpath", _forbidden)
    monkeypatch.setattr(broker_module.subprocess, "run", _forbidden)
    monkeypatch.setattr(broker_module.subprocess, "Popen", _forbidden)
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "meta.properties").write_text("cluster.id=x\n")
    if formatted_with:
        (tmp_path / "scram.users").write_text(formatted_with + "\n")
    b = LocalBroker(data_dir=tmp_path, port=free_port(), scram_users=(("bob", PASSWORD),))
    with pytest.raises(BrokerError) as info:
        b.up(timeout=1)
    message = str(info.value)
    assert f"formatted with SCRAM users: {formatted_with or 'none'}" in message
    assert "not SCRAM-SHA-512 bob" in message and "fresh data dir" in message
    assert PASSWORD not in message
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["data", *(["scram.users"] if formatted_with else [])]
    )  # nothing written


def test_a_scram_data_dir_is_refused_without_users(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "meta.properties").write_text("cluster.id=x\n")
    (tmp_path / "scram.users").write_text("SCRAM-SHA-512 alice\n")
    with pytest.raises(
        BrokerError, match="formatted with SCRAM users: SCRAM-SHA-512 alice, not none"
    ):
        LocalBroker(data_dir=tmp_path, port=free_port())._check_formatted_users()
    scram(tmp_path, users=(("alice", "any"),))._check_formatted_users()  # same users: fine
