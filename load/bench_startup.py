"""How a fresh worker joins its group on the default topology (8 partitions, idle topics).

    python -m load.bench_startup --broker kafka://127.0.0.1:9092 [--observe 30]

Starts a real ``streamdrift worker`` (default settings, a unique app id and topics created
from ``topics/topics.toml``: predictions and feedback with 8 partitions each, no traffic)
and watches it for ``--observe`` seconds: when it first owns partitions, how many times
partitions were assigned to it (``streamdrift_rebalances_total``), and how often the group
coordinator had dropped it (the worker logs "Heartbeat failed: local member_id was not
recognized" when a rebalance callback outlasted the session timeout). A healthy worker is
assigned once.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from load.bench_common import bench_settings, emit, say, unique_tag
from load.bench_latency import metric, worker_env
from streamdrift.devtools.broker import free_port

EVICTED = "member_id was not recognized"


def probe(broker: str, observe: float, workdir: Path) -> dict[str, Any]:
    from streamdrift.service.worker import ensure_topics

    tag = unique_tag()
    port = free_port()
    settings = bench_settings(
        broker, tag, metrics_port=port, log_level="info", data_dir=str(workdir / "data")
    )
    ensure_topics(settings)
    log = workdir / "worker.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamdrift", "worker"],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=worker_env(settings),
        )
    launched = time.monotonic()
    first_owned: float | None = None
    try:
        while time.monotonic() - launched < observe:
            if proc.poll() is not None:
                raise RuntimeError("the worker exited:\n" + log.read_text(errors="replace")[-2000:])
            if first_owned is None and metric(port, "streamdrift_partitions_owned") > 0:
                first_owned = time.monotonic() - launched
            time.sleep(0.2)
        assignments = metric(port, "streamdrift_rebalances_total")
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return {
        "observed": observe,
        "first_owned": first_owned,
        "assignments": assignments,
        "evictions": log.read_text(errors="replace").count(EVICTED),
    }


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m load.bench_startup", description=__doc__)
    p.add_argument("--broker", required=True)
    p.add_argument("--observe", type=float, default=30.0)
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="sd-bench-startup-") as tmp:
        result = probe(args.broker, args.observe, Path(tmp))
    say(
        "startup",
        f"partitions owned after {result['first_owned']}s; {result['assignments']:.0f} "
        f"assignments and {result['evictions']} evictions in {args.observe:.0f}s",
    )
    emit(result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
