"""Detached workers: queueing behind a running job, cancel, a killed worker detected and resumed."""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Callable

import pytest

from medgan import runs
from medgan.jobs import store
from medgan.jobs.training import start_training
from tests.train.helpers import tiny_config

pytestmark = pytest.mark.slow


def wait_for(job_id: str, predicate: Callable[[store.Job], bool], timeout: float = 120) -> store.Job:
    """Poll the job until ``predicate`` holds (fails with the worker log after ``timeout`` seconds)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = store.get_job(job_id)
        if predicate(job):
            return job
        time.sleep(0.3)
    log = (store.get_job(job_id).folder / "worker.log").read_text()
    raise AssertionError(f"job {job_id} stuck at {store.get_job(job_id)}\nworker log:\n{log}")


def test_cancel_frees_the_slot_for_the_next_job(demo_dataset, monkeypatch):
    monkeypatch.setenv("MEDGAN_MAX_JOBS", "1")
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    long_job, long_run = start_training(tiny_config(steps=100000, sample_every=1000, checkpoint_every=1000))
    short_job, short_run = start_training(tiny_config(steps=2))
    wait_for(long_job, lambda j: j.status == "running" and j.progress > 0)
    assert store.get_job(short_job).status == "queued"
    store.request_cancel(long_job)
    cancelled = wait_for(long_job, lambda j: j.status not in store.ACTIVE)
    assert cancelled.status == "cancelled"
    assert runs.run_info(long_run).status == "cancelled" and 0 < runs.run_info(long_run).step < 100000
    done = wait_for(short_job, lambda j: j.status not in store.ACTIVE)
    assert done.status == "done" and done.result["step"] == 2


def test_killed_worker_is_detected_and_resumed(demo_dataset, monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    job_id, run_id = start_training(tiny_config(steps=60, checkpoint_every=5, sample_every=100))
    job = wait_for(job_id, lambda j: j.status == "running" and j.progress >= 10 / 60)
    os.kill(job.pid, signal.SIGKILL)
    interrupted = wait_for(job_id, lambda j: j.status != "running", timeout=30)
    assert interrupted.status == "interrupted"
    assert runs.list_runs()[0].status == "interrupted"
    store.resume(job_id)
    done = wait_for(job_id, lambda j: j.status not in store.ACTIVE)
    assert done.status == "done" and done.result["step"] == 60
    lines = (runs.run_dir(run_id) / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(line)["step"] for line in lines] == list(range(1, 61))  # no step logged twice
