"""The trainer runs unchanged under torchrun: two CPU processes (gloo), rank 0 writes the files."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from medgan import runs, workspace
from medgan.generate import load_generator
from medgan.train.trainer import create_run
from tests.train.helpers import tiny_config


@pytest.mark.slow
def test_torchrun_two_processes_on_cpu(demo_dataset):
    run_id = create_run(tiny_config(steps=3, conditional="conditional", ema=True))
    command = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc_per_node=2",
        "-m",
        "medgan",
        "train",
        "--resume",
        run_id,
        "--json",
    ]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MEDGAN_HOME": str(workspace.home())}
    done = subprocess.run(
        command, cwd=workspace.REPO_ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    results = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    assert len(results) == 2 and all(r["status"] == "done" and r["step"] == 3 for r in results)  # both ranks
    lines = (runs.run_dir(run_id) / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(line)["step"] for line in lines] == [1, 2, 3]  # written once, by rank 0
    assert load_generator(run_id).sample(2, label="mass").shape == (2, 1, 32, 32)


@pytest.mark.slow
@pytest.mark.parametrize("arch", ["progan", "fastgan"])
def test_torchrun_new_run_is_one_run(demo_dataset, arch):
    """Without --resume all ranks train the same new run; ProGAN's unused levels and FastGAN's decoders
    (no gradient from fake images) do not stop DDP."""
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2", "-m", "medgan",
               "train", "--dataset", "demo-phantom", "--arch", arch, "--resolution", "32", "--steps", "2",
               "--batch-size", "8", "--width", "8", "--json"]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MEDGAN_HOME": str(workspace.home())}
    done = subprocess.run(command, cwd=workspace.REPO_ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    results = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    assert len(results) == 2 and results[0]["run_id"] == results[1]["run_id"]
    assert [r.id for r in runs.list_runs()] == [results[0]["run_id"]]
