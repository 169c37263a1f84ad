"""bench/server.py's memory round keeps its sessions open: each minute's row counts only that minute's polls."""

from __future__ import annotations

import importlib.util
import os

from medgan.workspace import REPO_ROOT


def _bench():
    spec = importlib.util.spec_from_file_location("bench_server", REPO_ROOT / "bench" / "server.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_minute_row_counts_only_polls_since_its_marks():
    bench, pid = _bench(), os.getpid()
    sessions = [bench.Session(port=0) for _ in range(2)]
    sessions[0].latencies, sessions[1].latencies = [5.0, 5.0, 0.01], [5.0, 0.02, 0.03]
    sessions[1].errors = 3
    marks = [(2, 0, 0), (1, 2, 0)]  # counters at the start of the minute
    row = bench._row(pid, 2, sessions, marks, bench._start(pid))
    assert row["polls"] == 3
    assert row["timeouts"] == 1
    assert row["p95_ms"] == 30.0
    assert row["p50_ms"] == 20.0
