"""The run folder's lock: a second process asked to train a run that is being trained refuses."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from medgan import runs, workspace
from medgan.jobs import store
from medgan.jobs.runner import run_inline
from medgan.train.lock import RunBusy
from medgan.train.trainer import create_run, train_run
from tests.train.helpers import tiny_config

HOLD = "import sys, time; from medgan.train.lock import RunLock; RunLock(sys.argv[1]).__enter__(); print('held', flush=True); time.sleep(120)"


@pytest.fixture
def held_run(demo_dataset):
    """A run whose lock another process holds (as a live first worker would); yields (run id, pid)."""
    run_id = create_run(tiny_config(steps=2))
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(runs.run_dir(run_id))],
        cwd=workspace.REPO_ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        yield run_id, holder.pid
    finally:
        holder.kill()
        holder.wait()


def test_second_trainer_refuses_while_the_first_holds_the_run(held_run):
    run_id, pid = held_run
    with pytest.raises(
        RunBusy, match=rf"run {run_id} is already being trained by another process \(pid {pid} on"
    ):
        train_run(run_id)
    assert not (runs.run_dir(run_id) / "metrics.jsonl").exists()  # nothing written into the run


def test_second_worker_job_fails_with_the_reason(held_run):
    run_id, pid = held_run
    with pytest.raises(RunBusy):
        run_inline("train", {"run_id": run_id})
    job = store.list_jobs(kind="train")[0]
    assert job.status == "failed" and f"pid {pid}" in job.error and "already being trained" in job.error


def test_a_killed_holder_leaves_no_stale_lock(held_run):
    """The kernel drops the lock with its process: a worker killed mid-run does not block the resume."""
    run_id, pid = held_run
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while store.pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert train_run(run_id)["status"] == "done"
