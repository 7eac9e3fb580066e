"""Real Alertmanager and Prometheus processes for integration tests (Debian's packages, see
``make tools``), and a stub HTTP server that only injects faults."""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from streamdrift.devtools.broker import free_port


class ServiceError(RuntimeError):
    """A binary is missing or a server did not become ready."""


def binary(*names: str) -> str:
    for name in names:
        path = shutil.which(name) or (
            f"/usr/bin/{name}" if Path(f"/usr/bin/{name}").exists() else None
        )
        if path:
            return path
    raise ServiceError(f"none of {names} is installed: run `make tools`")


def get_json(url: str, timeout: float = 2.0) -> Any:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return json.loads(response.read())


@dataclass
class Server:
    """A started server process: its URL, its log, and how to stop it."""

    url: str
    proc: subprocess.Popen[bytes]
    log: Path

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")[-3000:]


def _start(command: list[str], url: str, ready: str, log: Path, timeout: float = 30.0) -> Server:
    with log.open("wb") as out:
        proc = subprocess.Popen(
            command, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
    server = Server(url, proc, log)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise ServiceError(f"{command[0]} exited with {proc.returncode}: {server.log_text()}")
        with (
            contextlib.suppress(OSError),
            urllib.request.urlopen(url + ready, timeout=1) as response,
        ):
            if response.status == 200:
                return server
        time.sleep(0.2)
    server.stop()
    raise ServiceError(f"{command[0]} not ready within {timeout} s: {server.log_text()}")


def start_alertmanager(workdir: Path) -> Server:
    """Alertmanager on a free port of 127.0.0.1, clustering off, a receiver that does nothing."""
    workdir.mkdir(parents=True, exist_ok=True)
    config = workdir / "alertmanager.yml"
    config.write_text(
        "route:\n  receiver: blackhole\n  group_wait: 1s\n  group_interval: 1s\n"
        "receivers:\n  - name: blackhole\n",
        encoding="utf-8",
    )
    port = free_port()
    command = [
        binary("prometheus-alertmanager", "alertmanager"),
        f"--config.file={config}",
        f"--storage.path={workdir / 'data'}",
        f"--web.listen-address=127.0.0.1:{port}",
        "--cluster.listen-address=",
    ]
    return _start(command, f"http://127.0.0.1:{port}", "/-/ready", workdir / "alertmanager.log")


def start_prometheus(workdir: Path, targets: list[str], rule_files: list[Path]) -> Server:
    """Prometheus scraping ``targets`` (job streamdrift) every second, evaluating ``rule_files``
    every second."""
    workdir.mkdir(parents=True, exist_ok=True)
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(p) for p in rule_files],
        "scrape_configs": [{"job_name": "streamdrift", "static_configs": [{"targets": targets}]}],
    }
    path = workdir / "prometheus.yml"
    path.write_text(json.dumps(config), encoding="utf-8")  # JSON is YAML
    port = free_port()
    command = [
        binary("prometheus"),
        f"--config.file={path}",
        f"--storage.tsdb.path={workdir / 'data'}",
        f"--web.listen-address=127.0.0.1:{port}",
    ]
    return _start(command, f"http://127.0.0.1:{port}", "/-/ready", workdir / "prometheus.log", 60)


@dataclass
class FaultyEndpoint:
    """Answers ``status`` (503: down) until told otherwise; records every request."""

    status: int = 503
    requests: list[tuple[int, dict[str, Any]]] = field(default_factory=list)  # (answer, body)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def accepted(self) -> list[dict[str, Any]]:
        with self.lock:
            return [body for status, body in self.requests if 200 <= status < 300]

    def answered(self, status: int) -> int:
        with self.lock:
            return sum(1 for s, _ in self.requests if s == status)


@contextlib.contextmanager
def faulty_endpoint() -> Iterator[tuple[str, FaultyEndpoint]]:
    """A stub HTTP server on 127.0.0.1 (stopped on exit): POSTs get ``endpoint.status``."""
    endpoint = FaultyEndpoint()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            with endpoint.lock:
                status = endpoint.status
                endpoint.requests.append((status, body))
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", endpoint
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@contextlib.contextmanager
def running_forwarder(
    settings: Any, target: str, url: str, log: Path, *extra: str
) -> Iterator[subprocess.Popen[bytes]]:
    """``streamdrift forward <target> --url <url>`` as a subprocess, stopped on exit."""
    import os
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith("STREAMDRIFT_")}
    command = [
        sys.executable,
        "-m",
        "streamdrift",
        "forward",
        target,
        "--url",
        url,
        "--broker",
        settings.broker,
        "--app-id",
        settings.app_id,
        "--topic-drift-alerts",
        settings.topic_drift_alerts,
        "--topic-degradation-alerts",
        settings.topic_degradation_alerts,
        *extra,
    ]
    with log.open("ab") as out:
        proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env)
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
