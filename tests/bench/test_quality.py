"""bench/quality.py --dry-run: every arm (presets, a preset with swept fields, and the tutorial loop) trains
for its budget and is scored with Inception FID / KID beside the real-vs-real floor, in one table."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys

import pytest

from medgan.workspace import REPO_ROOT


@pytest.mark.slow
def test_dry_run_trains_every_arm_and_prints_one_table(tmp_path):
    out = tmp_path / "result.json"
    archs = ["fastgan", "dcgan", "dcgan:width=8:batch_size=4", "tutorial"]
    proc = subprocess.run(
        [
            sys.executable,
            "bench/quality.py",
            "--dry-run",
            "--archs",
            ",".join(archs),
            "--workspace",
            str(tmp_path / "ws"),
            "--out",
            str(out),
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(out.read_text())
    assert [arm["arch"] for arm in result["arms"]] == archs and result["extractor"].startswith("Inception-v3")
    assert result["n_floor"] == result["n_generated"] == 8 and result["budget"] == "cpu"
    floor = result["floor"]["fid"]
    for arm in result["arms"]:
        assert arm["steps"] >= 1 and arm["images_seen"] >= arm["steps"]
        assert arm["cpu_seconds"] >= 0.02 * 60  # trained until the CPU budget was spent
        assert (
            math.isfinite(arm["fid"]) and arm["fid"] > floor and arm["fid_over_floor"] > 1
        )  # untrained vs real
        assert arm["kid_std"] >= 0
    swept = result["arms"][2]
    assert swept["images_seen"] == 4 * swept["steps"]  # the sweep arm trained with its own batch size
    table = proc.stdout[proc.stdout.index("| arch |") :].splitlines()
    assert len(table) == 2 + len(archs) + 1 and table[-1].startswith("| real-vs-real floor (n = 8 train)")
