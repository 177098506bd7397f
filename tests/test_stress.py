"""The quick part of `make stress`: hostile HTTP, slow and idle connections, a soak, held
resources (stalled bodies, memory, half-closed clients, a blocked stdout, forged log lines),
GitHub and build faults and broken sibling crates, against the real packages on loopback, and
`python -m infra new` stopped at each step. Nothing may be lost."""

from __future__ import annotations

import subprocess
import sys

import pytest
from conftest import REPO

pytestmark = pytest.mark.unit


def test_quick_stress_loses_nothing() -> None:
    run = subprocess.run(
        [sys.executable, "-m", "bench.stress", "--quick"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    lines = run.stdout.strip().splitlines()
    assert run.returncode == 0, run.stdout + run.stderr
    assert lines[-1] == "lost: 0", run.stdout
    figures = "\n".join(lines)
    assert "0 left hanging" in figures
    assert "3000 answered as expected" in figures
    assert "no status" not in figures
    assert "injected and recovered" in figures
    assert "200 shed within" in figures
    assert "(0 failed)" in figures
    assert "(1 failed)" not in figures
    assert "half-closed clients: 20/20 answered" in figures
    assert "stdout nobody reads: 2000/2000 invocations answered" in figures
    assert "0 forged lines, 0 split lines, 0 with raw invisible characters" in figures
    assert figures.count("an error naming it after") == 2
    stops = [line for line in lines if line.startswith(("  during ", "  error in ", "  before "))]
    assert len(stops) >= 3 + 1 + 5, figures  # signals, the stack-file error, one kill per write
    assert all(line.endswith((": left nothing", "after the next run: nothing")) for line in stops)
