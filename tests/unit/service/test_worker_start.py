"""Start-up from any directory: default paths in the user cache dir, one error line."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

from streamdrift import config
from streamdrift.devtools import broker
from streamdrift.service import worker
from streamdrift.service.app import create_app


def test_cache_dir_follows_streamdrift_cache_dir_then_xdg_then_home(tmp_path: Path) -> None:
    home = Path.home()
    assert config.cache_dir({"STREAMDRIFT_CACHE_DIR": str(tmp_path)}) == tmp_path
    assert config.cache_dir({"XDG_CACHE_HOME": "/var/cache/u"}) == Path("/var/cache/u/streamdrift")
    # the XDG spec: a relative XDG_CACHE_HOME is invalid and ignored
    expected = (
        home / "Library" / "Caches" / "streamdrift"
        if sys.platform == "darwin"
        else home / ".cache" / "streamdrift"
    )
    assert config.cache_dir({"XDG_CACHE_HOME": "relative"}) == expected
    assert config.cache_dir({}) == expected


def test_default_data_and_broker_dirs_are_absolute_and_in_the_cache_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STREAMDRIFT_CACHE_DIR", str(tmp_path / "cache"))
    settings = config.load(environ={})
    assert settings.data_path == tmp_path / "cache" / "worker"
    assert settings.state_path == tmp_path / "cache" / "worker" / "join-state"
    assert broker.LocalBroker().data_dir == tmp_path / "cache" / "broker"
    assert config.load({"data_dir": "~/sd"}, environ={}).data_path == Path.home() / "sd"


def test_create_app_creates_the_data_directory_and_its_parents(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the defect: Faust creates only the last component (".cache/worker" from an empty dir)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("STREAMDRIFT_CACHE_DIR", "new/cache")
    settings = config.load({"metrics_port": 0}, environ={})
    wiring = create_app(settings)
    assert (tmp_path / "new" / "cache" / "worker").is_dir()
    assert Path(wiring.app.conf.datadir).resolve() == (tmp_path / "new/cache/worker").resolve()


# Faust creates only the last component of its data dir: the defect a fresh directory met
GUARDED = """
import faust
from streamdrift.service.worker import guarded_worker

app = faust.App("t", broker="kafka://127.0.0.1:1", datadir="missing/worker", web_enabled=False)
worker = guarded_worker(app, loglevel="INFO")
try:
    worker.execute_from_commandline()
except SystemExit as exit:
    print("code", exit.code, "error", repr(worker.start_error))
"""


def test_an_exception_in_faust_start_up_is_kept_not_logged_with_a_traceback(
    tmp_path: Path,
) -> None:
    done = subprocess.run(
        [sys.executable, "-c", GUARDED],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert "Traceback" not in done.stdout + done.stderr
    assert "[ERROR]" not in done.stdout + done.stderr
    assert "error FileNotFoundError(2, 'No such file or directory')" in done.stdout


def test_worker_with_an_uncreatable_data_dir_is_one_error_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(worker, "ensure_topics", lambda settings: None)
    (tmp_path / "afile").write_text("")
    settings = config.load({"data_dir": str(tmp_path / "afile" / "x")}, environ={})
    with pytest.raises(worker.WorkerStartError, match=r"^data_dir: cannot create .*afile/x"):
        worker.run_worker(settings)


def test_worker_with_its_metrics_port_taken_is_one_error_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(worker, "ensure_topics", lambda settings: None)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        settings = config.load({"data_dir": str(tmp_path), "metrics_port": port}, environ={})
        with pytest.raises(worker.WorkerStartError, match=rf"^metrics_port: .*127.0.0.1:{port}"):
            worker.run_worker(settings)
