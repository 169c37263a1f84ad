"""metrics.jsonl: one JSON line per tick, appended; on resume, lines past the checkpoint are dropped."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from medgan import workspace


def append_metrics(path: Path, row: dict[str, Any]) -> None:
    """Append one line (no fsync: at most the last lines are lost, and resume drops them anyway)."""
    with open(path, "a") as fh:
        fh.write(json.dumps(row) + "\n")


def truncate_metrics(path: Path, step: int) -> None:
    """Drop lines past ``step`` (logged by a killed worker after its last checkpoint) and half-written ones."""
    if not path.is_file():
        return
    lines = path.read_text().splitlines(keepends=True)
    kept = [line for line in lines if line.endswith("\n") and json.loads(line)["step"] <= step]
    if len(kept) != len(lines):
        workspace.atomic_write_text(path, "".join(kept))
