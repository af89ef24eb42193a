"""`scripts/bench` on a machine without what it needs says so in one line (#10, item 7)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "scripts" / "bench.py"


def test_without_the_peer_checkout_the_bench_says_where_it_looked_and_how_to_point_it(tmp_path) -> None:
    nowhere = tmp_path / "peer-bench"
    result = subprocess.run(
        [sys.executable, str(BENCH), "--quick"],
        env={**os.environ, "PEER_BENCH_DIR": str(nowhere)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and str(nowhere) in result.stderr and "PEER_BENCH_DIR" in result.stderr
    assert "Traceback" not in result.stderr
