"""The local Apache Kafka broker (single-node KRaft) for the demo, tests and benchmarks.

No Docker: Maven resolves the official Kafka jars from Maven Central (``devtools/pom.xml``
beside this module) into the local Maven repository; we ask it for the classpath once and
cache it, then run ``kafka.Kafka`` on a generated ``server.properties``.

Layout of a data dir::

    server.properties   broker.log   broker.pid   data/ (the KRaft log dirs)

With ``scram_users`` the client listener is ``SASL_PLAINTEXT`` with SCRAM (SHA-512 by
default): the users' credentials are written into the cluster metadata when the storage is
formatted, as salted hashes computed here, so a password never appears on a command line, in
``server.properties`` or in ``broker.log``. Inter-broker traffic uses a separate
``PLAINTEXT`` listener (``INTERNAL``, a free port on 127.0.0.1; KRaft needs it advertised,
but a client that bootstraps on the SASL port is only ever shown the SASL listener); the
controller listener stays ``PLAINTEXT`` too. Both accept unauthenticated connections from
this machine: right for a local test broker, not a production set-up.

Errors are :class:`BrokerError` with one line that says what to fix.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import logging
import os
import re
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from streamdrift.config.settings import cache_dir

log = logging.getLogger(__name__)

DEFAULT_PORT = 9092
DEFAULT_HEAP = "512m"
START_TIMEOUT_S = 90.0
SCRAM_MECHANISMS = {"SCRAM-SHA-256": "sha256", "SCRAM-SHA-512": "sha512"}
SCRAM_ITERATIONS = 4096  # Kafka's minimum for SCRAM credentials
_SCRAM_NAME = re.compile(r"[A-Za-z0-9._@-]+")


class BrokerError(RuntimeError):
    """The broker cannot be resolved, started or reached; the message says why."""


def default_data_dir() -> Path:
    """The local broker's files by default: ``broker`` in the user cache dir, so ``broker
    up``, ``status`` and ``down`` find the same broker from any working directory."""
    return cache_dir() / "broker"


def _resource(name: str) -> Path:
    return Path(str(resources.files("streamdrift") / "devtools" / name))


def _which(tool: str, hint: str) -> str:
    path = shutil.which(tool)
    if path is None:
        raise BrokerError(f"{tool} not found on PATH: {hint}")
    return path


def java_executable() -> str:
    java_home = os.environ.get("JAVA_HOME")
    if java_home and (Path(java_home) / "bin" / "java").exists():
        return str(Path(java_home) / "bin" / "java")
    return _which("java", "install a Java 17+ runtime (e.g. apt-get install openjdk-17-jre)")


def resolve_classpath(*, quiet: bool = True) -> str:
    """Return Kafka's classpath, resolving the jars with Maven on first use.

    The result is cached per pom (by content hash) and re-resolved when a jar has gone
    missing from the local Maven repository.
    """
    pom = _resource("pom.xml")
    digest = hashlib.sha256(pom.read_bytes()).hexdigest()[:16]
    cached = cache_dir() / f"kafka-classpath-{digest}.txt"
    if cached.exists():
        classpath = cached.read_text().strip()
        if classpath and all(Path(p).exists() for p in classpath.split(os.pathsep)):
            return classpath
    mvn = _which("mvn", "install Apache Maven (e.g. apt-get install maven)")
    cached.parent.mkdir(parents=True, exist_ok=True)
    tmp = cached.with_suffix(".tmp")
    cmd = [mvn, "-B", "-f", str(pom), "dependency:build-classpath", f"-Dmdep.outputFile={tmp}"]
    if quiet:
        cmd.insert(2, "-q")
    log.info("resolving Apache Kafka jars with Maven (first run downloads ~80 MB)")
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0 or not tmp.exists():
        tail = (proc.stdout + proc.stderr).strip().splitlines()[-5:]
        raise BrokerError("Maven could not resolve Apache Kafka: " + " | ".join(tail))
    tmp.replace(cached)
    return cached.read_text().strip()


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return True
    return False


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _answers_metadata(
    bootstrap: str, timeout: float, options: Mapping[str, Any] | None
) -> bool:
    from aiokafka import AIOKafkaClient  # the client is only needed here

    client = AIOKafkaClient(
        bootstrap_servers=bootstrap, request_timeout_ms=int(timeout * 1000), **dict(options or {})
    )
    try:
        await asyncio.wait_for(client.bootstrap(), timeout)
        return bool(client.cluster.brokers())
    except Exception:
        return False
    finally:
        await client.close()


def answers_metadata(
    bootstrap: str, timeout: float = 3.0, *, options: Mapping[str, Any] | None = None
) -> bool:
    """True when a broker at ``bootstrap`` answers a metadata request.

    ``options`` are extra aiokafka client arguments (``security_protocol``, ``sasl_*``).
    """
    client_log = logging.getLogger("aiokafka")
    level = client_log.level
    client_log.setLevel(logging.CRITICAL)  # "connection refused" is the expected answer here
    try:
        return asyncio.run(_answers_metadata(bootstrap, timeout, options))
    finally:
        client_log.setLevel(level)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # a zombie child of ours is dead for our purposes
    with contextlib.suppress(FileNotFoundError, IndexError, OSError):
        stat = Path(f"/proc/{pid}/stat").read_text()
        if stat.rsplit(")", 1)[1].split()[0] == "Z":
            return False
    return True


@dataclass(frozen=True, slots=True)
class LocalBroker:
    """A single-node KRaft broker whose files live in ``data_dir``."""

    data_dir: Path = field(default_factory=default_data_dir)
    port: int = DEFAULT_PORT
    heap: str = DEFAULT_HEAP
    # (user, password) pairs: the client listener then requires SASL SCRAM (see the module
    # docstring). Kept out of repr: it holds passwords.
    scram_users: tuple[tuple[str, str], ...] = field(default=(), repr=False)
    scram_mechanism: str = "SCRAM-SHA-512"

    @property
    def security_protocol(self) -> str:
        """What clients of :attr:`bootstrap` need: ``PLAINTEXT`` or ``SASL_PLAINTEXT``."""
        return "SASL_PLAINTEXT" if self.scram_users else "PLAINTEXT"

    def client_options(self, user: str | None = None) -> dict[str, Any]:
        """aiokafka client arguments to reach the client listener (as ``user``, by default
        the first SCRAM user); ``{}`` for a plaintext broker."""
        if not self.scram_users:
            return {}
        passwords = dict(self.scram_users)
        name = user if user is not None else self.scram_users[0][0]
        if name not in passwords:
            raise BrokerError(f"no SCRAM user {name!r} on this broker")
        return {
            "security_protocol": "SASL_PLAINTEXT",
            "sasl_mechanism": self.scram_mechanism,
            "sasl_plain_username": name,
            "sasl_plain_password": passwords[name],
        }

    def _check_scram(self) -> None:
        if not self.scram_users:
            return
        if self.scram_mechanism not in SCRAM_MECHANISMS:
            raise BrokerError(
                f"scram_mechanism: one of {', '.join(SCRAM_MECHANISMS)}, "
                f"got {self.scram_mechanism!r}"
            )
        for name, password in self.scram_users:
            if not _SCRAM_NAME.fullmatch(name):
                raise BrokerError(f"SCRAM user name {name!r}: use letters, digits and . _ @ - only")
            if not password:
                raise BrokerError(f"SCRAM user {name!r}: the password is empty")

    def _scram_arguments(self) -> list[str]:
        """``--add-scram`` arguments for ``StorageTool format``: salted, never the password."""
        algorithm = SCRAM_MECHANISMS[self.scram_mechanism]
        args = []
        for name, password in self.scram_users:
            salt = os.urandom(24)
            salted = hashlib.pbkdf2_hmac(algorithm, password.encode(), salt, SCRAM_ITERATIONS)
            args += [
                "--add-scram",
                f"{self.scram_mechanism}=[name={name},iterations={SCRAM_ITERATIONS},"
                f'salt="{base64.b64encode(salt).decode()}",'
                f'saltedpassword="{base64.b64encode(salted).decode()}"]',
            ]
        return args

    def _scram_marker(self) -> str:
        if not self.scram_users:
            return ""
        return " ".join([self.scram_mechanism, *sorted(name for name, _ in self.scram_users)])

    @property
    def _scram_marker_file(self) -> Path:
        return self.data_dir / "scram.users"  # mechanism and user names, never passwords

    def _check_formatted_users(self) -> None:
        """SCRAM users are created when the storage is formatted: refuse a data dir that was
        formatted with other users (or none) instead of starting a broker nobody can use."""
        if not (self.data_dir / "data" / "meta.properties").exists():
            return
        marker = self._scram_marker_file
        stored = marker.read_text().strip() if marker.exists() else ""
        wanted = self._scram_marker()
        if stored != wanted:
            raise BrokerError(
                f"{self.data_dir} was formatted with SCRAM users: {stored or 'none'}, "
                f"not {wanted or 'none'}; SCRAM users are created at format time: "
                "use a fresh data dir"
            )

    @property
    def controller_port(self) -> int:
        stored = self.data_dir / "controller.port"
        if stored.exists():
            return int(stored.read_text())
        return free_port()

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.running_port() or self.port}"

    @property
    def url(self) -> str:
        return "kafka://" + self.bootstrap

    @property
    def log_file(self) -> Path:
        return self.data_dir / "broker.log"

    @property
    def pid_file(self) -> Path:
        return self.data_dir / "broker.pid"

    def pid(self) -> int | None:
        try:
            pid = int(self.pid_file.read_text().split()[0])
        except (FileNotFoundError, ValueError, IndexError):
            return None
        return pid if _pid_alive(pid) else None

    def running_port(self) -> int | None:
        """The port of the broker that runs from this data dir, if one does."""
        try:
            return int(self.pid_file.read_text().split()[1])
        except (FileNotFoundError, ValueError, IndexError):
            return None

    def is_running(self) -> bool:
        return self.pid() is not None

    def _listener_properties(self, controller_port: int, internal_port: int | None) -> list[str]:
        controller = f"CONTROLLER://127.0.0.1:{controller_port}"
        if not self.scram_users:
            return [
                f"listeners=PLAINTEXT://127.0.0.1:{self.port},{controller}",
                f"advertised.listeners=PLAINTEXT://127.0.0.1:{self.port}",
                "controller.listener.names=CONTROLLER",
                "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
                "inter.broker.listener.name=PLAINTEXT",
            ]
        if internal_port is None:
            raise BrokerError("a SCRAM broker needs a port for its internal listener")
        client = f"SASL_PLAINTEXT://127.0.0.1:{self.port}"
        internal = f"INTERNAL://127.0.0.1:{internal_port}"
        mechanism = self.scram_mechanism.lower()
        return [
            f"listeners={client},{internal},{controller}",
            f"advertised.listeners={client},{internal}",
            "controller.listener.names=CONTROLLER",
            "listener.security.protocol.map="
            "SASL_PLAINTEXT:SASL_PLAINTEXT,INTERNAL:PLAINTEXT,CONTROLLER:PLAINTEXT",
            "inter.broker.listener.name=INTERNAL",
            f"sasl.enabled.mechanisms={self.scram_mechanism}",
            # the server side of SCRAM needs a login module but no credentials: the users'
            # salted credentials live in the cluster metadata (written at format time)
            f"listener.name.sasl_plaintext.{mechanism}.sasl.jaas.config="
            "org.apache.kafka.common.security.scram.ScramLoginModule required;",
        ]

    def _server_properties(self, controller_port: int, internal_port: int | None = None) -> str:
        data = (self.data_dir / "data").resolve()
        return "\n".join(
            [
                "# generated by `streamdrift broker up`; edits are overwritten",
                "process.roles=broker,controller",
                "node.id=1",
                f"controller.quorum.voters=1@127.0.0.1:{controller_port}",
                *self._listener_properties(controller_port, internal_port),
                f"log.dirs={data}",
                "num.partitions=1",
                # single node: every internal topic has one replica
                "offsets.topic.replication.factor=1",
                "offsets.topic.num.partitions=8",
                "transaction.state.log.replication.factor=1",
                "transaction.state.log.min.isr=1",
                "share.coordinator.state.topic.replication.factor=1",
                "share.coordinator.state.topic.min.isr=1",
                # consumers of a fresh group start at once instead of waiting 3 s
                "group.initial.rebalance.delay.ms=0",
                "log.retention.hours=24",
                "",
            ]
        )

    def up(self, *, timeout: float = START_TIMEOUT_S) -> str:
        """Start the broker unless it already runs; return its bootstrap URL."""
        self._check_scram()
        options = self.client_options()
        if self.is_running():
            running = self.running_port()
            if running is not None and answers_metadata(f"127.0.0.1:{running}", options=options):
                return f"kafka://127.0.0.1:{running}"
        self._check_formatted_users()
        java = java_executable()
        if port_in_use(self.port):
            raise BrokerError(
                f"port {self.port} is already in use by another process; "
                "stop it or choose another with --port"
            )
        classpath = resolve_classpath()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        controller_port = self.controller_port
        (self.data_dir / "controller.port").write_text(str(controller_port))
        internal_port = free_port() if self.scram_users else None
        props = self.data_dir / "server.properties"
        props.write_text(self._server_properties(controller_port, internal_port))
        env = {
            **os.environ,
            "KAFKA_LOG4J_OPTS": "",
        }
        jvm = [
            java,
            f"-Xms{self.heap}",
            f"-Xmx{self.heap}",
            "-XX:+UseG1GC",
            "-XX:MaxGCPauseMillis=20",
            "-Djava.awt.headless=true",
            f"-Dlog4j2.configurationFile={_resource('log4j2.properties')}",
            "-cp",
            classpath,
        ]
        if not (self.data_dir / "data" / "meta.properties").exists():
            fmt = subprocess.run(
                [
                    *jvm,
                    "kafka.tools.StorageTool",
                    "format",
                    f"--cluster-id={_cluster_id()}",
                    "-c",
                    str(props),
                    *self._scram_arguments(),
                ],
                capture_output=True,
                text=True,
                check=False,
            )
            if fmt.returncode != 0:
                tail = (fmt.stdout + fmt.stderr).strip().splitlines()[-3:]
                raise BrokerError("formatting the KRaft storage failed: " + " | ".join(tail))
            if self.scram_users:
                self._scram_marker_file.write_text(self._scram_marker() + "\n")
        with self.log_file.open("ab") as out:
            proc = subprocess.Popen(
                [*jvm, "kafka.Kafka", str(props)],
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
                start_new_session=True,  # survives the CLI; `broker down` stops it
            )
        self.pid_file.write_text(f"{proc.pid} {self.port}\n")
        bootstrap = f"127.0.0.1:{self.port}"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                self.pid_file.unlink(missing_ok=True)
                raise BrokerError(
                    f"the broker exited with code {proc.returncode} during start-up; "
                    f"see {self.log_file}: {_last_error(self.log_file)}"
                )
            if answers_metadata(bootstrap, timeout=2.0, options=options):
                return f"kafka://{bootstrap}"
            time.sleep(0.5)
        self.down()
        raise BrokerError(
            f"the broker did not answer on {bootstrap} within {timeout:.0f} s; see {self.log_file}"
        )

    def down(self, *, timeout: float = 30.0) -> bool:
        """Stop the broker; return whether one was running."""
        pid = self.pid()
        if pid is None:
            self.pid_file.unlink(missing_ok=True)
            return False
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and _pid_alive(pid):
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, os.WNOHANG)
            time.sleep(0.2)
        if _pid_alive(pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)
        self.pid_file.unlink(missing_ok=True)
        return True

    def kill(self) -> None:
        """SIGKILL the broker (failure tests)."""
        pid = self.pid()
        if pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)


def _cluster_id() -> str:
    # A KRaft cluster id is 16 random bytes, URL-safe base64 without padding.
    import base64
    import uuid

    return base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")


def _last_error(path: Path) -> str:
    try:
        lines = path.read_text(errors="replace").splitlines()
    except FileNotFoundError:
        return "no log"
    for line in reversed(lines):
        if "ERROR" in line or "Exception" in line:
            return line.strip()[:300]
    return lines[-1].strip()[:300] if lines else "empty log"
