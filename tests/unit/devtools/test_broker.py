"""LocalBroker without starting Kafka: pre-flight checks, errors, status of an empty dir."""

from __future__ import annotations

import hashlib
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from streamdrift.devtools import broker as broker_module
from streamdrift.devtools.broker import (
    BrokerError,
    LocalBroker,
    free_port,
    java_executable,
    port_in_use,
    resolve_classpath,
)


def _forbidden(*args: object, **kwargs: object) -> str:
    raise AssertionError("must not be called in this test")


@pytest.fixture
def listening_port() -> Iterator[int]:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(1)
        yield sock.getsockname()[1]


@pytest.fixture
def no_heavy_work(monkeypatch: pytest.MonkeyPatch) -> None:
    """Java is 'found', and Maven, subprocesses and metadata requests would fail the test."""
    monkeypatch.setattr(broker_module, "java_executable", lambda: "/usr/bin/java-fake")
    monkeypatch.setattr(broker_module, "resolve_classpath", _forbidden)
    monkeypatch.setattr(broker_module, "answers_metadata", _forbidden)
    monkeypatch.setattr(broker_module.subprocess, "run", _forbidden)
    monkeypatch.setattr(broker_module.subprocess, "Popen", _forbidden)


@pytest.fixture
def nothing_on_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """Neither java nor mvn can be found (no JAVA_HOME, nothing on PATH)."""
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setattr(broker_module.shutil, "which", lambda *a, **k: None)


def test_port_in_use_detects_a_listening_socket(listening_port: int) -> None:
    assert port_in_use(listening_port)


def test_port_in_use_detects_a_bound_socket() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        assert port_in_use(port)
    assert not port_in_use(port)


def test_free_port_is_free() -> None:
    port = free_port()
    assert 0 < port < 65536
    assert not port_in_use(port)


def test_up_refuses_a_port_in_use(tmp_path: Path, listening_port: int, no_heavy_work: None) -> None:
    broker = LocalBroker(data_dir=tmp_path / "b", port=listening_port)
    with pytest.raises(BrokerError) as info:
        broker.up(timeout=1)
    assert str(info.value).startswith(f"port {listening_port} is already in use")
    assert "--port" in str(info.value)
    assert not (tmp_path / "b").exists()  # nothing written before the checks pass


def test_up_without_java_names_java(
    tmp_path: Path, nothing_on_path: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(broker_module, "resolve_classpath", _forbidden)
    broker = LocalBroker(data_dir=tmp_path, port=free_port())
    with pytest.raises(BrokerError) as info:
        broker.up(timeout=1)
    message = str(info.value)
    assert message.startswith("java not found on PATH")
    assert "Java 17" in message


def test_java_home_is_preferred(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    java = tmp_path / "jdk" / "bin" / "java"
    java.parent.mkdir(parents=True)
    java.write_text("#!/bin/sh\n")
    monkeypatch.setenv("JAVA_HOME", str(tmp_path / "jdk"))
    monkeypatch.setattr(broker_module.shutil, "which", _forbidden)
    assert java_executable() == str(java)


def test_java_home_without_java_falls_back_to_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JAVA_HOME", str(tmp_path))  # no bin/java here
    monkeypatch.setattr(broker_module.shutil, "which", lambda tool: f"/opt/bin/{tool}")
    assert java_executable() == "/opt/bin/java"


def test_missing_java_with_empty_java_home(
    tmp_path: Path, nothing_on_path: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JAVA_HOME", str(tmp_path))  # a JAVA_HOME without bin/java
    with pytest.raises(BrokerError, match=r"^java not found"):
        java_executable()


def test_missing_mvn_names_maven(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, nothing_on_path: None
) -> None:
    monkeypatch.setenv("STREAMDRIFT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(broker_module.subprocess, "run", _forbidden)
    with pytest.raises(BrokerError) as info:
        resolve_classpath()
    message = str(info.value)
    assert message.startswith("mvn not found on PATH")
    assert "Maven" in message


def test_cached_classpath_is_used_without_maven(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, nothing_on_path: None
) -> None:
    jars = [tmp_path / "a.jar", tmp_path / "b.jar"]
    for jar in jars:
        jar.write_bytes(b"")
    digest = hashlib.sha256(broker_module._resource("pom.xml").read_bytes()).hexdigest()[:16]
    cache = tmp_path / "cache"
    cache.mkdir()
    classpath = os.pathsep.join(str(j) for j in jars)
    (cache / f"kafka-classpath-{digest}.txt").write_text(classpath + "\n")
    monkeypatch.setenv("STREAMDRIFT_CACHE_DIR", str(cache))
    assert resolve_classpath() == classpath
    # a jar gone from the Maven repository means: resolve again (here: no mvn)
    jars[1].unlink()
    with pytest.raises(BrokerError, match=r"^mvn not found"):
        resolve_classpath()


def test_empty_data_dir_is_not_running(tmp_path: Path) -> None:
    broker = LocalBroker(data_dir=tmp_path, port=19092)
    assert not broker.is_running()
    assert broker.pid() is None
    assert broker.running_port() is None
    assert broker.bootstrap == "127.0.0.1:19092"
    assert broker.url == "kafka://127.0.0.1:19092"


def test_down_on_empty_or_missing_data_dir_says_not_running(tmp_path: Path) -> None:
    assert LocalBroker(data_dir=tmp_path).down() is False
    assert LocalBroker(data_dir=tmp_path / "missing").down() is False
    assert not (tmp_path / "missing").exists()


def test_stale_pid_file_is_not_running_and_down_removes_it(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    dead_pid = int(proc.stdout)
    broker = LocalBroker(data_dir=tmp_path)
    broker.pid_file.write_text(f"{dead_pid} 19093\n")
    assert broker.pid() is None
    assert not broker.is_running()
    assert broker.running_port() == 19093  # recorded, even though the process is gone
    assert broker.down() is False
    assert not broker.pid_file.exists()


@pytest.mark.parametrize("content", ["", "garbage", "12x 9092"])
def test_unreadable_pid_file_is_not_running(tmp_path: Path, content: str) -> None:
    broker = LocalBroker(data_dir=tmp_path)
    broker.pid_file.write_text(content)
    assert broker.pid() is None
    assert not broker.is_running()


def test_server_properties_use_the_ports_and_data_dir(tmp_path: Path) -> None:
    broker = LocalBroker(data_dir=tmp_path, port=19094)
    props = dict(
        line.split("=", 1)
        for line in broker._server_properties(19095).splitlines()
        if line and not line.startswith("#")
    )
    assert props["listeners"] == "PLAINTEXT://127.0.0.1:19094,CONTROLLER://127.0.0.1:19095"
    assert props["advertised.listeners"] == "PLAINTEXT://127.0.0.1:19094"
    assert props["controller.quorum.voters"] == "1@127.0.0.1:19095"
    assert props["log.dirs"] == str((tmp_path / "data").resolve())
    assert props["offsets.topic.replication.factor"] == "1"
