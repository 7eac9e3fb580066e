"""load/bench_join_spill.py runs end to end on a small join and reports what it measured."""

from __future__ import annotations

import re

import pytest
from load import bench_join_spill


def test_bench_reports_a_smaller_checkpoint_when_spilling(
    capsys: pytest.CaptureFixture[str],
) -> None:
    bench_join_spill.main(["--waiting", "6000", "--memory-pending", "1000"])
    out = capsys.readouterr().out
    memory = re.search(r"memory only: .* checkpoint ([\d.]+) MiB", out)
    spilling = re.search(r"spilling: .* (\d+) in memory, (\d+) on disk; checkpoint (\d+) KiB", out)
    assert memory and spilling, out
    assert int(spilling[1]) <= 1000 and int(spilling[1]) + int(spilling[2]) == 6000
    assert int(spilling[3]) < float(memory[1]) * 1024 / 3
    for line in ("restore, same machine", "restore, other machine", "label lookups on disk"):
        assert line in out
